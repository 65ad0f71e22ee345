"""/api/perf: LLM inference and training estimates on any catalog chip (the performance model)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from chipwatch import perf
from chipwatch.api.deps import get_ws
from chipwatch.api.errors import model_response
from chipwatch.perf.requests import (
    CompareRequest,
    CrossoverRequest,
    InferRequest,
    TrainRequest,
    Workload,
)
from chipwatch.services.perf import compare_rows, crossover_result

router = APIRouter(prefix="/api", tags=["perf"])


def _model(request: Request, model_id: str) -> Any:
    return get_ws(request).models.model(model_id)


def _workload_kwargs(w: Workload) -> dict[str, Any]:
    return w.model_dump(exclude={"model", "chip", "chips"})


def run_infer(request: Request, req: InferRequest) -> Any:
    ws = get_ws(request)
    chip = ws.catalog.chip(req.chip)
    return perf.infer(chip, _model(request, req.model), ws=ws, **_workload_kwargs(req))


def run_compare(request: Request, req: CompareRequest) -> list[dict[str, Any]]:
    """One row per chip (``flat_row`` shape); a chip that cannot serve it carries ``error``."""
    return compare_rows(req.chips, req.model, ws=get_ws(request), **_workload_kwargs(req))


@router.get("/models", summary="LLM architectures the performance model knows")
def list_models(request: Request) -> dict[str, Any]:
    models = get_ws(request).models
    rows = [
        {
            "id": m.id,
            "name": m.name,
            "aliases": m.aliases,
            "layers": m.layers,
            "moe": m.moe is not None,
            "max_context": m.max_context,
            "source": m.source,
        }
        for m in models
    ]
    return {"count": len(rows), "models": rows}


@router.get("/perf/infer", summary="Serve a model on N chips: latency, throughput, memory, cost")
async def infer_get(request: Request, q: Annotated[InferRequest, Query()]) -> Response:
    return model_response(run_infer(request, q))  # milliseconds: on the event loop


@router.post("/perf/infer", summary="Same as GET, with a JSON body")
async def infer_post(request: Request, body: InferRequest) -> Response:
    return model_response(run_infer(request, body))


@router.get("/perf/compare", summary="The same workload on several chips, side by side")
def compare_get(request: Request, q: Annotated[CompareRequest, Query()]) -> dict[str, Any]:
    return {"rows": run_compare(request, q)}


@router.post("/perf/compare", summary="Same as GET, with a JSON body")
def compare_post(request: Request, body: CompareRequest) -> dict[str, Any]:
    return {"rows": run_compare(request, body)}


@router.get("/perf/crossover", summary="Decode throughput against batch: who leads where, and why")
def crossover_get(request: Request, q: Annotated[CrossoverRequest, Query()]) -> Response:
    return model_response(crossover_result(q, ws=get_ws(request)))


def run_train(request: Request, req: TrainRequest) -> Any:
    ws = get_ws(request)
    chip = ws.catalog.chip(req.chip)
    return perf.train(
        chip, _model(request, req.model), ws=ws, **req.model_dump(exclude={"chip", "model"})
    )


@router.get("/perf/train", summary="Train a model on N chips: step time, MFU, days to T tokens")
async def train_get(request: Request, q: Annotated[TrainRequest, Query()]) -> Response:
    return model_response(run_train(request, q))


@router.post("/perf/train", summary="Same as GET, with a JSON body")
async def train_post(request: Request, body: TrainRequest) -> Response:
    return model_response(run_train(request, body))
