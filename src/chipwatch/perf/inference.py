"""LLM serving on N chips: TTFT, TPOT, throughput, memory fit and the binding resource.

Time of one pass (per pipeline stage, per chip) is a per-operation roofline:

    t_stage = max(F_lin / (C eta_c), B_w / (M eta_m))      matmuls against weights
            + max(F_att / (C eta_c), B_kv / (M eta_m))     attention against the KV cache
            + B_link / (L eta_l)                           TP all-reduce, EP all-to-all, PP hand-off
    t_pass  = pp * t_stage + t_0

with C the dense peak for the precision used, M the memory bandwidth, L the per-direction
scale-up bandwidth and eta / t_0 the calibrated efficiencies (``perf/calibration/``).

Serving model (continuous batching, steady state): ``batch`` sequences are in flight; each needs
one prefill and ``output_len`` decode steps; prefills are interleaved with the decode steps. So
per replica ``output_len`` steps of decode plus one batched prefill of all ``batch`` prompts
produce ``batch * output_len`` tokens:

    tpot   = t_decode(batch, ctx = input + output/2) + t_prefill(batch) / output_len
    tokens/s = replicas * dp * batch * output_len / (output_len * t_decode + t_prefill(batch))
    ttft   = t_prefill(1 prompt) + t_decode / 2   (own prefill plus, on average, half of the
             step already running; no queueing behind other prompts)

``batch`` there is per data-parallel rank; ``replicas`` independent copies of the whole
``tp x pp x dp`` group multiply the totals and change nothing per chip.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from chipwatch.catalog.schema import Accelerator
from chipwatch.perf import moe
from chipwatch.perf import workload as wl
from chipwatch.perf.cost import CostAssumptions, tokens_per_joule, usd_per_million_tokens
from chipwatch.perf.factors import factors_for
from chipwatch.perf.hardware import (
    DEFAULT_KV_PRECISION,
    FP8_DISPATCH_BYTES,
    ROOFLINE,
    ChipPerf,
    Efficiency,
    PerfInputError,
    attention_peak_flops,
    chip_perf,
    kv_bytes_of,
)
from chipwatch.perf.models import ModelSpec
from chipwatch.perf.parallelism import Parallelism, candidates, check
from chipwatch.workspace import Workspace, resolve

Bound = Literal["compute", "memory", "interconnect", "capacity"]
Phase = Literal["both", "prefill", "decode"]
RESOURCES = np.array(["compute", "memory", "interconnect"])


class ServingAssumptions(BaseModel):
    """Memory-planning assumptions of the serving model (stated in every result)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reserved_fraction: float = Field(
        default=0.10,
        ge=0,
        lt=1,
        description="share of HBM kept free for runtime, collectives and fragmentation "
        "(vLLM's default gpu_memory_utilization is 0.9)",
    )
    prefill_chunk_tokens: int = Field(
        default=8192,
        ge=1,
        description="largest prefill chunk held in working memory at once (chunked prefill)",
    )


# Tokens per chip in one prefill pass of a prefill pool: vLLM's --max-num-batched-tokens and
# SGLang's --chunked-prefill-size both default to 8,192 for data-centre GPUs (engine server
# arguments; SGLang picks 2,048-16,384 by GPU memory).
PREFILL_TOKENS_PER_CHIP = 8192
# Grouped-GEMM tile: expert matmuls run in blocks of 64 token rows (DeepGEMM's grouped kernels,
# https://github.com/deepseek-ai/DeepGEMM, block M = 64), so an expert with fewer than 64 tokens
# costs a whole tile: efficiency min(1, t / 64) falls with tokens per expert below one tile
# (partial last tiles of larger counts average out over experts and are not charged).
GEMM_TILE_TOKENS = 64.0
HIDDEN = np.array(["none", "communication", "compute"])  # what micro-batch overlap hides


@dataclass(frozen=True)
class Hw:
    """Chip numbers as arrays (or floats) for the vectorized evaluation."""

    peak_flops: Any
    mem_bw_bs: Any
    link_bw_bs: Any
    capacity_b: Any
    scaleout_bw_bs: Any = 50e9
    eta_c: Any = 1.0
    eta_m: Any = 1.0
    eta_l: Any = 1.0
    overhead_s: Any = 0.0
    link_latency_s: Any = 0.0
    eta_c_prefill: Any = None  # None: same as eta_c
    eta_attn: Any = None  # None: same as eta_m
    eta_out: Any = None  # None: same as eta_l
    attn_peak_flops: Any = None  # attention at its own precision; None: same as peak_flops

    @classmethod
    def of(cls, cp: ChipPerf, eff: Efficiency, attn_peak_flops: Any = None) -> Hw:
        return cls(
            cp.peak_flops,
            cp.mem_bw_bs,
            cp.link_bw_bs,
            cp.capacity_b,
            cp.scaleout_bw_bs,
            eff.compute,
            eff.memory,
            eff.link,
            eff.overhead_s,
            eff.link_latency_s,
            eff.eta_prefill,
            eff.eta_attn,
            eff.eta_out,
            cp.peak_flops if attn_peak_flops is None else attn_peak_flops,
        )


def _or(x: Any, default: Any) -> Any:
    return default if x is None else x


def gemm_tile_efficiency(tokens_per_expert: Any) -> Any:
    """Useful share of grouped-GEMM work at ``t`` tokens per expert: min(1, t / 64)."""
    t = np.maximum(tokens_per_expert, 1e-9)
    return np.where(tokens_per_expert > 0, np.minimum(1.0, t / GEMM_TILE_TOKENS), 1.0)


@dataclass(frozen=True)
class PassTime:
    """Time of one pass through all pipeline stages and what each resource took (seconds)."""

    time_s: Any
    compute_s: Any
    memory_s: Any
    link_s: Any  # scale-up + scale-out + per-call latency
    scaleup_s: Any
    scaleout_s: Any
    bound_code: Any  # index into RESOURCES
    hidden_code: Any  # index into HIDDEN: what micro-batch overlap hid

    @property
    def bound(self) -> Any:
        return RESOURCES[self.bound_code]

    @property
    def hidden(self) -> Any:
        return HIDDEN[self.hidden_code]


