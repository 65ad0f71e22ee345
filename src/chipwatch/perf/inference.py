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

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from chipwatch.catalog.schema import Accelerator
from chipwatch.perf import workload as wl
from chipwatch.perf.cost import CostAssumptions, tokens_per_joule, usd_per_million_tokens
from chipwatch.perf.factors import factors_for
from chipwatch.perf.hardware import ROOFLINE, ChipPerf, Efficiency, PerfInputError, chip_perf
from chipwatch.perf.models import ModelSpec
from chipwatch.perf.parallelism import Parallelism, candidates, check
from chipwatch.workspace import Workspace, resolve

Bound = Literal["compute", "memory", "interconnect", "capacity"]
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

    @classmethod
    def of(cls, cp: ChipPerf, eff: Efficiency) -> Hw:
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
        )


def pass_time(work: wl.PhaseWork, hw: Hw, pp: Any) -> dict[str, Any]:
    """Time of one pass through all stages, and the time each resource was the limit."""
    c = hw.peak_flops * hw.eta_c
    m = hw.mem_bw_bs * hw.eta_m
    lin_c, lin_m = work.linear_flops / c, work.weight_bytes / m
    att_c, att_m = work.attn_flops / c, work.attn_bytes / m
    t_link = (
        work.comm_bytes / hw.link_bw_bs + work.comm_out_bytes / hw.scaleout_bw_bs
    ) / hw.eta_l + work.collectives * hw.link_latency_s
    t_compute = np.where(lin_c >= lin_m, lin_c, 0.0) + np.where(att_c >= att_m, att_c, 0.0)
    t_memory = np.where(lin_c >= lin_m, 0.0, lin_m) + np.where(att_c >= att_m, 0.0, att_m)
    stage = t_compute + t_memory + t_link
    code = np.argmax(np.stack(np.broadcast_arrays(t_compute, t_memory, t_link)), axis=0)
    return {
        "time_s": pp * stage + hw.overhead_s,
        "compute_s": pp * t_compute,
        "memory_s": pp * t_memory,
        "link_s": pp * t_link,
        "bound": RESOURCES[code],
        "bound_code": code,
    }


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
) -> dict[str, Any]:
    """The serving model for any broadcastable mix of scalars and arrays.

    ``batch`` is the total number of sequences in flight over all ``replicas x dp`` ranks
    (``lay.replicas`` independent copies of the ``tp x pp x dp`` group, each with its share).
    Speculative decoding / multi-token prediction (Leviathan et al. 2023; DeepSeek-V3 MTP):
    each decode step verifies ``spec_tokens`` draft tokens plus one (``k + 1`` tokens per
    sequence through the model) and emits ``accepted_per_step`` tokens on average (1 to k + 1).
    Drafting costs one extra layer per draft token (a one-layer MTP module / EAGLE head).
    ``spec_tokens = 0`` is plain decoding. ``disaggregated``: the chips form a decode instance
    of prefill/decode-disaggregated serving (Zhong et al. 2024, DistServe): prompts are
    prefilled elsewhere, so TPOT and tokens/s are the decode steps' alone (per decode chip).
    """
    s = serving or ServingAssumptions()
    ranks = lay.dp * lay.replicas
    b = batch / ranks  # per data-parallel rank of one replica
    ctx = input_len + output_len / 2.0
    k = np.asarray(spec_tokens, dtype=float)
    acc = np.where(k > 0, accepted_per_step, 1.0)
    dec = pass_time(wl.decode_work(shape, prec, lay, b, ctx, 1.0 + k), hw, lay.pp)
    pf = pass_time(wl.prefill_work(shape, prec, lay, b, input_len), hw, lay.pp)
    pf1 = pass_time(wl.prefill_work(shape, prec, lay, 1.0, input_len), hw, lay.pp)
    t_step = dec["time_s"]
    if np.any(k > 0):
        one = pass_time(wl.decode_work(shape, prec, lay, b, ctx), hw, lay.pp)["time_s"]
        t_step = t_step + k * (one - hw.overhead_s) / shape.layers  # draft: one layer per token
    t_dec, t_pf = t_step / acc, pf["time_s"]  # time per emitted token of a sequence
    t_pf_here = np.where(disaggregated, 0.0, t_pf)  # prefill interleaved on these chips
    cycle = output_len * t_dec + t_pf_here
    out_tps = ranks * b * output_len / cycle
    weights = wl.weights_per_chip_bytes(shape, prec, lay)
    kv_seq = wl.kv_per_seq_per_chip_bytes(shape, prec, lay, input_len + output_len)
    chunk = np.minimum(b * input_len, s.prefill_chunk_tokens)
    act = wl.activation_peak_bytes(shape, prec, lay, chunk)
    reserved = s.reserved_fraction * hw.capacity_b
    kv = b * kv_seq
    total = weights + kv + act + reserved
    free_for_kv = (
        hw.capacity_b
        - reserved
        - weights
        - wl.activation_peak_bytes(shape, prec, lay, s.prefill_chunk_tokens)
    )
    max_batch = np.floor(np.maximum(free_for_kv, 0) / kv_seq) * ranks
    return {
        "decode_step_s": t_dec,
        "spec_step_s": t_step,
        "tpot_s": t_dec + t_pf_here / output_len,
        "ttft_s": pf1["time_s"] + t_dec / 2,
        "prefill_batch_s": t_pf,
        "output_tokens_per_s": out_tps,
        "prefill_tokens_per_s": ranks * b * input_len / t_pf,
        "decode": dec,
        "prefill": pf,
        "prefill_one": pf1,
        "mem_weights_b": weights,
        "mem_kv_b": kv,
        "mem_act_b": act,
        "mem_reserved_b": reserved,
        "mem_total_b": total,
        "fits": total <= hw.capacity_b,
        "max_batch": max_batch,
    }


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


