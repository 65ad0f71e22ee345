"""Dataset adapters: the measurement files -> calibration points (one row per measured quantity)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from chipwatch.perf.factors import measurements_dir

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


def _num(x: Any, default: float) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(v) or v <= 0 else v


# NVIDIA's MLPerf rows name the TensorRT version of their TensorRT-LLM build ("TensorRT 10.2.0")
ENGINES = {
    "sglang": "sglang",
    "trtllm": "trtllm",
    "tensorrt-llm": "trtllm",
    "tensorrt": "trtllm",
    "vllm": "vllm",
}


def engine_of(backend: str) -> str:
    """The serving engine a row's ``backend`` names (``sglang 0.5.9`` -> ``sglang``), or ''."""
    first = str(backend).strip().lower().split(" ")[0] if str(backend).strip() else ""
    return ENGINES.get(first, "")


def engine_kv_precision(backend: str, gemm_quant: str) -> str:
    """The KV-cache format an engine runs by default for a checkpoint: vLLM and SGLang keep the
    model dtype ("auto", BF16 for FP8 checkpoints); TensorRT-LLM takes the checkpoint's KV
    quantization, FP8 in NVIDIA's ModelOpt FP8 and NVFP4 checkpoints (hf_quant_config
    kv_cache_quant_algo), BF16 for DeepSeek's own block-FP8 weights (assumption per engine)."""
    if backend.startswith("trtllm") and gemm_quant in ("fp8", "nvfp4"):
        return "fp8"
    return "bf16"


_ID_LAYOUT = re.compile(r"_tp(\d+)_(?:\d+_)?ep(\d+|none)")