def pass_time(
    work: wl.PhaseWork, hw: Hw, pp: Any, overlap: Any = 0.0, prefill: bool = False
) -> PassTime:
    """Roofline per operation group, then communication added or, with micro-batch overlap,
    overlapped: a layer costs max(compute + memory, communication)."""
    eta_c = _or(hw.eta_c_prefill, hw.eta_c) if prefill else hw.eta_c
    c = hw.peak_flops * eta_c
    m = hw.mem_bw_bs * hw.eta_m
    lin_c = work.dense_flops / c + work.expert_flops / (
        c * gemm_tile_efficiency(work.expert_tokens)
    )
    lin_m = work.weight_bytes / m
    c_att = _or(hw.attn_peak_flops, hw.peak_flops) * eta_c  # attention at its own precision
    att_c = work.attn_flops / c_att
    att_m = work.kv_bytes / (hw.mem_bw_bs * _or(hw.eta_attn, hw.eta_m)) + work.act_bytes / m
    t_up = work.up_bytes / (hw.link_bw_bs * hw.eta_l)
    t_out = work.out_bytes / (hw.scaleout_bw_bs * _or(hw.eta_out, hw.eta_l))
    t_link = t_up + t_out + work.collectives * hw.link_latency_s
    local = np.maximum(lin_c, lin_m) + np.maximum(att_c, att_m)
    t_compute = np.where(lin_c >= lin_m, lin_c, 0.0) + np.where(att_c >= att_m, att_c, 0.0)
    t_memory = local - t_compute
    on = np.asarray(overlap) > 0
    stage = np.where(on, np.maximum(local, t_link), local + t_link)
    # the largest of (compute, memory, link); ties go to the first, as argmax would
    code = np.where(
        t_link > np.maximum(t_compute, t_memory), 2, np.where(t_memory > t_compute, 1, 0)
    )
    hidden = np.where(on & (t_link > 0), np.where(t_link <= local, 1, 2), 0)
    return PassTime(
        time_s=pp * stage + hw.overhead_s,
        compute_s=pp * t_compute,
        memory_s=pp * t_memory,
        link_s=pp * t_link,
        scaleup_s=pp * t_up,
        scaleout_s=pp * t_out,
        bound_code=code,
        hidden_code=hidden,
    )


@dataclass(frozen=True)
class ServingEval:
    """Every figure of the serving model for a broadcastable set of configurations."""

    decode_step_s: Any  # time per emitted token of a sequence (step / accepted tokens)
    spec_step_s: Any  # one decode step (verify k + 1 tokens, plus drafting)
    tpot_s: Any
    ttft_s: Any
    prefill_batch_s: Any
    output_tokens_per_s: Any
    prefill_tokens_per_s: Any
    decode: PassTime
    prefill: PassTime  # the in-flight batch's prefill on these chips (aggregated serving)
    prefill_one: PassTime
    prefill_pool: PassTime  # one pass of a disaggregated prefill pool
    prefill_pass_tokens: Any  # tokens per data-parallel rank in one prefill-pool pass
    prefill_pool_tokens_per_s_per_chip: Any
    prefill_pool_pass_s: Any
    kv_transfer_s: Any
    mem_weights_b: Any
    mem_kv_b: Any
    mem_act_b: Any
    mem_reserved_b: Any
    mem_total_b: Any
    fits: Any
    max_batch: Any


def dp_prefill_sync(
    shape: wl.ModelShape, lay: wl.Layout, b: Any, output_len: Any, expert_share: Any = 0.0
) -> Any:
    """How much longer interleaved prefill stalls decode when attention-DP ranks share experts.

    With DP attention + expert parallelism every rank takes part in every MoE layer's
    dispatch/combine, so a step in which any rank runs a prefill chunk lasts as long as that
    chunk for all ranks (SGLang runs an idle/extend batch on the other ranks: DP attention
    "MLP sync"). Each rank admits ``q = b / output_len`` new prompts per step; with ``D``
    ranks admitting independently a step carries some prefill with probability
    ``P = 1 - (1 - q)^D`` instead of ``q`` for a rank alone. The prompt's attention and dense
    layers run on its own rank and stall the others; its routed-expert work (``expert_share``
    e of the prefill FLOPs) is spread over the EP ranks and adds up over the ranks' prompts as
    without synchronisation. Factor = max(1, (1 - e) P / q + e); 1 for dense models, one rank,
    replicated experts (ep = 1) or q >= 1 (every step already carries a prefill)."""
    q = np.clip(np.asarray(b, dtype=float) / np.asarray(output_len, dtype=float), 1e-12, 1.0)
    shared = (np.asarray(shape.experts) > 0) & (np.asarray(lay.ep) > 1)
    d = np.where(shared, np.maximum(np.asarray(lay.dp, dtype=float), 1.0), 1.0)
    p_any = -np.expm1(d * np.log1p(-np.minimum(q, 1 - 1e-12)))
    e = np.clip(np.asarray(expert_share, dtype=float), 0.0, 1.0)
    return np.maximum(1.0, (1.0 - e) * p_any / q + e)


