"""LLM pre-training on N chips: step time, tokens/s, MFU, time to train and memory per chip.

Step model (mixed precision, Megatron-style 3D parallelism, 1F1B pipeline schedule):

    FLOPs per token   = 6 N_matmul + 3 x attention forward FLOPs        (Kaplan et al. 2020;
                        + one more forward of what is recomputed         Korthikanti et al. 2022)
    t_compute         = FLOPs per step / (chips x peak x eta_c)
    t_bubble          = t_compute x (pp - 1) / micro-batches             (Narayanan et al. 2021)
    t_tp              = 4 all-reduces per layer per micro-batch (2 forward, 2 backward)
    t_ep              = 4 all-to-alls per MoE layer per micro-batch
    t_dp              = gradient reduce-scatter + all-gather, overlapped with the backward pass
    step              = max(t_compute + t_bubble + t_tp + t_ep + t_pp, t_dp) + t_0
    MFU               = 6 N_active + attention FLOPs per token x tokens/s / (chips x peak)

Memory per chip: 16 bytes per parameter for BF16 weights + gradients + FP32 master weights and
Adam moments (ZeRO paper, Rajbhandari et al. 2020), sharded over data parallel by the ZeRO stage;
activations per layer from Korthikanti et al. 2022 (sequence parallel): s b h (34 + 5 a s / h) / t
bytes without recomputation, 34 s b h / t with selective recomputation, 2 s b h with full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from chipwatch.catalog.schema import Accelerator
from chipwatch.perf import workload as wl
from chipwatch.perf.cost import SECONDS_PER_YEAR, CostAssumptions
from chipwatch.perf.factors import factors_for
from chipwatch.perf.hardware import ROOFLINE, Efficiency, PerfInputError, chip_perf
from chipwatch.perf.models import ModelSpec
from chipwatch.perf.parallelism import divisors
from chipwatch.workspace import Workspace, resolve

Recompute = Literal["none", "selective", "full"]
RECOMPUTE_OPTIONS: tuple[Recompute, ...] = ("none", "selective", "full")
DEFAULT_GLOBAL_BATCH_TOKENS = 4 * 1024 * 1024  # Llama 2 paper: "global batch-size of 4M tokens"
RESERVED_FRACTION = 0.1  # runtime, collectives buffers and fragmentation, as for inference


class TrainMemory(BaseModel):
    weights_gb: float
    gradients_gb: float
    optimizer_gb: float
    activations_gb: float
    total_gb: float
    capacity_gb: float


class TrainingResult(BaseModel):
    chip: str
    model: str
    num_chips: int
    precision_used: str
    precision_note: str | None
    parallelism: dict[str, int]
    parallelism_chosen: bool
    zero_stage: int
    recompute: Recompute
    seq_len: int
    global_batch_tokens: int
    micro_batch: int
    micro_batches_per_step: int
    step_time_s: float
    time_breakdown_s: dict[str, float]
    bound: str
    tokens_per_s: float
    tokens_per_s_per_chip: float
    mfu: float
    tokens: float
    days: float
    memory_per_chip_gb: TrainMemory
    fits: bool
    energy_mwh: float | None
    usd_total: float | None
    calibration: dict[str, Any]
    assumptions: dict[str, Any]
    notes: list[str]


def _flops_per_token(spec: ModelSpec, seq_len: int) -> tuple[float, float, float]:
    """(matmul forward FLOPs, attention forward FLOPs) per token, and active matmul params."""
    c = spec.counts()
    active_matmul = c.dense_linear + c.lm_head_matmul + c.active_routed
    attn_fwd = spec.attn_flops_per_ctx(absorbed=False) * spec.layers * (seq_len + 1) / 2
    return 2.0 * active_matmul, float(attn_fwd), float(active_matmul)


@dataclass(frozen=True)
class StepEval:
    """One training step of one layout: time, its parts, memory per chip, fit and MFU."""

    dp: Any
    m: Any  # micro-batches per step
    tokens_step: Any
    step: Any
    parts: dict[str, Any]
    bound: Any
    mem: tuple[Any, Any, Any, Any, Any]  # weights, gradients, optimizer, activations, total
    fits: bool
    mfu: Any


def _evaluate(
    spec: ModelSpec,
    cp: Any,
    eff: Efficiency,
    n: int,
    tp: int,
    pp: int,
    ep: int,
    zero: int,
    recompute: Recompute,
    seq_len: int,
    gbt: int,
    mb: int,
) -> StepEval:
    dp = n // (tp * pp)
    seqs = max(gbt // seq_len, 1)
    m = max(seqs // (dp * mb), 1)  # micro-batches per pipeline per step
    tokens_step = m * mb * dp * seq_len
    mm_fwd, attn_fwd, _ = _flops_per_token(spec, seq_len)
    extra = {"none": 0.0, "selective": attn_fwd, "full": mm_fwd + attn_fwd}[recompute]
    flops_tok = 3 * (mm_fwd + attn_fwd) + extra
    peak = cp.peak_flops
    t_compute = flops_tok * tokens_step / (n * peak * eff.compute)
    t_bubble = t_compute * (pp - 1) / m
    h = spec.hidden
    act_bytes = 2.0
    shape = wl.ModelShape.of(spec)
    mb_tokens = mb * seq_len
    link = cp.link_bw_bs * eff.link
    out_link = cp.scaleout_bw_bs * eff.link
    layers_stage = spec.layers / pp
    tp_calls = 4 * layers_stage * m if tp > 1 else 0.0
    t_tp = tp_calls * (2 * (tp - 1) / tp * mb_tokens * h * act_bytes / link + eff.link_latency_s)
    ep_calls = 4 * (spec.moe_layers / pp) * m if (spec.moe and ep > 1) else 0.0
    k = spec.moe.active if spec.moe else 0
    ep_link = link if (cp.domain_chips and tp * ep <= cp.domain_chips) else out_link
    t_ep = ep_calls * (
        (ep - 1) / ep * mb_tokens * k * h * act_bytes / tp / ep_link + eff.link_latency_s
    )
    t_pp = (2 * m * mb_tokens * h * act_bytes / out_link) if pp > 1 else 0.0
    c = spec.counts()
    expert_params = c.routed_experts
    dense_params = c.total - expert_params
    params_chip = dense_params / (tp * pp) + expert_params / (tp * pp * ep)
    # gradients: reduce-scatter + all-gather = 2 (dp-1)/dp x BF16 gradient bytes per chip
    dp_link = link if (cp.domain_chips and n <= cp.domain_chips) else out_link
    t_dp = 2 * (dp - 1) / dp * params_chip * 2.0 / dp_link if dp > 1 else 0.0
    path = t_compute + t_bubble + t_tp + t_ep + t_pp
    step = max(path, t_dp) + eff.overhead_s
    parts = {
        "compute": t_compute,
        "pipeline_bubble": t_bubble,
        "tensor_parallel": t_tp,
        "expert_parallel": t_ep,
        "pipeline_p2p": t_pp,
        "data_parallel_exposed": max(t_dp - path, 0.0),
        "overhead": eff.overhead_s,
    }
    bound = max(
        ("compute", t_compute),
        ("pipeline bubble", t_bubble),
        ("interconnect", t_tp + t_ep + t_pp + max(t_dp - path, 0.0)),
        key=lambda kv: kv[1],
    )[0]
    # memory
    w = 2.0 * params_chip
    g = 2.0 * params_chip
    opt = 12.0 * params_chip
    if zero >= 1:
        opt /= dp
    if zero >= 2:
        g /= dp
    if zero >= 3:
        w /= dp
    a_heads = spec.heads
    s, b = seq_len, mb
    if recompute == "none":
        per_layer = s * b * h * (34 + 5 * a_heads * s / h) / tp
    elif recompute == "selective":
        per_layer = 34 * s * b * h / tp
    else:
        per_layer = 2 * s * b * h
    if spec.moe:  # routed tokens' expert activations scale with k x expert width / hidden
        per_layer *= max(
            1.0, (spec.moe.active + spec.moe.shared) * spec.moe.expert_ffn / max(spec.ffn, 1)
        )
    acts = per_layer * spec.layers / pp * min(pp, m)  # 1F1B: stage 1 holds pp micro-batches
    acts += float(np.asarray(shape.vocab)) * mb_tokens * 4.0 / tp  # fp32 logits
    total = w + g + opt + acts
    mfu_flops = 3 * (mm_fwd + attn_fwd)
    return StepEval(
        dp=dp,
        m=m,
        tokens_step=tokens_step,
        step=step,
        parts=parts,
        bound=bound,
        mem=(w, g, opt, acts, total),
        fits=bool(total <= cp.capacity_b * (1 - RESERVED_FRACTION)),
        mfu=mfu_flops * tokens_step / step / (n * peak),
    )


def _check_training_request(
    spec: ModelSpec,
    num_chips: int,
    tokens: float,
    seq_len: int,
    zero_stage: int,
    recompute: Recompute | None,
) -> None:
    if num_chips < 1 or tokens <= 0:
        raise PerfInputError("num_chips must be >= 1 and tokens > 0")
    if seq_len > spec.max_context:
        raise PerfInputError(
            f"seq_len {seq_len} exceeds the {spec.max_context}-token context of {spec.id}"
        )
    if zero_stage not in (0, 1, 2, 3):
        raise PerfInputError(f"zero_stage must be 0, 1, 2 or 3, got {zero_stage}")
    if recompute is not None and recompute not in RECOMPUTE_OPTIONS:
        raise PerfInputError(f"recompute must be one of {', '.join(RECOMPUTE_OPTIONS)}")


def _training_layouts(
    spec: ModelSpec,
    num_chips: int,
    domain: int,
    tp: int | None,
    pp: int | None,
    ep: int | None,
    recompute: Recompute | None,
) -> list[tuple[int, int, int, Recompute]]:
    """Every (tp, pp, ep, recompute) that agrees with the degrees given (Megatron-style 3D
    parallelism: tp divides the heads within one scale-up domain, pp <= layers, ep | dp)."""
    tps = [t for t in divisors(num_chips) if spec.heads % t == 0 and t <= domain]
    if tp is not None:
        if num_chips % tp or spec.heads % tp:
            raise PerfInputError(
                f"tensor parallel {tp} must divide num_chips ({num_chips}) and "
                f"the {spec.heads} attention heads of {spec.id}"
            )
        tps = [tp]
    out: list[tuple[int, int, int, Recompute]] = []
    for t in tps:
        pps = [p for p in divisors(num_chips // t) if p <= spec.layers]
        if pp is not None:
            if (num_chips // t) % pp:
                raise PerfInputError(f"tp x pp = {t} x {pp} does not divide {num_chips} chips")
            pps = [pp]
        for p in pps:
            dp_ = num_chips // (t * p)
            eps = [1]
            if spec.moe:
                eps = [e for e in divisors(dp_) if spec.moe.experts % e == 0]
            if ep is not None:
                if spec.moe is None and ep != 1:
                    raise PerfInputError(f"{spec.id} is dense: expert parallel must be 1")
                eps = [ep] if ep in eps or ep == 1 else []
                if not eps:
                    raise PerfInputError(
                        f"expert parallel {ep} must divide dp ({dp_}) and the experts of {spec.id}"
                    )
            for e in eps:
                for rc in [recompute] if recompute else list(RECOMPUTE_OPTIONS):
                    out.append((t, p, e, rc))
    return out


def _training_cost(
    chip: Accelerator, a: CostAssumptions, num_chips: int, days: float
) -> tuple[float | None, float | None]:
    """(energy MWh at the chips' share of TDP x PUE, total USD = amortised capex + energy)."""
    power = chip.tdp_w.value * a.power_fraction_of_tdp if chip.tdp_w else None
    energy = power * a.pue * num_chips * days * 86400 / 3.6e9 if power else None
    price = chip.price_usd.value if chip.price_usd else None
    if price is None or energy is None:
        return energy, None
    capex = (
        price * a.capex_multiplier * num_chips * days * 86400 / (a.life_years * SECONDS_PER_YEAR)
    )
    return energy, capex + energy * 1000 * a.usd_per_kwh


def train(
    chip: Accelerator,
    model: str | ModelSpec,
    num_chips: int,
    tokens: float,
    seq_len: int = 4096,
    global_batch_tokens: int = DEFAULT_GLOBAL_BATCH_TOKENS,
    precision: str = "bf16",
    tp: int | None = None,
    pp: int | None = None,
    ep: int | None = None,
    zero_stage: int = 1,
    recompute: Recompute | None = None,
    micro_batch: int = 1,
    calibration: bool = True,
    assumptions: CostAssumptions | None = None,
    efficiency: Efficiency | None = None,
    *,
    ws: Workspace | None = None,
) -> TrainingResult:
    """Time and memory to train ``model`` on ``tokens`` tokens over ``num_chips`` x ``chip``.

    Left-out TP / PP / EP and recomputation are chosen for the shortest step that fits.
    """
    ws = resolve(ws)
    spec = ws.models.resolve(model)
    _check_training_request(spec, num_chips, tokens, seq_len, zero_stage, recompute)
    a = assumptions or CostAssumptions()
    cp = chip_perf(chip, precision)
    eff = efficiency or (factors_for(chip, ws.factors) if calibration else ROOFLINE)
    layouts = _training_layouts(
        spec, num_chips, cp.domain_chips or num_chips, tp, pp, ep, recompute
    )
    best: tuple[float, StepEval, tuple[int, int, int, Recompute]] | None = None
    for t, p, e, rc in layouts:
        r = _evaluate(
            spec,
            cp,
            eff,
            num_chips,
            t,
            p,
            e,
            zero_stage,
            rc,
            seq_len,
            global_batch_tokens,
            micro_batch,
        )
        if not r.fits:
            continue
        speed = r.tokens_step / r.step
        if best is None or speed > best[0] * (1 + 1e-9):
            best = (speed, r, (t, p, e, rc))
    if best is None:
        raise PerfInputError(
            f"{spec.id} training does not fit on {num_chips} x {chip.id} "
            f"({chip.memory.capacity_gb.value:g} GB each) with ZeRO stage {zero_stage}: use more "
            "chips, a higher ZeRO stage or recomputation"
        )
    speed, r, (t, p, e, rc) = best
    w, g, opt, acts, total = r.mem
    days = tokens / speed / 86400
    energy, usd = _training_cost(chip, a, num_chips, days)
    notes = list(cp.notes)
    if eff.is_default:
        notes.append(f"no measurements for {chip.id} or its family: {eff.source}")
    notes.append(
        "compute efficiency is the one fitted on inference measurements; no training "
        "measurement with known token counts was available to fit on"
    )
    return TrainingResult(
        chip=chip.id,
        model=spec.id,
        num_chips=num_chips,
        precision_used=cp.mode.name,
        precision_note=cp.precision_note,
        parallelism={"tp": t, "pp": p, "dp": int(r.dp), "ep": e},
        parallelism_chosen=len(layouts) > 1,
        zero_stage=zero_stage,
        recompute=rc,
        seq_len=seq_len,
        global_batch_tokens=int(r.tokens_step),
        micro_batch=micro_batch,
        micro_batches_per_step=int(r.m),
        step_time_s=float(r.step),
        time_breakdown_s={k: float(v) for k, v in r.parts.items()},
        bound=r.bound,
        tokens_per_s=float(speed),
        tokens_per_s_per_chip=float(speed / num_chips),
        mfu=float(r.mfu),
        tokens=float(tokens),
        days=float(days),
        memory_per_chip_gb=TrainMemory(
            weights_gb=w / 1e9,
            gradients_gb=g / 1e9,
            optimizer_gb=opt / 1e9,
            activations_gb=acts / 1e9,
            total_gb=total / 1e9,
            capacity_gb=cp.capacity_b / 1e9,
        ),
        fits=True,
        energy_mwh=energy,
        usd_total=usd,
        calibration=eff.as_dict(),
        assumptions={
            "cost": a.model_dump(),
            "bytes_per_param_state": "2 weights + 2 gradients + 12 optimizer (fp32 master, "
            "Adam m and v)",
            "reserved_fraction": RESERVED_FRACTION,
            "schedule": "1F1B pipeline; data-parallel gradient traffic overlapped with backward",
        },
        notes=notes,
    )
