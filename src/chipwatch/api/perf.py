"""/api/perf: LLM inference and training estimates on any catalog chip (the performance model).

Bodies and query models are the request models of :mod:`chipwatch.perf.requests`; every route
calls the service ``chipwatch perf ...`` calls (:mod:`chipwatch.services.perf`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from chipwatch.api.deps import get_ws
from chipwatch.api.errors import model_response
from chipwatch.jsonable import to_jsonable
from chipwatch.perf.requests import (
    CompareRequest,
    CrossoverRequest,
    ServingRequest,
    SweepRequest,
    TrainingRequest,
)
from chipwatch.services import perf as service

router = APIRouter(prefix="/api", tags=["perf"])


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


# infer takes milliseconds: on the event loop (async def), serialized in one pass
@router.get("/perf/infer", summary="Serve a model on N chips: latency, throughput, memory, cost")
async def infer_get(request: Request, q: Annotated[ServingRequest, Query()]) -> Response:
    return model_response(service.infer(q, ws=get_ws(request)))


@router.post("/perf/infer", summary="Same as GET, with a JSON body")
async def infer_post(request: Request, body: ServingRequest) -> Response:
    return model_response(service.infer(body, ws=get_ws(request)))


@router.get("/perf/compare", summary="The same workload on several chips, side by side")
def compare_get(request: Request, q: Annotated[CompareRequest, Query()]) -> dict[str, Any]:
    return {"rows": service.compare(q, ws=get_ws(request))}


@router.post("/perf/compare", summary="Same as GET, with a JSON body")
def compare_post(request: Request, body: CompareRequest) -> dict[str, Any]:
    return {"rows": service.compare(body, ws=get_ws(request))}


@router.get("/perf/crossover", summary="Decode throughput against batch: who leads where, and why")
def crossover_get(request: Request, q: Annotated[CrossoverRequest, Query()]) -> Response:
    return model_response(service.crossover(q, ws=get_ws(request)))


@router.post("/perf/crossover", summary="Same as GET, with a JSON body")
def crossover_post(request: Request, body: CrossoverRequest) -> Response:
    return model_response(service.crossover(body, ws=get_ws(request)))


@router.get("/perf/train", summary="Train a model on N chips: step time, MFU, days to T tokens")
async def train_get(request: Request, q: Annotated[TrainingRequest, Query()]) -> Response:
    return model_response(service.train(q, ws=get_ws(request)))


@router.post("/perf/train", summary="Same as GET, with a JSON body")
async def train_post(request: Request, body: TrainingRequest) -> Response:
    return model_response(service.train(body, ws=get_ws(request)))


@router.post("/perf/sweep", summary="A grid of configurations: the best per chip and model")
def sweep_post(request: Request, body: SweepRequest) -> Any:
    _, best = service.sweep(body, ws=get_ws(request))
    return to_jsonable(best)
