"""/api/market: scenario list, a scenario's yearly P10/P50/P90, two scenarios compared, the
sensitivity (tornado) table and the check against cited figures.

Query models are the request models of :mod:`chipwatch.market.requests`; every route calls the
service ``chipwatch market ...`` calls (:mod:`chipwatch.services.market`). The API allows at
most ``MAX_API_DRAWS`` draws per request (limit on work per request)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from chipwatch import market
from chipwatch.api.deps import get_ws
from chipwatch.api.errors import ApiError
from chipwatch.api.work import workspace_key
from chipwatch.market.requests import (
    CheckRequest,
    MarketCompareRequest,
    MarketRunRequest,
    SensitivityRequest,
)
from chipwatch.services import market as service
from chipwatch.services.market import known_scenario
from chipwatch.workspace import Workspace

router = APIRouter(prefix="/api/market", tags=["market"])
MIN_API_DRAWS, MAX_API_DRAWS = 100, 20_000


def _draws(draws: int) -> None:
    if not MIN_API_DRAWS <= draws <= MAX_API_DRAWS:
        raise ApiError(
            422, f"draws: between {MIN_API_DRAWS:,} and {MAX_API_DRAWS:,} per API request"
        )


@router.get("/scenarios", summary="Market scenarios with one line each")
def scenarios(request: Request) -> dict[str, Any]:
    rows = [
        {"id": s.id, "title": s.title, "description": s.description, "extends": s.extends}
        for s in market.list_scenarios(ws=get_ws(request))
    ]
    return {"count": len(rows), "scenarios": rows}


# --- jobs: run in a worker process (``chipwatch.api.work``), cached by bytes ---
def run_job(ws: Workspace, q: MarketRunRequest) -> dict[str, Any]:
    return service.run(q, ws=ws)


def summary_job(ws: Workspace, scenario: str, draws: int, seed: int) -> Any:
    """A run's summary (no draw arrays), for the dashboard's charts."""
    return service.market_run(scenario, draws, seed, ws=ws)


def market_runs_in_workers(request: Request, scenarios: list[str]) -> None:
    """Compute the dashboard's runs of these scenarios in the worker pool, into the workspace's
    memo that the views read (unknown ids are left for the views to report)."""
    ws, pool = get_ws(request), request.app.state.pool
    draws = service.DEFAULT_DRAWS

    def in_worker(sid: str) -> Callable[[], Any]:
        return lambda: pool.call(summary_job, sid, draws, 0)

    for sid in dict.fromkeys(s for s in scenarios if s in service.scenario_ids(ws=ws)):
        service.market_run(sid, draws, 0, ws=ws, compute=in_worker(sid))


def compare_job(ws: Workspace, q: MarketCompareRequest) -> dict[str, Any]:
    return service.compare(q, ws=ws)


def sensitivity_job(ws: Workspace, q: SensitivityRequest) -> dict[str, Any]:
    return service.sensitivity(q, ws=ws)


def check_job(ws: Workspace, q: CheckRequest) -> dict[str, Any]:
    return service.check(q, ws=ws)


async def _cached(request: Request, fn: Any, q: Any) -> dict[str, Any]:
    state, ws = request.app.state, get_ws(request)
    key = (fn.__name__, workspace_key(ws), q.model_dump_json())
    result: dict[str, Any] = await state.pool.run_cached(state.results, key, fn, q)
    return result


async def _run(request: Request, q: MarketRunRequest) -> dict[str, Any]:
    known_scenario(q.scenario, ws=get_ws(request))
    _draws(q.draws)
    return await _cached(request, run_job, q)


@router.get("/run", summary="Yearly units, revenue, shares and stocks, P10/P50/P90")
async def run_query(request: Request, q: Annotated[MarketRunRequest, Query()]) -> dict[str, Any]:
    return await _run(request, q)


@router.get("/run/{scenario}", summary="The same, with the scenario id in the path")
async def run_scenario(
    request: Request, scenario: str, q: Annotated[MarketRunRequest, Query()]
) -> dict[str, Any]:
    return await _run(request, MarketRunRequest(**{**q.model_dump(), "scenario": scenario}))


@router.get("/compare", summary="Two scenarios side by side on one metric, per year")
async def compare(request: Request, q: Annotated[MarketCompareRequest, Query()]) -> dict[str, Any]:
    ws = get_ws(request)
    known_scenario(q.a, ws=ws)
    known_scenario(q.b, ws=ws)
    _draws(q.draws)
    return await _cached(request, compare_job, q)


@router.get("/sensitivity", summary="Which inputs move an output most (one at a time)")
async def sensitivity(
    request: Request, q: Annotated[SensitivityRequest, Query()]
) -> dict[str, Any]:
    known_scenario(q.scenario, ws=get_ws(request))
    return await _cached(request, sensitivity_job, q)


@router.get("/check", summary="The model against every cited figure")
async def check(request: Request, q: Annotated[CheckRequest, Query()]) -> dict[str, Any]:
    known_scenario(q.scenario, ws=get_ws(request))
    _draws(q.draws)
    return await _cached(request, check_job, q)
