"""Foreign cards beyond the H20: licence-free NVIDIA cards (L20, L2, RTX 4090D) in the baseline."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from chipwatch.market import load_scenario, run
from chipwatch.market.simulate import compile_scenario, describe_inputs
from chipwatch.workspace import Workspace
from market_helpers import src, tiny

LICENCE_FREE = ("l20", "l2", "rtx-4090d")


def p50(r: Any, metric: str, group: str = "total", year: int = 2024) -> float:
    return float(r.get(metric, group, year).p50.iloc[0])


def test_a_cheaper_card_with_more_compute_per_dollar_is_bought_before_the_h20() -> None:
    # US$10B: 100k domestic x US$20k = 2B first; then by H100-equivalents per dollar the L20
    # (239 TOPS for US$4k) comes before the H20 (296 TOPS for US$10k): 200k x 4k = 0.8B;
    # the H20 gets the rest, (10B - 2B - 0.8B) / 10k = 720k.
    s = load_scenario(
        tiny(
            foreign={
                "l20": {
                    "supply_cap_units": {2024: src(value=200_000)},
                    "price_usd": {2024: src(value=4_000)},
                }
            }
        )
    )
    r = run(s, draws=2)
    assert p50(r, "units", "l20") == pytest.approx(200_000)
    assert p50(r, "units", "h20") == pytest.approx(720_000)
    assert p50(r, "units", "NVIDIA") == pytest.approx(920_000)


def test_licence_free_cards_are_on_offer_every_month_per_the_engine() -> None:
    c = compile_scenario(load_scenario("baseline"))
    for pid in LICENCE_FREE:
        assert np.all(c.availability[pid] == 1.0), pid
    h20_2025 = c.availability["h20"][12 * c.years.index(2025) :][:12]
    assert h20_2025[4] == 0.0  # 15 May 2025: licence required, presumption of denial


def test_banning_the_h20_leaves_the_licence_free_cards_on_offer() -> None:
    base, banned = run("baseline", draws=200, seed=7), run("h20-banned", draws=200, seed=7)
    for pid in LICENCE_FREE:
        key = ("supply_units", "product", pid)
        assert np.allclose(banned.samples[key], base.samples[key])
    after_april = banned.get("units", "h20", 2026)
    assert float(after_april.p90.iloc[0]) == 0.0


def test_no_card_ships_before_it_was_released() -> None:
    r = run("baseline", draws=200, seed=1)
    for pid in LICENCE_FREE:
        assert p50(r, "units", pid, 2023) == 0.0
        assert p50(r, "units", pid, 2025) > 0.0


def test_assumed_volumes_are_flagged_unverified() -> None:
    rows = describe_inputs(compile_scenario(load_scenario("baseline")))
    caps = [
        r
        for r in rows
        if r["input"] in {f"foreign.{p}.supply_cap_units" for p in LICENCE_FREE}
        and r["year"] in (2024, 2025)
    ]
    assert len(caps) == 6
    assert all(r["unverified"] for r in caps)
    assert all("unit figure found" in r["source"] for r in caps)  # says why it is an assumption


def test_a_card_too_slow_for_the_latency_target_serves_zero_tokens_not_blank(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The performance model runs the workload on the L2, but no batch meets TPOT <= 50 ms:
    # at that target it serves 0 tokens/s (a known zero), so totals stay numbers.
    from chipwatch.market import serving

    def fake_infer(acc: Any, model: str, **kw: Any) -> Any:
        if acc.id == "l2" and kw.get("max_tpot_ms") is not None:
            raise ValueError("no batch meets TPOT <= 50 ms")
        return type("R", (), {"output_tokens_per_s_per_chip": 100.0})()

    monkeypatch.setattr(serving, "infer", fake_infer)
    fresh = Workspace.from_dirs()  # its caches start empty
    s = tiny(
        reference_workload={"model": "qwen2.5-72b", "max_tpot_ms": 50, "source": "test"},
        foreign={
            "l2": {
                "supply_cap_units": {2024: src(value=100_000)},
                "price_usd": {2024: src(value=1_000)},
            }
        },
    )
    r = run(load_scenario(s, ws=fresh), draws=2, ws=fresh)
    assert p50(r, "served_tokens_per_s", "l2") == 0.0
    assert p50(r, "served_tokens_per_s", "total") > 0.0
    assert any("l2 cannot meet TPOT <= 50 ms" in n for n in r.notes)
