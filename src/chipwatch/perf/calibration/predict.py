"""Vectorized prediction: the serving model of ``infer`` evaluated for every point at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from chipwatch.catalog import load_catalog
from chipwatch.perf import workload as wl
from chipwatch.perf.calibration.points import MLPERF_SERVER_TPOT_S, MLPERF_SERVER_TTFT_S
from chipwatch.perf.hardware import chip_perf
from chipwatch.perf.inference import Hw, evaluate
from chipwatch.perf.models import default_models
from chipwatch.perf.workload import Layout, Precisions


@dataclass
class PointArrays:
    """Everything ``predict`` needs per point, as arrays (built once, reused by the fit)."""

    shape: Any
    prec: Any
    lay: Any
    peak: np.ndarray
    mem_bw: np.ndarray
    link_bw: np.ndarray
    scaleout_bw: np.ndarray
    capacity: np.ndarray
    batch: np.ndarray
    isl: np.ndarray
    osl: np.ndarray
    metric: np.ndarray
    family: np.ndarray
    measured: np.ndarray
    spec_tokens: np.ndarray | None = None
    accepted: np.ndarray | None = None


def point_arrays(points: Any, catalog: Any = None) -> PointArrays:

    cat = catalog or load_catalog()
    models = default_models()
    ids = sorted(points["model"].unique())
    stacked = wl.ModelShape.stack([wl.ModelShape.of(models.model(i)) for i in ids])
    shape = stacked.take(points["model"].map({m: i for i, m in enumerate(ids)}).to_numpy())
    perf = {
        (c, p): chip_perf(cat.chip(c), p)
        for c, p in points[["chip", "precision"]].drop_duplicates().itertuples(index=False)
    }
    cps = [perf[(c, p)] for c, p in zip(points["chip"], points["precision"], strict=True)]
    tp, dp = points["tp"].to_numpy(float), points["dp"].to_numpy(float)
    domain = np.array([cp.domain_chips or 1e9 for cp in cps])
    lay = wl.Layout(
        tp,
        points["pp"].to_numpy(float),
        dp,
        points["ep"].to_numpy(float),
        (tp * dp > domain).astype(float),
    )
    prec = wl.Precisions(
        np.array([cp.mode.weight_bytes for cp in cps]),
        np.array([cp.mode.kv_bytes for cp in cps]),
        np.array([cp.mode.act_bytes for cp in cps]),
    )
    return PointArrays(
        shape=shape,
        prec=prec,
        lay=lay,
        peak=np.array([cp.peak_flops for cp in cps]),
        mem_bw=np.array([cp.mem_bw_bs for cp in cps]),
        link_bw=np.array([cp.link_bw_bs for cp in cps]),
        scaleout_bw=np.array([cp.scaleout_bw_bs for cp in cps]),
        capacity=np.array([cp.capacity_b for cp in cps]),
        batch=points["batch"].to_numpy(float),
        isl=points["input_len"].to_numpy(float),
        osl=points["output_len"].to_numpy(float),
        metric=points["metric"].to_numpy(str),
        family=np.array([cat.chip(c).family or c for c in points["chip"]]),
        measured=points["measured"].to_numpy(float),
        spec_tokens=_col(points, "spec_tokens", 0.0),
        accepted=_col(points, "accepted_per_step", 1.0),
    )


def _col(points: Any, name: str, default: float) -> np.ndarray:
    if name not in points:
        return np.full(len(points), default)
    return np.asarray(points[name].fillna(default).to_numpy(float))


def predict(
    pa: PointArrays,
    theta: np.ndarray,
    idx: np.ndarray | None = None,
    queue: Any = 0.0,
    ttft_fixed: Any = 0.0,
) -> np.ndarray:
    """Predicted value of each point's metric; ``theta`` rows = (eta_c, eta_m, eta_l, t0, alpha).

    ``theta`` is one row (all points) or one row per point. Serving metrics follow ``infer``:
    a server holds at most the batch that fits in memory (``max_batch``); TPOT includes
    interleaved prefill. Measured TTFT includes queueing; it is predicted as the request's own
    prefill plus a fixed ``ttft_fixed`` (request handling outside the model: HTTP, tokenizer,
    scheduler) plus a share ``queue`` of the prefill of the whole in-flight batch, plus, when the
    concurrency exceeds what fits, the wait for a free slot (the excess share of a request's
    lifetime).
    """

    sel = np.arange(len(pa.peak)) if idx is None else idx

    th = np.atleast_2d(theta)
    th = th if th.shape[0] > 1 else np.repeat(th, len(pa.peak), axis=0)
    th = th if th.shape[0] == len(sel) else th[sel]
    queue = np.broadcast_to(np.asarray(queue, float), (len(sel),))
    ttft_fixed = np.broadcast_to(np.asarray(ttft_fixed, float), (len(sel),))
    metric = pa.metric[sel]
    out = np.full(len(sel), np.nan)
    grid = np.char.startswith(metric.astype(str), "mlperf_")
    if grid.any():
        out[grid] = _predict_max_throughput(pa, th[grid], sel[grid], metric[grid])
    rest = ~grid
    if rest.any():
        out[rest] = _predict_serving(pa, th[rest], sel[rest], queue[rest], ttft_fixed[rest])
    return out


def _arrays(pa: PointArrays, th: np.ndarray, sel: np.ndarray) -> tuple[Any, ...]:

    hw = Hw(
        pa.peak[sel],
        pa.mem_bw[sel],
        pa.link_bw[sel],
        pa.capacity[sel],
        pa.scaleout_bw[sel],
        th[:, 0],
        th[:, 1],
        th[:, 2],
        th[:, 3],
        th[:, 4],
    )
    lay = Layout(
        pa.lay.tp[sel], pa.lay.pp[sel], pa.lay.dp[sel], pa.lay.ep[sel], pa.lay.moe_cross_domain[sel]
    )
    prec = Precisions(pa.prec.weight_bytes[sel], pa.prec.kv_bytes[sel], pa.prec.act_bytes[sel])
    n = len(sel)
    spec = pa.spec_tokens[sel] if pa.spec_tokens is not None else np.zeros(n)
    acc = pa.accepted[sel] if pa.accepted is not None else np.ones(n)
    return pa.shape.take(sel), prec, lay, hw, {"spec_tokens": spec, "accepted_per_step": acc}


def _predict_serving(
    pa: PointArrays, th: np.ndarray, sel: np.ndarray, queue: np.ndarray, ttft_fixed: np.ndarray
) -> np.ndarray:

    shape, prec, lay, hw, sp = _arrays(pa, th, sel)
    batch, isl, osl, metric = pa.batch[sel], pa.isl[sel], pa.osl[sel], pa.metric[sel]
    probe = evaluate(shape, prec, lay, hw, batch, isl, osl, **sp)
    served = np.minimum(batch, np.maximum(probe["max_batch"], lay.dp))
    r = evaluate(shape, prec, lay, hw, served, isl, osl, **sp)
    slot_wait = np.maximum(batch / served - 1.0, 0.0) * osl * r["tpot_s"]
    ttft = ttft_fixed + r["prefill_one"]["time_s"] + queue * r["prefill_batch_s"] + slot_wait
    one = evaluate(shape, prec, lay, hw, np.ones_like(batch), isl, osl, **sp)
    single = (isl + osl) / (one["prefill_one"]["time_s"] + osl * one["decode_step_s"])
    chips = lay.tp * lay.pp * lay.dp
    decode_per_chip = batch / chips / r["decode_step_s"]
    out = np.select(
        [
            metric == "tpot_s",
            metric == "ttft_s",
            metric == "static_output_tokens_per_s",
            metric == "single_tokens_per_s",
            metric == "decode_tokens_per_s_per_chip",
        ],
        [r["tpot_s"], ttft, r["output_tokens_per_s"], single, decode_per_chip],
        default=np.nan,
    )
    return np.asarray(out, dtype=float)


GRID_STEPS = 24  # batches tried per MLPerf point: geometric from dp to the largest that fits


def _predict_max_throughput(
    pa: PointArrays, th: np.ndarray, sel: np.ndarray, metric: np.ndarray
) -> np.ndarray:
    """MLPerf Offline: the highest output tokens/s of any batch that fits; Server: the same
    among batches whose TPOT <= 200 ms and TTFT <= 2 s (continuous batching, as ``infer``)."""

    shape, prec, lay, hw, sp = _arrays(pa, th, sel)
    isl, osl = pa.isl[sel], pa.osl[sel]
    probe = evaluate(shape, prec, lay, hw, lay.dp, isl, osl, **sp)
    top = np.maximum(probe["max_batch"], lay.dp)
    frac = np.geomspace(1.0, 1.0, 1) if GRID_STEPS < 2 else np.linspace(0.0, 1.0, GRID_STEPS)
    # batch_j = dp * (top / dp) ** frac_j : geometric grid from dp to top, per point
    b = lay.dp[:, None] * np.power((top / lay.dp)[:, None], frac[None, :])
    rep = np.repeat(np.arange(len(sel)), GRID_STEPS)
    th_r = th[rep]
    shape_r, prec_r, lay_r, hw_r, sp_r = _arrays(pa, th_r, sel[rep])
    r = evaluate(shape_r, prec_r, lay_r, hw_r, b.ravel(), isl[rep], osl[rep], **sp_r)
    tps = np.asarray(r["output_tokens_per_s"], float).reshape(len(sel), GRID_STEPS)
    server = (metric == "mlperf_server_tokens_per_s")[:, None]
    ok = (np.asarray(r["tpot_s"]).reshape(tps.shape) <= MLPERF_SERVER_TPOT_S) & (
        np.asarray(r["ttft_s"]).reshape(tps.shape) <= MLPERF_SERVER_TTFT_S
    )
    tps = np.where(server & ~ok, 0.0, tps)
    best = tps.max(axis=1)
    return np.where(best > 0, best, np.nan)


def log_residuals(pred: np.ndarray, measured: np.ndarray, metric: np.ndarray) -> np.ndarray:
    """log(predicted / measured) for times, log(measured / predicted) for rates: positive
    always means the model is too slow."""
    rate = np.char.find(metric.astype(str), "per_s") >= 0
    r = np.log(pred / measured)
    return np.where(rate, -r, r)


def signed_err_pct(pred: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """(predicted - measured) / measured, in percent."""
    return (pred / measured - 1.0) * 100


# ------------------------------------------------------------------------------------------
