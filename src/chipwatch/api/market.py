"""/api/market: scenario list, one scenario's yearly P10/P50/P90, two scenarios compared."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from chipwatch.api.domains import domain_module
from chipwatch.api.errors import unknown_choice
from chipwatch.api.work import workspace_key
from chipwatch.jsonable import to_jsonable

router = APIRouter(prefix="/api/market", tags=["market"])

Draws = Annotated[int, Query(ge=100, le=20_000, description="Monte Carlo draws")]
Seed = Annotated[int, Query(ge=0, le=2**32 - 1, description="random seed (reproducible)")]
DEFAULT_DRAWS = 1000


def scenario_ids() -> list[str]:
    return [s.id for s in domain_module("market").list_scenarios()]


def known_scenario(scenario: str) -> str:
    """The scenario id, or 404 naming the closest ones."""
    ids = scenario_ids()
    if scenario not in ids:
        raise unknown_choice(404, f"unknown scenario {scenario!r}", "scenario", scenario, ids)
    return scenario


def summary_of(state: Any, scenario: str, draws: int, seed: int) -> Any:
    """A job: ``market.run`` without its draw arrays (a 20,000-draw run holds ~370 MB of them;
    the summary a few hundred kB), so that a cached result costs its summary only."""
    import dataclasses

    result = domain_module("market").run(scenario, draws=draws, seed=seed)
    return dataclasses.replace(result, samples={})


def compare_of(
    state: Any, a: str, b: str, metric: str, group: str | None, draws: int, seed: int
) -> Any:
    """A job: two scenarios compared draw by draw, as plain rows."""
    df = domain_module("market").compare(a, b, metric=metric, group=group, draws=draws, seed=seed)
    return to_jsonable(df)


def _key(request: Request, *parts: Any) -> tuple[Any, ...]:
    return ("market", workspace_key(request.app.state), *parts)


def market_run(request: Request, scenario: str, draws: int = DEFAULT_DRAWS, seed: int = 0) -> Any:
    """A scenario's summary, computed in a worker and cached by bytes (for the pages, which run
    in threads); results are reproducible for a seed."""
    state = request.app.state
    key = _key(request, "run", known_scenario(scenario), draws, seed)
    return state.pool.call_cached(state.results, key, summary_of, scenario, draws, seed)


@router.get("/scenarios", summary="Market scenarios with one line each")
def scenarios() -> dict[str, Any]:
    rows = [
        {"id": s.id, "title": s.title, "description": s.description, "extends": s.extends}
        for s in domain_module("market").list_scenarios()
    ]
    return {"count": len(rows), "scenarios": rows}


@router.get("/run/{scenario}", summary="Yearly units, revenue, shares and stocks, P10/P50/P90")
async def run_scenario(
    request: Request,
    scenario: str,
    draws: Draws = DEFAULT_DRAWS,
    seed: Seed = 0,
    metric: Annotated[str | None, Query(max_length=64, description="only this metric")] = None,
    group: Annotated[str | None, Query(max_length=64, description="only this group")] = None,
) -> dict[str, Any]:
    state = request.app.state
    key = _key(request, "run", known_scenario(scenario), draws, seed)
    result = await state.pool.run_cached(state.results, key, summary_of, scenario, draws, seed)
    body = result.to_json()
    rows = body["summary"]
    if metric is not None:
        metrics = sorted({r["metric"] for r in rows})
        if metric not in metrics:
            raise unknown_choice(422, f"unknown metric {metric!r}", "metric", metric, metrics)
        rows = [r for r in rows if r["metric"] == metric]
    if group is not None:
        rows = [r for r in rows if r["group"] == group]
    body["summary"] = rows
    return body


@router.get("/compare", summary="Two scenarios side by side on one metric, per year")
async def compare(
    request: Request,
    a: Annotated[str, Query(max_length=64, description="first scenario")] = "h20-allowed",
    b: Annotated[str, Query(max_length=64, description="second scenario")] = "h20-banned",
    metric: Annotated[str, Query(max_length=64)] = "domestic_share",
    group: Annotated[str | None, Query(max_length=64)] = None,
    draws: Draws = DEFAULT_DRAWS,
    seed: Seed = 0,
) -> dict[str, Any]:
    state = request.app.state
    args = (known_scenario(a), known_scenario(b), metric, group, draws, seed)
    rows = await state.pool.run_cached(
        state.results, _key(request, "compare", *args), compare_of, *args
    )
    return {
        "a": a,
        "b": b,
        "metric": metric,
        "group": group,
        "draws": draws,
        "seed": seed,
        "rows": rows,
    }
