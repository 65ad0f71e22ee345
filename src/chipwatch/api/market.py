"""/api/market: scenario list, one scenario's yearly P10/P50/P90, two scenarios compared."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from chipwatch import market
from chipwatch.api.deps import get_ws
from chipwatch.api.errors import unknown_choice
from chipwatch.jsonable import to_jsonable
from chipwatch.services.market import DEFAULT_DRAWS, known_scenario, market_run

router = APIRouter(prefix="/api/market", tags=["market"])

Draws = Annotated[int, Query(ge=100, le=20_000, description="Monte Carlo draws")]
Seed = Annotated[int, Query(ge=0, le=2**32 - 1, description="random seed (reproducible)")]


@router.get("/scenarios", summary="Market scenarios with one line each")
def scenarios(request: Request) -> dict[str, Any]:
    rows = [
        {"id": s.id, "title": s.title, "description": s.description, "extends": s.extends}
        for s in market.list_scenarios(ws=get_ws(request))
    ]
    return {"count": len(rows), "scenarios": rows}


@router.get("/run/{scenario}", summary="Yearly units, revenue, shares and stocks, P10/P50/P90")
def run_scenario(
    request: Request,
    scenario: str,
    draws: Draws = DEFAULT_DRAWS,
    seed: Seed = 0,
    metric: Annotated[str | None, Query(max_length=64, description="only this metric")] = None,
    group: Annotated[str | None, Query(max_length=64, description="only this group")] = None,
) -> dict[str, Any]:
    result = market_run(scenario, draws, seed, ws=get_ws(request))
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
def compare(
    request: Request,
    a: Annotated[str, Query(max_length=64, description="first scenario")] = "h20-allowed",
    b: Annotated[str, Query(max_length=64, description="second scenario")] = "h20-banned",
    metric: Annotated[str, Query(max_length=64)] = "domestic_share",
    group: Annotated[str | None, Query(max_length=64)] = None,
    draws: Draws = DEFAULT_DRAWS,
    seed: Seed = 0,
) -> dict[str, Any]:
    ws = get_ws(request)
    df = market.compare(
        known_scenario(a, ws=ws),
        known_scenario(b, ws=ws),
        metric=metric,
        group=group,
        draws=draws,
        seed=seed,
        ws=ws,
    )
    return {
        "a": a,
        "b": b,
        "metric": metric,
        "group": group,
        "draws": draws,
        "seed": seed,
        "rows": to_jsonable(df),
    }
