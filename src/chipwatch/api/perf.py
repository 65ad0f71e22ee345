"""/api/perf: LLM inference and training estimates on any catalog chip (the performance model)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from chipwatch.api.chips import get_catalog
from chipwatch.api.domains import domain_module
from chipwatch.api.errors import ApiError, model_response
from chipwatch.api.memo import catalog_data

router = APIRouter(prefix="/api", tags=["perf"])

ChipId = Annotated[str, Field(min_length=1, max_length=64, examples=["h20"])]


class Workload(BaseModel):
    """A serving workload: the model, how many chips, and the request shape."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field("llama-3.1-70b", min_length=1, max_length=64, description="model id")
    num_chips: int = Field(8, ge=1, le=65536)
    batch: int | Literal["auto"] = Field("auto", description="sequences in flight, or auto")
    input_len: int = Field(1024, ge=1, le=1_000_000)
    output_len: int = Field(256, ge=1, le=1_000_000)
    precision: str = Field("fp8", max_length=8, description="fp8, bf16, int8, fp4 or int4")
    tp: int | None = Field(None, ge=1, le=65536)
    pp: int | None = Field(None, ge=1, le=65536)
    ep: int | None = Field(None, ge=1, le=65536)
    dp: int | None = Field(None, ge=1, le=65536)
    replicas: int | None = Field(
        None, ge=1, le=65536, description="independent copies (chosen if left out)"
    )
    max_tpot_ms: float | None = Field(None, gt=0, description="latency limit per output token")
    max_ttft_ms: float | None = Field(None, gt=0, description="latency limit to first token")
    calibration: bool = Field(True, description="false: pure roofline, no fitted efficiencies")


class InferRequest(Workload):
    chip: ChipId = "h20"


class CompareRequest(Workload):
    chips: list[ChipId] = Field(
        default_factory=lambda: ["h20", "h100-sxm"], min_length=1, max_length=16
    )


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chip: ChipId = "h20"
    model: str = Field("llama-3.1-70b", min_length=1, max_length=64)
    num_chips: int = Field(1024, ge=1, le=1_000_000)
    tokens: float = Field(1e12, gt=0, le=1e16, description="training tokens")
    seq_len: int = Field(4096, ge=1, le=1_000_000)
    global_batch_tokens: int = Field(4_194_304, ge=1, le=10**10)
    precision: str = Field("bf16", max_length=8)
    tp: int | None = Field(None, ge=1, le=65536)
    pp: int | None = Field(None, ge=1, le=65536)
    ep: int | None = Field(None, ge=1, le=65536)
    zero_stage: Literal[0, 1, 2, 3] = 1
    recompute: Literal["none", "selective", "full"] | None = None
    micro_batch: int = Field(1, ge=1, le=65536)
    calibration: bool = True


def models_of(request: Request) -> Any:
    """The model catalog (packaged plus the app's catalog folders), loaded once per app."""
    return catalog_data(request, "models", lambda dirs: domain_module("perf").load_models(dirs))


def _model(request: Request, model_id: str) -> Any:
    return models_of(request).model(model_id)


def _workload_kwargs(w: Workload) -> dict[str, Any]:
    return w.model_dump(exclude={"model", "chip", "chips"})


def run_infer(request: Request, req: InferRequest) -> Any:
    perf = domain_module("perf")
    chip = get_catalog(request).chip(req.chip)
    return perf.infer(chip, _model(request, req.model), **_workload_kwargs(req))


def run_compare(request: Request, req: CompareRequest) -> list[dict[str, Any]]:
    """One row per chip (``flat_row`` shape); a chip that cannot serve it carries ``error``."""
    perf = domain_module("perf")
    from chipwatch.perf.inference import flat_row

    cat = get_catalog(request)
    chips = [cat.chip(c) for c in dict.fromkeys(req.chips)]
    model = _model(request, req.model)
    rows: list[dict[str, Any]] = []
    for c in chips:
        try:
            rows.append(flat_row(perf.infer(c, model, **_workload_kwargs(req))))
        except perf.PerfInputError as e:
            rows.append({"chip": c.id, "model": model.id, "error": str(e)})
    return rows


@router.get("/models", summary="LLM architectures the performance model knows")
def list_models(request: Request) -> dict[str, Any]:
    models = models_of(request)
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


class CrossoverRequest(BaseModel):
    """Several chips over a grid of batch sizes: where the decode lead changes, and why."""

    model_config = ConfigDict(extra="forbid")

    chips: list[ChipId] = Field(
        default_factory=lambda: ["h20", "ascend-910b"], min_length=2, max_length=8
    )
    model: str = Field("llama-3.1-70b", min_length=1, max_length=64)
    num_chips: int = Field(8, ge=1, le=65536)
    precision: str = Field("fp8", max_length=8)
    batches: list[int] = Field(
        default_factory=lambda: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
        min_length=1,
        max_length=24,
    )
    input_len: int = Field(1024, ge=1, le=1_000_000)
    output_len: int = Field(256, ge=1, le=1_000_000)
    tp: int | None = Field(None, ge=1, le=65536)
    disaggregated: bool = Field(True, description="pure decode (no interleaved prefill)")
    calibration: bool = True


def run_crossover(request: Request, req: CrossoverRequest) -> Any:
    from chipwatch.perf.crossover import crossover

    if any(b < 1 or b > 1_000_000 for b in req.batches):
        raise ApiError(422, "batches must be between 1 and 1,000,000")
    cat = get_catalog(request)
    chips = [cat.chip(c) for c in dict.fromkeys(req.chips)]
    layout: dict[str, Any] = {"tp": req.tp} if req.tp else {}
    return crossover(
        chips,
        _model(request, req.model),
        num_chips=req.num_chips,
        precision=req.precision,
        batches=req.batches,
        input_len=req.input_len,
        output_len=req.output_len,
        disaggregated=req.disaggregated,
        calibration=req.calibration,
        **layout,
    )


@router.get("/perf/crossover", summary="Decode throughput against batch: who leads where, and why")
def crossover_get(request: Request, q: Annotated[CrossoverRequest, Query()]) -> Response:
    return model_response(run_crossover(request, q))


def run_train(request: Request, req: TrainRequest) -> Any:
    perf = domain_module("perf")
    if not hasattr(perf, "train"):
        raise ApiError(503, "training estimates are not available yet in this build")
    chip = get_catalog(request).chip(req.chip)
    return perf.train(chip, _model(request, req.model), **req.model_dump(exclude={"chip", "model"}))


@router.get("/perf/train", summary="Train a model on N chips: step time, MFU, days to T tokens")
async def train_get(request: Request, q: Annotated[TrainRequest, Query()]) -> Response:
    return model_response(run_train(request, q))


@router.post("/perf/train", summary="Same as GET, with a JSON body")
async def train_post(request: Request, body: TrainRequest) -> Response:
    return model_response(run_train(request, body))