def silicon_agg_layout(
    row_id: str, tp_size: float, attn_dp: float, moe_ep: float, moe_tp: float = 1.0
) -> tuple[int, int, int] | None:
    """Our (tp, dp, ep) of an aggregated silicon row, with the chip count checked.

    Most files give the layout columns as aiconfigurator defines them: attention TP x attention
    DP = MoE TP x MoE EP = the chips per pipeline stage, which the row id names when it has a
    ``_tp<N>_..._ep<M>`` part. Two files (``2026-04-06.csv`` and the 2026-04-27 db-dump rows
    ``dsr1_*_cfg*``) give an EP run's columns multiplied by its chip count ``n``: MoE TP = MoE
    EP = ``n`` and ``tp_size`` or ``attention_dp_size`` = ``n^2``. Their rows repeat the
    earlier file's measured TTFT and TPOT digit for digit (``..._c64_tp8_ep8_937`` =
    ``..._c64_tp8_0_ep8_0_976``, 8 GPUs); read at face value they are 16- and 64-rank
    multi-node layouts that never ran. MoE TP and MoE EP both above 1 occur only in that form,
    so the column carrying ``n^2`` is divided by ``n`` and EP = ``n``. A layout that then
    contradicts the chips the id names is dropped (``None``)."""
    dp = max(int(attn_dp), 1)
    tp = max(int(tp_size) // dp, 1)
    ep = max(int(moe_ep), 1)
    n_moe = max(int(moe_tp), 1)
    if n_moe > 1 and n_moe == ep and tp * dp == n_moe * n_moe and min(tp, dp) == 1:
        tp, dp = (tp // n_moe, 1) if dp == 1 else (1, dp // n_moe)
    m = _ID_LAYOUT.search(row_id)
    if m is None:
        return tp, dp, ep
    n = int(m.group(1))
    if tp * dp != n:
        return None
    if m.group(2) != "none" and ep > n:
        return None
    return tp, dp, ep


TTFT_FALL_LIMIT = 2.0  # see ``ttft_not_steady``


def ttft_not_steady(d: Any) -> Any:
    """Rows whose TTFT cannot be a steady-state measurement: in a closed-loop benchmark more
    concurrent requests never shorten the wait for the first token, yet the same configuration
    (row id without its ``c<N>``: system, backend, lengths, config) measured at a higher
    concurrency has a TTFT more than ``TTFT_FALL_LIMIT`` times shorter (warm-up or first-request
    effects). Their TTFT is not fitted (8 of 5,221 rows; their TPOT is)."""
    import numpy as np

    conc = d["id"].str.extract(r"_c(\d+)_")[0].astype(float)
    cfg = d["id"].str.replace(r"_c\d+_", "_", regex=True)
    ttft = d["silicon_ttft_ms"].astype(float)
    out = np.zeros(len(d), bool)
    for _key, idx in d.groupby(cfg).indices.items():
        c, t = conc.to_numpy()[idx], ttft.to_numpy()[idx]
        for j, i in enumerate(idx):
            later = t[c > c[j]]
            later = later[later == later]
            out[i] = bool(len(later)) and float(later.min()) * TTFT_FALL_LIMIT < t[j]
    return out


def silicon_points(csv_path: Path | None = None) -> Any:
    """Aggregated-serving rows of the aiconfigurator sample with a model in our catalog.

    Mapping: world size = tp_size x pp_size; attention data parallel ``attention_dp_size`` gives
    our dp (attention TP = tp_size / dp); ``moe_ep_size`` our ep; ``batch_size`` is per
    attention-DP rank (the row ids' ``c<N>`` concurrency = batch_size x attention_dp_size).
    Measured TPOT includes interleaved prefill, TTFT includes queueing (see ``predict``).
    Disaggregated rows: see ``silicon_disagg_points``.
    """
    import pandas as pd

    from chipwatch.perf.models import default_models

    models = default_models()
    d = pd.read_csv(csv_path or measurements_dir() / SILICON_FILE)
    d = d.assign(silicon_ttft_ms=d["silicon_ttft_ms"].where(~ttft_not_steady(d)))
    dis = d[d["mode"] == "disagg"]
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
        lay = silicon_agg_layout(
            str(r.id),
            _num(r.tp_size, 1),
            _num(r.attention_dp_size, 1),
            _num(r.moe_ep_size, 1),
            _num(r.moe_tp_size, 1),
        )
        if lay is None:
            continue
        tp, dp, ep = lay
        world = int(tp * dp * _num(r.pp_size, 1))
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
            "kv_precision": engine_kv_precision(str(r.backend), q),
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
    return pd.concat(
        [pd.DataFrame(rows), silicon_disagg_points(dis[conditions_complete(dis)])],
        ignore_index=True,
    )


def _pool_layout(world: float, pp: float, attn_dp: float, ep: float, heads: int) -> dict[str, int]:
    """Our (tp, pp, dp, ep) of one pool's worker: attention TP = world / attention DP; when that
    TP does not divide the model's heads (e.g. 72 chips of DeepSeek's 128 heads) the engine
    must run DP attention, so dp = world (assumption, stated in the method)."""
    w, dp = int(world), int(attn_dp)
    tp = max(w // max(dp, 1), 1)
    if heads % tp:
        tp, dp = 1, w
    return {"tp": tp, "pp": int(pp), "dp": dp, "ep": max(int(ep), 1)}


def conditions_complete(d: Any) -> Any:
    """Disaggregated rows whose conditions determine the measurement: both worker counts
    stated. The rows without them (1,328 of 1,602, all from the sample's ``source_file=`` dumps)
    also copy the prefill worker's EP into the decode columns and do not say whether MTP was on;
    rows with identical stated conditions differ by more than 20 % in TPOT in 31 % of their
    replicate groups (the same configuration run with and without MTP, or with a different
    number of decode workers), so no deterministic model can be fitted to them."""
    return d["decode_num_workers"].notna() & d["prefill_num_workers"].notna()


def silicon_disagg_check_points(csv_path: Path | None = None) -> Any:
    """The disaggregated rows with incomplete conditions (see ``conditions_complete``): not
    fitted; ``benchmarks/perf_calibration.py`` predicts them with the fitted factors as a check,
    taking one prefill and one decode worker (an assumption)."""
    import pandas as pd

    d = pd.read_csv(csv_path or measurements_dir() / SILICON_FILE)
    d = d[d["mode"] == "disagg"]
    pts = silicon_disagg_points(d[~conditions_complete(d)])
    pts["dataset"] = "silicon-disagg-check"
    return pts


def silicon_disagg_points(d: Any) -> Any:
    """Disaggregated rows of the aiconfigurator sample (prefill and decode workers apart).

    TPOT: the decode worker (``decode_*`` columns: tp_size = chips per pipeline stage,
    attention DP, MoE EP) serving its share of the concurrency (``c<N>`` in the row id divided
    by ``decode_num_workers``). TTFT: the prefill worker (``prefill_*`` columns) with its share of
    the concurrency, plus the decode worker's layout and batch for the closed-loop wait (see
    ``predict``). Both are flagged ``disaggregated`` so that TPOT excludes prefill.
    ``silicon_points`` passes only the rows with complete conditions (``conditions_complete``).
    """
    import pandas as pd

    from chipwatch.perf.models import default_models

    models = default_models()
    rows = []
    r: Any
    for r in d.itertuples(index=False):
        chip = SYSTEM_TO_CHIP.get(str(r.system))
        try:
            spec = models.model(str(r.model_path))
        except KeyError:
            continue
        m = re.search(r"_c(\d+)_", str(r.id))
        if chip is None or m is None:
            continue
        conc = float(m.group(1))
        q = str(r.gemm_quant_mode)
        prec = QUANT_TO_PRECISION.get(q) or (str(r.precision) if r.precision == r.precision else "")
        prec = {"fp4": "fp4", "fp8": "fp8", "bf16": "bf16", "int4": "int4"}.get(prec, "bf16")
        pools = {}
        for side in ("decode", "prefill"):
            pools[side] = _pool_layout(
                _num(getattr(r, f"{side}_tp_size"), 1),
                _num(getattr(r, f"{side}_pp_size"), 1),
                _num(getattr(r, f"{side}_attention_dp_size"), 1),
                _num(getattr(r, f"{side}_moe_ep_size"), 1) if spec.moe else 1,
                spec.heads,
            )
        dec = pools["decode"]
        d_workers = _num(r.decode_num_workers, 1)
        p_workers = _num(r.prefill_num_workers, 1)
        for metric, col, side in (
            ("tpot_s", "silicon_tpot_ms", "decode"),
            ("ttft_s", "silicon_ttft_ms", "prefill"),
        ):
            v = getattr(r, col)
            if not (v == v and v > 0):
                continue
            lay = pools[side]
            workers = d_workers if side == "decode" else p_workers
            rows.append(
                {
                    "dataset": "silicon-disagg",
                    "chip": chip,
                    "model": spec.id,
                    "precision": prec,
                    "num_chips": lay["tp"] * lay["pp"] * lay["dp"],
                    **lay,
                    "batch": max(conc / workers, float(lay["dp"])),
                    "input_len": int(r.isl),
                    "output_len": int(r.osl),
                    "disaggregated": 1,
                    "concurrency": conc,
                    "prefill_workers": p_workers,
                    "decode_tp": dec["tp"],
                    "decode_pp": dec["pp"],
                    "decode_dp": dec["dp"],
                    "decode_ep": dec["ep"],
                    "decode_batch": max(conc / d_workers, float(dec["dp"])),
                    "backend": f"{r.backend} {r.backend_version}",
                    "kv_precision": engine_kv_precision(str(r.backend), q),
                    "source": f"{SILICON_CITE}, row id {r.id} ({side} worker)",
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
                # the engines' KV format: TensorRT-LLM with FP8 weights runs an FP8 KV cache
                "kv_precision": engine_kv_precision(engine_of(str(r.software)), prec),
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


SERVING_CITE = "published-measurements.csv rows M301+ (sources in SERVING-SOURCES.md)"


def _weights_precision(w: str) -> str | None:
    w = w.lower()
    if "fp4" in w:
        return "fp4"
    if "fp8" in w or "w8a8" in w or "int8" in w:
        return "fp8" if "fp8" in w else "int8"
    if "bf16" in w:
        return "bf16"
    return None


def serving_points(csv_path: Path | None = None) -> Any:
    """Published serving rows (M301+) whose ``cond{...}`` block states chip, model, layout and
    lengths (``data/measurements/SERVING-SOURCES.md``). Mapping by kind:

    - aggregated, no concurrency stated, "output tokens/s per GPU": an engine's offline maximum
      throughput (TensorRT-LLM perf overview): the best output tokens/s of any batch that fits;
    - aggregated at a stated concurrency: output tokens/s of continuous batching at that batch;
    - decode pool with a stated batch per rank: decode output tokens/s per chip;
    - DeepEP normal-kernel bandwidth (kernel rows): the link's achieved bandwidth, which pins
      the scale-up (NVLink) and scale-out (RDMA) efficiencies directly;
    - DeepEP low-latency kernel times (one dispatch or combine of 128 tokens per rank at EP 8 to
      256): latency per collective + the copies' bytes over the stated link.
    Rows with draft tokens but no acceptance length, prefill rows without tokens per pass,
    rows run in eager mode (``eager=yes``) and rows on models outside the catalog are left out
    (counted in the report as not fit-ready).
    """
    import pandas as pd

    from chipwatch.perf.calibration.conditions import with_conditions
    from chipwatch.perf.models import default_models

    models = default_models()
    d = with_conditions(pd.read_csv(csv_path or measurements_dir() / PUBLISHED_FILE))
    d = d[d["id"].str[1:].astype(int) >= 301]
    rows = []
    r: Any
    for r in d.itertuples(index=False):
        try:
            spec = models.model(str(r.cond_model))
        except KeyError:
            continue
        chip, phase = str(r.cond_chip), str(r.cond_phase)
        n = int(_num(r.cond_n_chips, _num(r.n_accel, 1)))
        tp, dp = int(_num(r.cond_attn_tp, 1)), int(_num(r.cond_attn_dp, 1))
        ep = int(_num(r.cond_moe_ep, 1)) if spec.moe else 1
        metric_txt = str(r.metric).lower()
        base = {
            "dataset": "published-serving",
            "chip": chip,
            "model": spec.id,
            "num_chips": n,
            "tp": tp,
            "pp": 1,
            "dp": dp,
            "ep": ep,
            "backend": str(r.software),
            "source": f"{SERVING_CITE}, row {r.id} ({r.source_key})",
            "point_id": str(r.id),
            "scaleup_domain": _num(getattr(r, "cond_scaleup_domain", ""), math.nan),
        }
        if phase == "kernel" and "latency (us)" in metric_txt and str(r.cond_link):
            # DeepEP low-latency kernels: one dispatch or combine of `tokens_per_rank` tokens
            link = str(r.cond_link)
            combine = metric_txt.startswith("combine")
            kep = int(_num(r.cond_moe_ep, 1))
            rows.append(
                {
                    **base,
                    "precision": "fp8",
                    "tp": 1,
                    "dp": 1,
                    "ep": kep,
                    "num_chips": 1,
                    "batch": _num(r.cond_tokens_per_rank, 128),
                    "input_len": 1,
                    "output_len": 1,
                    "metric": "a2a_out_us" if link in ("rdma", "roce", "ib") else "a2a_up_us",
                    "a2a_bytes": 2.0 if combine else 1.0 + 4.0 / 128,
                    "measured": float(r.value),
                }
            )
            continue
        if phase == "kernel" and "bandwidth gb/s" in metric_txt and str(r.cond_link):
            link = str(r.cond_link)
            rows.append(
                {
                    **base,
                    "precision": "fp8",
                    "tp": 1,
                    "dp": 1,
                    "ep": int(_num(r.cond_moe_ep, 1)),  # the EP group the kernel spans
                    "num_chips": 1,
                    "batch": 1.0,
                    "input_len": 1,
                    "output_len": 1,
                    "metric": "scaleout_gbs" if link in ("rdma", "roce", "ib") else "scaleup_gbs",
                    "measured": float(r.value),
                }
            )
            continue
        if str(getattr(r, "cond_eager", "")) == "yes":
            # engines run eagerly (no CUDA/HIP graphs) pay a launch cost per kernel that the
            # model has no term for; one family factor cannot hold them and graph-mode rows
            # of the same chips (fitted, MI300X memory efficiency fell to 0.14): recorded, not fit
            continue
        prec = _weights_precision(str(r.cond_weights))
        isl, osl = _num(r.cond_isl, 0), _num(r.cond_osl, 0)
        spec_k = int(_num(r.cond_spec_tokens, 0)) if str(r.cond_spec_tokens) else 0
        acc = _num(r.cond_accept_len, 0)
        if prec is None or not isl or not osl or tp * dp != n or (spec_k and not acc):
            continue
        kv = "fp8" if str(r.cond_kv).lower().startswith("fp8") else "bf16"
        common = {
            **base,
            "precision": prec,
            "input_len": int(isl),
            "output_len": int(osl),
            "kv_precision": kv,
            "spec_tokens": spec_k,
            "accepted_per_step": acc if spec_k else 1.0,
        }
        per_gpu = float(r.value_per_accel) if r.value_per_accel == r.value_per_accel else None
        if "tokens/s" not in metric_txt or "output" not in metric_txt:
            continue  # latencies and prefill rates: not mapped
        conc = _num(r.cond_concurrency, 0)
        bpr = _num(r.cond_batch_per_rank, 0)
        if phase == "both" and str(r.cond_deploy) == "agg" and per_gpu and not conc:
            rows.append(
                {
                    **common,
                    "batch": 0.0,
                    "metric": "offline_tokens_per_s",
                    "measured": per_gpu * n,
                }
            )
        elif phase == "both" and str(r.cond_deploy) == "agg" and conc:
            rows.append(
                {
                    **common,
                    "batch": conc,
                    "metric": "serving_output_tokens_per_s",
                    "measured": float(r.value),
                }
            )
        elif phase == "decode" and bpr and per_gpu:
            rows.append(
                {
                    **common,
                    "batch": bpr * dp,
                    # a decode pool's sequences are on average half-way through their output:
                    # context = input + output / 2 (input_len + output_len / 2 with output 2)
                    "input_len": int(round(isl + osl / 2.0)) - 1,
                    "output_len": 2,
                    "disaggregated": 1,
                    "metric": "decode_tokens_per_s_per_chip",
                    "measured": per_gpu,
                }
            )
    return pd.DataFrame(rows)


def build_points(mlperf_input_len: int | None = None, outside: bool = False) -> Any:
    """All calibration points (silicon sample, published, MLPerf, decode) on catalog chips;
    ``outside``: only the points ``outside_model`` sets aside (the check) instead."""
    import pandas as pd

    from chipwatch.catalog import load_catalog

    ids = set(load_catalog().ids)
    pts = pd.concat(
        [
            silicon_points(),
            published_points(),
            mlperf_points(input_len=mlperf_input_len),
            decode_points(),
            serving_points(),
        ],
        ignore_index=True,
    )
    pts["spec_tokens"] = pts.get("spec_tokens", 0).fillna(0).astype(int)
    pts["accepted_per_step"] = pts.get("accepted_per_step", 1.0).fillna(1.0).astype(float)
    pts["disaggregated"] = pts.get("disaggregated", 0).fillna(0).astype(int)
    pts["kv_precision"] = pts.get("kv_precision", "bf16").fillna("bf16")
    pts = pts[pts["chip"].isin(ids)].reset_index(drop=True)
    keep = outside_model(pts) == outside
    return pts[keep].reset_index(drop=True)


def outside_model(pts: Any) -> Any:
    """Points the model does not describe, so they are a check, not fitted: layouts ``infer``
    refuses (``tp_beyond_domain``) and layouts that cannot hold the model
    (``weights_exceed_memory``)."""
    return tp_beyond_domain(pts) | weights_exceed_memory(pts)


KERNEL_METRICS = ("scaleup_gbs", "scaleout_gbs", "a2a_up_us", "a2a_out_us")


def weights_exceed_memory(pts: Any) -> Any:
    """Serving points whose stated layout cannot hold the model's weights (weights per chip above
    the chip's memory): whatever was measured, it was not that layout (the silicon sample's
    Qwen3-235B FP8 rows "tp1" on one 141 GB H200 hold 235 GB of weights; 26 points)."""
    from chipwatch.catalog import load_catalog
    from chipwatch.perf import workload as wl
    from chipwatch.perf.hardware import chip_perf
    from chipwatch.perf.models import default_models

    cat, models = load_catalog(), default_models()
    cols = ["chip", "model", "precision", "tp", "pp", "dp", "ep"]
    over: dict[tuple[Any, ...], bool] = {}
    for key in set(pts[cols].itertuples(index=False, name=None)):
        chip, model, prec, tp, pp, dp, ep = key
        cp = chip_perf(cat.chip(chip), prec)
        weights = wl.weights_per_chip_bytes(
            wl.ModelShape.of(models.model(model)),
            wl.Precisions(cp.mode.weight_bytes, 2.0),
            wl.Layout(tp=float(tp), pp=float(pp), dp=float(dp), ep=float(ep)),
        )
        over[key] = bool(weights > cp.capacity_b)
    full = np.array([over[k] for k in pts[cols].itertuples(index=False, name=None)], dtype=bool)
    kernel = pts["metric"].isin(KERNEL_METRICS).to_numpy(bool)
    return full & ~kernel


def point_domain(pts: Any) -> Any:
    """Chips per scale-up domain for each point: the deployment's own when its row states one
    (``scaleup_domain``, e.g. 8-package Atlas 800I A3 servers of a chip whose catalog domain is
    the 384-chip CloudMatrix), else the chip's catalog value (1e9 when none is listed)."""
    from chipwatch.catalog import load_catalog
    from chipwatch.perf.hardware import chip_perf

    cat = load_catalog()
    dom = {c: float(chip_perf(cat.chip(c), "bf16").domain_chips or 1e9) for c in set(pts["chip"])}
    d = pts["chip"].map(dom)
    if "scaleup_domain" in pts:
        d = pts["scaleup_domain"].fillna(d)
    return d


def tp_beyond_domain(pts: Any) -> Any:
    """Points whose layout (or, for disaggregated rows, whose decode pool's layout) runs tensor
    parallelism over more chips than one scale-up domain: a layout ``infer`` refuses (see
    ``parallelism.RULES``), so the model is not fitted on it; ``benchmarks/perf_calibration.py``
    predicts these points as a check (TensorRT-LLM's TP16 decode pools over two HGX H100 nodes
    in the silicon sample, 14 points)."""

    d = point_domain(pts)
    dec = pts["decode_tp"].fillna(1.0) if "decode_tp" in pts else 1.0
    return ((pts["tp"] > d) | (dec > d)).to_numpy(bool)
