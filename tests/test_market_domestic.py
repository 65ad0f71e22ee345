"""Domestic products whose chip is not in the catalog: a stand-in catalog chip gives the per-unit
figures, the product keeps its own vendor, and the run says which stand-in was used."""

from __future__ import annotations

import math

import pytest

from chipwatch.market import ScenarioError, load_scenario, run
from chipwatch.market.simulate import H100_OPS_8BIT
from chipwatch.workspace import default_workspace
from market_helpers import src, tiny

PPU = {
    "vendor": "Alibaba T-Head",
    "vendor_country": "CN",
    "mix": {
        2024: {
            "chip": "h20",
            "proxy_for": "Zhenwu PPU",
            "proxy_source": "test: said to be H20-class",
            "dies_per_package": src(value=1),
            "hbm_stacks_per_package": src(value=0),
        }
    },
    "price_usd": {2024: src(value=8_000)},
    "capacity_units": {2024: src(value=50_000)},
}


def test_a_stand_in_chip_counts_as_the_products_own_vendor_and_country(catalog) -> None:
    # US$10B: 100k Ascend at US$20k = US$2B, 50k PPU at US$8k = US$0.4B, then H20 with the rest.
    r = run(tiny(domestic={"ppu": PPU}), draws=20)
    p50 = lambda metric, group: float(r.get(metric, group, 2024).p50.iloc[0])  # noqa: E731
    assert p50("units", "ppu") == pytest.approx(50_000)
    assert p50("units", "Alibaba T-Head") == pytest.approx(50_000)
    assert p50("units", "CN") == pytest.approx(150_000)  # Ascend + PPU, not the H20's US
    assert p50("units", "h20") == pytest.approx(760_000)  # (10B - 2B - 0.4B) / 10k
    # per-unit compute is the stand-in's: 50k x H20's dense 8-bit OP/s / H100's
    h20_8bit = max(
        v for v in (catalog.chip("h20").dense("fp8"), catalog.chip("h20").dense("int8")) if v
    )
    assert p50("added_h100e", "ppu") == pytest.approx(50_000 * h20_8bit * 1e12 / H100_OPS_8BIT)
    assert any("Zhenwu PPU" in n and "h20" in n and "H20-class" in n for n in r.notes)


def test_a_stand_in_needs_a_reason() -> None:
    bad = {**PPU, "mix": {2024: {**PPU["mix"][2024], "proxy_source": None}}}
    with pytest.raises(ScenarioError, match="proxy_source"):
        load_scenario(tiny(domestic={"ppu": bad}))


def test_a_stand_in_reason_citing_an_unknown_estimate_is_refused() -> None:
    bad = {**PPU, "mix": {2024: {**PPU["mix"][2024], "proxy_source": "est:no-such-row"}}}
    with pytest.raises(ScenarioError, match="no-such-row"):
        load_scenario(tiny(domestic={"ppu": bad}))


def test_the_baseline_carries_the_other_domestic_vendors() -> None:
    s = load_scenario("baseline")
    assert {"t-head-ppu", "kunlunxin", "hygon-dcu", "other-domestic"} <= set(s.domestic)
    for pid in ("t-head-ppu", "kunlunxin", "hygon-dcu", "other-domestic"):
        p = s.domestic[pid]
        assert p.vendor_country == "CN" and p.capacity_units
        for m in p.mix.values():
            # the product's own catalog chip, or a stand-in that says what it stands for and why
            own = default_workspace().catalog.chip(m.chip).vendor == p.vendor
            assert own != bool(m.proxy_for) and (own or m.proxy_source)


def test_baseline_2025_domestic_units_by_vendor_are_the_sum_of_products() -> None:
    r = run("baseline", draws=200)
    y = 2025
    parts = ["huawei-ascend", "cambricon", "t-head-ppu", "kunlunxin", "hygon-dcu", "other-domestic"]
    total = float(r.get("units", "CN", y)["mean"].iloc[0])
    assert total == pytest.approx(sum(float(r.get("units", p, y)["mean"].iloc[0]) for p in parts))
    assert not math.isnan(float(r.get("stock_h100e", "CN", y).p50.iloc[0]))
