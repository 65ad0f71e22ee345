"""Adapter to the performance model: served output tokens per second per chip on a reference model.

The market model calls only :func:`tokens_per_s_per_chip`, once per chip (never per draw). It asks
``chipwatch.perf.infer(acc, model, num_chips=, batch="auto", input_len=, output_len=, precision=)``
for ``output_tokens_per_s_per_chip``. When the performance model is missing or cannot answer for a
chip, the result is None with a reason, and the served-token metrics leave that chip's groups blank
rather than count it as zero.
"""

from __future__ import annotations

from functools import lru_cache

from chipwatch.market.scenario import Workload


def _infer():  # type: ignore[no-untyped-def]
    try:
        from chipwatch.perf import infer
    except ImportError:
        return None
    return infer


@lru_cache(maxsize=512)
def _cached(chip_id: str, workload: Workload) -> tuple[float | None, str | None]:
    from chipwatch.session import catalog

    infer = _infer()
    if infer is None:
        return None, "performance model (chipwatch.perf.infer) not available"
    try:
        r = infer(
            catalog().chip(chip_id),
            workload.model,
            num_chips=workload.num_chips,
            batch="auto",
            input_len=workload.input_len,
            output_len=workload.output_len,
            precision=workload.precision,
            max_tpot_ms=workload.max_tpot_ms,
        )
        v = getattr(r, "output_tokens_per_s_per_chip", None)
    except Exception as e:  # another domain's model: report, never break a market run
        return None, f"performance model failed for {chip_id}: {type(e).__name__}: {e}"
    if v is None or not v > 0:
        return None, f"performance model gave no throughput for {chip_id}"
    return float(v), None


def tokens_per_s_per_chip(
    chip_id: str, workload: Workload | None
) -> tuple[float | None, str | None]:
    """(output tokens/s per chip, None) or (None, why not)."""
    if workload is None:
        return None, "scenario has no reference_workload"
    return _cached(chip_id, workload)
