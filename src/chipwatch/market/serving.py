"""Adapter to the performance model: served output tokens per second per chip on a reference model.

The market model calls only :func:`tokens_per_s_per_chip`, once per chip (never per draw). It asks
``chipwatch.perf.infer(acc, model, num_chips=, batch="auto", input_len=, output_len=, precision=)``
for ``output_tokens_per_s_per_chip``. When the performance model is missing or cannot answer for a
chip, the result is None with a reason, and the served-token metrics leave that chip's groups blank
rather than count it as zero. A chip that runs the workload but cannot meet the workload's latency
target (``max_tpot_ms``) at any batch serves 0 tokens/s at that target: a known zero, with a note.
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
def _cached(
    chip_id: str, workload: Workload, catalog_key: object = None
) -> tuple[float | None, str | None]:
    """Cached per chip, workload and catalog in use (``catalog_key``: see ``session.key``)."""
    from chipwatch.session import catalog

    infer = _infer()
    if infer is None:
        return None, "performance model (chipwatch.perf.infer) not available"

    def ask(max_tpot_ms: float | None) -> float | None:
        r = infer(
            catalog().chip(chip_id),
            workload.model,
            num_chips=workload.num_chips,
            batch="auto",
            input_len=workload.input_len,
            output_len=workload.output_len,
            precision=workload.precision,
            max_tpot_ms=max_tpot_ms,
        )
        return getattr(r, "output_tokens_per_s_per_chip", None)

    try:
        v = ask(workload.max_tpot_ms)
    except Exception as e:  # another domain's model: report, never break a market run
        why = f"performance model failed for {chip_id}: {type(e).__name__}: {e}"
        if workload.max_tpot_ms is None:
            return None, why
        try:  # runs, but too slowly for the latency target: a known zero, not a missing figure
            slow = ask(None)
        except Exception:
            return None, why
        if slow is None or not slow > 0:
            return None, why
        return 0.0, (
            f"{chip_id} cannot meet TPOT <= {workload.max_tpot_ms:g} ms on {workload.num_chips} "
            f"chips at any batch; counted as 0 served tokens/s at that target"
        )
    if v is None or not v > 0:
        return None, f"performance model gave no throughput for {chip_id}"
    return float(v), None


def tokens_per_s_per_chip(
    chip_id: str, workload: Workload | None
) -> tuple[float | None, str | None]:
    """(output tokens/s per chip, None) or (None, why not)."""
    if workload is None:
        return None, "scenario has no reference_workload"
    from chipwatch import session

    return _cached(chip_id, workload, session.key())
