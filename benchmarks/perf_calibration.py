"""Calibration report: fit the efficiency factors on every measurement and print, for each
measurement, the roofline, fitted and leave-one-out errors, then the median absolute error per
data set and metric (including the silicon sample's TPOT and TTFT).

    python benchmarks/perf_calibration.py            # report (refits; ~1-2 minutes on 1 core)
    python benchmarks/perf_calibration.py --write    # also save fitted-factors.json + points
    python benchmarks/perf_calibration.py --quick    # leverage LOO only (no exact refits)

Then the error by regime (dense / MoE, aggregated / disaggregated, one node / multi-node,
prefill / decode, vendor) and every fitted factor that sits at a bound with the reason.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from chipwatch.perf.calibration import fit as cal_fit
from chipwatch.perf.calibration import points as cal_points


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="save fitted-factors.json and points")
    ap.add_argument("--quick", action="store_true", help="skip exact leave-one-out refits")
    ap.add_argument("--all-rows", action="store_true", help="print every measurement")
    ap.add_argument(
        "--mlperf-input-len",
        type=int,
        default=None,
        help="mean MLPerf prompt length to assume "
        f"(default {cal_points.MLPERF_INPUT_LEN}, unverified)",
    )
    args = ap.parse_args()
    t0 = time.perf_counter()
    points = cal_points.build_points(mlperf_input_len=args.mlperf_input_len)
    res = cal_fit.fit(points, exact_loo=not args.quick)
    elapsed = time.perf_counter() - t0
    pts = res.points
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 100000)
    cols = [
        "point_id",
        "chip",
        "model",
        "precision",
        "metric",
        "measured",
        "predicted",
        "roofline_err_pct",
        "fit_err_pct",
        "loo_err_pct",
        "loo_method",
        "cv_err_pct",
    ]
    print("# Per measurement (error = predicted / measured - 1, percent)")
    show = pts if args.all_rows else pts[pts["dataset"] != "silicon"]
    print(show[cols].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    if not args.all_rows:
        print(
            f"... {int((pts['dataset'] == 'silicon').sum())} silicon-sample rows: "
            "use --all-rows to print them"
        )
    print("\n# Fitted factors")
    for fam, th in res.factors.families.items():
        q, c = res.factors.queue.get(fam, (0.0, 0.0))
        print(
            f"family {fam:18s} "
            + " ".join(f"{k}={v:.4g}" for k, v in zip(cal_fit.PARAMS, th, strict=True))
            + f" ttft_queue_share={q:.3g} ttft_fixed_s={c:.3g}"
        )
    for chip, th in res.factors.chips.items():
        print(
            f"chip   {chip:18s} "
            + " ".join(f"{k}={v:.4g}" for k, v in zip(cal_fit.PARAMS, th, strict=True))
        )
    print("\n# Median absolute error per data set (percent)")
    print(res.summary.to_string(index=False, float_format=lambda x: f"{x:.1f}"))
    print("\n# By regime: median absolute fit and 5-fold cross-validation error (percent)")
    rep = cal_fit.regime_report(res)
    print(rep.to_string(index=False, float_format=lambda x: f"{x:.1f}"))
    print(
        "\n# Check, not fitted: disaggregated silicon rows without worker counts "
        "(conditions incomplete; one prefill and one decode worker assumed)"
    )
    chk = cal_points.silicon_disagg_check_points()
    chk = chk[chk["chip"].isin(set(pts["chip"]))].reset_index(drop=True)
    cpa = cal_fit.point_arrays(chk)
    chk["err"] = (cal_fit.predict_with(cpa, chk, res.factors) / chk["measured"] - 1) * 100
    for m, g in chk.groupby("metric"):
        med = g["err"].abs().median()
        print(f"silicon-disagg-check {m}: n={len(g)} median_abs_err_pct={med:.1f}")
    print(
        "\n# Check, not fitted: layouts outside the model (tensor parallel beyond one scale-up "
        "domain, which `infer` refuses; layouts whose chips cannot hold the weights)"
    )
    bey = cal_points.build_points(mlperf_input_len=args.mlperf_input_len, outside=True)
    if len(bey):
        bpa = cal_fit.point_arrays(bey)
        bey["err"] = (cal_fit.predict_with(bpa, bey, res.factors) / bey["measured"] - 1) * 100
        for m, g in bey.groupby("metric"):
            med = g["err"].abs().median()
            print(f"outside-model-check {m}: n={len(g)} median_abs_err_pct={med:.1f}")
    print("\n# Fitted factors at a bound, and why")
    for b in cal_fit.at_bound_notes(res.factors):
        who = b.get("family") or b.get("chip") or b.get("default")
        print(f"{who:18s} {b['parameter']:16s} {b['bound']:5s} {b['value']:.4g}  {b['note']}")
    print(f"\npoints: {len(pts)}  fit time: {elapsed:.1f} s")
    if args.write:
        path = cal_fit.write_factors(res)
        print(f"wrote {path}")
    sil = res.summary[res.summary["dataset"] == "silicon"].set_index("metric")
    for m in ("tpot_s", "ttft_s"):
        if m in sil.index:
            print(f"silicon_{m}_loo_median_abs_err_pct: {sil.loc[m, 'loo_median_abs_err_pct']:.1f}")
    allp = rep[rep["dimension"] == "all"].iloc[0]
    print(f"all_cv_median_abs_err_pct: {allp['cv_median_abs_err_pct']:.1f}")
    return 0 if np.isfinite(pts["fit_err_pct"]).all() else 1


if __name__ == "__main__":
    sys.exit(main())
