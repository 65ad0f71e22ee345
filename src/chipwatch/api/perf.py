"""/api/perf: LLM inference and training estimates on any catalog chip (the performance model).

Bodies and query models are the request models of :mod:`chipwatch.perf.requests`; every route
calls the service ``chipwatch perf ...`` calls (:mod:`chipwatch.services.perf`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from chipwatch.api.deps import get_ws
from chipwatch.api.work import workspace_key
from chipwatch.jsonable import to_jsonable
from chipwatch.perf.requests import (
    CompareRequest,
    CrossoverRequest,
    ServingRequest,
    SweepRequest,
    TrainingRequest,
)
from chipwatch.services import perf as service
from chipwatch.workspace import Workspace

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


# --- jobs: run in a worker process (``chipwatch.api.work``), never on the event loop -------------
def infer_json(ws: Workspace, req: ServingRequest) -> str:
    return str(service.infer(req, ws=ws).model_dump_json())


def compare_rows(ws: Workspace, req: CompareRequest) -> list[dict[str, Any]]:
    return service.compare(req, ws=ws)


def crossover_result(ws: Workspace, req: CrossoverRequest) -> Any:
    return service.crossover(req, ws=ws)


def crossover_json(ws: Workspace, req: CrossoverRequest) -> str:
    return str(service.crossover(req, ws=ws).model_dump_json())


def train_json(ws: Workspace, req: TrainingRequest) -> str:
    return str(service.train(req, ws=ws).model_dump_json())


def sweep_best(ws: Workspace, req: SweepRequest) -> Any:
    _, best = service.sweep(req, ws=ws)
    return to_jsonable(best)


def _json(text: str) -> Response:
    return Response(text, media_type="application/json")


async def _cached(request: Request, fn: Any, req: Any) -> Any:
    """``fn(ws, req)`` in a worker, cached by bytes on the request (and workspace)."""
    state = request.app.state
    key = (fn.__name__, workspace_key(get_ws(request)), req.model_dump_json())
    return await state.pool.run_cached(state.results, key, fn, req)


@router.get("/perf/infer", summary="Serve a model on N chips: latency, throughput, memory, cost")
async def infer_get(request: Request, q: Annotated[ServingRequest, Query()]) -> Response:
    return _json(await request.app.state.pool.run(infer_json, q))


@router.post("/perf/infer", summary="Same as GET, with a JSON body")
async def infer_post(request: Request, body: ServingRequest) -> Response:
    return _json(await request.app.state.pool.run(infer_json, body))


@router.get("/perf/compare", summary="The same workload on several chips, side by side")
async def compare_get(request: Request, q: Annotated[CompareRequest, Query()]) -> dict[str, Any]:
    return {"rows": await _cached(request, compare_rows, q)}


@router.post("/perf/compare", summary="Same as GET, with a JSON body")
async def compare_post(request: Request, body: CompareRequest) -> dict[str, Any]:
    return {"rows": await _cached(request, compare_rows, body)}


@router.get("/perf/crossover", summary="Decode throughput against batch: who leads where, and why")
async def crossover_get(request: Request, q: Annotated[CrossoverRequest, Query()]) -> Response:
    return _json(await _cached(request, crossover_json, q))


@router.post("/perf/crossover", summary="Same as GET, with a JSON body")
async def crossover_post(request: Request, body: CrossoverRequest) -> Response:
    return _json(await _cached(request, crossover_json, body))


@router.get("/perf/train", summary="Train a model on N chips: step time, MFU, days to T tokens")
async def train_get(request: Request, q: Annotated[TrainingRequest, Query()]) -> Response:
    return _json(await request.app.state.pool.run(train_json, q))


@router.post("/perf/train", summary="Same as GET, with a JSON body")
async def train_post(request: Request, body: TrainingRequest) -> Response:
    return _json(await request.app.state.pool.run(train_json, body))


@router.post("/perf/sweep", summary="A grid of configurations: the best per chip and model")
async def sweep_post(request: Request, body: SweepRequest) -> Any:
    return await _cached(request, sweep_best, body)
