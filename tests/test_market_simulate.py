"""Market simulation: hand-worked examples, conservation, monotonicity, reproducibility."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chipwatch.market import compare, load_scenario, run
from chipwatch.market.allocate import allocate
from chipwatch.market.simulate import compile_scenario, installed, simulate, uniforms
from market_helpers import src, tiny


def p50(r: Any, metric: str, group: str = "total", year: int = 2024) -> float:
    return float(r.get(metric, group, year).p50.iloc[0])


def h20_licences_denied_in_2025() -> Any:
    """One year, 2025, with ample demand and every H20 licence application denied."""
    return load_scenario(
        tiny(
            first_year=2025,
            last_year=2025,
            demand_usd={2025: src(value=1e12)},
            foreign={"h20": {"licences": "deny"}},
        )
    )


# --- hand-worked examples ------------------------------------------------------------------
def test_domestic_first_then_foreign_until_the_budget_runs_out(catalog: Any) -> None:
    r = run(load_scenario(tiny()), draws=3)
    # Domestic first: 100k x $20k = $2B; the other $8B buys 800k H20 at $10k (cap 1M).
    assert p50(r, "units", "ascend") == pytest.approx(100_000)
    assert p50(r, "units", "h20") == pytest.approx(800_000)
    assert p50(r, "domestic_share_revenue") == pytest.approx(0.2)
    assert p50(r, "domestic_share_units") == pytest.approx(100 / 900)
    assert p50(r, "deferred_usd") == pytest.approx(0)
    # Stocks: units x per-chip specs from the catalog; H100e = dense 8-bit OP/s / 1979e12.
    h20, ascend = catalog.chip("h20"), catalog.chip("ascend-910b")
    eight = {c.id: max(v for v in (c.dense("fp8"), c.dense("int8")) if v) for c in (h20, ascend)}
    want = (800_000 * eight["h20"] + 100_000 * eight["ascend-910b"]) / 1979
    assert p50(r, "stock_h100e") == pytest.approx(want)
    want_bw = 800_000 * h20.memory.bandwidth_tbs.value + 100_000 * ascend.memory.bandwidth_tbs.value
    assert p50(r, "stock_mem_bw_tbs") == pytest.approx(want_bw)


def test_small_budget_binds_demand_not_supply() -> None:
    r = run(load_scenario(tiny(demand_usd={2024: src(value=1e9)})), draws=2)
    assert p50(r, "units", "ascend") == pytest.approx(50_000)  # $1B / $20k
    assert p50(r, "units", "h20") == 0
    assert r.binding_by_year().limit.tolist() == ["demand"]


def test_hbm_binds_and_stockpiles_are_drawn_down() -> None:
    ascend = {
        "capacity_units": None,
        "die_bank_dies": src(value=1000),
        "packaging_survival": src(value=0.5),
        "hbm_stacks_stock": src(value=1600),
        "hbm_stacks_per_year": {2024: src(value=0), 2025: src(value=800)},
        "mix": {2024: {"dies_per_package": src(value=2), "hbm_stacks_per_package": src(value=8)}},
    }
    s = load_scenario(
        tiny(
            last_year=2025,
            foreign=None,
            domestic={"ascend": ascend},
            demand_usd={2024: src(value=1e12)},
        )
    )
    r = run(s, draws=2)
    # 2024: logic dies 1000 / 2 x 0.5 = 250; HBM 1600 / 8 x 0.5 = 100 -> 100 packages, HBM binds.
    assert p50(r, "supply_limit_units", "ascend:logic_dies", 2024) == pytest.approx(250)
    assert p50(r, "supply_limit_units", "ascend:hbm", 2024) == pytest.approx(100)
    assert p50(r, "units", "ascend", 2024) == pytest.approx(100)
    # 100 good packages took 200 attempts: 400 dies and all 1,600 stacks.
    # 2025: 600 dies -> 150; new HBM 800 / 8 x 0.5 = 50 -> 50 packages.
    assert p50(r, "supply_limit_units", "ascend:logic_dies", 2025) == pytest.approx(150)
    assert p50(r, "units", "ascend", 2025) == pytest.approx(50)
    assert set(r.binding_by_year().limit) == {"hbm"}


def test_installed_stock_retires_units_after_their_service_life() -> None:
    flows = np.array([[100.0, 100.0, 100.0]])
    assert installed(flows, np.array([2.0]))[0].tolist() == [100, 200, 200]
    assert installed(flows, np.array([1.5]))[0].tolist() == [100, 150, 150]


def test_banned_months_come_from_the_export_control_engine() -> None:
    r = run(h20_licences_denied_in_2025(), draws=2)
    # H20 needs a licence from April 2025 (engine); with licences denied, Jan-Mar remain: 3/12.
    assert p50(r, "units", "h20", 2025) == pytest.approx(1_000_000 * 3 / 12)


# --- invariants ----------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    budget=st.floats(0, 1e10),
    caps=st.lists(st.floats(0, 1e6), min_size=1, max_size=4),
    prices=st.lists(st.floats(1, 1e5), min_size=4, max_size=4),
)
def test_allocation_conserves_units_and_money(
    budget: float, caps: list[float], prices: list[float]
) -> None:
    cap = np.array([caps])
    price = np.array([prices[: len(caps)]])
    units, left = allocate(np.array([budget]), cap, price)
    assert np.all(units <= cap + 1e-9)
    spent = float((units * price).sum())
    assert spent <= budget * (1 + 1e-9) + 1e-6
    assert left[0] == pytest.approx(budget - spent, rel=1e-9, abs=1e-3)
    if left[0] > 1e-3:  # money left means every product sold out
        assert np.allclose(units, cap)


def test_units_never_exceed_supply_or_demand_in_the_baseline() -> None:
    r = run("baseline", draws=300, seed=3)
    for (metric, level, group), arr in r.samples.items():
        if metric == "units" and level == "product":
            assert np.all(arr <= r.samples[("supply_units", "product", group)] + 1e-6)
    spent = r.samples[("revenue_usd", "total", "total")]
    assert np.all(spent <= r.samples[("demand_usd", "total", "total")] * (1 + 1e-12))


def test_banning_a_chip_never_raises_its_shipments() -> None:
    base, banned = run("baseline", draws=300, seed=5), run("h20-banned", draws=300, seed=5)
    for chip in ("h20", "mi308x"):
        key = ("units", "product", chip)
        assert np.all(banned.samples[key] <= base.samples[key] + 1e-6)
    assert banned.samples[key].sum() < base.samples[key].sum()


@settings(max_examples=25, deadline=None)
@given(more=st.floats(1.0, 5.0), seed=st.integers(0, 1000))
def test_more_domestic_supply_never_lowers_domestic_share(more: float, seed: int) -> None:
    def scenario(cap: float) -> Any:
        return load_scenario(
            tiny(
                domestic={"ascend": {"capacity_units": {2024: src(low=0, mode=cap, high=2 * cap)}}},
                demand_usd={2024: src(low=1e9, high=2e10)},
            )
        )

    lo, hi = run(scenario(100_000), draws=50, seed=seed), run(scenario(100_000 * more), 50, seed)
    for metric in ("domestic_share_revenue", "domestic_share_units"):
        a, b = lo.samples[(metric, "total", "total")], hi.samples[(metric, "total", "total")]
        assert np.all(np.nan_to_num(b) >= np.nan_to_num(a) - 1e-12)


def test_same_seed_same_numbers_other_seed_other_numbers() -> None:
    a, b = run("baseline", draws=200, seed=11), run("baseline", draws=200, seed=11)
    c = run("baseline", draws=200, seed=12)
    assert a.summary.equals(b.summary)
    assert not a.summary.equals(c.summary)


def test_inputs_shared_by_two_scenarios_take_the_same_draws() -> None:
    ca = compile_scenario(load_scenario("baseline"))
    u1 = uniforms(["demand_usd"], 5, seed=1)
    u2 = uniforms(["demand_usd", "something-else"], 5, seed=1)
    assert np.array_equal(u1["demand_usd"], u2["demand_usd"])
    d = simulate(ca, uniforms(list(ca.inputs), 4, seed=1))
    assert d.units["h20"].shape == (4, len(ca.years))


def test_compare_reports_paired_differences_per_year() -> None:
    df = compare("h20-allowed", "h20-banned", metric="domestic_share", draws=200)
    assert list(df.year) == list(range(2023, 2031))
    before = df[df.year <= 2024]
    assert np.allclose(before.diff_p50, 0) and np.allclose(before.diff_p90, 0)
    y2025 = df[df.year == 2025].iloc[0]
    assert y2025.diff_p90 < 0  # allowing the H20 lowers the domestic share in 2025
    with pytest.raises(ValueError, match="unknown metric"):
        compare("baseline", "h20-banned", metric="domestic_shar", draws=10)


def test_windows_override_availability_and_set_uptake() -> None:
    windows = [
        {"start": "2024-01-01", "end": "2024-06-30", "available": False, "source": "test"},
        {"start": "2024-07-01", "end": "2024-12-31", "uptake": src(value=0.5), "source": "test"},
    ]
    s = load_scenario(
        tiny(demand_usd={2024: src(value=1e12)}, foreign={"h20": {"windows": windows}})
    )
    r = run(s, draws=2)
    # Six months unavailable, six months at half uptake: 1M x (6 x 0 + 6 x 0.5) / 12.
    assert p50(r, "units", "h20") == pytest.approx(250_000)


def test_a_chip_the_performance_model_cannot_serve_leaves_tokens_blank(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chipwatch.market import simulate

    def fake(chip_id: str, workload: Any, ws: Any = None) -> tuple[float | None, str | None]:
        return (100.0, None) if chip_id == "h20" else (None, f"no estimate for {chip_id}")

    monkeypatch.setattr(simulate, "tokens_per_s_per_chip", fake)
    r = run(load_scenario(tiny()), draws=2)
    assert p50(r, "served_tokens_per_s", "h20") == pytest.approx(800_000 * 100)
    assert np.isnan(p50(r, "served_tokens_per_s", "total"))  # blank, not counted as zero
    assert any("no estimate for ascend-910b" in n for n in r.notes)


@settings(max_examples=30, deadline=None)
@given(
    bank=st.floats(0, 5e6),
    hbm=st.floats(0, 2e7),
    new_hbm=st.floats(0, 5e6),
    survival=st.floats(0.1, 1.0),
    demand=st.floats(1e8, 1e11),
)
def test_packages_never_use_more_dies_or_stacks_than_exist(
    bank: float, hbm: float, new_hbm: float, survival: float, demand: float
) -> None:
    ascend = {
        "capacity_units": None,
        "die_bank_dies": src(value=bank),
        "packaging_survival": src(value=survival),
        "hbm_stacks_stock": src(value=hbm),
        "hbm_stacks_per_year": {2024: src(value=new_hbm)},
        "mix": {2024: {"dies_per_package": src(value=2), "hbm_stacks_per_package": src(value=8)}},
    }
    s = load_scenario(
        tiny(last_year=2027, domestic={"ascend": ascend}, demand_usd={2024: src(value=demand)})
    )
    r = run(s, draws=2)
    made = r.samples[("units", "product", "ascend")][0] / survival  # packages attempted per year
    assert made.sum() * 2 <= bank * (1 + 1e-9) + 1e-6
    assert made.sum() * 8 <= (hbm + 4 * new_hbm) * (1 + 1e-9) + 1e-6
    spent = r.samples[("revenue_usd", "total", "total")][0]
    assert np.all(spent <= demand * (1 + 1e-9))
