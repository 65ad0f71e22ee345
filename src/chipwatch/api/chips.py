"""/api/chips: the catalog, filtered and sorted; one chip with every value and its source."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from chipwatch.api.errors import ApiError, unknown_choice
from chipwatch.catalog import Catalog
from chipwatch.catalog.loader import display_path

router = APIRouter(prefix="/api", tags=["chips"])

SEGMENTS = ("datacenter", "workstation", "consumer", "edge")


def get_catalog(request: Request | Any) -> Catalog:
    """The app's catalog (from a request, or a worker's state)."""
    from chipwatch.api.memo import state_of

    cat: Catalog = state_of(request).catalog
    return cat


def chip_rows(
    cat: Catalog,
    vendor: str | None = None,
    segment: str | None = None,
    country: str | None = None,
    q: str | None = None,
    sort: str = "id",
    order: str = "asc",
) -> list[dict[str, Any]]:
    """Flat chip rows matching the filters, sorted on one column (missing values last)."""
    if segment and segment.lower() not in SEGMENTS:
        raise ApiError(422, f"unknown segment {segment!r}: use one of {', '.join(SEGMENTS)}")
    chips = cat.chips(vendor=vendor, segment=segment)
    if vendor and not chips:
        vendors = sorted({c.vendor for c in cat})
        raise unknown_choice(404, f"no chips from vendor {vendor!r}", "vendor", vendor, vendors)
    rows = [c.flat() for c in chips]
    if country:
        rows = [r for r in rows if str(r["vendor_country"]).lower() == country.lower()]
    if q:
        needle = q.lower()
        rows = [r for r in rows if needle in f"{r['id']} {r['name']} {r['vendor']}".lower()]
    if rows and sort not in rows[0]:
        raise unknown_choice(
            422, f"cannot sort by {sort!r}", "column", sort, list(rows[0]), list_all=False
        )
    present = [r for r in rows if r.get(sort) is not None]
    missing = [r for r in rows if r.get(sort) is None]
    present.sort(key=lambda r: r[sort], reverse=order == "desc")  # type: ignore[arg-type,return-value]
    return present + missing


def chip_detail(cat: Catalog, chip_id: str) -> dict[str, Any]:
    """One chip with every sourced value (same shape as ``chipwatch chips show --json``)."""
    return cat.detail(chip_id)


def _cached_json(request: Request, key: Any, build: Any) -> Response:
    """A lookup's JSON, built once per app (the catalog is immutable) and kept in a bounded
    memo, so that lookups stay cheap on the event loop while heavy work runs elsewhere."""
    from chipwatch.api.errors import SafeJSONResponse
    from chipwatch.api.memo import memo

    lookups: dict[Any, Any] = memo(request.app.state.cache, "lookups", dict, limit=1000)
    body = memo(lookups, key, lambda: SafeJSONResponse(build()).body, limit=512)
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
    cat = get_catalog(request)

    def build() -> dict[str, Any]:
        rows = chip_rows(cat, vendor, segment, country, q, sort, order)
        errors = [f"{display_path(e.file)}: {e.field}: {e.reason}" for e in cat.errors]
        return {"count": len(rows), "chips": rows, "load_errors": errors}

    return _cached_json(request, ("chips", vendor, segment, country, q, sort, order), build)


@router.get("/chips/{chip_id}", summary="One accelerator: every value with its source")
async def get_chip(request: Request, chip_id: str) -> Response:
    cat = get_catalog(request)
    key = cat.resolve(chip_id[:64])
    if key is None:
        cat.chip(chip_id)  # raises UnknownIdError with suggestions: 404
    return _cached_json(request, ("chip", key), lambda: chip_detail(cat, str(key)))
