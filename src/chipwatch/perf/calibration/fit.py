"""The fit: factors per family and chip, their errors (fit, leave-one-out, K-fold), the file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chipwatch.perf.calibration.points import (
    DECODE_MAP,
    MLPERF_INPUT_LEN,
    MLPERF_OUTPUT_LEN,
    POINTS_FILE,
)
from chipwatch.perf.calibration.predict import (
    PointArrays,
    log_residuals,
    point_arrays,
    predict,
    signed_err_pct,
)
from chipwatch.perf.factors import FACTORS_FILE, load_factors, measurements_dir

# Fitted parameters: (eta_compute, eta_memory, eta_link, overhead_s per pass, latency_s per
# collective call). Efficiencies in [0.02, 1], overhead 0..100 ms, collective latency 0..200 us.
PARAMS = ["compute", "memory", "link", "overhead_s", "link_latency_s"]
LOWER = np.array([0.02, 0.02, 0.02, 0.0, 0.0])
UPPER = np.array([1.0, 1.0, 1.0, 0.1, 2e-4])
START = np.array([0.6, 0.7, 0.6, 0.005, 1e-5])
X_SCALE = np.array([0.3, 0.3, 0.3, 0.01, 2e-5])
ROOFLINE_THETA = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
F_SCALE = 0.1  # soft-L1 transition: residuals beyond ~10% in log space count linearly


PRIOR_WEIGHT = 0.3  # pull of the family factors on a chip-level refit (per parameter)
CHIP_MIN_POINTS = 10  # a chip gets its own factors from this many points (TTFT excluded)


def _prior_resid(theta: np.ndarray, prior: np.ndarray) -> np.ndarray:
    eff = np.log(theta[:3]) - np.log(prior[:3])
    fixed = (theta[3:] - prior[3:]) / X_SCALE[3:]
    return PRIOR_WEIGHT * np.concatenate([eff, fixed])


def fit_group(
    pa: PointArrays,
    idx: np.ndarray,
    prior: np.ndarray | None = None,
    start: np.ndarray | None = None,
) -> Any:
    """Robust least squares in log space over the points ``idx`` (TTFT points excluded)."""
    from scipy.optimize import least_squares

    def resid(theta: np.ndarray) -> np.ndarray:
        r = log_residuals(predict(pa, theta, idx), pa.measured[idx], pa.metric[idx])
        return r if prior is None else np.concatenate([r, _prior_resid(theta, prior)])

    x0 = START if start is None else np.clip(start, LOWER, UPPER)
    return least_squares(
        resid,
        x0,
        bounds=(LOWER, UPPER),
        loss="soft_l1",
        f_scale=F_SCALE,
        x_scale=X_SCALE,
        diff_step=1e-3,
        max_nfev=100,
    )


def fit_queue(pa: PointArrays, idx: np.ndarray, theta: np.ndarray) -> tuple[float, float]:
    """TTFT points: the share of the in-flight batch's prefill a request waits behind, and the
    fixed request-handling time (0..2 s), with the efficiencies fixed."""
    from scipy.optimize import least_squares

    if len(idx) == 0:
        return 0.0, 0.0

    def resid(x: np.ndarray) -> np.ndarray:
        pred = predict(pa, theta, idx, x[0], x[1])
        return log_residuals(pred, pa.measured[idx], pa.metric[idx])

    res = least_squares(
        resid,
        [0.2, 0.02],
        bounds=([0.0, 0.0], [2.0, 2.0]),
        loss="soft_l1",
        f_scale=F_SCALE,
        x_scale=[0.1, 0.01],
        max_nfev=80,
    )
    return float(res.x[0]), float(res.x[1])


@dataclass
class Factors:
    """Fitted parameters by family and by chip, and TTFT queue shares by family."""

    families: dict[str, np.ndarray]
    chips: dict[str, np.ndarray]
    queue: dict[str, tuple[float, float]]
    jac: dict[str, np.ndarray]  # per family, for the leverage LOO approximation
    chip_of_family: dict[str, list[str]]
    pooled: np.ndarray | None = None  # the prior of every family and the default

    def theta_for(self, chip: str, family: str) -> np.ndarray:
        if chip in self.chips:
            return self.chips[chip]
        if family in self.families:
            return self.families[family]
        return self.default()

    def default(self) -> np.ndarray:
        if self.pooled is not None:
            return self.pooled
        return np.median(np.stack(list(self.families.values())), axis=0)


def fit_pooled(pa: PointArrays, mask: np.ndarray | None = None) -> np.ndarray:
    """One set of factors for every non-TTFT point of every family: the prior each family's fit
    is shrunk towards, and the default for families without measurements."""
    use = np.ones(len(pa.peak), bool) if mask is None else mask
    idx = np.flatnonzero(use & (pa.metric != "ttft_s"))
    return np.asarray(fit_group(pa, idx).x)


def fit_all(
    pa: PointArrays,
    points: Any,
    mask: np.ndarray | None = None,
    start: Factors | None = None,
    pooled: np.ndarray | None = None,
    only: set[str] | None = None,
) -> Factors:
    """Stage 1: efficiencies per family, shrunk towards the pooled fit (prior weight
    ``PRIOR_WEIGHT`` per parameter, so a family with few points stays near the pooled values and
    one with many follows its data), then per chip with enough points (prior = its family);
    stage 2: TTFT queue share per family with the efficiencies fixed. ``only`` limits the refit
    to those families (used by the exact leave-one-out refits)."""
    use = np.ones(len(pa.peak), bool) if mask is None else mask
    is_ttft = pa.metric == "ttft_s"
    chips_arr = points["chip"].to_numpy(str)
    prior = fit_pooled(pa, use) if pooled is None else pooled
    fams: dict[str, np.ndarray] = {}
    chips: dict[str, np.ndarray] = {}
    queue: dict[str, tuple[float, float]] = {}
    jac: dict[str, np.ndarray] = {}
    members: dict[str, list[str]] = {}
    for fam in sorted(set(pa.family)):
        if only is not None and fam not in only:
            continue
        idx = np.flatnonzero(use & ~is_ttft & (pa.family == fam))
        if len(idx) == 0:
            continue
        x0 = start.families.get(fam) if start else prior
        res = fit_group(pa, idx, prior=prior, start=x0)
        fams[fam] = res.x
        jac[fam] = res.jac[: len(idx)]
        fam_chips = sorted(set(chips_arr[idx]))
        members[fam] = fam_chips
        if len(fam_chips) > 1:
            for c in fam_chips:
                cidx = idx[chips_arr[idx] == c]
                if len(cidx) >= CHIP_MIN_POINTS:
                    chips[c] = fit_group(pa, cidx, prior=res.x, start=res.x).x
    facs = Factors(fams, chips, queue, jac, members, prior)
    theta = np.stack([facs.theta_for(c, f) for c, f in zip(chips_arr, pa.family, strict=True)])
    for fam in fams:
        tidx = np.flatnonzero(use & is_ttft & (pa.family == fam))
        queue[fam] = fit_queue(pa, tidx, theta[tidx]) if len(tidx) else (0.0, 0.0)
    return facs


def predict_with(
    pa: PointArrays, points: Any, facs: Factors, idx: np.ndarray | None = None
) -> np.ndarray:
    sel = np.arange(len(pa.peak)) if idx is None else idx
    chips_arr = points["chip"].to_numpy(str)[sel]
    fam = pa.family[sel]
    theta = np.stack([facs.theta_for(c, f) for c, f in zip(chips_arr, fam, strict=True)])
    qc = np.array([facs.queue.get(f, (0.0, 0.0)) for f in fam]).reshape(-1, 2)
    return predict(pa, theta, sel, qc[:, 0], qc[:, 1])


def leverage(jac: np.ndarray) -> np.ndarray:
    """Diagonal of the hat matrix J (J^T J)^-1 J^T of the linearised problem."""
    inv = np.linalg.pinv(jac.T @ jac)
    return np.asarray(np.einsum("ij,jk,ik->i", jac, inv, jac))


@dataclass
class FitResult:
    factors: Factors
    points: Any  # DataFrame with predicted, fit and LOO error columns
    summary: Any  # DataFrame: median abs error per dataset and metric


def fit(
    points: Any, exact_loo_max: int = 40, folds: int = 5, seed: int = 0, exact_loo: bool = True
) -> FitResult:
    """Fit, then score every point: fit error, leave-one-out error and K-fold error.

    Leave-one-out: exact (refit everything without the point) for points of groups with at
    most ``exact_loo_max`` points and for TTFT points' queue share; otherwise the leverage
    approximation r_i / (1 - h_ii) of the family's linearised problem. K-fold: exact refits.
    """
    import pandas as pd

    pa = point_arrays(points)
    n = len(points)
    facs = fit_all(pa, points)  # fits the pooled prior too
    pred = predict_with(pa, points, facs)
    roofline = predict(pa, ROOFLINE_THETA)
    r_fit = log_residuals(pred, pa.measured, pa.metric)
    loo = np.full(n, np.nan)
    loo_method = np.empty(n, dtype=object)
    is_ttft = pa.metric == "ttft_s"
    chips_arr = points["chip"].to_numpy(str)
    for fam, jac in facs.jac.items():
        idx = np.flatnonzero(~is_ttft & (pa.family == fam))
        small = len(idx) <= exact_loo_max
        if not small:
            h = np.clip(leverage(jac), 0.0, 0.99)
            loo[idx] = r_fit[idx] / (1 - h)
            loo_method[idx] = "leverage r/(1-h)"
            # chips fitted on their own few points get exact LOO below
            idx = np.array(
                [
                    i
                    for i in idx
                    if chips_arr[i] in facs.chips
                    and (chips_arr[idx] == chips_arr[i]).sum() <= exact_loo_max
                ],
                int,
            )
        if exact_loo:
            for i in idx:
                mask = np.ones(n, bool)
                mask[i] = False
                # the pooled prior (2,000+ points) is kept: one point's pull on it is negligible
                f_i = fit_all(pa, points, mask, start=facs, pooled=facs.pooled, only={pa.family[i]})
                p_i = predict_with(pa, points, f_i, np.array([i]))
                loo[i] = log_residuals(p_i, pa.measured[[i]], pa.metric[[i]])[0]
                loo_method[i] = "exact refit"
    # TTFT: the queue share is one parameter over many points; its leave-one-out change is
    # negligible, so the TTFT LOO error equals the fit error (stated in the method).
    loo[is_ttft] = r_fit[is_ttft]
    loo_method[is_ttft] = "fit (1 shared parameter)"
    cv = np.full(n, np.nan)
    rng = np.random.default_rng(seed)
    fold = rng.permutation(n) % folds
    for f in range(folds):
        test = np.flatnonzero(fold == f)
        f_k = fit_all(pa, points, fold != f, start=facs)
        cv[test] = log_residuals(
            predict_with(pa, points, f_k, test), pa.measured[test], pa.metric[test]
        )
    out = points.copy()
    out["family"] = pa.family
    out["roofline"] = roofline
    out["predicted"] = pred
    sign = np.where(np.char.find(pa.metric.astype(str), "per_s") >= 0, -1.0, 1.0)
    out["roofline_err_pct"] = signed_err_pct(roofline, pa.measured)
    out["fit_err_pct"] = signed_err_pct(pred, pa.measured)
    out["loo_err_pct"] = np.expm1(sign * loo) * 100
    out["loo_method"] = loo_method
    out["cv_err_pct"] = np.expm1(sign * cv) * 100

    def med(s: Any) -> float:
        return float(np.nanmedian(np.abs(s)))

    summary = (
        out.groupby(["dataset", "metric"])
        .agg(
            n=("point_id", "size"),
            roofline_median_abs_err_pct=("roofline_err_pct", med),
            fit_median_abs_err_pct=("fit_err_pct", med),
            loo_median_abs_err_pct=("loo_err_pct", med),
            cv_median_abs_err_pct=("cv_err_pct", med),
        )
        .reset_index()
    )
    return FitResult(factors=facs, points=out, summary=pd.DataFrame(summary))


METHOD = (
    "Stage 0: one pooled set of factors is fitted on every non-TTFT point. Stage 1: per chip "
    "family, efficiencies (compute, memory bandwidth, link) in [0.02, 1], a fixed per-pass "
    "overhead in [0, 100 ms] and a latency per collective call in [0, 200 us] minimise the "
    "soft-L1 loss (f_scale 0.1) of log(predicted/measured) over all the family's TPOT and "
    "throughput points plus a shrinkage prior towards the pooled factors (weight "
    f"{PRIOR_WEIGHT} per parameter, log space), so that a family with a handful of points stays "
    "near the pooled values and one with many follows its own data (scipy least_squares, trust "
    f"region reflective). A chip with at least {CHIP_MIN_POINTS} points in a family with other "
    "chips is refitted on its own points with the same prior pulling it to its family. Stage 2: "
    "per family, a queueing share q and a fixed request time c (measured TTFT = c + own prefill "
    "+ q x prefill of the in-flight batch + wait for a free slot) are fitted on the TTFT points "
    "with the stage-1 factors fixed. MLPerf Offline/Server points are predicted as the highest "
    "output tokens/s over batches that fit (Server: TPOT <= 200 ms and TTFT <= 2 s), with the "
    "layout rule of mlperf_layout and an assumed mean prompt of "
    f"{MLPERF_INPUT_LEN} tokens (unverified). Chips of families without points use the pooled "
    "factors."
)


def _row(theta: np.ndarray) -> dict[str, float]:
    return {k: float(v) for k, v in zip(PARAMS, theta, strict=True)}


def write_factors(result: FitResult, folder: Path | None = None) -> Path:
    """Save the factors (with the method and error summary) and the points they were fit on."""
    folder = folder or measurements_dir()
    pts = result.points
    pts.to_csv(folder / POINTS_FILE, index=False, float_format="%.6g")
    f = result.factors

    def stats(mask: Any) -> dict[str, Any]:
        sub = pts[mask]
        return {
            "n_points": int(len(sub)),
            "fit_median_abs_err_pct": float(np.nanmedian(np.abs(sub["fit_err_pct"])))
            if len(sub)
            else None,
        }

    doc = {
        "method": METHOD,
        "fitted_on": POINTS_FILE,
        "n_points": int(len(pts)),
        "families": {
            fam: {
                **_row(th),
                "ttft_queue_share": f.queue.get(fam, (0.0, 0.0))[0],
                "ttft_fixed_s": f.queue.get(fam, (0.0, 0.0))[1],
                "chips": f.chip_of_family.get(fam, []),
                **stats(pts["family"] == fam),
            }
            for fam, th in f.families.items()
        },
        "chips": {c: {**_row(th), **stats(pts["chip"] == c)} for c, th in f.chips.items()},
        "default": {
            **_row(f.default()),
            "ttft_queue_share": float(np.median([q[0] for q in f.queue.values()] or [0.0])),
            "ttft_fixed_s": float(np.median([q[1] for q in f.queue.values()] or [0.0])),
        },
        "error_summary": result.summary.to_dict(orient="records"),
        "assumptions": {
            "mlperf_input_len": int(pts.loc[pts["dataset"] == "mlperf", "input_len"].iloc[0])
            if (pts["dataset"] == "mlperf").any()
            else None,
            "mlperf_input_len_note": "unverified: mean OpenOrca prompt length not found; "
            "inputs capped at 1,024 tokens",
            "mlperf_output_len": MLPERF_OUTPUT_LEN,
            "decode_points": DECODE_MAP,
        },
    }
    path = folder / FACTORS_FILE
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    load_factors.cache_clear()
    return path
