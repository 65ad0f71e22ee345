"""/api/market: scenario list, a scenario's yearly P10/P50/P90, two scenarios compared, the
sensitivity (tornado) table and the check against cited figures.

Query models are the request models of :mod:`chipwatch.market.requests`; every route calls the
service ``chipwatch market ...`` calls (:mod:`chipwatch.services.market`). The API allows at
most ``MAX_API_DRAWS`` draws per request (limit on work per request)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from chipwatch import market
from chipwatch.api.deps import get_ws
from chipwatch.api.errors import ApiError
from chipwatch.market.requests import (
    CheckRequest,
    MarketCompareRequest,
    MarketRunRequest,
    SensitivityRequest,
)
from chipwatch.services import market as service
from chipwatch.services.market import known_scenario
from chipwatch.services.work import job_key

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


# CPU-heavy: each service runs in a worker process (chipwatch.services.work), its JSON result
# cached by bytes on the request
async def _cached(request: Request, fn: Any, q: Any) -> dict[str, Any]:
    state = request.app.state
    result: dict[str, Any] = await state.pool.run_cached(
        state.results, job_key(fn, get_ws(request), q), fn, q
    )
    return result


async def _run(request: Request, q: MarketRunRequest) -> dict[str, Any]:
    known_scenario(q.scenario, ws=get_ws(request))
    _draws(q.draws)
    return await _cached(request, service.run, q)


@router.get("/run", summary="Yearly units, revenue, shares and stocks, P10/P50/P90")
async def run_query(request: Request, q: Annotated[MarketRunRequest, Query()]) -> dict[str, Any]:
    return await _run(request, q)


@router.post(
    "/run",
    summary="The same as a JSON body; with 'rules' (proposed rule sets) it "
    "runs under them and adds the effect against the rules in force",
)
async def run_body(request: Request, body: MarketRunRequest) -> dict[str, Any]:
    return await _run(request, body)


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
    return await _cached(request, service.compare, q)


@router.get("/sensitivity", summary="Which inputs move an output most (one at a time)")
async def sensitivity(
    request: Request, q: Annotated[SensitivityRequest, Query()]
) -> dict[str, Any]:
    known_scenario(q.scenario, ws=get_ws(request))
    return await _cached(request, service.sensitivity, q)


@router.get("/check", summary="The model against every cited figure")
async def check(request: Request, q: Annotated[CheckRequest, Query()]) -> dict[str, Any]:
    known_scenario(q.scenario, ws=get_ws(request))
    _draws(q.draws)
    return await _cached(request, service.check, q)
