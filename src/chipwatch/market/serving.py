"""Adapter to the performance model: served output tokens per second per chip on a reference model.

The market model calls only :func:`tokens_per_s_per_chip`, once per chip (never per draw). It asks
``chipwatch.perf.infer(acc, model, num_chips=, batch="auto", input_len=, output_len=, precision=)``
for ``output_tokens_per_s_per_chip`` with the workspace's catalog, models and factors. When the
performance model cannot answer for a chip, the result is None with a reason, and the
served-token metrics leave that chip's groups blank rather than count it as zero. A chip that
runs the workload but cannot meet the workload's latency target (``max_tpot_ms``) at any batch
serves 0 tokens/s at that target: a known zero, with a note.
"""

from __future__ import annotations

from chipwatch.market.scenario import Workload
from chipwatch.perf import infer
from chipwatch.workspace import Workspace, resolve


def _served(chip_id: str, workload: Workload, ws: Workspace) -> tuple[float | None, str | None]:
    def ask(max_tpot_ms: float | None) -> float | None:
        r = infer(
            ws.catalog.chip(chip_id),
            workload.model,
            num_chips=workload.num_chips,
            batch="auto",
            input_len=workload.input_len,
            output_len=workload.output_len,
            precision=workload.precision,
            max_tpot_ms=max_tpot_ms,
            ws=ws,
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
    chip_id: str, workload: Workload | None, *, ws: Workspace | None = None
) -> tuple[float | None, str | None]:
    """(output tokens/s per chip, None) or (None, why not); cached on the workspace."""
    if workload is None:
        return None, "scenario has no reference_workload"
    w = resolve(ws)
    return w.memo(
        "market.served_tokens", (chip_id, workload), lambda: _served(chip_id, workload, w)
    )
