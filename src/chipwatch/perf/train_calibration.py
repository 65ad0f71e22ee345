"""Training efficiency from MLPerf Training time-to-train rows, relative to H100.

An MLPerf Training result is the wall time to reach a quality target; the tokens it took are not
in the reference table, so an absolute MFU cannot be computed from it. What the rows do give,
for systems that ran the same benchmark, is the share of their datasheet peak they turned into
progress *relative to* an H100 system on the same benchmark:

    rel_eff = (N_ref x T_ref x P_ref) / (N x T x P)

with N chips, T minutes and P the dense BF16 peak per chip (catalog). rel_eff = 1 means the
system used its peak FLOPs as well as the H100 reference did; 0.8 means 20 % worse. The reference
is the H100 row of the same benchmark with the nearest chip count, and only within 4x of it
(efficiency falls with scale: 512-chip LoRA runs are not comparable with 8-chip ones).

Assumptions (stated in every result): the systems needed the same number of tokens to reach the
target (it depends on the global batch size, which the table does not give); BF16 peaks even
where submitters used FP8 for some matmuls. The training model's compute efficiency is then
``rel_eff x`` the H100 efficiency of ``training.py``; it is reported, not fed back.
"""

from __future__ import annotations

import math
from typing import Any

from chipwatch.perf.calibration.points import PUBLISHED_FILE, PUBLISHED_SOURCES
from chipwatch.perf.factors import measurements_dir

# MLPerf Training hardware names in the reference table -> catalog chip ids
TRAIN_HARDWARE = {
    "TPU-trillium": "tpu-v6e",
    "TPU-v5p": "tpu-v5p",
    "NVIDIA Blackwell GPU (B200-SXM-180GB)": "b200",
    "NVIDIA Blackwell GPU (GB200)": "gb200",
    "NVIDIA H100-SXM5-80GB": "h100-sxm",
    "NVIDIA H200-SXM5-141GB": "h200-sxm",
    "AMD Instinct MI300X 192GB HBM3": "mi300x",
    "AMD Instinct MI325X 256GB HBM3e": "mi325x",
}
BENCHMARKS = {"GPT-3 175B": "gpt3-175b", "Llama-2-70B LoRA": "llama2-70b-lora"}
BENCHMARKS_405B = "llama3.1-405b"
REFERENCE_CHIP = "h100-sxm"
MAX_SCALE_RATIO = 4.0  # compare only with an H100 row within 4x of the chip count
ASSUMPTIONS = (
    "same tokens to reach the quality target on every system (depends on the global batch "
    "size, not in the table); dense BF16 peaks; reference = the H100 row of the same benchmark "
    "with the nearest chip count, within 4x (else no value)"
)


def _benchmark(model: str) -> str | None:
    if "Llama 3.1 405B" in model:
        return BENCHMARKS_405B
    for key, name in BENCHMARKS.items():
        if key in model:
            return name
    return None


def training_rows(csv_path: Any = None) -> Any:
    """The MLPerf Training rows on catalog chips, with chip-minutes and peak-FLOP budgets."""
    import pandas as pd

    from chipwatch.catalog import load_catalog

    cat = load_catalog()
    d = pd.read_csv(csv_path or measurements_dir() / PUBLISHED_FILE)
    d = d[d["metric"].astype(str).str.startswith("time-to-train")]
    rows = []
    r: Any
    for r in d.itertuples(index=False):
        chip = TRAIN_HARDWARE.get(str(r.hardware))
        bench = _benchmark(str(r.model))
        if chip is None or bench is None or chip not in cat.ids:
            continue
        peak = cat.chip(chip).dense("bf16")
        if not peak:
            continue
        n, minutes = int(r.n_accel), float(r.value)
        rows.append(
            {
                "id": r.id,
                "benchmark": bench,
                "chip": chip,
                "vendor": cat.chip(chip).vendor,
                "num_chips": n,
                "minutes": minutes,
                "chip_hours": n * minutes / 60,
                "peak_bf16_tflops": peak,
                # derived: N x T x P, in exaFLOP-seconds of datasheet peak spent on the run
                "peak_eflop_s": n * minutes * 60 * peak * 1e12 / 1e18,
                "software": str(r.software),
                "source": f"{PUBLISHED_SOURCES.get(str(r.source_key), r.source_key)} "
                f"(reference table row {r.id})",
            }
        )
    return pd.DataFrame(rows)


def relative_training_efficiency(rows: Any = None) -> Any:
    """``rel_eff`` of every row against the nearest-scale H100 row of its benchmark."""
    df = training_rows() if rows is None else rows.copy()
    rel: list[float] = []
    ref_ids: list[str | None] = []
    for r in df.itertuples(index=False):
        refs = df[(df["benchmark"] == r.benchmark) & (df["chip"] == REFERENCE_CHIP)]
        if refs.empty:
            rel.append(float("nan"))
            ref_ids.append(None)
            continue
        dist = (refs["num_chips"].map(math.log) - math.log(r.num_chips)).abs()
        ref = refs.loc[dist.idxmin()]
        if dist.min() > math.log(MAX_SCALE_RATIO) + 1e-9:
            rel.append(float("nan"))
            ref_ids.append(None)
            continue
        rel.append(float(ref["peak_eflop_s"] / r.peak_eflop_s))
        ref_ids.append(str(ref["id"]))
    df["rel_eff_vs_h100"] = rel
    df["reference"] = ref_ids
    df["assumptions"] = ASSUMPTIONS
    return df


def by_vendor(df: Any = None) -> Any:
    """Geometric mean of ``rel_eff_vs_h100`` per vendor and benchmark (reference rows left out)."""
    import numpy as np

    d = relative_training_efficiency() if df is None else df
    d = d[d["id"] != d["reference"]].dropna(subset=["rel_eff_vs_h100"])
    return (
        d.groupby(["vendor", "benchmark"])
        .agg(
            rows=("id", "size"),
            rel_eff_vs_h100=("rel_eff_vs_h100", lambda s: float(np.exp(np.log(s).mean()))),
            chips=("chip", lambda s: ", ".join(sorted(set(s)))),
        )
        .reset_index()
    )
