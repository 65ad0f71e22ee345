"""The workspace: packaged data plus user folders, immutable, with the caches keyed on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from chipwatch.market import load_scenario
from chipwatch.market.serving import tokens_per_s_per_chip
from chipwatch.workspace import Workspace, default_workspace

SLOWER_H20 = "id: h20\nmemory:\n  bandwidth_tbs: {value: 1.0, source: 'test: a slower H20'}\n"


def test_default_workspace_is_the_packaged_data() -> None:
    ws = default_workspace()
    assert ws is default_workspace() and ws.key == ()
    assert ws.catalog.chip("h20").memory.bandwidth_tbs.value == 4.0  # type: ignore[union-attr]
    assert "baseline" in ws.scenarios.ids and "deepseek-v3" in ws.models.ids
    assert ws.rulebook.actions and ws.factors["families"]


def test_chipwatch_path_gives_another_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "h20.yaml").write_text(SLOWER_H20)
    monkeypatch.setenv("CHIPWATCH_PATH", str(tmp_path))
    ws = default_workspace()
    assert ws.key == (str(tmp_path),)
    assert ws.catalog.chip("h20").memory.bandwidth_tbs.value == 1.0  # type: ignore[union-attr]


def test_overlay_is_a_new_workspace_and_leaves_this_one_alone(tmp_path: Path) -> None:
    base = Workspace.from_dirs()
    (tmp_path / "h20.yaml").write_text(SLOWER_H20)
    mine = base.overlay(tmp_path)
    assert mine is not base and mine.key == (str(tmp_path),) and base.key == ()
    assert mine == Workspace.from_dirs([tmp_path]) and hash(mine) == hash(
        Workspace.from_dirs([tmp_path])
    )
    assert mine.catalog.chip("h20").memory.bandwidth_tbs.value == 1.0  # type: ignore[union-attr]
    assert base.catalog.chip("h20").memory.bandwidth_tbs.value == 4.0  # type: ignore[union-attr]
    assert base.overlay() is base


def test_served_tokens_follow_a_user_override_of_the_chip(tmp_path: Path) -> None:
    workload = load_scenario("baseline").reference_workload
    packaged, _ = tokens_per_s_per_chip("h20", workload)
    (tmp_path / "h20.yaml").write_text(SLOWER_H20)
    slower, _ = tokens_per_s_per_chip("h20", workload, ws=Workspace.from_dirs([tmp_path]))
    assert packaged and slower is not None and slower < packaged
    assert tokens_per_s_per_chip("h20", workload)[0] == packaged  # the default is untouched


def test_memo_keeps_at_most_limit_entries_and_computes_once() -> None:
    ws = Workspace.from_dirs()
    calls: list[int] = []
    for k in [1, 2, 1, 3, 4]:
        ws.memo("test", k, lambda k=k: calls.append(k) or k * 10, limit=3)
    assert calls == [1, 2, 3, 4]  # the second 1 came from the cache
    assert list(ws.cache("test")) == [2, 3, 4] and ws.cache("test")[4] == 40
    assert Workspace.from_dirs().cache("test") == {}  # caches live with their workspace
