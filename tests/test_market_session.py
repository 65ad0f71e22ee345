"""The market's per-chip caches follow the catalog in use (a user override is never stale)."""

from __future__ import annotations

from pathlib import Path

from chipwatch import session
from chipwatch.market import load_scenario
from chipwatch.market.serving import tokens_per_s_per_chip


def test_served_tokens_follow_a_user_override_of_the_chip(tmp_path: Path) -> None:
    workload = load_scenario("baseline").reference_workload
    try:
        session.configure([])
        packaged, _ = tokens_per_s_per_chip("h20", workload)
        (tmp_path / "h20.yaml").write_text(
            "id: h20\nmemory:\n  bandwidth_tbs: {value: 1.0, source: 'test: a slower H20'}\n"
        )
        session.configure([tmp_path])
        slower, _ = tokens_per_s_per_chip("h20", workload)
    finally:
        session.configure([])
    assert packaged and slower and slower < packaged
    assert tokens_per_s_per_chip("h20", workload)[0] == packaged
