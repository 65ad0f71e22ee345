"""/api/chips: the catalog, filtered and sorted; one chip with every value and its source."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from chipwatch.api.deps import get_ws
from chipwatch.api.errors import SafeJSONResponse
from chipwatch.catalog.loader import display_path
from chipwatch.services.catalog import chip_detail, chip_rows

router = APIRouter(prefix="/api", tags=["chips"])


def cached_json(request: Request, key: Any, build: Any) -> Response:
    """A lookup's JSON, built once per workspace (which never changes) and kept in a bounded
    memo, so that lookups stay cheap on the event loop while heavy work runs elsewhere."""
    body = get_ws(request).memo(
        "api.lookups", key, lambda: SafeJSONResponse(build()).body, limit=512
    )
    return Response(body, media_type="application/json")


@router.get("/chips", summary="List accelerators with their headline numbers")
async def list_chips(
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
) -> Response:
    cat = get_ws(request).catalog

    def build() -> dict[str, Any]:
        rows = chip_rows(cat, vendor, segment, country, q, sort, order)
        errors = [f"{display_path(e.file)}: {e.field}: {e.reason}" for e in cat.errors]
        return {"count": len(rows), "chips": rows, "load_errors": errors}

    return cached_json(request, ("chips", vendor, segment, country, q, sort, order), build)


@router.get("/chips/{chip_id}", summary="One accelerator: every value with its source")
async def get_chip(request: Request, chip_id: str) -> Response:
    cat = get_ws(request).catalog
    key = cat.resolve(chip_id[:64])
    if key is None:
        cat.chip(chip_id[:64])  # raises UnknownIdError with suggestions: 404
    return cached_json(request, ("chip", key), lambda: chip_detail(cat, str(key)))
