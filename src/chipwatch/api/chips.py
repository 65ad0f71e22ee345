"""/api/chips: the catalog, filtered and sorted; one chip with every value and its source."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from chipwatch.api.deps import get_ws
from chipwatch.services.catalog import chip_detail, chip_rows

router = APIRouter(prefix="/api", tags=["chips"])


@router.get("/chips", summary="List accelerators with their headline numbers")
def list_chips(
    request: Request,
    vendor: Annotated[str | None, Query(description="Only this vendor, e.g. NVIDIA")] = None,
    segment: Annotated[
        str | None, Query(description="datacenter, workstation, consumer, edge")
    ] = None,
    country: Annotated[str | None, Query(description="Vendor country (ISO code), e.g. CN")] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Text in id, name or vendor")
    ] = None,
    sort: Annotated[str, Query(max_length=64, description="Column to sort by")] = "id",
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
) -> dict[str, Any]:
    cat = get_ws(request).catalog
    rows = chip_rows(cat, vendor, segment, country, q, sort, order)
    return {"count": len(rows), "chips": rows, "load_errors": [str(e) for e in cat.errors]}


@router.get("/chips/{chip_id}", summary="One accelerator: every value with its source")
def get_chip(request: Request, chip_id: str) -> dict[str, Any]:
    return chip_detail(get_ws(request).catalog, chip_id)