def evaluate(
    shape: wl.ModelShape,
    prec: wl.Precisions,
    lay: wl.Layout,
    hw: Hw,
    batch: Any,
    input_len: Any,
    output_len: Any,
    serving: ServingAssumptions | None = None,
    spec_tokens: Any = 0,
    accepted_per_step: Any = 1.0,
    disaggregated: Any = False,
    prefill_tokens_per_chip: Any = PREFILL_TOKENS_PER_CHIP,
    draft_layers: Any = 1.0,
    reserve_of_free: Any = False,
) -> ServingEval:
    """The serving model for any broadcastable mix of scalars and arrays.

    ``batch``: sequences in flight over all ``replicas x dp`` ranks of the pool. Speculative
    decoding / MTP (Leviathan et al. 2023; DeepSeek-V3 sec. 2.2): a step verifies ``k + 1``
    tokens per sequence, costs ``draft_layers`` extra layers per draft token, and emits
    ``accepted_per_step`` tokens. Aggregated (``disaggregated`` false): prompts are prefilled on
    the same chips, interleaved with the decode steps (continuous batching). Disaggregated
    (DistServe, Zhong et al. 2024): the decode pool runs decode steps only; prompts are
    prefilled by a prefill pool of the same layout in passes of ``prefill_tokens_per_chip``
    tokens per chip, and their KV cache crosses the scale-out network. ``reserve_of_free``: the
    serving assumptions' reserved share is of the memory left after the weights (TensorRT-LLM)
    rather than of the whole memory (vLLM, SGLang).
    """
    s = serving or ServingAssumptions()
    ranks = lay.dp * lay.replicas
    b = batch / ranks  # per data-parallel rank
    ctx = input_len + output_len / 2.0
    k = np.asarray(spec_tokens, dtype=float)
    acc = np.where(k > 0, accepted_per_step, 1.0)
    dec = pass_time(wl.decode_work(shape, prec, lay, b, ctx, 1.0 + k), hw, lay.pp, lay.overlap)
    t_step = dec.time_s
    if np.any(k > 0):
        one = pass_time(wl.decode_work(shape, prec, lay, b, ctx), hw, lay.pp, lay.overlap).time_s
        t_step = t_step + k * draft_layers * (one - hw.overhead_s) / shape.layers
    t_dec = t_step / acc  # time per emitted token of a sequence
    # aggregated: the in-flight batch's prompts, interleaved with its decode steps
    pf_work = wl.prefill_work(shape, prec, lay, b, input_len)
    pf = pass_time(pf_work, hw, lay.pp, lay.overlap, True)
    pf_flops = pf_work.dense_flops + pf_work.expert_flops + pf_work.attn_flops
    expert_share = pf_work.expert_flops / np.maximum(pf_flops, 1e-30)
    pf1 = pass_time(
        wl.prefill_work(shape, prec, lay, 1.0, input_len), hw, lay.pp, lay.overlap, True
    )
    # disaggregated: a prefill pool pass of prefill_tokens_per_chip tokens per chip
    pass_tokens = prefill_tokens_per_chip * lay.tp
    pool = pass_time(
        wl.prefill_work(shape, prec, lay, pass_tokens / input_len, input_len),
        hw,
        lay.pp,
        lay.overlap,
        True,
    )
    kv_seq_input = wl.kv_per_seq_per_chip_bytes(shape, prec, lay, input_len)
    kv_transfer = kv_seq_input / (hw.scaleout_bw_bs * _or(hw.eta_out, hw.eta_l))
    ttft_pool = pool.time_s * (np.maximum(1.0, input_len / pass_tokens) + 0.5) + kv_transfer
    pool_tps_chip = pass_tokens / (lay.tp * lay.pp * pool.time_s)
    dis = np.asarray(disaggregated, dtype=bool)
    sync = dp_prefill_sync(shape, lay, b, output_len, expert_share)
    t_pf_here = np.where(dis, 0.0, pf.time_s * sync)
    cycle = output_len * t_dec + t_pf_here
    out_tps = ranks * b * output_len / cycle
    weights = wl.weights_per_chip_bytes(shape, prec, lay)
    kv_seq = wl.kv_per_seq_per_chip_bytes(shape, prec, lay, input_len + output_len)
    chunk = np.where(dis, 0.0, np.minimum(b * input_len, s.prefill_chunk_tokens))
    act = wl.activation_peak_bytes(shape, prec, lay, chunk) + wl.activation_peak_bytes(
        shape, prec, lay, b * (1.0 + k)
    )
    work_act = wl.activation_peak_bytes(
        shape, prec, lay, np.where(dis, 0.0, s.prefill_chunk_tokens)
    )
    # vLLM and SGLang keep a share of the whole memory free, TensorRT-LLM a share of what is
    # left after the weights (its KV cache takes free_gpu_memory_fraction = 0.9 of the free
    # memory: https://nvidia.github.io/TensorRT-LLM/examples/kvcacheconfig.html)
    after_weights = np.maximum(hw.capacity_b - weights - work_act, 0.0)
    reserved = s.reserved_fraction * np.where(reserve_of_free, after_weights, hw.capacity_b)
    kv = b * kv_seq
    total = weights + kv + act + reserved
    free_for_kv = hw.capacity_b - reserved - weights - work_act
    # each sequence holds its KV cache and the activations of its 1 + k tokens of a step
    per_seq = kv_seq + wl.activation_peak_bytes(shape, prec, lay, 1.0 + k)
    max_batch = np.floor(np.maximum(free_for_kv, 0) / per_seq) * ranks
    return ServingEval(
        decode_step_s=t_dec,
        spec_step_s=t_step,
        tpot_s=t_dec + t_pf_here / output_len,
        ttft_s=np.where(dis, ttft_pool, pf1.time_s + t_dec / 2),
        prefill_batch_s=pf.time_s,
        output_tokens_per_s=out_tps,
        prefill_tokens_per_s=ranks * b * input_len / pf.time_s,
        decode=dec,
        prefill=pf,
        prefill_one=pf1,
        prefill_pool=pool,
        prefill_pass_tokens=pass_tokens,
        prefill_pool_tokens_per_s_per_chip=pool_tps_chip,
        prefill_pool_pass_s=pool.time_s,
        kv_transfer_s=kv_transfer,
        mem_weights_b=weights,
        mem_kv_b=kv,
        mem_act_b=act,
        mem_reserved_b=reserved,
        mem_total_b=total,
        fits=total <= hw.capacity_b,
        max_batch=max_batch,
    )


# ------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------
class MemoryPerChip(BaseModel):
    weights_gb: float
    kv_cache_gb: float
    activations_gb: float
    reserved_gb: float
    total_gb: float
    capacity_gb: float


class PhaseResult(BaseModel):
    time_s: float
    bound: Bound
    compute_s: float
    memory_s: float
    interconnect_s: float
    scaleup_s: float = 0.0
    scaleout_s: float = 0.0
    overlap_hides: str = Field(
        default="none",
        description="with micro-batch overlap: 'communication' (hidden behind compute + memory) "
        "or 'compute' (compute + memory hidden behind communication); 'none' without overlap",
    )


class MoEResult(BaseModel):
    """Wide expert parallelism per EP rank, and the all-to-all per chip and MoE layer."""

    expert_slots_per_rank: int
    redundant_experts: int
    experts_per_rank: float = Field(description="distinct experts per rank (slots without spares)")
    chips_per_ep_rank: float
    ep_ranks_per_scaleup_domain: int
    decode_tokens_per_rank: float = Field(description="tokens per data-parallel rank per step")
    prefill_tokens_per_rank: float = Field(description="tokens per data-parallel rank per pass")
    decode_imbalance: float = Field(description="busiest EP rank's expert load / mean, decode")
    prefill_imbalance: float
    skew: float
    dispatch_bytes_per_elem: float
    combine_bytes_per_elem: float
    decode_a2a_scaleup_bytes_per_layer: float
    decode_a2a_scaleout_bytes_per_layer: float
    prefill_a2a_scaleup_bytes_per_layer: float
    prefill_a2a_scaleout_bytes_per_layer: float
    routing_note: str


