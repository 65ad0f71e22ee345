"""Market operations the views share: a scenario id checked, a run computed once per workspace."""

from __future__ import annotations

from chipwatch.market import MarketResult, run
from chipwatch.services.errors import ChoiceError
from chipwatch.workspace import Workspace, resolve

DEFAULT_DRAWS = 1000


def scenario_ids(*, ws: Workspace | None = None) -> list[str]:
    return resolve(ws).scenarios.ids


def known_scenario(scenario: str, *, ws: Workspace | None = None) -> str:
    """The scenario id, or :class:`ChoiceError` naming the closest ones."""
    ids = scenario_ids(ws=ws)
    if scenario not in ids:
        raise ChoiceError(f"unknown scenario {scenario!r}", "scenario", scenario, ids)
    return scenario


def market_run(
    scenario: str, draws: int = DEFAULT_DRAWS, seed: int = 0, *, ws: Workspace | None = None
) -> MarketResult:
    """``market.run`` computed once per workspace, scenario, draws and seed (reproducible)."""
    w = resolve(ws)
    key = (known_scenario(scenario, ws=w), draws, seed)
    return w.memo(
        "services.market_run", key, lambda: run(scenario, draws=draws, seed=seed, ws=w), limit=16
    )
