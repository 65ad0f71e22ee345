"""Vectorized prediction: the serving model of ``infer`` evaluated for every point at once."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from chipwatch.catalog import load_catalog
from chipwatch.perf import moe
from chipwatch.perf import workload as wl
from chipwatch.perf.calibration.points import (
    MLPERF_SERVER_TPOT_S,
    MLPERF_SERVER_TTFT_S,
    engine_of,
    point_domain,
)
from chipwatch.perf.hardware import (
    FP8_DISPATCH_BYTES,
    attention_peak_flops,
    chip_perf,
    kv_bytes_of,
)
from chipwatch.perf.inference import Hw, evaluate
from chipwatch.perf.models import default_models

# The fitted parameters, in the order of a theta row.
THETA = (
    "compute",
    "compute_prefill",
    "memory",
    "attn_memory",
    "link",
    "link_out",
    "overhead_s",
    "link_latency_s",
    "ttft_queue_share",
    "ttft_fixed_s",
    "ttft_queue_share_disagg",
    "ttft_fixed_disagg_s",
)


@dataclass
class PointArrays:
    """Everything ``predict`` needs per point, as arrays (built once, reused by the fit)."""

    shape: Any
    prec: Any
    lay: Any
    peak: np.ndarray
    attn_peak: np.ndarray  # attention at its own precision (``attention_peak_flops``)
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
    disaggregated: np.ndarray | None = None
    # disaggregated TTFT rows: the decode pool and the load (closed-loop wait)
    concurrency: np.ndarray | None = None
    prefill_workers: np.ndarray | None = None
    decode_lay: Any = None
    decode_batch: np.ndarray | None = None
    a2a_bytes: np.ndarray | None = None  # kernel rows: dispatch or combine bytes per element
    engine: np.ndarray = field(default_factory=lambda: np.array([], dtype=str))


def point_arrays(points: Any, catalog: Any = None) -> PointArrays:
    """Per-point arrays. Deployment choices follow ``infer``'s defaults: the engine's KV format
    (``kv_precision`` column, else BF16), FP8
    dispatch with 8-bit weights, micro-batch overlap on for expert-parallel layouts (dp > 1)."""
    cat = catalog or load_catalog()
    models = default_models()
    ids = sorted(points["model"].unique())
    specs = {i: models.model(i) for i in ids}
    stacked = wl.ModelShape.stack([wl.ModelShape.of(specs[i]) for i in ids])
    shape = stacked.take(points["model"].map({m: i for i, m in enumerate(ids)}).to_numpy())
    perf = {
        (c, p): chip_perf(cat.chip(c), p)
        for c, p in points[["chip", "precision"]].drop_duplicates().itertuples(index=False)
    }
    cps = [perf[(c, p)] for c, p in zip(points["chip"], points["precision"], strict=True)]
    tp, dp = points["tp"].to_numpy(float), points["dp"].to_numpy(float)
    is_moe = points["model"].map(lambda m: specs[m].moe is not None).to_numpy(bool)
    lay = wl.Layout(
        tp=tp,
        pp=points["pp"].to_numpy(float),
        dp=dp,
        ep=points["ep"].to_numpy(float),
        replicas=np.ones(len(tp)),
        redundant=np.zeros(len(tp)),
        domain=point_domain(points).to_numpy(float),
        overlap=(is_moe & (dp > 1)).astype(float),
        skew=np.ones(len(tp)),
    )
    wb = np.array([cp.mode.weight_bytes for cp in cps])
    kv = points["kv_precision"] if "kv_precision" in points.columns else ["bf16"] * len(tp)
    attn = {
        (c, k): attention_peak_flops(cat.chip(c), k)
        for c, k in set(zip(points["chip"], kv, strict=True))
    }
    prec = wl.Precisions(
        wb,
        np.array([kv_bytes_of(k) for k in kv]),
        np.array([cp.mode.act_bytes for cp in cps]),
        np.where(wb <= 1, FP8_DISPATCH_BYTES, 2.0),
        np.full(len(tp), 2.0),
    )
    return PointArrays(
        shape=shape,
        prec=prec,
        lay=lay,
        peak=np.array([cp.peak_flops for cp in cps]),
        attn_peak=np.array([attn[(c, k)] for c, k in zip(points["chip"], kv, strict=True)]),
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
        disaggregated=_col(points, "disaggregated", 0.0) > 0,
        concurrency=_col(points, "concurrency", 0.0),
        prefill_workers=_col(points, "prefill_workers", 1.0),
        decode_lay=wl.Layout(
            tp=_col(points, "decode_tp", 1.0),
            pp=_col(points, "decode_pp", 1.0),
            dp=_col(points, "decode_dp", 1.0),
            ep=_col(points, "decode_ep", 1.0),
            replicas=lay.replicas,
            redundant=lay.redundant,
            domain=lay.domain,
            overlap=(is_moe & (_col(points, "decode_dp", 1.0) > 1)).astype(float),
            skew=lay.skew,
        ),
        decode_batch=_col(points, "decode_batch", 1.0),
        a2a_bytes=_col(points, "a2a_bytes", 2.0),
        engine=np.array([engine_of(b) for b in points["backend"].fillna("")], dtype=str)
        if "backend" in points
        else np.full(len(points), "", dtype=str),
    )


def _col(points: Any, name: str, default: float) -> np.ndarray:
    if name not in points:
        return np.full(len(points), default)
    return np.asarray(points[name].fillna(default).to_numpy(float))


def predict(pa: PointArrays, theta: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
    """Predicted value of each point's metric; ``theta`` rows hold the ``THETA`` parameters.

    ``theta`` is one row (all points) or one row per point. Serving metrics follow ``infer``:
    a server holds at most the batch that fits in memory (``max_batch``); aggregated TPOT
    includes interleaved prefill, disaggregated TPOT is the decode pool's. Measured TTFT
    includes queueing; it is predicted as the request's own prefill plus a fixed time (request
    handling outside the model: HTTP, tokenizer, scheduler) plus a share of the prefill of the
    whole in-flight batch, plus, when the concurrency exceeds what fits, the wait for a free
    slot (the excess share of a request's lifetime; aggregated rows only).
    """
    sel = np.arange(len(pa.peak)) if idx is None else idx
    th = np.atleast_2d(theta)
    th = th if th.shape[0] > 1 else np.repeat(th, len(pa.peak), axis=0)
    th = th if th.shape[0] == len(sel) else th[sel]
    metric = pa.metric[sel]
    out = np.full(len(sel), np.nan)
    grid = np.isin(metric, list(GRID_METRICS))
    link = np.isin(metric, ["scaleup_gbs", "scaleout_gbs", "a2a_up_us", "a2a_out_us"])
    if link.any():
        out[link] = _predict_link(pa, th[link], sel[link], metric[link])
    grid &= ~link
    if grid.any():
        out[grid] = _predict_max_throughput(pa, th[grid], sel[grid], metric[grid])
    rest = ~grid & ~link
    if rest.any():
        out[rest] = _predict_serving(pa, th[rest], sel[rest])
    return out


def _take(obj: Any, sel: np.ndarray) -> Any:
    return type(obj)(**{f.name: np.asarray(getattr(obj, f.name))[sel] for f in fields(obj)})


def _arrays(pa: PointArrays, th: np.ndarray, sel: np.ndarray) -> tuple[Any, ...]:
    hw = Hw(
        pa.peak[sel],
        pa.mem_bw[sel],
        pa.link_bw[sel],
        pa.capacity[sel],
        pa.scaleout_bw[sel],
        eta_c=th[:, 0],
        eta_m=th[:, 2],
        eta_l=th[:, 4],
        overhead_s=th[:, 6],
        link_latency_s=th[:, 7],
        eta_c_prefill=th[:, 1],
        eta_attn=th[:, 3],
        eta_out=th[:, 5],
        attn_peak_flops=pa.attn_peak[sel],
    )
    n = len(sel)
    spec = pa.spec_tokens[sel] if pa.spec_tokens is not None else np.zeros(n)
    acc = pa.accepted[sel] if pa.accepted is not None else np.ones(n)
    dis = pa.disaggregated[sel] if pa.disaggregated is not None else np.zeros(n, bool)
    # TensorRT-LLM plans its KV cache from the memory left after the weights
    trt = pa.engine[sel] == "trtllm" if len(pa.engine) else np.zeros(n, bool)
    kw = {
        "spec_tokens": spec,
        "accepted_per_step": acc,
        "disaggregated": dis,
        "reserve_of_free": trt,
    }
    return pa.shape.take(sel), _take(pa.prec, sel), _take(pa.lay, sel), hw, kw


def _predict_serving(pa: PointArrays, th: np.ndarray, sel: np.ndarray) -> np.ndarray:
    shape, prec, lay, hw, sp = _arrays(pa, th, sel)
    batch, isl, osl, metric = pa.batch[sel], pa.isl[sel], pa.osl[sel], pa.metric[sel]
    dis = sp["disaggregated"]
    probe = evaluate(shape, prec, lay, hw, batch, isl, osl, **sp)
    served = np.minimum(batch, np.maximum(probe.max_batch, lay.dp))
    r = evaluate(shape, prec, lay, hw, served, isl, osl, **sp)
    slot_wait = np.where(dis, 0.0, np.maximum(batch / served - 1.0, 0.0) * osl * r.tpot_s)
    queue, fixed = th[:, 8], th[:, 9]
    ttft = fixed + r.prefill_one.time_s + queue * r.prefill_batch_s + slot_wait
    is_dis_ttft = dis & (metric == "ttft_s")
    if is_dis_ttft.any():
        # a prefill worker's queue is not an interleaved decode loop: its own two terms
        dis_ttft = _disagg_ttft(pa, th, sel, r, th[:, 11], th[:, 10])
        ttft = np.where(is_dis_ttft, dis_ttft, ttft)
    one = evaluate(shape, prec, lay, hw, np.ones_like(batch), isl, osl, **sp)
    single = (isl + osl) / (one.prefill_one.time_s + osl * one.decode_step_s)
    chips = lay.tp * lay.pp * lay.dp
    decode_per_chip = batch / chips / r.decode_step_s
    out = np.select(
        [
            metric == "tpot_s",
            metric == "ttft_s",
            metric == "static_output_tokens_per_s",
            metric == "single_tokens_per_s",
            metric == "decode_tokens_per_s_per_chip",
            metric == "serving_output_tokens_per_s",
        ],
        [r.tpot_s, ttft, r.output_tokens_per_s, single, decode_per_chip, r.output_tokens_per_s],
        default=np.nan,
    )
    return np.asarray(out, dtype=float)


def _disagg_ttft(
    pa: PointArrays, th: np.ndarray, sel: np.ndarray, r: Any, fixed: Any, queue: Any
) -> np.ndarray:
    """TTFT of a disaggregated deployment under a closed-loop load of ``c`` requests.

    Each request cycles through prefill (TTFT) and decode (``osl`` x TPOT), so the prefill
    workers serve ``c / (TTFT + osl TPOT)`` prompts per second at most ``mu`` (their pool rate
    / input length): TTFT >= c / mu - osl TPOT (Little's law). Otherwise a prompt waits for its
    own prefill, a share of the prompts ahead and the KV transfer. TPOT comes from the decode
    worker's layout and batch (predicted, not the row's measured TPOT)."""
    shape, prec, lay, hw, sp = _arrays(pa, th, sel)
    dlay = _take(pa.decode_lay, sel)
    isl, osl = pa.isl[sel], pa.osl[sel]
    assert pa.decode_batch is not None and pa.prefill_workers is not None
    assert pa.concurrency is not None
    dec = evaluate(shape, prec, dlay, hw, pa.decode_batch[sel], isl, osl, **sp)
    mu = pa.prefill_workers[sel] * (
        r.prefill_pool_tokens_per_s_per_chip * lay.tp * lay.pp * lay.dp / isl
    )
    little = pa.concurrency[sel] / mu - osl * dec.tpot_s
    own = fixed + r.prefill_one.time_s + queue * r.prefill_batch_s + r.kv_transfer_s
    return np.asarray(np.maximum(own, little + fixed), dtype=float)


def _predict_link(
    pa: PointArrays, th: np.ndarray, sel: np.ndarray, metric: np.ndarray
) -> np.ndarray:
    """Kernel rows: an all-to-all's achieved bandwidth (GB/s) = the link's bandwidth x its
    efficiency; a low-latency dispatch/combine (us) = latency per collective + the bytes one rank
    sends (its tokens to their experts' ranks, ``moe.destination_ranks``) over the link."""
    up = pa.link_bw[sel] * th[:, 4]
    out = pa.scaleout_bw[sel] * th[:, 5]
    gbs = np.where(metric == "scaleup_gbs", up, out) / 1e9
    ep = pa.lay.ep[sel]
    k = pa.shape.active[sel]
    per_elem = pa.a2a_bytes[sel] if pa.a2a_bytes is not None else np.full(len(sel), 2.0)
    byts = pa.batch[sel] * pa.shape.hidden[sel] * per_elem * moe.destination_ranks(ep, k)
    byts = byts * (ep - 1) / np.maximum(ep, 1)
    us = (th[:, 7] + byts / np.where(metric == "a2a_up_us", up, out)) * 1e6
    return np.asarray(np.where(np.char.endswith(metric.astype(str), "_us"), us, gbs), dtype=float)


# metrics predicted as the best throughput over a grid of batches that fit
GRID_METRICS = ("mlperf_offline_tokens_per_s", "mlperf_server_tokens_per_s", "offline_tokens_per_s")
GRID_STEPS = 24  # batches tried per MLPerf point: geometric from dp to the largest that fits


def _predict_max_throughput(
    pa: PointArrays, th: np.ndarray, sel: np.ndarray, metric: np.ndarray
) -> np.ndarray:
    """MLPerf Offline: the highest output tokens/s of any batch that fits; Server: the same
    among batches whose TPOT <= 200 ms and TTFT <= 2 s (continuous batching, as ``infer``)."""
    shape, prec, lay, hw, sp = _arrays(pa, th, sel)
    isl, osl = pa.isl[sel], pa.osl[sel]
    probe = evaluate(shape, prec, lay, hw, lay.dp, isl, osl, **sp)
    top = np.maximum(probe.max_batch, lay.dp)
    frac = np.linspace(0.0, 1.0, GRID_STEPS)
    # batch_j = dp * (top / dp) ** frac_j : geometric grid from dp to top, per point
    b = lay.dp[:, None] * np.power((top / lay.dp)[:, None], frac[None, :])
    rep = np.repeat(np.arange(len(sel)), GRID_STEPS)
    shape_r, prec_r, lay_r, hw_r, sp_r = _arrays(pa, th[rep], sel[rep])
    r = evaluate(shape_r, prec_r, lay_r, hw_r, b.ravel(), isl[rep], osl[rep], **sp_r)
    tps = np.asarray(r.output_tokens_per_s, dtype=float).reshape(len(sel), GRID_STEPS)
    server = (metric == "mlperf_server_tokens_per_s")[:, None]
    ok = (np.asarray(r.tpot_s).reshape(tps.shape) <= MLPERF_SERVER_TPOT_S) & (
        np.asarray(r.ttft_s).reshape(tps.shape) <= MLPERF_SERVER_TTFT_S
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
