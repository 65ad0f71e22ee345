"""/api/perf: LLM inference and training estimates on any catalog chip (the performance model)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from chipwatch.api.chips import get_catalog
from chipwatch.api.domains import domain_module
from chipwatch.api.errors import ApiError
from chipwatch.api.memo import catalog_data
from chipwatch.api.work import workspace_key

router = APIRouter(prefix="/api", tags=["perf"])

ChipId = Annotated[str, Field(min_length=1, max_length=64, examples=["h20"])]
PRECISIONS = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "fp4", "int4")


def _known_precision(v: str) -> str:
    if v.lower() not in PRECISIONS:
        raise ValueError(f"unknown precision {v!r}: use one of {', '.join(PRECISIONS)}")
    return v.lower()


PrecisionName = Annotated[str, Field(max_length=8), AfterValidator(_known_precision)]

# What one request may ask for (each limit is named in the 422 message). Serving estimates grow
# with the layouts to try on num_chips; a crossover with chips x batches of them.
MAX_SERVING_CHIPS = 4096
MAX_TRAINING_CHIPS = 1_000_000
MAX_COMPARE_CHIPS = 16
MAX_CROSSOVER_CHIPS = 8
MAX_CROSSOVER_BATCHES = 24
MAX_CROSSOVER_POINTS = 96  # chips x batches
MAX_CROSSOVER_NUM_CHIPS = 1024
FINITE = ConfigDict(extra="forbid", allow_inf_nan=False)


class Workload(BaseModel):
    """A serving workload: the model, how many chips, and the request shape."""

    model_config = FINITE

    model: str = Field("llama-3.1-70b", min_length=1, max_length=64, description="model id")
    num_chips: int = Field(
        8, ge=1, le=MAX_SERVING_CHIPS, description=f"chips (at most {MAX_SERVING_CHIPS:,})"
    )
    batch: Annotated[int, Field(ge=1, le=1_000_000)] | Literal["auto"] = Field(
        "auto", description="sequences in flight, or auto"
    )
    input_len: int = Field(1024, ge=1, le=1_000_000)
    output_len: int = Field(256, ge=1, le=1_000_000)
    precision: PrecisionName = Field("fp8", description="fp8, bf16, int8, fp4 or int4")
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
        default_factory=lambda: ["h20", "h100-sxm"],
        min_length=1,
        max_length=MAX_COMPARE_CHIPS,
        description=f"chip ids (at most {MAX_COMPARE_CHIPS})",
    )


class TrainRequest(BaseModel):
    model_config = FINITE

    chip: ChipId = "h20"
    model: str = Field("llama-3.1-70b", min_length=1, max_length=64)
    num_chips: int = Field(1024, ge=1, le=MAX_TRAINING_CHIPS)
    tokens: float = Field(1e12, gt=0, le=1e16, description="training tokens")
    seq_len: int = Field(4096, ge=1, le=1_000_000)
    global_batch_tokens: int = Field(4_194_304, ge=1, le=10**10)
    precision: PrecisionName = "bf16"
    tp: int | None = Field(None, ge=1, le=65536)
    pp: int | None = Field(None, ge=1, le=65536)
    ep: int | None = Field(None, ge=1, le=65536)
    zero_stage: Literal[0, 1, 2, 3] = 1
    recompute: Literal["none", "selective", "full"] | None = None
    micro_batch: int = Field(1, ge=1, le=65536)
    calibration: bool = True


def models_of(request: Any) -> Any:
    """The model catalog (packaged plus the app's catalog folders), loaded once per app."""
    return catalog_data(request, "models", lambda dirs: domain_module("perf").load_models(dirs))


def _model(request: Any, model_id: str) -> Any:
    return models_of(request).model(model_id)


def _workload_kwargs(w: Workload) -> dict[str, Any]:
    return w.model_dump(exclude={"model", "chip", "chips"})


def run_infer(request: Any, req: InferRequest) -> Any:
    perf = domain_module("perf")
    chip = get_catalog(request).chip(req.chip)
    return perf.infer(chip, _model(request, req.model), **_workload_kwargs(req))


def run_compare(request: Any, req: CompareRequest) -> list[dict[str, Any]]:
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


def infer_json(state: Any, req: InferRequest) -> str:
    """A job: the estimate as JSON text (serialized in the worker, in one pass)."""
    return str(run_infer(state, req).model_dump_json())


def compare_rows(request: Request, req: CompareRequest) -> list[dict[str, Any]]:
    """``run_compare`` in a worker, cached by bytes (for the pages, which run in threads)."""
    state = request.app.state
    key = ("compare", workspace_key(state), req.model_dump_json())
    rows: list[dict[str, Any]] = state.pool.call_cached(state.results, key, run_compare, req)
    return rows


async def _compare(request: Request, req: CompareRequest) -> dict[str, Any]:
    state = request.app.state
    key = ("compare", workspace_key(state), req.model_dump_json())
    return {"rows": await state.pool.run_cached(state.results, key, run_compare, req)}


def _json(text: str) -> Response:
    return Response(text, media_type="application/json")


@router.get("/perf/infer", summary="Serve a model on N chips: latency, throughput, memory, cost")
async def infer_get(request: Request, q: Annotated[InferRequest, Query()]) -> Response:
    return _json(await request.app.state.pool.run(infer_json, q))


@router.post("/perf/infer", summary="Same as GET, with a JSON body")
async def infer_post(request: Request, body: InferRequest) -> Response:
    return _json(await request.app.state.pool.run(infer_json, body))


@router.get("/perf/compare", summary="The same workload on several chips, side by side")
async def compare_get(request: Request, q: Annotated[CompareRequest, Query()]) -> dict[str, Any]:
    return await _compare(request, q)


@router.post("/perf/compare", summary="Same as GET, with a JSON body")
async def compare_post(request: Request, body: CompareRequest) -> dict[str, Any]:
    return await _compare(request, body)


class CrossoverRequest(BaseModel):
    """Several chips over a grid of batch sizes: where the decode lead changes, and why."""

    model_config = FINITE

    chips: list[ChipId] = Field(
        default_factory=lambda: ["h20", "ascend-910b"],
        min_length=2,
        max_length=MAX_CROSSOVER_CHIPS,
        description=f"chip ids (2 to {MAX_CROSSOVER_CHIPS})",
    )
    model: str = Field("llama-3.1-70b", min_length=1, max_length=64)
    num_chips: int = Field(8, ge=1, le=MAX_CROSSOVER_NUM_CHIPS)
    precision: PrecisionName = "fp8"
    batches: list[Annotated[int, Field(ge=1, le=1_000_000)]] = Field(
        default_factory=lambda: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
        min_length=1,
        max_length=MAX_CROSSOVER_BATCHES,
        description=f"batch sizes (at most {MAX_CROSSOVER_BATCHES}; chips x batches at most "
        f"{MAX_CROSSOVER_POINTS})",
    )
    input_len: int = Field(1024, ge=1, le=1_000_000)
    output_len: int = Field(256, ge=1, le=1_000_000)
    tp: int | None = Field(None, ge=1, le=65536)
    disaggregated: bool = Field(True, description="pure decode (no interleaved prefill)")
    calibration: bool = True

    @model_validator(mode="after")
    def _bounded(self) -> CrossoverRequest:
        points = len(dict.fromkeys(self.chips)) * len(self.batches)
        if points > MAX_CROSSOVER_POINTS:
            raise ValueError(
                f"chips x batches is {points}, over the limit of {MAX_CROSSOVER_POINTS} for one "
                "request: ask for fewer chips or batch sizes"
            )
        return self


def run_crossover(request: Any, req: CrossoverRequest) -> Any:
    from chipwatch.perf.crossover import crossover

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


def crossover_json(state: Any, req: CrossoverRequest) -> str:
    """A job: the crossover as JSON text."""
    return str(run_crossover(state, req).model_dump_json())


def crossover_result(request: Request, req: CrossoverRequest) -> Any:
    """``run_crossover`` in a worker, cached (for the pages)."""
    state = request.app.state
    key = ("crossover", workspace_key(state), req.model_dump_json())
    return state.pool.call_cached(state.results, key, run_crossover, req)


@router.get("/perf/crossover", summary="Decode throughput against batch: who leads where, and why")
async def crossover_get(request: Request, q: Annotated[CrossoverRequest, Query()]) -> Response:
    state = request.app.state
    key = ("crossover-json", workspace_key(state), q.model_dump_json())
    return _json(await state.pool.run_cached(state.results, key, crossover_json, q))


def run_train(request: Any, req: TrainRequest) -> Any:
    perf = domain_module("perf")
    if not hasattr(perf, "train"):
        raise ApiError(503, "training estimates are not available yet in this build")
    chip = get_catalog(request).chip(req.chip)
    return perf.train(chip, _model(request, req.model), **req.model_dump(exclude={"chip", "model"}))


def train_json(state: Any, req: TrainRequest) -> str:
    """A job: the training estimate as JSON text."""
    return str(run_train(state, req).model_dump_json())


@router.get("/perf/train", summary="Train a model on N chips: step time, MFU, days to T tokens")
async def train_get(request: Request, q: Annotated[TrainRequest, Query()]) -> Response:
    return _json(await request.app.state.pool.run(train_json, q))


@router.post("/perf/train", summary="Same as GET, with a JSON body")
async def train_post(request: Request, body: TrainRequest) -> Response:
    return _json(await request.app.state.pool.run(train_json, body))
