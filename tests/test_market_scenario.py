"""Market scenarios: distributions, YAML validation with clear errors, inheritance."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from chipwatch.market import ScenarioError, list_scenarios, load_scenario
from chipwatch.market.distributions import Dist, series_ppf
from chipwatch.market.scenario import merge
from market_helpers import src, tiny


# --- distributions -------------------------------------------------------------------------
def test_point_uniform_triangular_lognormal_quantiles() -> None:
    u = np.array([0.0, 0.5, 1.0 - 1e-12])
    assert Dist(value=3, source="x").ppf(u).tolist() == [3, 3, 3]
    assert Dist(low=2, high=4, source="x").ppf(u)[1] == pytest.approx(3)
    tri = Dist(low=0, mode=1, high=2, source="x")  # symmetric: median at the mode
    assert tri.dist == "triangular"
    assert tri.ppf(np.array([0.5]))[0] == pytest.approx(1.0)
    assert tri.ppf(np.array([0.125]))[0] == pytest.approx(0.5)  # F(0.5) = 0.5^2 / 2
    logn = Dist(median=100, p90=200, source="x")
    assert logn.ppf(np.array([0.5]))[0] == pytest.approx(100)
    assert logn.ppf(np.array([0.9]))[0] == pytest.approx(200)


def test_series_interpolates_between_anchors_and_holds_outside() -> None:
    s = {2025: Dist(value=10, source="x"), 2027: Dist(value=30, source="x")}
    out = series_ppf(s, [2024, 2025, 2026, 2027, 2028], np.array([0.5]))
    assert out[0].tolist() == [10, 10, 20, 30, 30]


def test_every_distribution_needs_a_source() -> None:
    with pytest.raises(ValueError, match="source"):
        Dist.model_validate({"value": 1})


# --- validation errors ---------------------------------------------------------------------
def test_unknown_chip_id_is_named_with_suggestions() -> None:
    bad = tiny(foreign={"h20": {"chip": "h2O"}})
    with pytest.raises(ScenarioError, match=r"foreign\.h20\.chip: unknown chip 'h2O'.*h20"):
        load_scenario(bad)


def test_negative_capacity_is_refused() -> None:
    bad = tiny(domestic={"ascend": {"capacity_units": {2024: src(value=-5)}}})
    with pytest.raises(ScenarioError, match=r"capacity_units.*must not be negative"):
        load_scenario(bad)


def test_share_over_100_percent_is_refused() -> None:
    bad = tiny(domestic={"ascend": {"packaging_survival": src(low=0.5, mode=0.9, high=1.2)}})
    with pytest.raises(ScenarioError, match=r"packaging_survival.*share over 100%"):
        load_scenario(bad)


def test_yield_over_100_percent_is_refused() -> None:
    d = tiny()
    d["domestic"]["ascend"].update(
        {
            "wafers_per_year": {2024: src(value=1000)},
            "dies_per_wafer": src(value=70),
            "yield": {2024: src(value=1.5)},
        }
    )
    with pytest.raises(ScenarioError, match=r"yield.*share over 100%"):
        load_scenario(d)


def test_unknown_estimate_reference_is_refused() -> None:
    bad = tiny(demand_usd={2024: {"value": 1e9, "source": "est:no-such-row"}})
    with pytest.raises(ScenarioError, match="unknown estimate est:no-such-row"):
        load_scenario(bad)


def test_unknown_field_and_unknown_scenario() -> None:
    with pytest.raises(ScenarioError, match="unknown field"):
        load_scenario(tiny(foreign={"h20": {"supply_cap": 5}}))
    with pytest.raises(ScenarioError, match="unknown scenario 'baselin'.*baseline"):
        load_scenario("baselin")


def test_wafer_path_needs_all_its_parts() -> None:
    d = copy.deepcopy(tiny())
    d["domestic"]["ascend"]["wafers_per_year"] = {2024: src(value=1000)}
    with pytest.raises(ScenarioError, match="wafer path needs"):
        load_scenario(d)


# --- inheritance ---------------------------------------------------------------------------
def test_child_scenario_changes_only_what_it_names() -> None:
    base, banned = load_scenario("baseline"), load_scenario("h20-banned")
    assert banned.foreign["h20"].licences == "deny"
    assert base.foreign["h20"].licences == "engine"
    assert banned.demand_usd == base.demand_usd
    assert banned.foreign["h20"].supply_cap_units == base.foreign["h20"].supply_cap_units
    assert banned.notes[: len(base.notes)] == base.notes


def test_a_distribution_in_a_child_replaces_the_parent_one_whole() -> None:
    base = {"x": {"low": 1, "mode": 2, "high": 3, "source": "a"}, "y": 1}
    assert merge(base, {"x": {"value": 5, "source": "b"}}) == {
        "x": {"value": 5, "source": "b"},
        "y": 1,
    }
    assert merge(base, {"y": None}) == {"x": base["x"]}


def test_extends_unknown_parent() -> None:
    with pytest.raises(ScenarioError, match="extends unknown scenario 'basline'"):
        load_scenario(tiny(extends="basline"))


def test_required_scenarios_are_listed() -> None:
    ids = {i.id for i in list_scenarios()}
    assert {"baseline", "h20-banned", "h20-allowed", "huawei-hbm-constrained", "h200-2026"} <= ids
    assert all(i.description for i in list_scenarios())
