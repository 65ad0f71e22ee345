"""/api/rules status, diff and propose, and /api/market-access: the rulebook as data.

Same request models and services as ``chipwatch rules status|diff|propose``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from chipwatch.api.deps import get_ws
from chipwatch.controls.market_access import market_access
from chipwatch.controls.requests import RulesDiffRequest, RulesProposeRequest, RulesStatusRequest
from chipwatch.services import controls as service

router = APIRouter(prefix="/api", tags=["controls"])

Market = Annotated[str, Query(min_length=2, max_length=3, description="ISO code, e.g. CN")]


@router.get("/rules/status", summary="Every rule, action and measure known on a date")
def rules_status(request: Request, q: Annotated[RulesStatusRequest, Query()]) -> Any:
    return service.rules_status(q, ws=get_ws(request))


@router.get("/rules/diff", summary="Catalog chips whose answer changed between two dates")
def rules_diff(request: Request, q: Annotated[RulesDiffRequest, Query()]) -> Any:
    return service.rules_diff(q, ws=get_ws(request))


@router.post("/rules/propose", summary="Catalog chips that flip under proposed rule sets")
def rules_propose(request: Request, body: RulesProposeRequest) -> Any:
    return service.rules_propose(body, ws=get_ws(request))


@router.get("/market-access", summary="A market's own measures on buying a chip (not US law)")
def market_access_get(
    request: Request,
    chip: Annotated[str, Query(min_length=1, max_length=64)],
    date: dt.date | None = None,
    market: Market = "CN",
) -> Any:
    return market_access(chip, date or dt.date.today(), market=market.upper(), ws=get_ws(request))
