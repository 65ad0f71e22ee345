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
from chipwatch.perf.hardware import ROOFLINE, PerfInputError, chip_perf
from chipwatch.perf.inference import RESOURCES, Hw, ServingAssumptions, evaluate
from chipwatch.perf.models import ModelSpec
from chipwatch.perf.parallelism import divisors
from chipwatch.workspace import Workspace, resolve

_HW_COLUMNS = len(fields(Hw))  # the first columns of a hardware table row build an Hw
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
    chunk: int = 65536,
    replicas: bool = True,
    *,
    ws: Workspace | None = None,
) -> Any:
    """Evaluate every combination; a pandas DataFrame, one row per configuration.

    ``batch`` is the total number of sequences in flight; combinations whose parallel layout is
    invalid for the model (TP not dividing heads, EP not dividing experts, ...) are dropped when
    ``valid_only``; ``fits`` and ``meets_limits`` flag memory fit and the latency limits.
    ``replicas``: also split the chips into independent model copies (column ``replicas``;
    MoE models only, since for a dense model dp ranks already share nothing).
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
    n_c, n_m, n_p, n_l = len(chips), len(specs), len(precisions), len(lays)
    n_b, n_i, n_o = len(batches), len(input_lens), len(output_lens)

    # per (chip, precision): hardware numbers after precision fallback, and efficiencies
    hw_tab = np.zeros((n_c, n_p, 11))
    used = np.empty((n_c, n_p), dtype=object)
    for c_i, c in enumerate(chips):
        eff = factors_for(c, ws.factors) if calibration else ROOFLINE
        for p_i, p in enumerate(precisions):
            cp = chip_perf(c, p)
            used[c_i, p_i] = cp.mode.name
            # the Hw fields in order, then the chips in one scale-up domain (column 10)
            hw_tab[c_i, p_i] = (*astuple(Hw.of(cp, eff)), cp.domain_chips or 1e9)
    prec_tab = np.zeros((n_c, n_p, 3))
    for c_i, c in enumerate(chips):
        for p_i, p in enumerate(precisions):
            m = chip_perf(c, p).mode
            prec_tab[c_i, p_i] = (m.weight_bytes, m.kv_bytes, m.act_bytes)
    shapes = wl.ModelShape.stack([wl.ModelShape.of(m) for m in specs])
    heads = np.array([m.heads for m in specs], dtype=float)
    experts = np.array([m.moe.experts if m.moe else 1 for m in specs], dtype=float)
    is_moe = np.array([m.moe is not None for m in specs])
    n_layers = np.array([m.layers for m in specs], dtype=float)
    ctx_max = np.array([m.max_context for m in specs], dtype=float)

    ci, mi, pi, li, bi, ii, oi = _grid(n_c, n_m, n_p, n_l, n_b, n_i, n_o)
    lay_rows = lays[li]
    n, tp, pp, dp, ep, rep = (lay_rows[:, k] for k in range(6))
    hwr = hw_tab[ci, pi]
    valid = (
        (np.mod(heads[mi], tp) == 0)
        & (pp <= n_layers[mi])
        & np.where(is_moe[mi], np.mod(experts[mi], ep) == 0, (ep == 1) & (rep == 1))
        & (tp <= hwr[:, 10])
    )
    batch = np.asarray(batches, dtype=float)[bi]
    isl = np.asarray(input_lens, dtype=float)[ii]
    osl = np.asarray(output_lens, dtype=float)[oi]
    valid &= (batch >= dp * rep) & (isl + osl <= ctx_max[mi])
    if valid_only:
        keep = np.flatnonzero(valid)
        ci, mi, pi, li, bi, ii, oi = (a[keep] for a in (ci, mi, pi, li, bi, ii, oi))
        n, tp, pp, dp, ep, rep = (a[keep] for a in (n, tp, pp, dp, ep, rep))
        hwr, batch, isl, osl, valid = hwr[keep], batch[keep], isl[keep], osl[keep], valid[keep]
    out = {k: np.empty(len(batch)) for k in ("ttft_s", "tpot_s", "tps", "pf_tps", "mem")}
    fits = np.empty(len(batch), dtype=bool)
    pf_bound = np.empty(len(batch), dtype=np.int8)
    dec_bound = np.empty(len(batch), dtype=np.int8)
    for lo in range(0, len(batch), chunk):
        sl = slice(lo, lo + chunk)
        pr = prec_tab[ci[sl], pi[sl]]
        h = hwr[sl]
        r = evaluate(
            shapes.take(mi[sl]),
            wl.Precisions(pr[:, 0], pr[:, 1], pr[:, 2]),
            wl.Layout(
                tp[sl],
                pp[sl],
                dp[sl],
                ep[sl],
                (tp[sl] * dp[sl] > h[:, 10]).astype(float),
                rep[sl],
            ),
            Hw(*h[:, :_HW_COLUMNS].T),
            batch[sl],
            isl[sl],
            osl[sl],
            s,
        )
        out["ttft_s"][sl], out["tpot_s"][sl] = r["ttft_s"], r["tpot_s"]
        out["tps"][sl], out["pf_tps"][sl] = r["output_tokens_per_s"], r["prefill_tokens_per_s"]
        out["mem"][sl], fits[sl] = r["mem_total_b"], r["fits"]
        pf_bound[sl], dec_bound[sl] = r["prefill"]["bound_code"], r["decode"]["bound_code"]
    ok = fits & valid
    if max_tpot_ms is not None:
        ok &= out["tpot_s"] * 1e3 <= max_tpot_ms
    if max_ttft_ms is not None:
        ok &= out["ttft_s"] * 1e3 <= max_ttft_ms
    chip_ids = np.array([c.id for c in chips])
    model_ids = np.array([m.id for m in specs])
    prec_req = np.array(list(precisions))
    return pd.DataFrame(
        {
            "chip": _cat(ci, chip_ids),
            "model": _cat(mi, model_ids),
            "precision": _cat(pi, prec_req),
            "precision_used": used[ci, pi],
            "num_chips": n.astype(np.int32),
            "tp": tp.astype(np.int32),
            "pp": pp.astype(np.int32),
            "dp": dp.astype(np.int32),
            "ep": ep.astype(np.int32),
            "replicas": rep.astype(np.int32),
            "batch": batch.astype(np.int32),
            "input_len": isl.astype(np.int32),
            "output_len": osl.astype(np.int32),
            "ttft_s": out["ttft_s"],
            "tpot_s": out["tpot_s"],
            "output_tokens_per_s": out["tps"],
            "output_tokens_per_s_per_chip": out["tps"] / n,
            "prefill_tokens_per_s": out["pf_tps"],
            "mem_per_chip_gb": out["mem"] / 1e9,
            "fits": fits,
            "meets_limits": ok,
            "prefill_bound": _cat(pf_bound, RESOURCES),
            "decode_bound": _cat(dec_bound, RESOURCES),
        }
    )


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
