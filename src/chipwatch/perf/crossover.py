"""Where chips trade places: throughput against batch size, and the batches where the lead changes.

Decode at small batch reads every weight once per step and is bound by memory bandwidth; as the
batch grows the same weight read serves more tokens until the chip's ridge point (peak FLOP/s over
bytes/s) is passed and compute binds. A chip with more bandwidth and less compute (the H20) wins
the first regime and loses the second to one with more compute (the Ascend 910B). This module runs
the serving model (:func:`chipwatch.perf.infer`) over a grid of batches for each chip and reports
who leads at each batch, why (the binding resource), and where the lead changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from chipwatch.catalog.schema import Accelerator
from chipwatch.perf.inference import PerfInputError, infer
from chipwatch.perf.models import ModelSpec
from chipwatch.workspace import Workspace

DEFAULT_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class CurvePoint(BaseModel):
    """One batch size: each chip's decode and prefill throughput per chip, and the leader."""

    batch: int
    decode_tokens_per_s_per_chip: dict[str, float | None]
    prefill_tokens_per_s_per_chip: dict[str, float | None]
    tpot_ms: dict[str, float | None]
    decode_bound: dict[str, str | None]
    leader: str | None
    why_not: dict[str, str] = {}


class Flip(BaseModel):
    """The decode lead changes between two batch sizes of the grid."""

    after_batch: int
    at_batch: int
    from_chip: str
    to_chip: str
    bound_before: dict[str, str | None]
    bound_after: dict[str, str | None]


class Crossover(BaseModel):
    chips: list[str]
    model: str
    num_chips: int
    precision: str
    input_len: int
    output_len: int
    disaggregated: bool
    calibration: bool
    points: list[CurvePoint]
    flips: list[Flip]
    prefill_leader: str | None
    summary: str
    notes: list[str]


def _leader(values: dict[str, float | None]) -> str | None:
    known = {k: v for k, v in values.items() if v is not None}
    return max(known, key=lambda k: known[k]) if known else None


def crossover(
    chips: Sequence[Accelerator],
    model: str | ModelSpec,
    num_chips: int = 8,
    precision: str = "fp8",
    batches: Sequence[int] = DEFAULT_BATCHES,
    input_len: int = 1024,
    output_len: int = 256,
    disaggregated: bool = True,
    calibration: bool = True,
    *,
    ws: Workspace | None = None,
    **layout: Any,
) -> Crossover:
    """Decode (and prefill) throughput per chip for each chip at each batch of ``batches``.

    ``disaggregated=True`` (default) isolates decode: TPOT without interleaved prefills, the
    regime where memory bandwidth matters most. Layout degrees left out are chosen per point by
    :func:`infer`; a batch that does not fit a chip is reported as ``None`` with the reason.
    """
    if len(chips) < 2:
        raise PerfInputError("give at least two chips to find where they trade places")
    if not batches or min(batches) < 1:
        raise PerfInputError("batches must be positive integers")
    ids = [c.id for c in chips]
    points: list[CurvePoint] = []
    notes: dict[str, None] = {}
    for b in sorted(set(batches)):
        dec: dict[str, float | None] = {}
        pre: dict[str, float | None] = {}
        tpot: dict[str, float | None] = {}
        bound: dict[str, str | None] = {}
        why: dict[str, str] = {}
        for c in chips:
            try:
                r = infer(
                    c,
                    model,
                    num_chips=num_chips,
                    batch=b,
                    input_len=input_len,
                    output_len=output_len,
                    precision=precision,
                    calibration=calibration,
                    ws=ws,
                    disaggregated=disaggregated,
                    phase="decode" if disaggregated else "both",  # the decode pool alone
                    **layout,
                )
            except PerfInputError as e:
                dec[c.id] = pre[c.id] = tpot[c.id] = bound[c.id] = None
                why[c.id] = str(e)
                continue
            if r.batch_capped:  # the batch does not fit: no point for this chip here
                dec[c.id] = pre[c.id] = tpot[c.id] = bound[c.id] = None
                why[c.id] = "; ".join(n for n in r.notes if "capped" in n)
                continue
            dec[c.id] = r.output_tokens_per_s_per_chip
            pre[c.id] = r.prefill_tokens_per_s / num_chips
            tpot[c.id] = r.tpot_s * 1e3
            bound[c.id] = r.bound["decode"]
            for n in r.notes:
                notes[f"{c.id}: {n}"] = None
        points.append(
            CurvePoint(
                batch=b,
                decode_tokens_per_s_per_chip=dec,
                prefill_tokens_per_s_per_chip=pre,
                tpot_ms=tpot,
                decode_bound=bound,
                leader=_leader(dec),
                why_not=why,
            )
        )
    flips = [
        Flip(
            after_batch=p.batch,
            at_batch=q.batch,
            from_chip=p.leader,
            to_chip=q.leader,
            bound_before=p.decode_bound,
            bound_after=q.decode_bound,
        )
        for p, q in zip(points, points[1:], strict=False)
        if p.leader and q.leader and p.leader != q.leader
    ]
    prefill_best = _leader(
        {c: max((p.prefill_tokens_per_s_per_chip[c] or 0.0) for p in points) or None for c in ids}
    )
    return Crossover(
        chips=ids,
        model=model if isinstance(model, str) else model.id,
        num_chips=num_chips,
        precision=precision,
        input_len=input_len,
        output_len=output_len,
        disaggregated=disaggregated,
        calibration=calibration,
        points=points,
        flips=flips,
        prefill_leader=prefill_best,
        summary=describe(points, flips, prefill_best),
        notes=list(notes),
    )


def describe(points: list[CurvePoint], flips: list[Flip], prefill_leader: str | None) -> str:
    """One paragraph: who leads decode over which batches and why, and who leads prefill."""
    led = [p for p in points if p.leader]
    if not led:
        return "No batch in the grid fits every chip."
    spans: list[tuple[str, int, int, list[str]]] = []  # leader, first, last batch, its bounds
    for p in led:
        assert p.leader is not None
        b = p.decode_bound.get(p.leader) or "?"
        if spans and spans[-1][0] == p.leader:
            leader, lo, _, bounds = spans[-1]
            spans[-1] = (leader, lo, p.batch, bounds if bounds[-1] == b else [*bounds, b])
        else:
            spans.append((p.leader, p.batch, p.batch, [b]))
    parts = [
        f"{leader} leads decode at batch {lo}"
        + (f"-{hi}" if hi != lo else "")
        + f" ({' then '.join(bounds)}-bound)"
        for leader, lo, hi, bounds in spans
    ]
    text = "; ".join(parts) + "."
    if not flips:
        text += " The lead never changes over this grid."
    if prefill_leader:
        text += f" Best prefill throughput per chip: {prefill_leader}."
    return text
