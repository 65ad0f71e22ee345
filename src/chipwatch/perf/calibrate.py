"""Calibration: efficiency factors per chip family, fitted on published measurements.

Method (documented in docs/performance-model.md):

1. ``build_points`` turns the measurement files into one row per measured quantity (TPOT, TTFT,
   output tokens/s, ...) with chip id, model id, precision, parallelism, batch and lengths.
2. ``predict`` evaluates the same serving model as ``infer`` for every row at once (NumPy).
3. ``fit`` finds, per chip family, the compute / memory / link efficiencies and the fixed
   per-pass overhead that minimise a robust (soft-L1) loss of log(predicted / measured) over all
   the family's points (scipy ``least_squares``). Every point counts once; no point is special.
4. Errors: the fit error per point, and its leave-one-out error: exact refits for families with
   at most ``exact_loo_max`` points, else the leverage approximation r_i / (1 - h_ii) of the
   linearised least-squares problem, plus an exact K-fold cross-validation per family.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from chipwatch.catalog.schema import Accelerator
from chipwatch.perf.hardware import Efficiency

FACTORS_FILE = "fitted-factors.json"
POINTS_FILE = "calibration-points.csv"
SILICON_FILE = "silicon-sample.csv"
PUBLISHED_FILE = "published-measurements.csv"
SILICON_CITE = (
    "NVIDIA aiconfigurator silicon_sample.csv (github.com/ai-dynamo/aiconfigurator, "
    "aic-core/src/aiconfigurator_core/systems/silicon_sample.csv, Apache-2.0)"
)
# aiconfigurator system names -> catalog chip ids
SYSTEM_TO_CHIP = {
    "h100_sxm": "h100-sxm",
    "h200_sxm": "h200-sxm",
    "b200_sxm": "b200",
    "b300_sxm": "b300",
    "gb200": "gb200",
    "gb300": "gb300",
}
QUANT_TO_PRECISION = {"fp8": "fp8", "fp8_block": "fp8", "nvfp4": "fp4", "int4_wo": "int4"}
# Fitted parameters: (eta_compute, eta_memory, eta_link, overhead_s per pass, latency_s per
# collective call). Efficiencies in [0.02, 1], overhead 0..100 ms, collective latency 0..200 us.
PARAMS = ["compute", "memory", "link", "overhead_s", "link_latency_s"]
LOWER = np.array([0.02, 0.02, 0.02, 0.0, 0.0])
UPPER = np.array([1.0, 1.0, 1.0, 0.1, 2e-4])
START = np.array([0.6, 0.7, 0.6, 0.005, 1e-5])
X_SCALE = np.array([0.3, 0.3, 0.3, 0.01, 2e-5])
ROOFLINE_THETA = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
F_SCALE = 0.1  # soft-L1 transition: residuals beyond ~10% in log space count linearly


def measurements_dir() -> Path:
    return Path(str(resources.files("chipwatch") / "data" / "measurements"))


@lru_cache(maxsize=4)
def load_factors(path: str | None = None) -> dict[str, Any]:
    """The fitted-factors file ({} if it has not been produced yet)."""
    f = Path(path) if path else measurements_dir() / FACTORS_FILE
    if not f.is_file():
        return {}
    data: dict[str, Any] = json.loads(f.read_text(encoding="utf-8"))
    return data


def _eff(d: dict[str, Any], source: str, serving: dict[str, Any] | None = None) -> Efficiency:
    sv = serving or d
    return Efficiency(
        ttft_queue_share=sv.get("ttft_queue_share", 0.0),
        ttft_fixed_s=sv.get("ttft_fixed_s", 0.0),
        compute=d["compute"],
        memory=d["memory"],
        link=d["link"],
        overhead_s=d["overhead_s"],
        link_latency_s=d.get("link_latency_s", 0.0),
        source=source,
    )


def factors_for(chip: Accelerator, path: str | None = None) -> Efficiency:
    """Fitted factors for the chip, else its family, else the all-data default, else roofline."""
    data = load_factors(path)
    fams = data.get("families", {})
    if chip.id in data.get("chips", {}):
        f = data["chips"][chip.id]
        return _eff(
            f,
            f"fitted: chip {chip.id} ({f['n_points']} measurements)",
            fams.get(chip.family or "", data.get("default")),
        )
    if chip.family and chip.family in fams:
        f = fams[chip.family]
        return _eff(f, f"fitted: family {chip.family} ({f['n_points']} measurements)")
    if "default" in data:
        return _eff(
            data["default"],
            "default: pooled fit over all measured families "
            f"(no measurements for family {chip.family or '(none)'})",
        )
    return Efficiency(source="default: roofline (no fitted factors file)")


# ------------------------------------------------------------------------------------------
# Points
# ------------------------------------------------------------------------------------------
def _num(x: Any, default: float) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(v) or v <= 0 else v


def silicon_points(csv_path: Path | None = None) -> Any:
    """Aggregated-serving rows of the aiconfigurator sample with a model in our catalog.

    Mapping: world size = tp_size x pp_size; attention data parallel ``attention_dp_size`` gives
    our dp (attention TP = tp_size / dp); ``moe_ep_size`` our ep; ``batch_size`` is per
    attention-DP rank (the row ids' ``c<N>`` concurrency = batch_size x attention_dp_size).
    Measured TPOT includes interleaved prefill, TTFT includes queueing (see ``predict``).
    """
    import pandas as pd

    from chipwatch.perf.models import default_models

    models = default_models()
    d = pd.read_csv(csv_path or measurements_dir() / SILICON_FILE)
    d = d[d["mode"] == "agg"]
    rows = []
    r: Any
    for r in d.itertuples(index=False):
        chip = SYSTEM_TO_CHIP.get(str(r.system))
        try:
            model = models.model(str(r.model_path)).id
        except KeyError:
            continue
        if chip is None:
            continue
        q = str(r.gemm_quant_mode)
        prec = QUANT_TO_PRECISION.get(q) or (str(r.precision) if r.precision == r.precision else "")
        prec = {"fp4": "fp4", "fp8": "fp8", "bf16": "bf16", "int4": "int4"}.get(prec, "bf16")
        world = int(_num(r.tp_size, 1) * _num(r.pp_size, 1))
        dp = int(_num(r.attention_dp_size, 1))
        tp = max(int(_num(r.tp_size, 1)) // dp, 1)
        ep = int(_num(r.moe_ep_size, 1))
        batch = _num(r.batch_size, 1) * dp
        base = {
            "dataset": "silicon",
            "chip": chip,
            "model": model,
            "precision": prec,
            "num_chips": world,
            "tp": tp,
            "pp": int(_num(r.pp_size, 1)),
            "dp": dp,
            "ep": ep,
            "batch": batch,
            "input_len": int(r.isl),
            "output_len": int(r.osl),
            "backend": f"{r.backend} {r.backend_version}",
            "source": f"{SILICON_CITE}, row id {r.id}",
        }
        for metric, col in (("tpot_s", "silicon_tpot_ms"), ("ttft_s", "silicon_ttft_ms")):
            v = getattr(r, col)
            if v == v and v > 0:
                rows.append(
                    {
                        **base,
                        "point_id": f"{r.id}:{metric}",
                        "metric": metric,
                        "measured": float(v) / 1e3,
                    }
                )
    return pd.DataFrame(rows)


# Published rows with complete conditions: id -> (chip, model, precision, tp, batch, metric).
# Static-batch throughput (TRT-LLM H200, Intel Gaudi) runs one batch: prefill, then decode.
# Qwen's H20 speed benchmark runs one request: tokens/s = (input + output) / total time.
PUBLISHED_MAP: dict[str, tuple[str, str, str, int, float, str]] = {
    "M106": ("h20", "qwen3-8b", "bf16", 1, 1, "single_tokens_per_s"),
    "M107": ("h20", "qwen3-8b", "fp8", 1, 1, "single_tokens_per_s"),
    "M108": ("h20", "qwen3-14b", "bf16", 1, 1, "single_tokens_per_s"),
    "M109": ("h20", "qwen3-14b", "fp8", 1, 1, "single_tokens_per_s"),
    "M110": ("h20", "qwen3-32b", "bf16", 1, 1, "single_tokens_per_s"),
    "M111": ("h20", "qwen3-32b", "fp8", 1, 1, "single_tokens_per_s"),
    "M112": ("h20", "qwen3-32b", "int4", 1, 1, "single_tokens_per_s"),
    "M113": ("h20", "qwen3-30b-a3b", "bf16", 1, 1, "single_tokens_per_s"),
    "M114": ("h20", "qwen3-30b-a3b", "fp8", 1, 1, "single_tokens_per_s"),
    "M115": ("h20", "qwen3-235b-a22b", "bf16", 8, 1, "single_tokens_per_s"),
    "M116": ("h20", "qwen3-235b-a22b", "fp8", 4, 1, "single_tokens_per_s"),
    "M117": ("h20", "qwen3-8b", "bf16", 1, 1, "single_tokens_per_s"),
    "M128": ("h200-sxm", "llama-2-70b", "fp8", 1, 512, "static_output_tokens_per_s"),
    "M129": ("h200-sxm", "llama-2-70b", "fp8", 4, 512, "static_output_tokens_per_s"),
    "M130": ("h200-sxm", "llama-2-70b", "fp8", 2, 64, "static_output_tokens_per_s"),
    "M131": ("h200-sxm", "llama-2-70b", "fp8", 1, 32, "static_output_tokens_per_s"),
    "M132": ("h200-sxm", "llama-2-13b", "fp8", 1, 1024, "static_output_tokens_per_s"),
    "M133": ("gaudi2", "llama-2-70b", "fp8", 2, 1750, "static_output_tokens_per_s"),
    "M134": ("gaudi2", "llama-2-70b", "fp8", 4, 327, "static_output_tokens_per_s"),
    "M135": ("gaudi2", "llama-2-70b", "fp8", 2, 78, "static_output_tokens_per_s"),
    "M136": ("gaudi3", "llama-2-70b", "fp8", 2, 512, "static_output_tokens_per_s"),
    "M137": ("gaudi3", "llama-3.1-70b", "fp8", 8, 600, "static_output_tokens_per_s"),
    "M138": ("gaudi3", "llama-3.1-70b", "fp8", 8, 600, "static_output_tokens_per_s"),
}
PUBLISHED_SOURCES = {
    "MLPERF-INF-v4.0": "https://github.com/mlcommons/inference_results_v4.0 (closed, "
    "mlperf_log_summary.txt)",
    "MLPERF-INF-v4.1": "https://github.com/mlcommons/inference_results_v4.1 (closed, "
    "mlperf_log_summary.txt)",
    "MLPERF-TRAIN-v4.1": "https://github.com/mlcommons/training_results_v4.1 (closed, "
    "result_*.txt)",
    "MLPERF-TRAIN-v5.0": "https://github.com/mlcommons/training_results_v5.0 (closed, "
    "result_*.txt)",
    "SGLANG-PR-11854": "https://github.com/sgl-project/sglang/pull/11854 (example decode log)",
    "LMSYS-H20-ANT": "https://lmsys.org/blog/2025-09-26-sglang-ant-group",
    "CLOUDMATRIX384": "https://arxiv.org/abs/2506.12708",
    "INFERSIM": "https://github.com/alibaba/InferSim (README, Simulation Result table)",
    "QWEN3-SPEED": "https://qwen.readthedocs.io/en/latest/getting_started/speed_benchmark.html",
    "TRTLLM-H200": "https://raw.githubusercontent.com/NVIDIA/TensorRT-LLM/release/0.5.0/docs/"
    "source/blogs/H200launch.md",
    "INTEL-GAUDI-PERF": "https://intel.com/content/www/us/en/developer/platform/gaudi/"
    "model-performance-gaudi2-inference.html",
}


def published_points(csv_path: Path | None = None) -> Any:
    """Published rows with complete conditions (see ``PUBLISHED_MAP``)."""
    import pandas as pd

    d = pd.read_csv(csv_path or measurements_dir() / PUBLISHED_FILE).set_index("id")
    rows = []
    for pid, (chip, model, prec, tp, batch, metric) in PUBLISHED_MAP.items():
        r: Any = d.loc[pid]
        src = PUBLISHED_SOURCES.get(str(r.source_key), str(r.source_key))
        base = {
            "dataset": "published",
            "chip": chip,
            "model": model,
            "precision": prec,
            "num_chips": tp,
            "tp": tp,
            "pp": 1,
            "dp": 1,
            "ep": 1,
            "batch": float(batch),
            "input_len": int(r.input_len),
            "output_len": int(r.output_len),
            "backend": str(r.software),
            "source": f"{src} (reference table row {pid})",
            "metric": metric,
        }
        rows.append({**base, "point_id": pid, "measured": float(r.value)})
        if pid == "M117":  # the same table row also gives the FP8 figure (notes: "FP8: 1242.24")
            rows.append({**base, "point_id": "M117-fp8", "precision": "fp8", "measured": 1242.24})
    return pd.DataFrame(rows)


# MLPerf Inference Llama-2-70B (OpenOrca) rows: id -> (chip, precision). Rows on systems
# without a catalog chip (H100 NVL, GH200) are left out. Precision: NVIDIA v4.0 logs do not
# state it (FP8 assumed, as the reference table says); B200 v4.1 is NVFP4 per NVIDIA (unverified).
MLPERF_MAP: dict[str, tuple[str, str]] = {
    "M001": ("h100-sxm", "fp8"),
    "M002": ("h100-sxm", "fp8"),
    "M003": ("h200-sxm", "fp8"),
    "M004": ("h200-sxm", "fp8"),
    "M005": ("mi300x", "fp8"),
    "M006": ("mi300x", "fp8"),
    "M007": ("mi300x", "fp8"),
    "M008": ("mi300x", "fp8"),
    "M009": ("h100-pcie", "fp8"),
    "M010": ("h100-pcie", "fp8"),
    "M011": ("l40s", "fp8"),
    "M012": ("l40s", "fp8"),
    "M013": ("h100-sxm", "fp8"),
    "M014": ("h100-sxm", "fp8"),
    "M017": ("b200", "fp4"),
    "M018": ("b200", "fp4"),
    "M019": ("h100-sxm", "fp8"),
    "M020": ("h100-sxm", "fp8"),
    "M023": ("h200-sxm", "fp8"),
    "M024": ("h200-sxm", "fp8"),
    "M025": ("h200-sxm", "fp8"),
    "M026": ("h200-sxm", "fp8"),
}
# Mean generated tokens per sample: the closed division accepts 265.005..323.895 tokens per
# sample = reference mean x (0.9, 1.1) (inference_results_v4.1 README of an open submission)
# -> 294.45 (derived: 265.005 / 0.9).
MLPERF_OUTPUT_LEN = 294.45
# Mean prompt length of the 24,576-sample OpenOrca set: NOT FOUND in the sources read; inputs
# are capped at 1,024 tokens. Assumed 512 (unverified); benchmarks/perf_calibration.py
# --mlperf-input-len shows the sensitivity.
MLPERF_INPUT_LEN = 512
# MLPerf Server latency limits for llama2-70b: p99 TTFT <= 2 s, p99 TPOT <= 200 ms (modelled on
# the mean TTFT / TPOT of the served batch; tail latency is not modelled).
MLPERF_SERVER_TTFT_S = 2.0
MLPERF_SERVER_TPOT_S = 0.2
# Weights may take at most this share of HBM when the layout is chosen for MLPerf rows.
MLPERF_WEIGHT_SHARE = 0.5


def mlperf_layout(params_b: float, weight_bytes: float, capacity_gb: float, n: int) -> int:
    """Smallest power-of-two TP (dividing ``n``) whose weight shard takes at most half of HBM;
    the rest of the chips run replicas (dp = n / tp). The rule MLPerf submitters' layouts
    follow for Llama-2-70B (TP1 on 141-192 GB parts, TP2 on 80 GB, more on 48 GB)."""
    tp = 1
    while tp < n and params_b * weight_bytes / tp > MLPERF_WEIGHT_SHARE * capacity_gb:
        tp *= 2
    return tp


def mlperf_points(csv_path: Path | None = None, input_len: int | None = None) -> Any:
    """MLPerf Inference Llama-2-70B Offline / Server rows as max-throughput points."""
    import pandas as pd

    from chipwatch.catalog import load_catalog
    from chipwatch.perf.hardware import chip_perf
    from chipwatch.perf.models import default_models

    cat = load_catalog()
    spec = default_models().model("llama-2-70b")
    total_b = spec.counts().total / 1e9
    d = pd.read_csv(csv_path or measurements_dir() / PUBLISHED_FILE).set_index("id")
    rows = []
    for pid, (chip, prec) in MLPERF_MAP.items():
        if pid not in d.index or chip not in cat.ids:
            continue
        r: Any = d.loc[pid]
        n = int(r.n_accel)
        cp = chip_perf(cat.chip(chip), prec)
        tp = mlperf_layout(total_b, cp.mode.weight_bytes, cp.capacity_b / 1e9, n)
        server = "Server" in str(r.scenario_or_constraint)
        src = PUBLISHED_SOURCES.get(str(r.source_key), str(r.source_key))
        rows.append(
            {
                "dataset": "mlperf",
                "chip": chip,
                "model": "llama-2-70b",
                "precision": prec,
                "num_chips": n,
                "tp": tp,
                "pp": 1,
                "dp": n // tp,
                "ep": 1,
                "batch": 0.0,  # chosen by the model (max throughput under the scenario limits)
                "input_len": int(input_len or MLPERF_INPUT_LEN),
                "output_len": int(round(MLPERF_OUTPUT_LEN)),
                "backend": str(r.software),
                "source": f"{src} (reference table row {pid}; {r.notes})",
                "metric": "mlperf_server_tokens_per_s" if server else "mlperf_offline_tokens_per_s",
                "point_id": pid,
                "measured": float(r.value),
            }
        )
    return pd.DataFrame(rows)


# Decode-instance points (disaggregated serving, speculative decoding): id -> conditions.
DECODE_MAP: dict[str, dict[str, Any]] = {
    # Ant Group H20 decode, EP-16 with DP attention over 2 nodes; 32 requests per rank at
    # ~5,100 tokens of context; accept len 1.92 (mean of the log lines); 1 draft token assumed.
    "M203": {
        "chip": "h20",
        "model": "deepseek-v3",
        "precision": "fp8",
        "tp": 1,
        "dp": 16,
        "ep": 16,
        "batch_per_chip": 32,
        "ctx": 5102,
        "spec_tokens": 1,
        "accepted_per_step": 1.92,
    },
    # InferSim's actual H20 decode TGS for Qwen3-30B-A3B BF16: 4 GPUs with DP attention + EP,
    # 100 requests per GPU, input 4096 / output 2048 (mean context 5,120), no speculation.
    "M207": {
        "chip": "h20",
        "model": "qwen3-30b-a3b",
        "precision": "bf16",
        "tp": 1,
        "dp": 4,
        "ep": 4,
        "batch_per_chip": 100,
        "ctx": 5120,
        "spec_tokens": 0,
        "accepted_per_step": 1.0,
    },
}


def decode_points(csv_path: Path | None = None) -> Any:
    """Steady-state decode throughput per chip of a decode instance (see ``DECODE_MAP``)."""
    import pandas as pd

    d = pd.read_csv(csv_path or measurements_dir() / PUBLISHED_FILE).set_index("id")
    rows = []
    for pid, c in DECODE_MAP.items():
        r: Any = d.loc[pid]
        n = c["tp"] * c["dp"]
        src = PUBLISHED_SOURCES.get(str(r.source_key), str(r.source_key))
        rows.append(
            {
                "dataset": "published-decode",
                "chip": c["chip"],
                "model": c["model"],
                "precision": c["precision"],
                "num_chips": n,
                "tp": c["tp"],
                "pp": 1,
                "dp": c["dp"],
                "ep": c["ep"],
                "batch": float(c["batch_per_chip"] * n),
                "input_len": int(c["ctx"]) - 1,
                "output_len": 2,  # context = input + output / 2 = ctx
                "spec_tokens": c["spec_tokens"],
                "accepted_per_step": c["accepted_per_step"],
                "backend": str(r.software),
                "source": f"{src} (reference table row {pid})",
                "metric": "decode_tokens_per_s_per_chip",
                "point_id": pid,
                "measured": float(r.value),
            }
        )
    return pd.DataFrame(rows)


def build_points(mlperf_input_len: int | None = None) -> Any:
    """All calibration points (silicon sample, published, MLPerf, decode) on catalog chips."""
    import pandas as pd

    from chipwatch.catalog import load_catalog

    ids = set(load_catalog().ids)
    pts = pd.concat(
        [
            silicon_points(),
            published_points(),
            mlperf_points(input_len=mlperf_input_len),
            decode_points(),
        ],
        ignore_index=True,
    )
    pts["spec_tokens"] = pts.get("spec_tokens", 0).fillna(0).astype(int)
    pts["accepted_per_step"] = pts.get("accepted_per_step", 1.0).fillna(1.0).astype(float)
    return pts[pts["chip"].isin(ids)].reset_index(drop=True)


# ------------------------------------------------------------------------------------------
# Vectorized prediction
# ------------------------------------------------------------------------------------------
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
    from chipwatch.catalog import load_catalog
    from chipwatch.perf import workload as wl
    from chipwatch.perf.hardware import chip_perf
    from chipwatch.perf.models import default_models

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
    from chipwatch.perf.inference import Hw
    from chipwatch.perf.workload import Layout, Precisions

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
    from chipwatch.perf.inference import evaluate

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
    from chipwatch.perf.inference import evaluate

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
# Fit
# ------------------------------------------------------------------------------------------
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