def _phase(p: dict[str, Any]) -> PhaseResult:
    return PhaseResult(
        time_s=float(p["time_s"]),
        bound=str(p["bound"]),  # type: ignore[arg-type]
        compute_s=float(p["compute_s"]),
        memory_s=float(p["memory_s"]),
        interconnect_s=float(p["link_s"]),
    )


def _layout(par: Parallelism, cp: ChipPerf) -> wl.Layout:
    stage = par.tp * par.dp
    cross = float(cp.domain_chips is not None and stage > cp.domain_chips)
    return wl.Layout(
        float(par.tp), float(par.pp), float(par.dp), float(par.ep), cross, float(par.replicas)
    )


def _batch_grid(max_batch: int) -> np.ndarray:
    """Candidate batches: powers of two, their midpoints and the largest that fits."""
    pts = {1, max_batch}
    x = 1
    while x < max_batch:
        pts.update({x, int(x * 1.5)})
        x *= 2
    return np.array(sorted(p for p in pts if 1 <= p <= max_batch), dtype=float)


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
    *,
    ws: Workspace | None = None,
) -> InferenceResult:
    """Serve ``model`` on ``num_chips`` x ``chip``; see the module docstring for the model.

    Parallel degrees left out are chosen to maximise output tokens/s (subject to fit and the
    latency limits) and reported; ``num_chips = replicas x tp x pp x dp`` where ``replicas``
    are independent copies of the model (no traffic between them) and ``dp`` ranks share the
    routed experts of a MoE model. ``batch="auto"`` picks the throughput-maximising batch that fits
    and meets ``max_tpot_ms`` / ``max_ttft_ms``. Speculative decoding / MTP: ``spec_tokens`` draft
    tokens verified per step, ``accepted_per_step`` tokens emitted per step on average (1 to
    ``spec_tokens + 1``; SGLang logs it as "accept len"). ``disaggregated=True``: the chips are
    the decode instance of prefill/decode-disaggregated serving (TPOT and tokens/s without
    interleaved prefill; the prefill chips are extra). Raises :class:`PerfInputError` for
    requests the model cannot serve.
    """
    ws = resolve(ws)
    spec = ws.models.resolve(model)
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
    if accepted_per_step is None:
        accepted_per_step = 1.0
    if spec_tokens == 0 and accepted_per_step != 1.0:
        raise PerfInputError("accepted tokens per step > 1 needs spec_tokens >= 1")
    if not 1.0 <= accepted_per_step <= spec_tokens + 1:
        raise PerfInputError(
            f"accepted tokens per step must be between 1 and spec_tokens + 1 = "
            f"{spec_tokens + 1}, got {accepted_per_step:g}"
        )
    sp = {
        "spec_tokens": float(spec_tokens),
        "accepted_per_step": float(accepted_per_step),
        "disaggregated": bool(disaggregated),
    }
    auto = isinstance(batch, str)
    if auto and str(batch).lower() != "auto":
        raise PerfInputError(f"batch must be a positive integer or 'auto', got {batch!r}")
    if not auto and int(batch) < 1:
        raise PerfInputError(f"batch must be >= 1, got {batch}")
    a = assumptions or CostAssumptions()
    s = serving or ServingAssumptions()
    cp = chip_perf(chip, precision)
    eff = efficiency or (factors_for(chip, ws.factors) if calibration else ROOFLINE)
    shape = wl.ModelShape.of(spec)
    prec = wl.Precisions(cp.mode.weight_bytes, cp.mode.kv_bytes, cp.mode.act_bytes)
    hw = Hw.of(cp, eff)

    if replicas is not None and (replicas < 1 or num_chips % replicas):
        raise PerfInputError(
            f"replicas must be a positive divisor of num_chips = {num_chips}, got {replicas}"
        )
    given = {"tp": tp, "pp": pp, "dp": dp, "ep": ep}
    if all(v is not None for k, v in given.items() if k != "ep" or spec.moe) and tp and pp and dp:
        group = tp * pp * dp
        n_rep = replicas if replicas is not None else max(num_chips // group, 1)
        par = Parallelism(tp, pp, dp, ep or 1, n_rep)
        check(spec, par, num_chips, cp.domain_chips)
        layouts = [par]
    else:
        layouts = candidates(spec, num_chips, cp.domain_chips, tp, pp, dp, ep, replicas)
        if not layouts:
            # explain with the first failing check
            n_rep = replicas or 1
            check(
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
            )
            raise PerfInputError(f"no valid parallel layout of {spec.id} on {num_chips} chips")

    best: tuple[float, Parallelism, int, dict[str, Any]] | None = None
    fit_any = False
    for par in layouts:
        lay = _layout(par, cp)
        ranks = par.dp * par.replicas  # one sequence per rank at least
        probe = evaluate(
            shape, prec, lay, hw, float(ranks), float(input_len), float(output_len), s, **sp
        )
        max_b = int(probe["max_batch"])
        if max_b < ranks:
            continue
        fit_any = True
        if auto:
            grid = _batch_grid(max_b)
            grid = grid[grid >= ranks]
        else:
            grid = np.array([float(batch)])
        r = evaluate(shape, prec, lay, hw, grid, float(input_len), float(output_len), s, **sp)
        ok = np.asarray(r["fits"]).copy()
        if max_tpot_ms is not None:
            ok &= r["tpot_s"] * 1e3 <= max_tpot_ms
        if max_ttft_ms is not None:
            ok &= r["ttft_s"] * 1e3 <= max_ttft_ms
        if not ok.any():
            continue
        tps = np.where(ok, r["output_tokens_per_s"], -1.0)
        i = int(np.argmax(tps))
        if best is None or tps[i] > best[0] * (1 + 1e-9):
            best = (float(tps[i]), par, int(grid[i]), {"max_batch": max_b})
    if best is None:
        if not fit_any:
            raise PerfInputError(
                f"{spec.id} at {cp.mode.name} does not fit on {num_chips} x {chip.id} "
                f"({chip.memory.capacity_gb.value:g} GB each) with input {input_len} + output "
                f"{output_len} tokens: use more chips or a lower precision"
            )
        what = []
        if max_tpot_ms is not None:
            what.append(f"TPOT <= {max_tpot_ms:g} ms")
        if max_ttft_ms is not None:
            what.append(f"TTFT <= {max_ttft_ms:g} ms")
        if not auto and not what:
            raise PerfInputError(
                f"batch {batch} of {spec.id} does not fit in the memory of {num_chips} x "
                f"{chip.id}; the largest batch that fits is smaller (try --batch auto)"
            )
        raise PerfInputError(
            f"no batch of {spec.id} on {num_chips} x {chip.id} meets "
            f"{' and '.join(what) or 'the memory limit'} at batch {batch}"
        )
    _, par, b, extra = best
    lay = _layout(par, cp)
    r = evaluate(shape, prec, lay, hw, float(b), float(input_len), float(output_len), s, **sp)
    max_b = extra["max_batch"]
    dec_bound = str(r["decode"]["bound"])
    if auto and b >= max_b:
        dec_bound = "capacity"  # the best batch is the largest that fits: HBM capacity decides
    total_tps = float(r["output_tokens_per_s"])
    notes = list(cp.notes)
    if eff.source.startswith("default"):
        notes.append(f"no measurements for {chip.id} or its family: {eff.source}")
    mem = MemoryPerChip(
        weights_gb=float(r["mem_weights_b"]) / 1e9,
        kv_cache_gb=float(r["mem_kv_b"]) / 1e9,
        activations_gb=float(r["mem_act_b"]) / 1e9,
        reserved_gb=float(r["mem_reserved_b"]) / 1e9,
        total_gb=float(r["mem_total_b"]) / 1e9,
        capacity_gb=cp.capacity_b / 1e9,
    )
    return InferenceResult(
        chip=chip.id,
        model=spec.id,
        num_chips=num_chips,
        precision_requested=precision,
        precision_used=cp.mode.name,
        precision_note=cp.notes[0] if cp.notes and "instead of" in cp.notes[0] else None,
        parallelism=par.as_dict(),
        parallelism_chosen=len(layouts) > 1,
        batch=b,
        batch_auto=auto,
        max_batch_fit=max_b,
        input_len=input_len,
        output_len=output_len,
        ttft_s=float(r["ttft_s"]),
        ttft_loaded_s=float(
            eff.ttft_fixed_s
            + r["prefill_one"]["time_s"]
            + eff.ttft_queue_share * r["prefill_batch_s"]
        ),
        tpot_s=float(r["tpot_s"]),
        decode_step_s=float(r["decode_step_s"]),
        prefill_batch_s=float(r["prefill_batch_s"]),
        output_tokens_per_s=total_tps,
        output_tokens_per_s_per_chip=total_tps / num_chips,
        prefill_tokens_per_s=float(r["prefill_tokens_per_s"]),
        memory_per_chip_gb=mem,
        fits=bool(r["fits"]),
        meets_limits=True,
        bound={"prefill": str(r["prefill"]["bound"]), "decode": dec_bound},  # type: ignore[dict-item]
        phases={"prefill": _phase(r["prefill"]), "decode": _phase(r["decode"])},
        tokens_per_joule=tokens_per_joule(total_tps, num_chips, cp.tdp_w, a),
        usd_per_million_tokens=usd_per_million_tokens(
            total_tps, num_chips, cp.price_usd, cp.tdp_w, a
        ),
        calibration=eff.as_dict(),
        assumptions={
            "cost": a.model_dump(),
            "serving": s.model_dump(),
            "chip_tdp_w": cp.tdp_w,
            "chip_price_usd": cp.price_usd,
            "metrics": (
                "decode instance of disaggregated serving: tpot and tokens/s exclude prefill, "
                "which runs on other chips; "
                if disaggregated
                else ""
            )
            + "tpot includes interleaved prefill (continuous batching, unless disaggregated); "
            "ttft_s excludes "
            "queueing behind other prompts; ttft_loaded_s adds the calibrated request handling "
            "time and queueing share at this concurrency (as benchmarks measure TTFT); dense "
            "peaks only",
        },
        notes=notes,
        spec_tokens=spec_tokens,
        accepted_per_step=float(accepted_per_step),
        disaggregated=bool(disaggregated),
    )


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
