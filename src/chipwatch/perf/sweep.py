"""Vectorized sweeps: chips x models x precisions x chip counts x layouts x batch x lengths.

Every configuration goes through the same ``inference.evaluate`` as ``infer`` (NumPy arrays
instead of scalars), so a sweep and a single call agree exactly for the same inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
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
    attention_peak_flops,
    chip_perf,
    kv_bytes_of,
)
from chipwatch.perf.inference import RESOURCES, Hw, ServingAssumptions, evaluate
from chipwatch.perf.models import ModelSpec
from chipwatch.perf.parallelism import ModelLimits, divisors, valid_mask
from chipwatch.workspace import Workspace, resolve

DEFAULT_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
ATTN_PEAK_COL = [f.name for f in fields(Hw)].index("attn_peak_flops")


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
    if not chips or not models:
        raise PerfInputError("a sweep needs at least one chip and one model")
    ws = resolve(ws)
    specs = [ws.models.resolve(m) for m in models]
    lays = layouts(num_chips, replicas=True)
    if not replicas:
        lays = lays[lays[:, 5] == 1]
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
    tabs = _hardware_tables(chips, precisions, ws, calibration, kv_precisions)
    st = _static_rows(specs, lays, opts, tabs)
    dyn = _Dynamic.of(batches, input_lens, output_lens)
    kvb = np.array([kv_bytes_of(k) for k in kv_precisions])
    res = _evaluate_grid(st, tabs, specs, kvb, dyn, serving or ServingAssumptions(), chunk)
    return _frame(
        st,
        dyn,
        res,
        tabs,
        specs,
        chips,
        precisions,
        kv_precisions,
        valid_only,
        max_tpot_ms,
        max_ttft_ms,
    )


@dataclass(frozen=True)
class _Tables:
    """Per (chip, precision): hardware after precision fallback with its efficiencies, storage
    widths (weights, activations, dispatch) and the scale-up domain, and the mode used."""

    hw: np.ndarray
    prec: np.ndarray
    domain: np.ndarray
    used: np.ndarray
    attn: np.ndarray  # attention peak per chip and KV precision (``attention_peak_flops``)


def _hardware_tables(
    chips: Sequence[Accelerator],
    precisions: Sequence[str],
    ws: Workspace,
    calibration: bool,
    kv_precisions: Sequence[str] = (DEFAULT_KV_PRECISION,),
) -> _Tables:
    n_c, n_p = len(chips), len(precisions)
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
            dispatch = FP8_DISPATCH_BYTES if m.weight_bytes <= 1 else 2.0
            prec_tab[c_i, p_i] = (m.weight_bytes, m.act_bytes, dispatch)
            domain_tab[c_i, p_i] = cp.domain_chips or 1e9
    attn = np.array([[attention_peak_flops(c, k) for k in kv_precisions] for c in chips])
    return _Tables(hw_tab, prec_tab, domain_tab, used, attn)


@dataclass(frozen=True)
class _Static:
    """The static rows (chip x model x precision x layout x options) that pass the rules."""

    ci: np.ndarray
    mi: np.ndarray
    pi: np.ndarray
    n: np.ndarray
    tp: np.ndarray
    pp: np.ndarray
    dp: np.ndarray
    ep: np.ndarray
    rep: np.ndarray
    red: np.ndarray
    ovl: np.ndarray
    dis: np.ndarray
    spk: np.ndarray
    kvi: np.ndarray
    dom: np.ndarray
    acc: np.ndarray

    def __len__(self) -> int:
        return len(self.ci)


def _static_rows(
    specs: list[ModelSpec], lays: np.ndarray, opts: np.ndarray, tabs: _Tables
) -> _Static:
    """Cross product of chips, models, precisions, layouts and options, filtered by the same
    validity rules ``infer`` checks (``parallelism.RULES``)."""
    lim = ModelLimits(
        np.array([m.heads for m in specs], dtype=float),
        np.array([m.layers for m in specs], dtype=float),
        np.array([m.moe.experts if m.moe else 0 for m in specs], dtype=float),
    )
    mtp_acc = np.array([m.mtp.acceptance if m.mtp else np.nan for m in specs], dtype=float)
    n_c, n_p = tabs.domain.shape
    ci, mi, pi, li, xi = _grid(n_c, len(specs), n_p, len(lays), len(opts))
    n, tp, pp, dp, ep, rep = (lays[li, k] for k in range(6))
    red, ovl, dis, spk, kvi = (opts[xi, k] for k in range(5))
    dom = tabs.domain[ci, pi]
    ok = valid_mask(lim.take(mi), tp, pp, dp, ep, rep, red, dom)
    ok &= (lim.experts[mi] > 0) | (rep == 1)  # dense: dp ranks are replicas already
    ok &= (spk == 0) | np.isfinite(mtp_acc[mi])  # MTP only where the model ships a head
    k = np.flatnonzero(ok)
    acc = np.where(spk[k] > 0, _accepted(np.nan_to_num(mtp_acc[mi[k]]), spk[k]), 1.0)
    names = ("ci", "mi", "pi", "n", "tp", "pp", "dp", "ep", "rep", "red", "ovl", "dis", "spk")
    cols = (ci, mi, pi, n, tp, pp, dp, ep, rep, red, ovl, dis, spk)
    kw = {name: c[k] for name, c in zip(names, cols, strict=True)}
    return _Static(**kw, kvi=kvi[k], dom=dom[k], acc=acc)


@dataclass(frozen=True)
class _Dynamic:
    """Batch, input and output on their own axes, so that a term depending on the input length
    only (one prompt's prefill, a prefill-pool pass) is computed once per input length."""

    bat: np.ndarray
    inp: np.ndarray
    out: np.ndarray

    @classmethod
    def of(cls, b: Sequence[int], i: Sequence[int], o: Sequence[int]) -> _Dynamic:
        return cls(
            np.asarray(b, dtype=float).reshape(1, -1, 1, 1),
            np.asarray(i, dtype=float).reshape(1, 1, -1, 1),
            np.asarray(o, dtype=float).reshape(1, 1, 1, -1),
        )

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.bat.shape[1], self.inp.shape[2], self.out.shape[3]

    @property
    def size(self) -> int:
        b, i, o = self.shape
        return b * i * o

    def flat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        full = (1, *self.shape)
        return tuple(np.broadcast_to(x, full).ravel() for x in (self.bat, self.inp, self.out))  # type: ignore[return-value]


def _evaluate_grid(
    st: _Static,
    tabs: _Tables,
    specs: list[ModelSpec],
    kvb: np.ndarray,
    dyn: _Dynamic,
    s: ServingAssumptions,
    chunk: int,
) -> dict[str, np.ndarray]:
    """``evaluate`` over static rows x (batch, input, output), in chunks of static rows."""
    shapes = wl.ModelShape.stack([wl.ModelShape.of(m) for m in specs])
    n_s, n_d = len(st), dyn.size
    res = {k: np.empty((n_s, n_d)) for k in ("ttft", "tpot", "tps", "pf_tps", "mem")}
    res["fits"] = np.empty((n_s, n_d), dtype=bool)
    res["pf_bound"] = np.empty((n_s, n_d), dtype=np.int8)
    res["dec_bound"] = np.empty((n_s, n_d), dtype=np.int8)

    step = max(chunk // max(n_d, 1), 1)
    for lo in range(0, n_s, step):
        sl = slice(lo, min(lo + step, n_s))
        full = (sl.stop - sl.start, *dyn.shape)

        def put(key: str, x: Any, sl: slice = sl, full: tuple[int, ...] = full) -> None:
            res[key][sl] = np.broadcast_to(x, full).reshape(-1, n_d)

        pr, h = tabs.prec[st.ci[sl], st.pi[sl]], tabs.hw[st.ci[sl], st.pi[sl]]
        h[:, ATTN_PEAK_COL] = tabs.attn[st.ci[sl], st.kvi[sl].astype(int)]
        r = evaluate(
            shapes.take(_col(st.mi[sl])),
            wl.Precisions(
                _col(pr[:, 0]),
                _col(kvb[st.kvi[sl].astype(int)]),
                _col(pr[:, 1]),
                _col(pr[:, 2]),
                2.0,
            ),
            wl.Layout(
                _col(st.tp[sl]),
                _col(st.pp[sl]),
                _col(st.dp[sl]),
                _col(st.ep[sl]),
                _col(st.rep[sl]),
                _col(st.red[sl]),
                _col(st.dom[sl]),
                _col(st.ovl[sl]),
                1.0,
            ),
            Hw(*(_col(h[:, j]) for j in range(h.shape[1]))),
            dyn.bat,
            dyn.inp,
            dyn.out,
            s,
            spec_tokens=_col(st.spk[sl]),
            accepted_per_step=_col(st.acc[sl]),
            disaggregated=_col(st.dis[sl] > 0),
        )
        d_ = _col(st.dis[sl] > 0)
        put("ttft", r.ttft_s)
        put("tpot", r.tpot_s)
        put("tps", r.output_tokens_per_s)
        pool = r.prefill_pool_tokens_per_s_per_chip * _col(st.n[sl])
        put("pf_tps", np.where(d_, pool, r.prefill_tokens_per_s))
        put("mem", r.mem_total_b)
        put("fits", r.fits)
        put("pf_bound", np.where(d_, r.prefill_pool.bound_code, r.prefill.bound_code))
        put("dec_bound", r.decode.bound_code)
    return res


def _frame(
    st: _Static,
    dyn: _Dynamic,
    res: dict[str, np.ndarray],
    tabs: _Tables,
    specs: list[ModelSpec],
    chips: Sequence[Accelerator],
    precisions: Sequence[str],
    kv_precisions: Sequence[str],
    valid_only: bool,
    max_tpot_ms: float | None,
    max_ttft_ms: float | None,
) -> Any:
    """One row per kept configuration: static columns repeated, dynamic ones selected."""
    import pandas as pd

    batch, isl, osl = dyn.flat()
    n_s, n_d = len(st), dyn.size
    ctx_max = np.array([m.max_context for m in specs], dtype=float)
    dyn_ok = (batch[None, :] >= (st.dp * st.rep)[:, None]) & (
        isl[None, :] + osl[None, :] <= ctx_max[st.mi][:, None]
    )
    keep2 = dyn_ok if valid_only else np.ones((n_s, n_d), dtype=bool)
    counts = keep2.sum(axis=1)
    sel = keep2.ravel()  # boolean selection: sequential reads, cheaper than gathers

    def srow(x: np.ndarray) -> np.ndarray:
        return np.repeat(x, counts)  # a static column, once per kept configuration

    def drow(x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(x, (n_s, n_d))[keep2]

    take = {k: v.ravel()[sel] for k, v in res.items()}
    meets = take["fits"] & dyn_ok.ravel()[sel]
    if max_tpot_ms is not None:
        meets &= take["tpot"] * 1e3 <= max_tpot_ms
    if max_ttft_ms is not None:
        meets &= take["ttft"] * 1e3 <= max_ttft_ms
    used_names = sorted({str(u) for u in tabs.used.ravel()})
    used_code = np.array([[used_names.index(str(u)) for u in row] for row in tabs.used])
    i32 = np.int32
    cols = {
        "chip": _cat(srow(st.ci), np.array([c.id for c in chips])),
        "model": _cat(srow(st.mi), np.array([m.id for m in specs])),
        "precision": _cat(srow(st.pi), np.array(list(precisions))),
        "precision_used": _cat(srow(used_code[st.ci, st.pi]), np.array(used_names)),
        "num_chips": srow(st.n.astype(i32)),
        "tp": srow(st.tp.astype(i32)),
        "pp": srow(st.pp.astype(i32)),
        "dp": srow(st.dp.astype(i32)),
        "ep": srow(st.ep.astype(i32)),
        "replicas": srow(st.rep.astype(i32)),
        "redundant_experts": srow(st.red.astype(i32)),
        "overlap": srow(st.ovl > 0),
        "disaggregated": srow(st.dis > 0),
        "spec_tokens": srow(st.spk.astype(i32)),
        "kv_precision": _cat(srow(st.kvi.astype(np.int8)), np.array(list(kv_precisions))),
        "batch": drow(batch.astype(i32)),
        "input_len": drow(isl.astype(i32)),
        "output_len": drow(osl.astype(i32)),
        "ttft_s": take["ttft"],
        "tpot_s": take["tpot"],
        "output_tokens_per_s": take["tps"],
        "output_tokens_per_s_per_chip": take["tps"] / srow(st.n),
        "prefill_tokens_per_s": take["pf_tps"],
        "mem_per_chip_gb": take["mem"] / 1e9,
        "fits": take["fits"],
        "meets_limits": meets,
        "prefill_bound": _cat(take["pf_bound"], RESOURCES),
        "decode_bound": _cat(take["dec_bound"], RESOURCES),
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
    if path.endswith((".duckdb", ".db")):  # DuckDB commits the new tables in one transaction
        from chipwatch.catalog.store import connect

        connect(resolve(ws).catalog, path, extra={"perf_sweep": df}).close()
    elif path.endswith(".parquet"):
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
    return path
