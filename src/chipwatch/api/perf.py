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
from chipwatch.services.work import job_key

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


# CPU-heavy: each service runs in a worker process (chipwatch.services.work), never on the event
# loop; compares, crossovers and sweeps are cached by bytes on the request
def _json(model: Any) -> Response:
    return model_response(model)


async def _cached(request: Request, fn: Any, req: Any) -> Any:
    state = request.app.state
    key = job_key(fn, get_ws(request), req)
    return await state.pool.run_cached(state.results, key, fn, req)


@router.get("/perf/infer", summary="Serve a model on N chips: latency, throughput, memory, cost")
async def infer_get(request: Request, q: Annotated[ServingRequest, Query()]) -> Response:
    return _json(await request.app.state.pool.run(service.infer, q))


@router.post("/perf/infer", summary="Same as GET, with a JSON body")
async def infer_post(request: Request, body: ServingRequest) -> Response:
    return _json(await request.app.state.pool.run(service.infer, body))


@router.get("/perf/compare", summary="The same workload on several chips, side by side")
async def compare_get(request: Request, q: Annotated[CompareRequest, Query()]) -> dict[str, Any]:
    return {"rows": await _cached(request, service.compare, q)}


@router.post("/perf/compare", summary="Same as GET, with a JSON body")
async def compare_post(request: Request, body: CompareRequest) -> dict[str, Any]:
    return {"rows": await _cached(request, service.compare, body)}


@router.get("/perf/crossover", summary="Decode throughput against batch: who leads where, and why")
async def crossover_get(request: Request, q: Annotated[CrossoverRequest, Query()]) -> Response:
    return _json(await _cached(request, service.crossover, q))


@router.post("/perf/crossover", summary="Same as GET, with a JSON body")
async def crossover_post(request: Request, body: CrossoverRequest) -> Response:
    return _json(await _cached(request, service.crossover, body))


@router.get("/perf/train", summary="Train a model on N chips: step time, MFU, days to T tokens")
async def train_get(request: Request, q: Annotated[TrainingRequest, Query()]) -> Response:
    return _json(await request.app.state.pool.run(service.train, q))


@router.post("/perf/train", summary="Same as GET, with a JSON body")
async def train_post(request: Request, body: TrainingRequest) -> Response:
    return _json(await request.app.state.pool.run(service.train, body))


@router.post("/perf/sweep", summary="A grid of configurations: the best per chip and model")
async def sweep_post(request: Request, body: SweepRequest) -> Any:
    return to_jsonable(await _cached(request, service.sweep_best, body))
