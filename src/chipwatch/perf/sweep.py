"""Vectorized sweeps: chips x models x precisions x chip counts x layouts x batch x lengths.

Every configuration goes through the same ``inference.evaluate`` as ``infer`` (NumPy arrays
instead of scalars), so a sweep and a single call agree exactly for the same inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, fields
from typing import Any

import numpy as np

from chipwatch.catalog.schema import Accelerator
from chipwatch.perf import workload as wl
from chipwatch.perf.factors import factors_for
from chipwatch.perf.hardware import (
    DEFAULT_KV_PRECISION,
    FP8_DISPATCH_BYTES,
    ROOFLINE,
    PerfInputError,
    chip_perf,
    kv_bytes_of,
)
from chipwatch.perf.inference import RESOURCES, Hw, ServingAssumptions, evaluate
from chipwatch.perf.models import ModelSpec
from chipwatch.perf.parallelism import ModelLimits, divisors, valid_mask
from chipwatch.workspace import Workspace, resolve

DEFAULT_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def layouts(num_chips: Sequence[int], max_ep: bool = True, replicas: bool = False) -> np.ndarray:
    """All (n, tp, pp, dp, ep) with tp x pp x dp = n and ep dividing tp x dp (rows).

    ``replicas=True``: rows (n, tp, pp, dp, ep, r) with r x tp x pp x dp = n for every divisor
    r of n (r independent copies of a tp x pp x dp group).
    """
    rows = []
    for n in num_chips:
        for r in divisors(n) if replicas else [1]:
            group = n // r
            for tp in divisors(group):
                for pp in divisors(group // tp):
                    dp = group // (tp * pp)
                    eps = divisors(tp * dp) if max_ep else [1]
                    for ep in eps:
                        rows.append((n, tp, pp, dp, ep, r) if replicas else (n, tp, pp, dp, ep))
    return np.array(rows, dtype=float).reshape(-1, 6 if replicas else 5)


def _grid(*sizes: int) -> list[np.ndarray]:
    """Flat index arrays of the full cross product of ``sizes`` (C order)."""
    idx = np.indices(sizes, dtype=np.int32).reshape(len(sizes), -1)
    return list(idx)


def _col(x: np.ndarray) -> np.ndarray:
    """A static column against the (batch, input, output) axes."""
    return np.asarray(x).reshape(-1, 1, 1, 1)


def sweep(
    chips: Sequence[Accelerator],
    models: Sequence[str | ModelSpec],
    precisions: Sequence[str] = ("bf16", "fp8"),
    num_chips: Sequence[int] = (1, 2, 4, 8),
    batches: Sequence[int] = DEFAULT_BATCHES,
    input_lens: Sequence[int] = (1024,),
    output_lens: Sequence[int] = (256,),
    max_tpot_ms: float | None = None,
    max_ttft_ms: float | None = None,
    calibration: bool = True,
    serving: ServingAssumptions | None = None,
    valid_only: bool = True,
    chunk: int = 1 << 20,
    replicas: bool = True,
    redundant_experts: Sequence[int] = (0,),
    overlap: Sequence[bool] = (False,),
    disaggregated: Sequence[bool] = (False,),
    spec_tokens: Sequence[int] = (0,),
    kv_precisions: Sequence[str] = (DEFAULT_KV_PRECISION,),
    *,
    ws: Workspace | None = None,
) -> Any:
    """Evaluate every combination; a pandas DataFrame, one row per configuration.

    ``batch`` is the total number of sequences in flight; combinations whose parallel layout is
    invalid for the model (``parallelism.RULES``, the same rules ``infer`` checks) are dropped
    when ``valid_only``; ``fits`` and ``meets_limits`` flag memory fit and the latency limits.
    ``replicas``: also split the chips into independent model copies (MoE models only).
    New deployment options sweep as lists: ``redundant_experts`` (MoE only), ``overlap``
    (micro-batch overlap), ``disaggregated`` (decode pool of disaggregated serving),
    ``spec_tokens`` (MTP, models with an MTP head: accepted tokens from its published rate),
    ``kv_precisions``. The model is evaluated on a static x dynamic grid: per-configuration
    constants (chip, model, layout, options) broadcast against (batch, input, output), so the
    same ``evaluate`` as ``infer`` runs with most terms computed once per static row.
    """
    import pandas as pd

    if not chips or not models:
        raise PerfInputError("a sweep needs at least one chip and one model")
    ws = resolve(ws)
    cat = ws.models
    specs = [cat.resolve(m) for m in models]
    s = serving or ServingAssumptions()
    lays = layouts(num_chips, replicas=True)
    if not replicas:
        lays = lays[lays[:, 5] == 1]
    kvb = np.array([kv_bytes_of(k) for k in kv_precisions])
    opts = np.array(
        [
            (float(r), float(o), float(d), float(k), float(kv))
            for r in redundant_experts
            for o in overlap
            for d in disaggregated
            for k in spec_tokens
            for kv in range(len(kv_precisions))
        ]
    )
    n_c, n_m, n_p, n_l, n_x = len(chips), len(specs), len(precisions), len(lays), len(opts)

    # per (chip, precision): hardware after precision fallback, efficiencies, storage widths
    hw_tab = np.zeros((n_c, n_p, len(fields(Hw))))
    prec_tab = np.zeros((n_c, n_p, 3))
    domain_tab = np.zeros((n_c, n_p))
    used = np.empty((n_c, n_p), dtype=object)
    for c_i, c in enumerate(chips):
        eff = factors_for(c, ws.factors) if calibration else ROOFLINE
        for p_i, p in enumerate(precisions):
            cp = chip_perf(c, p)
            used[c_i, p_i] = cp.mode.name
            hw_tab[c_i, p_i] = astuple(Hw.of(cp, eff))
            m = cp.mode
            prec_tab[c_i, p_i] = (
                m.weight_bytes,
                m.act_bytes,
                FP8_DISPATCH_BYTES if m.weight_bytes <= 1 else 2.0,
            )
            domain_tab[c_i, p_i] = cp.domain_chips or 1e9
    shapes = wl.ModelShape.stack([wl.ModelShape.of(m) for m in specs])
    lim = ModelLimits(
        np.array([m.heads for m in specs], dtype=float),
        np.array([m.layers for m in specs], dtype=float),
        np.array([m.moe.experts if m.moe else 0 for m in specs], dtype=float),
    )
    ctx_max = np.array([m.max_context for m in specs], dtype=float)
    mtp_acc = np.array([m.mtp.acceptance if m.mtp else np.nan for m in specs], dtype=float)

    # static rows: chip x model x precision x layout x options, filtered by the shared rules
    ci, mi, pi, li, xi = _grid(n_c, n_m, n_p, n_l, n_x)
    n, tp, pp, dp, ep, rep = (lays[li, k] for k in range(6))
    red, ovl, dis, spk, kvi = (opts[xi, k] for k in range(5))
    dom = domain_tab[ci, pi]
    ok = valid_mask(lim.take(mi), tp, pp, dp, ep, rep, red, dom)
    ok &= (lim.experts[mi] > 0) | (rep == 1)  # dense: dp ranks are replicas already
    ok &= (spk == 0) | np.isfinite(mtp_acc[mi])  # MTP only where the model ships a head
    keep = np.flatnonzero(ok)
    ci, mi, pi, li = ci[keep], mi[keep], pi[keep], li[keep]
    n, tp, pp, dp, ep, rep = n[keep], tp[keep], pp[keep], dp[keep], ep[keep], rep[keep]
    red, ovl, dis, spk, kvi = red[keep], ovl[keep], dis[keep], spk[keep], kvi[keep]
    dom = dom[keep]
    acc = np.where(spk > 0, _accepted(np.nan_to_num(mtp_acc[mi]), spk), 1.0)

    # dynamic axes: batch x input x output, each its own axis, so that a term depending on the
    # input length only (one prompt's prefill, a prefill-pool pass) is computed once per input
    B, I, O = len(batches), len(input_lens), len(output_lens)  # noqa: N806, E741
    bat = np.asarray(batches, dtype=float).reshape(1, B, 1, 1)
    inp = np.asarray(input_lens, dtype=float).reshape(1, 1, I, 1)
    out_ = np.asarray(output_lens, dtype=float).reshape(1, 1, 1, O)
    n_s, n_d = len(ci), B * I * O
    res = {k: np.empty((n_s, n_d)) for k in ("ttft", "tpot", "tps", "pf_tps", "mem")}
    fits = np.empty((n_s, n_d), dtype=bool)
    pf_bound = np.empty((n_s, n_d), dtype=np.int8)
    dec_bound = np.empty((n_s, n_d), dtype=np.int8)

    def put(key: str, sl: slice, x: Any) -> None:
        res[key][sl] = np.broadcast_to(x, (sl.stop - sl.start, B, I, O)).reshape(-1, n_d)

    step = max(chunk // max(n_d, 1), 1)
    for lo in range(0, n_s, step):
        sl = slice(lo, min(lo + step, n_s))
        pr, h = prec_tab[ci[sl], pi[sl]], hw_tab[ci[sl], pi[sl]]
        r = evaluate(
            shapes.take(_col(mi[sl])),
            wl.Precisions(
                _col(pr[:, 0]), _col(kvb[kvi[sl].astype(int)]), _col(pr[:, 1]), _col(pr[:, 2]), 2.0
            ),
            wl.Layout(
                _col(tp[sl]),
                _col(pp[sl]),
                _col(dp[sl]),
                _col(ep[sl]),
                _col(rep[sl]),
                _col(red[sl]),
                _col(dom[sl]),
                _col(ovl[sl]),
                1.0,
            ),
            Hw(*(_col(h[:, j]) for j in range(h.shape[1]))),
            bat,
            inp,
            out_,
            s,
            spec_tokens=_col(spk[sl]),
            accepted_per_step=_col(acc[sl]),
            disaggregated=_col(dis[sl] > 0),
        )
        d_ = _col(dis[sl] > 0)
        put("ttft", sl, r.ttft_s)
        put("tpot", sl, r.tpot_s)
        put("tps", sl, r.output_tokens_per_s)
        put(
            "pf_tps",
            sl,
            np.where(
                d_, r.prefill_pool_tokens_per_s_per_chip * _col(n[sl]), r.prefill_tokens_per_s
            ),
        )
        put("mem", sl, r.mem_total_b)
        m_ = sl.stop - sl.start
        fits[sl] = np.broadcast_to(r.fits, (m_, B, I, O)).reshape(-1, n_d)
        pf_bound[sl] = np.broadcast_to(
            np.where(d_, r.prefill_pool.bound_code, r.prefill.bound_code), (m_, B, I, O)
        ).reshape(-1, n_d)
        dec_bound[sl] = np.broadcast_to(r.decode.bound_code, (m_, B, I, O)).reshape(-1, n_d)
    batch = np.broadcast_to(bat, (1, B, I, O)).ravel()
    isl = np.broadcast_to(inp, (1, B, I, O)).ravel()
    osl = np.broadcast_to(out_, (1, B, I, O)).ravel()
    dyn_ok = (batch[None, :] >= (dp * rep)[:, None]) & (
        isl[None, :] + osl[None, :] <= ctx_max[mi][:, None]
    )
    keep2 = dyn_ok if valid_only else np.ones((n_s, n_d), dtype=bool)
    counts = keep2.sum(axis=1)
    sel = keep2.ravel()  # boolean selection: sequential reads, cheaper than gathers

    def srow(x: np.ndarray) -> np.ndarray:
        return np.repeat(x, counts)  # a static column, once per kept configuration

    def drow(x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(x, (n_s, n_d))[keep2]

    take = {k: v.ravel()[sel] for k, v in res.items()}
    fit_f = fits.ravel()[sel]
    meets = fit_f & dyn_ok.ravel()[sel]
    if max_tpot_ms is not None:
        meets &= take["tpot"] * 1e3 <= max_tpot_ms
    if max_ttft_ms is not None:
        meets &= take["ttft"] * 1e3 <= max_ttft_ms
    chip_ids = np.array([c.id for c in chips])
    model_ids = np.array([m.id for m in specs])
    prec_req = np.array(list(precisions))
    used_names = sorted({str(u) for u in used.ravel()})
    used_code = np.array([[used_names.index(str(u)) for u in row] for row in used])

    i32 = np.int32
    cols = {
        "chip": _cat(srow(ci), chip_ids),
        "model": _cat(srow(mi), model_ids),
        "precision": _cat(srow(pi), prec_req),
        "precision_used": _cat(srow(used_code[ci, pi]), np.array(used_names)),
        "num_chips": srow(n.astype(i32)),
        "tp": srow(tp.astype(i32)),
        "pp": srow(pp.astype(i32)),
        "dp": srow(dp.astype(i32)),
        "ep": srow(ep.astype(i32)),
        "replicas": srow(rep.astype(i32)),
        "redundant_experts": srow(red.astype(i32)),
        "overlap": srow(ovl > 0),
        "disaggregated": srow(dis > 0),
        "spec_tokens": srow(spk.astype(i32)),
        "kv_precision": _cat(srow(kvi.astype(np.int8)), np.array(list(kv_precisions))),
        "batch": drow(batch.astype(i32)),
        "input_len": drow(isl.astype(i32)),
        "output_len": drow(osl.astype(i32)),
        "ttft_s": take["ttft"],
        "tpot_s": take["tpot"],
        "output_tokens_per_s": take["tps"],
        "output_tokens_per_s_per_chip": take["tps"] / srow(n),
        "prefill_tokens_per_s": take["pf_tps"],
        "mem_per_chip_gb": take["mem"] / 1e9,
        "fits": fit_f,
        "meets_limits": meets,
        "prefill_bound": _cat(pf_bound.ravel()[sel], RESOURCES),
        "decode_bound": _cat(dec_bound.ravel()[sel], RESOURCES),
    }
    return pd.DataFrame(cols, copy=False)  # columns as built, no block consolidation copy


def _accepted(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """1 + a + ... + a^k (see ``inference.accepted_tokens``)."""
    return np.where(a < 1, (1 - np.power(a, k + 1)) / np.maximum(1 - a, 1e-12), k + 1)


def _cat(codes: Any, categories: Any) -> Any:
    import pandas as pd

    return pd.Categorical.from_codes(np.asarray(codes), categories=list(categories))  # type: ignore[call-overload]


def best_per_chip(
    df: Any,
    by: str = "output_tokens_per_s",
    group: Sequence[str] = ("chip",),
) -> Any:
    """The best configuration per group among those that fit and meet the limits."""
    if by not in df.columns:
        raise PerfInputError(f"unknown column {by!r} to rank by")
    ok = df[df["meets_limits"]]
    if ok.empty:
        return ok
    ascending = by in ("ttft_s", "tpot_s", "mem_per_chip_gb")
    idx = ok.sort_values(by, ascending=ascending).groupby(list(group), observed=True).head(1)
    return idx.sort_values(list(group)).reset_index(drop=True)


def save(df: Any, path: str, *, ws: Workspace | None = None) -> str:
    """Write a sweep to Parquet (``.parquet``), a DuckDB store (``.duckdb``/``.db``) or CSV.

    In a DuckDB store the rows go to table ``perf_sweep`` beside the catalog tables, so that
    ``chipwatch --db PATH sql`` can join them with ``accelerators``.
    """
    if path.endswith((".duckdb", ".db")):
        from chipwatch.catalog.store import connect

        connect(resolve(ws).catalog, path, extra={"perf_sweep": df}).close()
    elif path.endswith(".parquet"):
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
    return path