class PrefillPool(BaseModel):
    """The prefill side of a disaggregated deployment (same chip and layout per pool chip)."""

    tokens_per_chip_per_pass: int
    pass_s: float
    tokens_per_s_per_chip: float
    kv_transfer_s: float
    chips_needed: float = Field(description="prefill chips that keep up with the decode pool")


class InferenceResult(BaseModel):
    """One serving configuration on one chip type; every number comes from the model above."""

    chip: str
    model: str
    num_chips: int
    precision_requested: str
    precision_used: str
    precision_note: str | None
    parallelism: dict[str, int]
    parallelism_chosen: bool
    batch: int
    batch_auto: bool
    max_batch_fit: int
    input_len: int
    output_len: int
    ttft_s: float
    ttft_loaded_s: float
    tpot_s: float
    decode_step_s: float
    prefill_batch_s: float
    output_tokens_per_s: float
    output_tokens_per_s_per_chip: float
    prefill_tokens_per_s: float
    memory_per_chip_gb: MemoryPerChip
    fits: bool
    meets_limits: bool
    bound: dict[str, Bound]
    phases: dict[str, PhaseResult]
    tokens_per_joule: float | None
    usd_per_million_tokens: float | None
    calibration: dict[str, Any]
    assumptions: dict[str, Any]
    notes: list[str]
    spec_tokens: int = 0
    accepted_per_step: float = 1.0
    disaggregated: bool = False
    phase: Phase = "both"
    spec_step_s: float = 0.0
    kv_precision: str = DEFAULT_KV_PRECISION
    overlap: bool = False
    ranks_per_chip: int = 1
    batch_capped: bool = Field(
        default=False, description="the requested batch exceeded the KV capacity and was capped"
    )
    moe: MoEResult | None = None
    prefill_pool: PrefillPool | None = None


def _phase(p: PassTime) -> PhaseResult:
    return PhaseResult(
        time_s=float(p.time_s),
        bound=str(p.bound),  # type: ignore[arg-type]
        compute_s=float(p.compute_s),
        memory_s=float(p.memory_s),
        interconnect_s=float(p.link_s),
        scaleup_s=float(p.scaleup_s),
        scaleout_s=float(p.scaleout_s),
        overlap_hides=str(p.hidden),
    )


@dataclass(frozen=True)
class Deployment:
    """The deployment choices ``infer`` resolves from its keywords (one place, typed)."""

    phase: Phase
    disaggregated: bool
    spec_tokens: int
    accepted_per_step: float
    draft_layers: int
    redundant: int
    skew: float
    overlap: bool | None  # None: on for expert-parallel layouts (dp > 1 with experts)
    prefill_tokens_per_chip: int
    kv_bytes: float
    kv_precision: str
    dispatch_bytes: float
    combine_bytes: float
    reserve_of_free: bool = False  # TensorRT-LLM's memory plan (see ``evaluate``)


def _layout(par: Parallelism, cp: ChipPerf, dep: Deployment, spec: ModelSpec) -> wl.Layout:
    ep_layout = spec.moe is not None and par.dp > 1
    overlap = ep_layout if dep.overlap is None else dep.overlap
    return wl.Layout(
        tp=float(par.tp),
        pp=float(par.pp),
        dp=float(par.dp),
        ep=float(par.ep),
        replicas=float(par.replicas),
        redundant=float(dep.redundant),
        domain=float(cp.domain_chips or 1e9),
        overlap=float(overlap),
        skew=dep.skew,
    )


def _stack_layouts(lays: list[wl.Layout], reps: int) -> wl.Layout:
    """One Layout whose fields are arrays: each layout repeated ``reps`` times (batch grid)."""
    return wl.Layout(
        **{
            f.name: np.repeat(np.array([getattr(x, f.name) for x in lays], dtype=float), reps)
            for f in fields(wl.Layout)
        }
    )


def _batch_grid(max_batch: int) -> np.ndarray:
    """Candidate batches: powers of two, their midpoints and the largest that fits."""
    pts = {1, max_batch}
    x = 1
    while x < max_batch:
        pts.update({x, int(x * 1.5)})
        x *= 2
    return np.array(sorted(p for p in pts if 1 <= p <= max_batch), dtype=float)


PHASES = ("both", "prefill", "decode")


def _check_request(
    spec: ModelSpec,
    num_chips: int,
    batch: int | str,
    input_len: int,
    output_len: int,
    spec_tokens: int,
    phase: str,
) -> None:
    if num_chips < 1:
        raise PerfInputError(f"num_chips must be >= 1, got {num_chips}")
    if input_len < 1 or output_len < 1:
        raise PerfInputError("input_len and output_len must be >= 1")
    if input_len + output_len > spec.max_context:
        raise PerfInputError(
            f"input_len + output_len = {input_len + output_len} exceeds the "
            f"{spec.max_context}-token context of {spec.id}"
        )
    if spec_tokens < 0:
        raise PerfInputError(f"spec_tokens must be >= 0, got {spec_tokens}")
    if phase not in PHASES:
        raise PerfInputError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
    if isinstance(batch, str) and batch.lower() != "auto":
        raise PerfInputError(f"batch must be a positive integer or 'auto', got {batch!r}")
    if not isinstance(batch, str) and int(batch) < 1:
        raise PerfInputError(f"batch must be >= 1, got {batch}")


def accepted_tokens(spec: ModelSpec, spec_tokens: int, accepted: float | None) -> float:
    """Tokens emitted per speculative step: as given, or from the model's MTP head's published
    acceptance ``a`` (each further draft token accepted with the same probability, so
    1 + a + a^2 + ... + a^k; the chained form is an assumption for k > 1)."""
    if spec_tokens == 0:
        if accepted not in (None, 1.0):
            raise PerfInputError("accepted tokens per step > 1 needs spec_tokens >= 1")
        return 1.0
    if accepted is None:
        if spec.mtp is None:
            raise PerfInputError(
                f"{spec.id} ships no multi-token-prediction head with a published acceptance "
                "rate: give the accepted tokens per step (--acceptance)"
            )
        a = spec.mtp.acceptance
        return float(sum(a**i for i in range(spec_tokens + 1)))
    if not 1.0 <= accepted <= spec_tokens + 1:
        raise PerfInputError(
            f"accepted tokens per step must be between 1 and spec_tokens + 1 = "
            f"{spec_tokens + 1}, got {accepted:g}"
        )
    return float(accepted)


