"""Sweep benchmark: evaluate >= 1 million serving configurations with NumPy on one core.

    python benchmarks/perf_sweep.py

Grid: 8 chips x 6 models x 3 precisions x chip counts {1, 2, 4, 8, 16} with every valid
TP/PP/DP/EP layout x aggregated / disaggregated decode pool (micro-batch overlap on) x 12
batches x 4 input x 3 output lengths. Prints the count, the time, the best configuration per
chip for Llama-3.1-70B, and `configs_per_s: N` last.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import chipwatch  # noqa: E402
from chipwatch.perf.sweep import best_per_chip, sweep  # noqa: E402

CHIPS = ["h100-sxm", "h200-sxm", "h20", "b200", "mi300x", "gaudi3", "ascend-910b", "ascend-910c"]
MODELS = [
    "llama-3.1-8b",
    "llama-3.1-70b",
    "qwen3-32b",
    "qwen3-235b-a22b",
    "mixtral-8x7b",
    "deepseek-v3",
]


def main() -> None:
    cat = chipwatch.load_catalog()
    chips = [cat.chip(c) for c in CHIPS if c in cat]
    kw = dict(
        precisions=("bf16", "fp8", "fp4"),
        num_chips=(1, 2, 4, 8, 16),
        batches=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048),
        input_lens=(256, 1024, 4096, 8192),
        output_lens=(128, 512, 2048),
        overlap=(True,),
        disaggregated=(False, True),
    )
    sweep(chips[:1], MODELS[:1], **kw)  # warm-up (imports, factor file)
    t0 = time.perf_counter()
    df = sweep(chips, MODELS, **kw)
    elapsed = time.perf_counter() - t0
    n = len(df)
    fit = int(df["meets_limits"].sum())
    print(
        f"configurations: {n:,} valid layouts evaluated ({fit:,} fit in memory) in {elapsed:.2f} s"
    )
    best = best_per_chip(
        df[
            (df["model"] == "llama-3.1-70b")
            & (df["input_len"] == 1024)
            & (df["output_len"] == 512)
            & (df["tpot_s"] <= 0.05)
            & ~df["disaggregated"]
        ]
    )
    cols = [
        "chip",
        "precision_used",
        "num_chips",
        "tp",
        "pp",
        "dp",
        "batch",
        "tpot_s",
        "output_tokens_per_s_per_chip",
        "decode_bound",
    ]
    print("best llama-3.1-70b per chip (1024 in / 512 out, TPOT <= 50 ms):")
    print(best[cols].to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    print(f"configs_per_s: {n / elapsed:.0f}")


if __name__ == "__main__":
    main()
