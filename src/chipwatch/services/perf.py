"""Performance operations, one per request model: what ``chipwatch perf ...`` and
``/api/perf/...`` both call (so the same inputs give the same result)."""

from __future__ import annotations

from typing import Any

from chipwatch.perf import PerfInputError
from chipwatch.perf import infer as _infer
from chipwatch.perf import train as _train
from chipwatch.perf.crossover import Crossover
from chipwatch.perf.crossover import crossover as _crossover
from chipwatch.perf.inference import InferenceResult, flat_row
from chipwatch.perf.requests import (
    CompareRequest,
    CrossoverRequest,
    ServingRequest,
    SweepRequest,
    TrainingRequest,
)
from chipwatch.perf.sweep import best_per_chip
from chipwatch.perf.sweep import sweep as _sweep
from chipwatch.perf.training import TrainingResult
from chipwatch.workspace import Workspace, resolve

MAX_SWEEP_GRID = 200_000  # configurations before layouts (limit on work per request)


def infer(req: ServingRequest, *, ws: Workspace | None = None) -> InferenceResult:
    """Serve the request's model on its chips (see :func:`chipwatch.perf.infer`)."""
    w = resolve(ws)
    return _infer(
        w.catalog.chip(req.chip), w.models.model(req.model), ws=w, **req.workload_kwargs()
    )


def compare(req: CompareRequest, *, ws: Workspace | None = None) -> list[dict[str, Any]]:
    """One row per chip (``flat_row`` shape); a chip that cannot serve it carries ``error``.
    Unknown chip or model ids raise ``UnknownIdError``."""
    w = resolve(ws)
    accs = [w.catalog.chip(c) for c in dict.fromkeys(req.chips)]
    spec = w.models.model(req.model)
    rows: list[dict[str, Any]] = []
    for c in accs:
        try:
            rows.append(flat_row(_infer(c, spec, ws=w, **req.workload_kwargs())))
        except PerfInputError as e:
            rows.append({"chip": c.id, "model": spec.id, "error": str(e)})
    return rows


def crossover(req: CrossoverRequest, *, ws: Workspace | None = None) -> Crossover:
    """Several chips over a grid of batches (see :func:`chipwatch.perf.crossover.crossover`)."""
    w = resolve(ws)
    chips = [w.catalog.chip(c) for c in dict.fromkeys(req.chips)]
    layout = {k: v for k, v in req.model_dump(include={"tp", "pp", "dp", "ep"}).items() if v}
    return _crossover(
        chips,
        w.models.model(req.model),
        num_chips=req.num_chips,
        precision=req.precision,
        batches=req.batches,
        input_len=req.input_len,
        output_len=req.output_len,
        disaggregated=req.disaggregated,
        calibration=req.calibration,
        ws=w,
        **layout,
    )


def train(req: TrainingRequest, *, ws: Workspace | None = None) -> TrainingResult:
    """Train the request's model on its chips (see :func:`chipwatch.perf.train`)."""
    w = resolve(ws)
    return _train(w.catalog.chip(req.chip), w.models.model(req.model), ws=w, **req.train_kwargs())


def sweep_best(req: SweepRequest, *, ws: Workspace | None = None) -> list[dict[str, Any]]:
    """The best configuration per chip and model (what ``POST /api/perf/sweep`` answers)."""
    return sweep(req, ws=ws)[1]


def sweep(req: SweepRequest, *, ws: Workspace | None = None) -> tuple[Any, list[dict[str, Any]]]:
    """Every configuration of the grid (a DataFrame) and the best one per chip and model."""
    if req.grid_size() > MAX_SWEEP_GRID:
        raise PerfInputError(
            f"the grid has {req.grid_size():,} configurations before layouts; "
            f"at most {MAX_SWEEP_GRID:,} per request"
        )
    w = resolve(ws)
    df = _sweep(
        [w.catalog.chip(c) for c in req.chips],
        [w.models.model(m) for m in req.models],
        precisions=req.precisions,
        num_chips=req.num_chips,
        batches=req.batches,
        input_lens=req.input_lens,
        output_lens=req.output_lens,
        max_tpot_ms=req.max_tpot_ms,
        max_ttft_ms=req.max_ttft_ms,
        calibration=req.calibration,
        ws=w,
    )
    best = best_per_chip(df, req.best_by, group=("chip", "model"))
    return df, best.to_dict(orient="records")
