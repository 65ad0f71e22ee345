"""/api/rules status, diff and propose, and /api/market-access: the rulebook as data."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chipwatch.api.deps import get_ws
from chipwatch.api.errors import ApiError
from chipwatch.controls.changes import diff, propose, status
from chipwatch.controls.market_access import market_access
from chipwatch.controls.rules import RuleSet

router = APIRouter(prefix="/api", tags=["controls"])

Destination = Annotated[str, Query(min_length=2, max_length=3, description="ISO code, e.g. CN")]


@router.get("/rules/status", summary="Every rule, action and measure known on a date")
def rules_status(request: Request, date: dt.date | None = None) -> Any:
    on = date or dt.date.today()
    return {"date": on, "items": status(on, get_ws(request).rulebook)}


@router.get("/rules/diff", summary="Catalog chips whose answer changed between two dates")
def rules_diff(
    request: Request, date_a: dt.date, date_b: dt.date, destination: Destination = "CN"
) -> Any:
    ws = get_ws(request)
    d = diff(ws.catalog.chips(), date_a, date_b, destination.upper(), ws.rulebook)
    return {**d.model_dump(mode="json"), "newly_controlled": d.newly_controlled}


class ProposeBody(BaseModel):
    """A proposed rule set (or several) in the packaged schema, and where/when to compare."""

    model_config = ConfigDict(extra="forbid")

    rule_sets: list[dict[str, Any]] = Field(min_length=1, max_length=10)
    date: dt.date | None = None
    destination: str = Field("CN", min_length=2, max_length=3)


@router.post("/rules/propose", summary="Catalog chips that flip under a proposed rule set")
def rules_propose(request: Request, body: ProposeBody) -> Any:
    ws = get_ws(request)
    try:
        sets = [RuleSet.model_validate(r) for r in body.rule_sets]
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ApiError(422, f"rule_sets: {where}: {first['msg']}") from None
    d = propose(ws.catalog.chips(), sets, ws.rulebook, body.date, body.destination.upper())
    return {**d.model_dump(mode="json"), "newly_controlled": d.newly_controlled}


@router.get("/market-access", summary="PRC (or other market) measures on buying a chip")
def market_access_get(
    request: Request,
    chip: Annotated[str, Query(min_length=1, max_length=64)],
    date: dt.date | None = None,
    market: Destination = "CN",
) -> Any:
    return market_access(chip, date or dt.date.today(), market=market.upper(), ws=get_ws(request))
