"""Demand identity, the two gates, levy by month and stocks carried over (issue 12)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chipwatch.market import load_scenario, run
from chipwatch.market.scenario import ScenarioError
from chipwatch.market.simulate import IDENTITY, compile_scenario, draw_inputs, scarcity_response
from market_helpers import src, tiny


def p50(r: Any, metric: str, group: str = "total", year: int = 2024) -> float:
    return float(r.get(metric, group, year).iloc[0]["p50"])


def identity_gap(r: Any) -> np.ndarray:
    demand = r.samples[("demand_usd", "total", "total")]
    parts = sum(r.samples[("demand_met_usd", "channel", ch)] for ch in IDENTITY)
    return np.abs(demand - parts) / np.maximum(demand, 1.0)


@pytest.mark.parametrize(
    "scenario", ["baseline", "us-open-china-closed", "both-open", "smuggling-crackdown"]
)
def test_the_identity_holds_in_every_draw(scenario: str) -> None:
    r = run(scenario, draws=300, seed=1)
    assert identity_gap(r).max() < 1e-9
    for ch in IDENTITY:
        assert np.all(r.samples[("demand_met_usd", "channel", ch)] >= -1e-6)


@settings(max_examples=25, deadline=None)
@given(
    demand=st.floats(1e8, 1e12),
    cap=st.floats(0, 2e6),
    carry=st.floats(0, 1),
    elasticity=st.floats(0.2, 3),
)
def test_identity_holds_for_any_demand_supply_and_carryover(
    demand: float, cap: float, carry: float, elasticity: float
) -> None:
    s = load_scenario(
        tiny(
            last_year=2026,
            demand_usd={2024: src(value=demand)},
            demand_carryover=src(value=carry),
            price_elasticity=src(value=elasticity),
            domestic={"ascend": {"capacity_units": {2024: src(value=cap)}}},
        )
    )
    r = run(s, draws=2)
    assert identity_gap(r).max() < 1e-9
    spent = r.samples[("revenue_usd", "total", "total")]
    assert np.all(spent <= r.samples[("demand_usd", "total", "total")] * (1 + 1e-12))


def test_unmet_demand_is_deferred_and_part_of_it_carried_into_next_year() -> None:
    # US$10B a year; only 100k domestic chips at US$20k and no H20 (cap 0): US$8B deferred in
    # 2024, half of it carried: 2025 demand = 10 + 4 = US$14B.
    s = load_scenario(
        tiny(
            last_year=2025,
            demand_carryover=src(value=0.5),
            foreign={"h20": {"supply_cap_units": {2024: src(value=0)}}},
        )
    )
    r = run(s, draws=2)
    assert p50(r, "deferred_usd", year=2024) == pytest.approx(8e9)
    assert p50(r, "demand_carried_usd", year=2025) == pytest.approx(4e9)
    assert p50(r, "demand_usd", year=2025) == pytest.approx(14e9)
    assert p50(r, "domestic_share_of_demand", year=2024) == pytest.approx(0.2)
    assert p50(r, "domestic_share", year=2024) == pytest.approx(1.0)  # of sales


def test_scarcity_raises_domestic_prices_by_the_elasticity_rule() -> None:
    # US$2B of domestic chips sold at list, US$8B left: m = (1 + 4)^(1/e).
    left, dom = np.array([8e9]), np.array([2e9])
    assert scarcity_response(left, dom, np.array([2.0]))[0] == pytest.approx(2e9 * (5**0.5 - 1))
    assert scarcity_response(left, dom, np.array([0.5]))[0] == pytest.approx(8e9)  # capped
    assert scarcity_response(left, dom, None)[0] == 0


def test_levy_applies_by_month_not_to_sales_before_its_start() -> None:
    # H20 sold all year; a 15% revenue share from 2024-09-01 covers 4 of 12 months of sales.
    terms = [
        {
            "start": "2024-09-01",
            "kind": "revenue_share",
            "share": src(value=0.15),
            "source": "test",
        }
    ]
    s = load_scenario(
        tiny(
            demand_usd={2024: src(value=1e12)},
            foreign={"h20": {"licences": "grant", "terms": terms}},
        )
    )
    r = run(s, draws=2)
    revenue = p50(r, "revenue_usd", "h20")
    assert p50(r, "levy_usd", "h20") == pytest.approx(revenue * 0.15 * 4 / 12)


def test_baseline_levies_no_h20_sales_before_august_2025() -> None:
    r = run("baseline", draws=200, seed=2)
    levy = r.samples[("levy_usd", "product", "h20")][:, r.years.index(2025)]
    revenue = r.samples[("revenue_usd", "product", "h20")][:, r.years.index(2025)]
    # Jan-Mar 2025 sales (before the April licence rule) carry no levy: under 15% of the total.
    assert np.all(levy <= 0.15 * revenue * 5 / 12 + 1e-6)
    assert np.all(levy < 0.15 * revenue + 1e-6)


def test_a_stockpile_carried_over_leaves_no_cliff() -> None:
    # 1,600 stacks, 8 per package, no new HBM; at most half the stockpile used a year: output
    # falls by half a year (100, 50, 25), not to zero after the first year.
    ascend = {
        "capacity_units": None,
        "hbm_stacks_stock": src(value=1600),
        "hbm_stacks_per_year": {2024: src(value=0)},
        "hbm_drawdown_max": {2024: src(value=0.5)},
        "mix": {2024: {"hbm_stacks_per_package": src(value=8)}},
    }
    s = load_scenario(tiny(last_year=2026, foreign=None, domestic={"ascend": ascend}))
    r = run(s, draws=2)
    got = [p50(r, "units", "ascend", y) for y in (2024, 2025, 2026)]
    assert got == pytest.approx([100, 50, 25])


def test_baseline_huawei_output_has_no_cliff_after_2025() -> None:
    r = run("baseline", draws=300, seed=4)
    huawei = r.samples[("units", "vendor", "Huawei")]
    j = r.years.index(2025)
    assert np.median(huawei[:, j + 1]) >= 0.8 * np.median(huawei[:, j])


# --- the two gates follow each scenario's data ---------------------------------------------
def sellable(scenario: str, pid: str, year: int) -> np.ndarray:
    r = run(scenario, draws=100, seed=0)
    return r.samples[("supply_units", "product", pid)][:, r.years.index(year)]


def test_us_open_china_closed_sells_no_licensed_chip_after_its_date() -> None:
    r = run("us-open-china-closed", draws=200, seed=0)
    j = r.years.index(2027)
    assert np.all(r.samples[("demand_met_usd", "channel", "licensed")][:, j] == 0)
    base = run("baseline", draws=200, seed=0)
    # 2025 is before the scenario's date: the same as the baseline.
    k = r.years.index(2025)
    assert np.allclose(
        r.samples[("demand_met_usd", "channel", "licensed")][:, k],
        base.samples[("demand_met_usd", "channel", "licensed")][:, k],
    )


def test_both_open_offers_the_b30a_and_the_h200_that_the_baseline_holds_back() -> None:
    assert np.all(sellable("baseline", "b30a", 2027) == 0)  # White House refusal
    assert np.median(sellable("both-open", "b30a", 2027)) > 0
    assert np.median(sellable("both-open", "h200-sxm", 2027)) > np.median(
        sellable("baseline", "h200-sxm", 2027)
    )


def test_state_funded_buyers_buy_no_foreign_chip_after_the_mandate() -> None:
    r = run("baseline", draws=200, seed=0)
    c = compile_scenario(load_scenario("baseline"))
    assert c.segments["state"].channels == ["domestic", "licensed"]
    j = r.years.index(2027)
    share = r.samples[("domestic_share_of_demand", "segment", "state")][:, j]
    deferred = r.samples[("deferred_usd", "segment", "state")][:, j]
    demand = r.samples[("demand_usd", "segment", "state")][:, j]
    assert np.allclose(share + deferred / demand, 1.0)


def test_a_smuggling_crackdown_lowers_grey_imports_only() -> None:
    base, crack = run("baseline", draws=200, seed=0), run("smuggling-crackdown", draws=200, seed=0)
    j = base.years.index(2027)
    grey = ("units", "channel", "grey")
    assert np.median(crack.samples[grey][:, j]) < np.median(base.samples[grey][:, j])
    k = base.years.index(2025)
    assert np.allclose(crack.samples[grey][:, k], base.samples[grey][:, k])


def test_the_rtx_pro_6000d_is_not_offered_before_its_release() -> None:
    assert np.all(sellable("baseline", "rtx-pro-6000d", 2024) == 0)


def test_prc_measures_name_known_segments() -> None:
    with pytest.raises(ScenarioError, match="unknown segment"):
        load_scenario(
            tiny(
                prc_measures={
                    "x": {
                        "title": "t",
                        "start": "2024-01-01",
                        "products": ["*"],
                        "segments": ["nobody"],
                        "uptake": src(value=0),
                        "source": "test",
                    }
                }
            )
        )


def test_every_hbm_product_in_the_baseline_has_an_hbm_limit(catalog: Any) -> None:
    s = load_scenario("baseline")
    for pid, p in s.domestic.items():
        chips = [catalog.chip(m.chip) for m in p.mix.values()]
        if any(c.memory.type and "hbm" in str(c.memory.type.value).lower() for c in chips):
            assert p.hbm_stacks_stock is not None, pid


def test_domestic_supply_is_rationed_across_segments_by_demand() -> None:
    # Two segments of US$6B and US$4B; 100k domestic chips at US$20k (US$2B) are split 60:40,
    # whatever order the segments are listed in.
    seg = {
        "big": {"title": "b", "share": {2024: src(value=0.6)}, "source": "test"},
        "small": {"title": "s", "share": {2024: src(value=0.4)}, "source": "test"},
    }
    r = run(load_scenario(tiny(segments=seg, foreign=None)), draws=2)
    big = r.samples[("domestic_share_of_demand", "segment", "big")][0, 0]
    small = r.samples[("domestic_share_of_demand", "segment", "small")][0, 0]
    assert big * 6e9 == pytest.approx(1.2e9) and small * 4e9 == pytest.approx(0.8e9)


def test_the_scarcity_markup_never_exceeds_its_cap() -> None:
    left, dom = np.array([8e9]), np.array([2e9])
    extra = scarcity_response(left, dom, np.array([0.5]), np.array([1.5]))
    assert extra[0] == pytest.approx(1e9)  # 2B x (1.5 - 1)


def test_the_prc_gate_holds_back_every_chip_the_controls_prc_layer_restricts() -> None:
    """Cross-check with the controls domain's PRC measures (market_access): in every month where
    that layer has a baseline product blocked, discouraged or conditional, the baseline's PRC gate
    lets less than all would-be purchases through."""
    import datetime as dt

    from chipwatch.controls.market_access import market_access
    from chipwatch.market.gates import prc_factor
    from chipwatch.market.policy import month_dates

    s = load_scenario("baseline")
    c = compile_scenario(s)
    x = draw_inputs(c, {n: np.array([0.5]) for n in c.inputs})  # every input at its median
    days = month_dates(c.years)
    checked = 0
    for pid in s.foreign:
        gate = prc_factor(s, pid, "hyperscalers", c.years, x, 1)[0]
        for i, day in enumerate(days):
            if not dt.date(2025, 1, 1) <= day <= dt.date(2026, 11, 30):
                continue
            access = market_access(s.foreign_chip(pid), day)
            if access.status in ("blocked", "discouraged", "conditional"):
                checked += 1
                assert gate[i] < 1, (pid, day, access.status, [m.id for m in access.measures])
    assert checked > 0


def test_a_product_on_a_foundry_node_uses_the_nodes_wafers_and_yield() -> None:
    # 1,000 wafers a year at 50% yield, 40% of them for the product, 10 dies each, one die per
    # package: 1,000 x 0.4 x 10 x 0.5 = 2,000 packages.
    node = {"smic": {"title": "n7", "wafers_per_year": {2024: src(value=1000)},
                     "yield": {2024: src(value=0.5)}}}  # fmt: skip
    ascend = {
        "capacity_units": None,
        "node": "smic",
        "wafer_share": {2024: src(value=0.4)},
        "dies_per_wafer": src(value=10),
    }
    s = load_scenario(tiny(foundry=node, foreign=None, domestic={"ascend": ascend}))
    assert p50(run(s, draws=2), "units", "ascend") == pytest.approx(2000)
    no_yield = {"smic": {"title": "n7", "wafers_per_year": {2024: src(value=1000)}}}
    with pytest.raises(ScenarioError, match="no yield"):
        load_scenario(tiny(foundry=no_yield, foreign=None, domestic={"ascend": ascend}))


def test_an_ordered_segment_turns_to_its_channels_in_the_order_listed() -> None:
    # One segment that wants the H20 before domestic chips: US$10B buys 1M H20 (US$10B) first.
    seg = {"labs": {"title": "l", "share": {2024: src(value=1)}, "source": "test",
                    "channels": ["licensed", "domestic"], "ordered": True}}  # fmt: skip
    r = run(load_scenario(tiny(segments=seg)), draws=2)
    assert p50(r, "units", "h20") == pytest.approx(1_000_000)
    assert p50(r, "units", "ascend") == pytest.approx(0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.sampled_from([0.0, 1.0, 2.5, -3.0, 1e9, float("inf"), float("nan")]),
        min_size=1,
        max_size=40,
    )
)
def test_percentiles_by_partial_sort_equal_numpys(values: list[float]) -> None:
    from chipwatch.market.simulate import PERCENTILES, percentiles

    x = np.array(values).reshape(-1, 1)
    with np.errstate(invalid="ignore"):
        want = np.percentile(x, PERCENTILES, axis=0)
        got = percentiles(x, PERCENTILES)
    assert np.allclose(got, want, equal_nan=True, rtol=1e-12, atol=0)


@settings(max_examples=12, deadline=None)
@given(month=st.integers(1, 12))
def test_a_closed_prc_gate_stops_licensed_sales_from_its_month(month: int) -> None:
    # 1M H20 a year on offer, more demand than supply; China closes its gate from the 1st of
    # `month`: only the months before it sell.
    gates = {"us": "engine", "prc": "closed", "from": f"2024-{month:02d}-01", "source": "test"}
    s = load_scenario(tiny(demand_usd={2024: src(value=1e12)}, gates=gates))
    r = run(s, draws=2)
    assert p50(r, "units", "h20") == pytest.approx(1_000_000 * (month - 1) / 12)
    opened = {**gates, "prc": "open"}
    measure = {
        "title": "t",
        "start": "2024-01-01",
        "products": ["h20"],
        "uptake": src(value=0),
        "source": "test",
    }
    s = load_scenario(
        tiny(demand_usd={2024: src(value=1e12)}, gates=opened, prc_measures={"ban": measure})
    )
    # the measure blocks until the override opens the gate
    assert p50(run(s, draws=2), "units", "h20") == pytest.approx(1_000_000 * (13 - month) / 12)


def test_the_old_yearly_levy_field_names_its_replacement() -> None:
    levy = {"levy_share": {2024: src(value=0.15)}}
    with pytest.raises(ScenarioError, match="replaced by terms"):
        load_scenario(tiny(foreign={"h20": levy}))
