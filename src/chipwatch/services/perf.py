"""Performance operations the views share: one workload on several chips, as rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chipwatch.perf import PerfInputError, infer
from chipwatch.perf.crossover import Crossover, crossover
from chipwatch.perf.inference import flat_row
from chipwatch.perf.requests import CrossoverRequest
from chipwatch.workspace import Workspace, resolve


def compare_rows(
    chips: Sequence[str], model: str, *, ws: Workspace | None = None, **workload: Any
) -> list[dict[str, Any]]:
    """One row per chip (``flat_row`` shape); a chip that cannot serve it carries ``error``.
    Unknown chip or model ids raise ``UnknownIdError``."""
    w = resolve(ws)
    accs = [w.catalog.chip(c) for c in dict.fromkeys(chips)]
    spec = w.models.model(model)
    rows: list[dict[str, Any]] = []
    for c in accs:
        try:
            rows.append(flat_row(infer(c, spec, ws=w, **workload)))
        except PerfInputError as e:
            rows.append({"chip": c.id, "model": spec.id, "error": str(e)})
    return rows


def crossover_result(req: CrossoverRequest, *, ws: Workspace | None = None) -> Crossover:
    """Several chips over a grid of batches (see :func:`chipwatch.perf.crossover.crossover`)."""
    w = resolve(ws)
    chips = [w.catalog.chip(c) for c in dict.fromkeys(req.chips)]
    layout: dict[str, Any] = {"tp": req.tp} if req.tp else {}
    return crossover(
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
