"""/api classify, timeline, frontier and control-map routes (the export-control engine)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import Field

from chipwatch import controls
from chipwatch.api.deps import get_ws
from chipwatch.api.errors import model_response
from chipwatch.controls.requests import ClassifyRequest, FrontierRequest, TimelineRequest
from chipwatch.services import controls as service
from chipwatch.services.controls import control_map as control_map_rows

router = APIRouter(prefix="/api", tags=["controls"])

Destination = Annotated[str, Query(min_length=2, max_length=3, description="ISO code, e.g. CN")]
When = Annotated[dt.date | None, Query(description="YYYY-MM-DD (default: today)")]


class MemoQuery(ClassifyRequest):
    format: Literal["md", "html"] = Field("md", description="Markdown or HTML")
    lang: Literal["en", "zh-CN"] = Field(
        "en", description="Language of the memo's headings and labels (rule text stays English)"
    )


def run_classify(request: Request, req: ClassifyRequest) -> Any:
    return service.classify_request(req, ws=get_ws(request))


# classify and infer take milliseconds: they run on the event loop (async def) instead of the
# thread pool and serialize in one pass (model_dump_json); under 32 concurrent clients both cut
# latency markedly (benchmarks/load_api.py). Slow endpoints (market runs) stay in the pool.
@router.get("/classify", summary="Classify a chip under the US rules on a date, for a destination")
async def classify_get(request: Request, q: Annotated[ClassifyRequest, Query()]) -> Response:
    # a pure function of the query (and of today, when no date is given): answered from a
    # bounded memo of the JSON on the workspace
    key = (q.model_dump_json(), dt.date.today() if q.date is None else None)
    body = get_ws(request).memo(
        "api.classify", key, lambda: run_classify(request, q).model_dump_json(), limit=2048
    )
    return Response(body, media_type="application/json")


@router.post("/classify", summary="Classify a catalog chip or a posted hypothetical spec")
async def classify_post(request: Request, body: ClassifyRequest) -> Response:
    return model_response(run_classify(request, body))


def memo_response(request: Request, c: Any, fmt: str, lang: str = "en") -> Response:
    import re

    from chipwatch.controls.memo import memo_html, memo_markdown

    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"determination-{c.chip}-{c.date}-{c.destination}")
    if fmt == "html":
        text, media = memo_html(c, ws=get_ws(request), lang=lang), "text/html; charset=utf-8"
    else:
        text = memo_markdown(c, ws=get_ws(request), lang=lang)
        media = "text/markdown; charset=utf-8"
    suffix = "html" if fmt == "html" else "md"
    disposition = f'attachment; filename="{name}.{suffix}"'
    return Response(text, media_type=media, headers={"Content-Disposition": disposition})


@router.get("/classify/memo", summary="The determination memo (Markdown or HTML) to download")
def memo_get(request: Request, q: Annotated[MemoQuery, Query()]) -> Response:
    c = run_classify(request, ClassifyRequest(**q.model_dump(exclude={"format", "lang"})))
    return memo_response(request, c, q.format, q.lang)


@router.post("/classify/memo", summary="The memo for a posted chip or spec")
def memo_post(
    request: Request, body: ClassifyRequest, format: Literal["md", "html"] = "md"
) -> Response:
    c = run_classify(request, body)
    return memo_response(request, c, format)


@router.get("/timeline", summary="A chip's control status from October 2022 to today")
def timeline_query(request: Request, q: Annotated[TimelineRequest, Query()]) -> Any:
    return service.timeline(q, ws=get_ws(request))


@router.get("/timeline/{chip_id}", summary="The same, with the chip id in the path")
def timeline_get(request: Request, chip_id: str, q: Annotated[TimelineRequest, Query()]) -> Any:
    req = TimelineRequest(**{**q.model_dump(), "chip": chip_id})
    return service.timeline(req, ws=get_ws(request))


@router.get("/frontier", summary="Largest TPP outside every controlled paragraph at a die area")
def frontier_get(request: Request, q: Annotated[FrontierRequest, Query()]) -> Any:
    return service.frontier(q, ws=get_ws(request))


@router.get("/controls/thresholds", summary="Threshold regions in force on a date")
def thresholds_get(request: Request, date: When = None) -> Any:
    on = date or dt.date.today()
    return {"date": on, "regions": controls.thresholds_in_force(on, ws=get_ws(request))}


@router.get("/controls/map", summary="Every catalog chip's TPP, density and status on a date")
def control_map(request: Request, date: When = None, destination: Destination = "CN") -> Any:
    on = date or dt.date.today()
    return {
        "date": on,
        "destination": destination.upper(),
        "chips": control_map_rows(on, destination.upper(), ws=get_ws(request)),
    }