def _dispatch_bytes(dispatch_precision: str | None, cp: ChipPerf) -> float:
    d = (dispatch_precision or ("fp8" if cp.mode.weight_bytes <= 1 else "bf16")).lower()
    if d in ("fp8", "int8"):
        return FP8_DISPATCH_BYTES
    if d in ("bf16", "fp16"):
        return 2.0
    raise PerfInputError(f"unknown dispatch precision {dispatch_precision!r}: use fp8 or bf16")


def _layouts(
    spec: ModelSpec,
    num_chips: int,
    cp: ChipPerf,
    given: dict[str, int | None],
    replicas: int | None,
    redundant: int,
) -> list[Parallelism]:
    """The layout given, or every candidate layout (the chooser's search space)."""
    tp, pp, dp, ep = given["tp"], given["pp"], given["dp"], given["ep"]
    if replicas is not None and (replicas < 1 or num_chips % replicas):
        raise PerfInputError(
            f"replicas must be a positive divisor of num_chips = {num_chips}, got {replicas}"
        )
    if tp and pp and dp and (ep or not spec.moe):
        group = tp * pp * dp
        n_rep = replicas if replicas is not None else max(num_chips // group, 1)
        par = Parallelism(tp, pp, dp, ep or 1, n_rep)
        check(spec, par, num_chips, cp.domain_chips, redundant)
        return [par]
    layouts = candidates(spec, num_chips, cp.domain_chips, tp, pp, dp, ep, replicas, redundant)
    if not layouts:
        n_rep = replicas or 1
        check(  # explain with the first failing rule
            spec,
            Parallelism(
                tp or max(num_chips // (n_rep * (pp or 1) * (dp or 1)), 1),
                pp or 1,
                dp or 1,
                ep or 1,
                n_rep,
            ),
            num_chips,
            cp.domain_chips,
            redundant,
        )
        raise PerfInputError(f"no valid parallel layout of {spec.id} on {num_chips} chips")
    return layouts


@dataclass(frozen=True)
class Choice:
    layout: Parallelism
    batch: int
    max_batch: int
    capped: bool


def _choose(
    spec: ModelSpec,
    shape: wl.ModelShape,
    prec: wl.Precisions,
    hw: Hw,
    cp: ChipPerf,
    dep: Deployment,
    layouts: list[Parallelism],
    batch: int | str,
    input_len: int,
    output_len: int,
    s: ServingAssumptions,
    max_tpot_ms: float | None,
    max_ttft_ms: float | None,
) -> Choice:
    """The throughput-maximising layout and batch: every layout x batch candidate in one
    vectorized evaluation. A batch that exceeds the KV capacity is capped at what fits."""
    kw = _eval_kw(dep)
    lays = [_layout(p, cp, dep, spec) for p in layouts]
    ranks = np.array([p.dp * p.replicas for p in layouts], dtype=float)
    probe = evaluate(
        shape,
        prec,
        _stack_layouts(lays, 1),
        hw,
        ranks,
        float(input_len),
        float(output_len),
        s,
        **kw,
    )
    max_b = np.asarray(probe.max_batch, dtype=float)
    fit = max_b >= ranks
    if not fit.any():
        raise PerfInputError(
            f"{spec.id} at {cp.mode.name} does not fit on the chips with input {input_len} + "
            f"output {output_len} tokens: use more chips or a lower precision"
        )
    auto = isinstance(batch, str)
    grids = []
    for i in np.flatnonzero(fit):
        if auto:
            g = _batch_grid(int(max_b[i]))
            grids.append((i, g[g >= ranks[i]]))
        else:
            grids.append((i, np.array([float(min(int(batch), max(max_b[i], ranks[i])))])))
    idx = np.concatenate([np.full(len(g), i) for i, g in grids])
    bs = np.concatenate([g for _, g in grids])
    stacked = wl.Layout(
        **{
            f.name: np.array([getattr(lays[i], f.name) for i in idx], dtype=float)
            for f in fields(wl.Layout)
        }
    )
    r = evaluate(shape, prec, stacked, hw, bs, float(input_len), float(output_len), s, **kw)
    ok = np.asarray(r.fits, dtype=bool).copy()
    if max_tpot_ms is not None:
        ok &= np.asarray(r.tpot_s) * 1e3 <= max_tpot_ms
    if max_ttft_ms is not None:
        ok &= np.asarray(r.ttft_s) * 1e3 <= max_ttft_ms
    if not ok.any():
        what = []
        if max_tpot_ms is not None:
            what.append(f"TPOT <= {max_tpot_ms:g} ms")
        if max_ttft_ms is not None:
            what.append(f"TTFT <= {max_ttft_ms:g} ms")
        raise PerfInputError(
            f"no batch of {spec.id} meets {' and '.join(what) or 'the memory limit'} "
            f"at batch {batch}"
        )
    tps = np.where(ok, np.asarray(r.output_tokens_per_s, dtype=float), -1.0)
    # ties go to the first (simplest) layout
    best = int(np.flatnonzero(tps >= tps.max() * (1 - 1e-9))[0])
    li = int(idx[best])
    return Choice(
        layout=layouts[li],
        batch=int(bs[best]),
        max_batch=int(max_b[li]),
        capped=not auto and int(bs[best]) < int(batch),
    )


def _eval_kw(dep: Deployment) -> dict[str, Any]:
    return {
        "spec_tokens": float(dep.spec_tokens),
        "accepted_per_step": dep.accepted_per_step,
        "disaggregated": dep.disaggregated,
        "prefill_tokens_per_chip": float(dep.prefill_tokens_per_chip),
        "draft_layers": float(dep.draft_layers),
        "reserve_of_free": dep.reserve_of_free,
    }


def _moe_result(
    spec: ModelSpec,
    shape: wl.ModelShape,
    prec: wl.Precisions,
    lay: wl.Layout,
    r: ServingEval,
    b_rank: float,
    input_len: int,
    dep: Deployment,
) -> MoEResult | None:
    if spec.moe is None:
        return None
    e, k = float(spec.moe.experts), float(spec.moe.active)
    q = 1.0 + dep.spec_tokens
    dec_tokens = b_rank / lay.pp * q
    pf_tokens = float(r.prefill_pass_tokens) if dep.disaggregated else b_rank * input_len
    dec = wl.decode_work(shape, prec, lay, b_rank, float(input_len), q)
    pf = wl.prefill_work(shape, prec, lay, pf_tokens / input_len, float(input_len))
    layers = max(spec.moe_layers / lay.pp, 1.0)
    a2a = lay.dp > 1
    tp_ar = float(
        wl.tp_all_reduce_bytes(spec.layers / lay.pp, shape.hidden * prec.act_bytes, lay)[0]
    )
    pp_p2p = shape.hidden * prec.act_bytes if lay.pp > 1 else 0.0

    def per_layer(w: wl.PhaseWork, tokens: float) -> tuple[float, float]:
        if not a2a:
            return 0.0, 0.0
        up = float(w.up_bytes) - tokens * (tp_ar + pp_p2p)
        return max(up, 0.0) / layers, float(w.out_bytes) / layers

    d_up, d_out = per_layer(dec, dec_tokens)
    p_up, p_out = per_layer(pf, pf_tokens)
    slots = int(moe.slots_per_rank(e, float(dep.redundant), lay.ep))
    stage = lay.tp * lay.dp
    return MoEResult(
        expert_slots_per_rank=slots,
        redundant_experts=dep.redundant,
        experts_per_rank=e / lay.ep,
        chips_per_ep_rank=stage / lay.ep,
        ep_ranks_per_scaleup_domain=int(moe.ep_ranks_per_domain(lay.ep, stage, lay.domain)),
        decode_tokens_per_rank=dec_tokens * lay.pp,
        prefill_tokens_per_rank=pf_tokens,
        decode_imbalance=float(
            moe.imbalance(e, k, lay.ep, dep.redundant, dec_tokens * lay.dp, dep.skew)
        ),
        prefill_imbalance=float(
            moe.imbalance(e, k, lay.ep, dep.redundant, pf_tokens * lay.dp, dep.skew)
        ),
        skew=dep.skew,
        dispatch_bytes_per_elem=dep.dispatch_bytes,
        combine_bytes_per_elem=dep.combine_bytes,
        decode_a2a_scaleup_bytes_per_layer=d_up,
        decode_a2a_scaleout_bytes_per_layer=d_out,
        prefill_a2a_scaleup_bytes_per_layer=p_up,
        prefill_a2a_scaleout_bytes_per_layer=p_out,
        routing_note=(
            "all-to-all only between data-parallel ranks (dp > 1); decode: one copy per "
            "destination rank, prefill: one copy per destination node then forwarded inside it; "
            + (
                f"node-limited routing: at most {spec.moe.groups_per_token} nodes per token"
                if spec.moe.groups_per_token
                else "no node limit"
            )
        ),
    )


def infer(
    chip: Accelerator,
    model: str | ModelSpec,
    num_chips: int = 1,
    batch: int | str = "auto",
    input_len: int = 1024,
    output_len: int = 256,
    precision: str = "bf16",
    tp: int | None = None,
    pp: int | None = None,
    ep: int | None = None,
    dp: int | None = None,
    max_tpot_ms: float | None = None,
    max_ttft_ms: float | None = None,
    calibration: bool = True,
    assumptions: CostAssumptions | None = None,
    serving: ServingAssumptions | None = None,
    efficiency: Efficiency | None = None,
    spec_tokens: int = 0,
    accepted_per_step: float | None = None,
    disaggregated: bool = False,
    replicas: int | None = None,
    phase: str = "both",
    redundant_experts: int = 0,
    expert_skew: float = 1.0,
    overlap: bool | None = None,
    kv_precision: str = DEFAULT_KV_PRECISION,
    dispatch_precision: str | None = None,
    rank_per_die: bool = False,
    prefill_tokens_per_chip: int = PREFILL_TOKENS_PER_CHIP,
    engine: str | None = None,
    *,
    ws: Workspace | None = None,
) -> InferenceResult:
    """Serve ``model`` on ``num_chips`` x ``chip``; see the module docstring for the model.

    ``batch``: sequences in flight over the pool ("auto": the throughput-maximising batch that
    fits and meets the limits; a batch beyond the KV capacity is capped and flagged). Layout
    degrees left out are chosen. ``phase``: "both" = the whole deployment (aggregated unless
    ``disaggregated``), "decode" / "prefill" = one pool of a disaggregated deployment.
    ``redundant_experts``: spare expert slots; ``expert_skew``: systematic expert-load skew;
    ``overlap``: micro-batch overlap of communication (None: on for expert-parallel layouts);
    ``kv_precision``: KV-cache format (default bf16); ``dispatch_precision``: all-to-all
    dispatch format (default fp8 for 8-bit weights, else bf16; combine is bf16);
    ``rank_per_die``: one rank per compute die (``num_chips`` counts packages);
    ``engine``: the serving engine whose fitted TTFT queueing terms the loaded TTFT uses.
    Raises :class:`PerfInputError` for requests the model cannot serve.
    """
    ws = resolve(ws)
    spec = ws.models.resolve(model)
    _check_request(spec, num_chips, batch, input_len, output_len, spec_tokens, phase)
    if redundant_experts < 0 or (redundant_experts and spec.moe is None):
        raise PerfInputError(
            f"redundant experts need a MoE model and must be >= 0, got {redundant_experts}"
        )
    if expert_skew < 1.0:
        raise PerfInputError(
            f"expert skew is the hottest load over the mean: >= 1, got {expert_skew}"
        )
    if prefill_tokens_per_chip < 1:
        raise PerfInputError("prefill tokens per chip must be >= 1")
    cp = chip_perf(chip, precision, rank_per_die)
    ranks_total = num_chips * cp.ranks_per_package
    acc_step = accepted_tokens(spec, spec_tokens, accepted_per_step)
    dep = Deployment(
        phase=phase,  # type: ignore[arg-type]
        disaggregated=bool(disaggregated or phase != "both"),
        spec_tokens=spec_tokens,
        accepted_per_step=acc_step,
        draft_layers=spec.mtp.layers if spec.mtp else 1,
        redundant=redundant_experts,
        skew=float(expert_skew),
        overlap=overlap,
        prefill_tokens_per_chip=prefill_tokens_per_chip,
        kv_bytes=kv_bytes_of(kv_precision),
        kv_precision=kv_precision.lower(),
        dispatch_bytes=_dispatch_bytes(dispatch_precision, cp),
        combine_bytes=2.0,
        reserve_of_free=engine == "trtllm",
    )
    a = assumptions or CostAssumptions()
    s = serving or ServingAssumptions()
    eff = efficiency or (factors_for(chip, ws.factors, engine) if calibration else ROOFLINE)
    shape = wl.ModelShape.of(spec)
    prec = wl.Precisions(
        cp.mode.weight_bytes, dep.kv_bytes, cp.mode.act_bytes, dep.dispatch_bytes, 2.0
    )
    hw = Hw.of(cp, eff, attention_peak_flops(chip, kv_precision, rank_per_die))
    given = {"tp": tp, "pp": pp, "dp": dp, "ep": ep}
    layouts = _layouts(spec, ranks_total, cp, given, replicas, redundant_experts)
    ch = _choose(
        spec,
        shape,
        prec,
        hw,
        cp,
        dep,
        layouts,
        batch,
        input_len,
        output_len,
        s,
        max_tpot_ms,
        max_ttft_ms,
    )
    lay = _layout(ch.layout, cp, dep, spec)
    r = evaluate(
        shape,
        prec,
        lay,
        hw,
        float(ch.batch),
        float(input_len),
        float(output_len),
        s,
        **_eval_kw(dep),
    )
    return _result(
        chip,
        spec,
        cp,
        eff,
        a,
        s,
        dep,
        ch,
        lay,
        r,
        shape,
        prec,
        num_chips,
        ranks_total,
        precision,
        input_len,
        output_len,
        isinstance(batch, str),
        len(layouts) > 1,
    )


def _result(
    chip: Accelerator,
    spec: ModelSpec,
    cp: ChipPerf,
    eff: Efficiency,
    a: CostAssumptions,
    s: ServingAssumptions,
    dep: Deployment,
    ch: Choice,
    lay: wl.Layout,
    r: ServingEval,
    shape: wl.ModelShape,
    prec: wl.Precisions,
    num_chips: int,
    ranks_total: int,
    precision: str,
    input_len: int,
    output_len: int,
    auto: bool,
    chosen: bool,
) -> InferenceResult:
    """Assemble the result: headline figures of the phase asked for, pools, MoE, notes."""
    b, max_b = ch.batch, ch.max_batch
    dec_bound = str(r.decode.bound)
    if auto and b >= max_b:
        dec_bound = "capacity"  # the best batch is the largest that fits: HBM capacity decides
    notes = list(cp.notes)
    if eff.is_default:
        notes.append(f"no measurements for {chip.id} or its family: {eff.source}")
    if ch.capped:
        notes.append(
            f"the KV cache holds at most {max_b} sequences of {input_len + output_len} tokens "
            f"on these chips: concurrency capped at {b}"
        )
    decode_tps = float(r.output_tokens_per_s)
    pool_chip = float(r.prefill_pool_tokens_per_s_per_chip)
    request_rate = decode_tps / output_len
    chips_needed = request_rate * input_len / pool_chip / cp.ranks_per_package
    pool = None
    if dep.disaggregated:
        pool = PrefillPool(
            tokens_per_chip_per_pass=dep.prefill_tokens_per_chip,
            pass_s=float(r.prefill_pool_pass_s),
            tokens_per_s_per_chip=pool_chip * cp.ranks_per_package,
            kv_transfer_s=float(r.kv_transfer_s),
            chips_needed=chips_needed,
        )
    total_tps = decode_tps
    per_chip = decode_tps / num_chips
    if dep.phase == "both" and dep.disaggregated:
        per_chip = decode_tps / (num_chips + chips_needed)
        notes.append(
            f"disaggregated: {num_chips} decode chips plus {chips_needed:.1f} prefill chips "
            "(same chip and layout) to keep up; tokens/s per chip counts both pools"
        )
    if dep.phase == "prefill":
        total_tps = pool_chip * ranks_total * output_len / input_len
        per_chip = total_tps / num_chips
        notes.append(
            "prefill pool: output tokens/s = the decode output its prefill rate sustains "
            "(prefill tokens/s x output / input); prefill_tokens_per_s is the pool's rate"
        )
    mem = MemoryPerChip(
        weights_gb=float(r.mem_weights_b) / 1e9,
        kv_cache_gb=float(r.mem_kv_b) / 1e9,
        activations_gb=float(r.mem_act_b) / 1e9,
        reserved_gb=float(r.mem_reserved_b) / 1e9,
        total_gb=float(r.mem_total_b) / 1e9,
        capacity_gb=cp.capacity_b / 1e9,
    )
    b_rank = b / (lay.dp * lay.replicas)
    pf_tps = pool_chip * ranks_total if dep.disaggregated else float(r.prefill_tokens_per_s)
    ttft = float(r.ttft_s)
    pf = r.prefill_pool if dep.disaggregated else r.prefill
    return InferenceResult(
        chip=chip.id,
        model=spec.id,
        num_chips=num_chips,
        precision_requested=precision,
        precision_used=cp.mode.name,
        precision_note=cp.precision_note,
        parallelism=ch.layout.as_dict(),
        parallelism_chosen=chosen,
        batch=b,
        batch_auto=auto,
        max_batch_fit=max_b,
        input_len=input_len,
        output_len=output_len,
        ttft_s=ttft,
        ttft_loaded_s=float(
            eff.ttft_fixed_s
            + (ttft if dep.disaggregated else float(r.prefill_one.time_s))
            + (0.0 if dep.disaggregated else eff.ttft_queue_share * float(r.prefill_batch_s))
        ),
        tpot_s=float(r.tpot_s),
        decode_step_s=float(r.decode_step_s),
        prefill_batch_s=float(pf.time_s),
        output_tokens_per_s=total_tps,
        output_tokens_per_s_per_chip=per_chip,
        prefill_tokens_per_s=pf_tps,
        memory_per_chip_gb=mem,
        fits=bool(r.fits),
        meets_limits=True,
        bound={"prefill": str(pf.bound), "decode": dec_bound},  # type: ignore[dict-item]
        phases={"prefill": _phase(pf), "decode": _phase(r.decode)},
        tokens_per_joule=tokens_per_joule(per_chip * num_chips, num_chips, _pkg(cp.tdp_w, cp), a),
        usd_per_million_tokens=usd_per_million_tokens(
            per_chip * num_chips, num_chips, _pkg(cp.price_usd, cp), _pkg(cp.tdp_w, cp), a
        ),
        calibration=eff.as_dict(),
        assumptions={
            "cost": a.model_dump(),
            "serving": s.model_dump(),
            "chip_tdp_w": _pkg(cp.tdp_w, cp),
            "chip_price_usd": _pkg(cp.price_usd, cp),
            "batch": "sequences in flight over the pool (all data-parallel ranks and replicas)",
            "metrics": (
                "disaggregated pool: tpot and decode tokens/s exclude prefill, which runs on a "
                "prefill pool of the same chip and layout in passes of "
                f"{dep.prefill_tokens_per_chip} tokens per chip; ttft = prefill pool pass(es) "
                "+ half a pass of waiting + KV transfer over the scale-out network; "
                if dep.disaggregated
                else "aggregated: tpot includes interleaved prefill (continuous batching); "
                "ttft_s excludes queueing behind other prompts; "
            )
            + "ttft_loaded_s adds the calibrated request handling time (and, aggregated, the "
            "queueing share) as benchmarks measure TTFT; dense peaks only",
            "expert_imbalance": "busiest EP rank = mean x skew + sqrt(2 mean ln ep) (random "
            "routing, balls into bins); redundant copies shrink the skew's excess by E/(E+R)",
            "kv_precision": dep.kv_precision,
            "memory_reserve": "reserved_fraction of the memory left after the weights "
            "(TensorRT-LLM's plan, --engine trtllm)"
            if dep.reserve_of_free
            else "reserved_fraction of the chip's memory (vLLM's and SGLang's plan)",
        },
        notes=notes,
        spec_tokens=dep.spec_tokens,
        accepted_per_step=dep.accepted_per_step,
        disaggregated=dep.disaggregated,
        phase=dep.phase,
        spec_step_s=float(r.spec_step_s),
        kv_precision=dep.kv_precision,
        overlap=bool(lay.overlap),
        ranks_per_chip=cp.ranks_per_package,
        batch_capped=ch.capped,
        moe=_moe_result(spec, shape, prec, lay, r, b_rank, input_len, dep),
        prefill_pool=pool,
    )


def _pkg(x: float | None, cp: ChipPerf) -> float | None:
    """A per-rank cost figure back to the package (rank_per_die splits the package)."""
    return None if x is None else x * cp.ranks_per_package


def flat_row(r: InferenceResult) -> dict[str, Any]:
    """One flat row of the headline numbers (for tables and frames)."""
    m = r.memory_per_chip_gb
    return {
        "chip": r.chip,
        "model": r.model,
        "num_chips": r.num_chips,
        "precision_used": r.precision_used,
        "precision_note": r.precision_note,
        "tp": r.parallelism["tp"],
        "pp": r.parallelism["pp"],
        "dp": r.parallelism["dp"],
        "ep": r.parallelism["ep"],
        "replicas": r.parallelism.get("replicas", 1),
        "batch": r.batch,
        "max_batch_fit": r.max_batch_fit,
        "ttft_ms": r.ttft_s * 1e3,
        "tpot_ms": r.tpot_s * 1e3,
        "decode_step_ms": r.decode_step_s * 1e3,
        "spec_tokens": r.spec_tokens,
        "accepted_per_step": r.accepted_per_step,
        "disaggregated": r.disaggregated,
        "phase": r.phase,
        "kv_precision": r.kv_precision,
        "overlap": r.overlap,
        "decode_overlap_hides": r.phases["decode"].overlap_hides,
        "expert_slots_per_rank": r.moe.expert_slots_per_rank if r.moe else None,
        "decode_tokens_per_rank": r.moe.decode_tokens_per_rank if r.moe else None,
        "decode_a2a_scaleup_mb_per_layer": (
            r.moe.decode_a2a_scaleup_bytes_per_layer / 1e6 if r.moe else None
        ),
        "decode_a2a_scaleout_mb_per_layer": (
            r.moe.decode_a2a_scaleout_bytes_per_layer / 1e6 if r.moe else None
        ),
        "output_tokens_per_s": r.output_tokens_per_s,
        "output_tokens_per_s_per_chip": r.output_tokens_per_s_per_chip,
        "prefill_tokens_per_s": r.prefill_tokens_per_s,
        "prefill_bound": r.bound["prefill"],
        "decode_bound": r.bound["decode"],
        "prefill_compute_ms": r.phases["prefill"].compute_s * 1e3,
        "prefill_memory_ms": r.phases["prefill"].memory_s * 1e3,
        "prefill_interconnect_ms": r.phases["prefill"].interconnect_s * 1e3,
        "decode_compute_ms": r.phases["decode"].compute_s * 1e3,
        "decode_memory_ms": r.phases["decode"].memory_s * 1e3,
        "decode_interconnect_ms": r.phases["decode"].interconnect_s * 1e3,
        "mem_weights_gb": m.weights_gb,
        "mem_kv_gb": m.kv_cache_gb,
        "mem_total_gb": m.total_gb,
        "mem_capacity_gb": m.capacity_gb,
        "tokens_per_joule": r.tokens_per_joule,
        "usd_per_million_tokens": r.usd_per_million_tokens,
        "calibration": r.calibration["source"],
        "notes": "; ".join(n for n in r.notes if n != r.precision_note) or None,
        "error": None,
    }


def compare(
    chips: list[Accelerator],
    model: str | ModelSpec,
    *,
    ws: Workspace | None = None,
    **workload: Any,
) -> Any:
    """``infer`` on each chip with the same workload: a DataFrame, one row per chip.

    A chip that cannot serve the request gets a row with the reason in ``error``.
    """
    import pandas as pd

    rows = []
    for c in chips:
        try:
            rows.append(flat_row(infer(c, model, ws=ws, **workload)))
        except PerfInputError as e:
            rows.append({"chip": c.id, "model": str(getattr(model, "id", model)), "error": str(e)})
    return pd.DataFrame(rows)
