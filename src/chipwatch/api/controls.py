"""/api classify, timeline, frontier and control-map routes (the export-control engine)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from chipwatch import controls
from chipwatch.api.deps import get_ws
from chipwatch.api.errors import ApiError, model_response
from chipwatch.services.controls import control_map as control_map_rows
from chipwatch.services.controls import subject

router = APIRouter(prefix="/api", tags=["controls"])

Destination = Annotated[str, Query(min_length=2, max_length=3, description="ISO code, e.g. CN")]
When = Annotated[dt.date | None, Query(description="YYYY-MM-DD (default: today)")]


class SpecFields(BaseModel):
    """A hypothetical chip given by its control-relevant numbers (see ``ChipSpec``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("hypothetical chip", max_length=100)
    tpp: float | None = Field(None, ge=0, description="total processing performance")
    dense_tops: dict[str, float] = Field(
        default_factory=dict, description="dense TFLOPS/TOPS per precision"
    )
    die_area_mm2: float | None = Field(None, gt=0, description="applicable die area")
    datacenter: bool = True
    io_bidir_gbs: float | None = Field(None, ge=0)
    dram_bw_gbs: float | None = Field(None, ge=0)


class ClassifyQuery(SpecFields):
    """GET /api/classify: a catalog ``chip`` id, or the fields of a hypothetical chip."""

    chip: str | None = Field(None, max_length=64, description="catalog chip id")
    date: dt.date | None = Field(None, description="YYYY-MM-DD (default: today)")
    destination: str = Field("CN", min_length=2, max_length=3)
    headquarters: str | None = Field(None, min_length=2, max_length=3)


class MemoQuery(ClassifyQuery):
    format: Literal["md", "html"] = Field("md", description="Markdown or HTML")
    lang: Literal["en", "zh-CN"] = Field(
        "en", description="Language of the memo's headings and labels (rule text stays English)"
    )


class ClassifyBody(BaseModel):
    """POST /api/classify: ``{"chip": "h20"}`` or ``{"spec": {...}}``, plus date and where."""

    model_config = ConfigDict(extra="forbid")

    chip: str | None = Field(None, max_length=64)
    spec: dict[str, Any] | None = Field(
        None,
        description="ChipSpec fields (name, tpp or "
        "dense_tops, die_area_mm2, datacenter, io_bidir_gbs, ...)",
    )
    date: dt.date | None = None
    destination: str = Field("CN", min_length=2, max_length=3)
    headquarters: str | None = Field(None, min_length=2, max_length=3)

    @model_validator(mode="after")
    def _one_chip(self) -> ClassifyBody:
        if (self.chip is None) == (self.spec is None):
            raise ValueError("give exactly one of 'chip' (a catalog id) or 'spec'")
        return self


def _spec_from_query(q: ClassifyQuery) -> dict[str, Any] | None:
    fields = q.model_dump(include=set(SpecFields.model_fields), exclude_defaults=True)
    if not fields or set(fields) == {"name"}:
        return None
    return q.model_dump(include=set(SpecFields.model_fields))


def run_classify(
    request: Request,
    chip: str | None,
    spec: dict[str, Any] | None,
    on: dt.date | None,
    destination: str,
    headquarters: str | None = None,
) -> Any:
    ws = get_ws(request)
    try:
        chip_or_spec = subject(chip, spec, ws=ws)
    except ValueError as e:  # a malformed spec is unprocessable input: 422 naming the field
        raise ApiError(422, str(e)) from None
    return controls.classify(
        chip_or_spec,
        on,
        destination.upper(),
        headquarters=headquarters.upper() if headquarters else None,
        ws=ws,
    )


# classify and infer take milliseconds: they run on the event loop (async def) instead of the
# thread pool and serialize in one pass (model_dump_json); under 32 concurrent clients both cut
# latency markedly (benchmarks/load_api.py). Slow endpoints (market runs) stay in the pool.
@router.get("/classify", summary="Classify a chip under the US rules on a date, for a destination")
async def classify_get(request: Request, q: Annotated[ClassifyQuery, Query()]) -> Response:
    return model_response(
        run_classify(request, q.chip, _spec_from_query(q), q.date, q.destination, q.headquarters)
    )


@router.post("/classify", summary="Classify a catalog chip or a posted hypothetical spec")
async def classify_post(request: Request, body: ClassifyBody) -> Response:
    return model_response(
        run_classify(request, body.chip, body.spec, body.date, body.destination, body.headquarters)
    )


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
    c = run_classify(request, q.chip, _spec_from_query(q), q.date, q.destination, q.headquarters)
    return memo_response(request, c, q.format, q.lang)


@router.post("/classify/memo", summary="The memo for a posted chip or spec")
def memo_post(
    request: Request, body: ClassifyBody, format: Literal["md", "html"] = "md"
) -> Response:
    c = run_classify(request, body.chip, body.spec, body.date, body.destination, body.headquarters)
    return memo_response(request, c, format)


@router.get("/timeline/{chip_id}", summary="A chip's control status from October 2022 to today")
def timeline_get(request: Request, chip_id: str, destination: Destination = "CN") -> Any:
    ws = get_ws(request)
    chip = ws.catalog.chip(chip_id)
    periods = controls.timeline(chip, destination.upper(), ws=ws)
    return {"chip": chip.id, "destination": destination.upper(), "periods": periods}


@router.get("/frontier", summary="Largest TPP outside every controlled paragraph at a die area")
def frontier_get(
    request: Request,
    die_area_mm2: Annotated[float, Query(gt=0, le=1e6, description="applicable die area")],
    date: When = None,
    datacenter: bool = True,
    io_bidir_gbs: Annotated[float | None, Query(ge=0)] = None,
    dram_bw_gbs: Annotated[float | None, Query(ge=0)] = None,
) -> Any:
    return controls.frontier(
        die_area_mm2,
        date,
        datacenter=datacenter,
        io_bidir_gbs=io_bidir_gbs,
        dram_bw_gbs=dram_bw_gbs,
        ws=get_ws(request),
    )


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
