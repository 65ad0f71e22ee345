"""What a chip offers the performance model: peaks for the precision used, bandwidths, capacity.

Every peak is the chip's *dense* figure from the catalog (``compute.dense``); sparse peaks are
never used. A precision the chip lacks falls back to the next one it has (e.g. FP8 -> INT8 on
Ascend 910B), and the fallback is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from chipwatch.catalog.schema import Accelerator


class PerfInputError(ValueError):
    """A request the model cannot evaluate (does not fit, bad parallelism, unknown precision)."""


@dataclass(frozen=True)
class PrecisionMode:
    """How a precision name maps to compute format and storage widths."""

    name: str
    compute: str  # catalog precision whose dense peak the matmuls run at
    weight_bytes: float
    kv_bytes: float
    act_bytes: float = 2.0  # activations and collectives stay 16-bit
    note: str = ""


# Weight/KV widths per mode. int4 is weight-only (W4A16, e.g. AWQ): matmuls run at 16-bit.
MODES: dict[str, PrecisionMode] = {
    "bf16": PrecisionMode("bf16", "bf16", 2, 2),
    "fp16": PrecisionMode("fp16", "fp16", 2, 2),
    "fp8": PrecisionMode("fp8", "fp8", 1, 1, note="W8A8 FP8"),
    "int8": PrecisionMode("int8", "int8", 1, 1, note="W8A8 INT8"),
    "fp4": PrecisionMode("fp4", "fp4", 0.5, 1, note="W4A4 FP4 (e.g. NVFP4)"),
    "int4": PrecisionMode("int4", "bf16", 0.5, 2, note="weight-only INT4 (W4A16)"),
}

# Next formats to try when a chip lacks the requested one (closest width first).
FALLBACK: dict[str, list[str]] = {
    "fp4": ["fp4", "fp8", "int8", "bf16", "fp16"],
    "fp8": ["fp8", "int8", "bf16", "fp16"],
    "int8": ["int8", "fp8", "bf16", "fp16"],
    "int4": ["int4", "fp16"],
    "bf16": ["bf16", "fp16"],
    "fp16": ["fp16", "bf16"],
}


def resolve_precision(chip: Accelerator, precision: str) -> tuple[PrecisionMode, str | None]:
    """The mode actually used on this chip, and a note when it differs from the request."""
    p = precision.lower().strip()
    if p not in MODES:
        raise PerfInputError(f"unknown precision {precision!r}: use one of {', '.join(MODES)}")
    for cand in FALLBACK[p]:
        mode = MODES[cand]
        if not chip.dense(mode.compute) and mode.compute == "bf16" and chip.dense("fp16"):
            mode = replace(mode, compute="fp16")  # 16-bit matmuls on an FP16-only chip
        if chip.dense(mode.compute):
            if cand == p:
                return mode, None
            return mode, (
                f"{chip.id} has no dense {MODES[p].compute} peak in the catalog; "
                f"used {cand} ({mode.note or 'W16A16'}) instead of {p}"
            )
    raise PerfInputError(f"{chip.id} lists no dense peak usable for {precision}")


KV_BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0}
# Default KV-cache precision: 16-bit, as vLLM (kv_cache_dtype "auto" = model dtype, BF16 for
# the FP8 checkpoints it serves) and SGLang (--kv-cache-dtype auto) ship.
DEFAULT_KV_PRECISION = "bf16"
# FP8 dispatch with one FP32 scale per 128 elements, BF16 combine (DeepSeek-V3 report, arXiv
# 2412.19437, sec. 3.3.2: activations quantized to FP8 before dispatch, combine kept in BF16;
# DeepEP ships the same pair).
FP8_DISPATCH_BYTES = 1.0 + 4.0 / 128


def kv_bytes_of(kv_precision: str) -> float:
    k = kv_precision.lower().strip()
    if k not in KV_BYTES:
        raise PerfInputError(
            f"unknown KV-cache precision {kv_precision!r}: use one of {', '.join(KV_BYTES)}"
        )
    return KV_BYTES[k]


def compute_dies(chip: Accelerator) -> int:
    """Compute dies in the package (processing dies of the catalog's die list; 1 if none)."""
    return sum(d.count for d in chip.dies if d.processing) or 1


@dataclass(frozen=True)
class ChipPerf:
    """The numbers the model uses for one rank, in SI units (FLOP/s, B/s, B, W): a package, or
    one compute die of it with ``rank_per_die``."""

    chip_id: str
    family: str | None
    vendor: str
    peak_flops: float
    mem_bw_bs: float
    link_bw_bs: float  # per direction, per chip
    scaleout_bw_bs: float  # per direction, per chip (network between scale-up domains)
    capacity_b: float
    domain_chips: int | None
    tdp_w: float | None
    price_usd: float | None
    mode: PrecisionMode
    notes: list[str] = field(default_factory=list)
    precision_note: str | None = None  # set when the precision fell back to another format
    ranks_per_package: int = 1  # compute dies run as separate ranks (rank_per_die)

    @property
    def precision_fallback(self) -> bool:
        return self.precision_note is not None


def attention_peak_flops(chip: Accelerator, kv_precision: str, rank_per_die: bool = False) -> float:
    """Dense peak the attention products (scores and values against the KV cache) run at: their
    own precision, not the weights'. Engines run FlashAttention / FlashMLA-style kernels in BF16
    (FP16 where a chip has no BF16), and in FP8 over an FP8 KV cache on chips with FP8 (e.g.
    FlashMLA's FP8 path); an INT8 cache is dequantized to 16 bits."""
    want = "fp8" if kv_precision.lower() == "fp8" else "bf16"
    cp = chip_perf(chip, want, rank_per_die)
    if want == "fp8" and cp.mode.name != "fp8":
        cp = chip_perf(chip, "bf16", rank_per_die)
    return cp.peak_flops


def chip_perf(chip: Accelerator, precision: str, rank_per_die: bool = False) -> ChipPerf:
    """Peaks and bandwidths of ``chip`` for ``precision`` (after any fallback).

    ``rank_per_die``: one rank per compute die (as CloudMatrix384 runs the dual-die Ascend
    910C): peak, memory bandwidth, capacity and links are the package's divided by its compute
    dies, and a scale-up domain holds that many more ranks."""
    mode, fallback = resolve_precision(chip, precision)
    notes = [fallback] if fallback else []
    peak = chip.dense(mode.compute)
    assert peak is not None
    ic = chip.interconnect
    link_bidir = ic.scaleup_bidir_gbs.value if ic.scaleup_bidir_gbs else 0.0
    if not link_bidir:
        link_bidir = ic.host_bidir_gbs.value if ic.host_bidir_gbs else 0.0
        if link_bidir:
            notes.append(
                f"{chip.id}: no scale-up link listed; collectives use the host link "
                f"({link_bidir:g} GB/s bidirectional)"
            )
        else:
            link_bidir = 64.0  # PCIe 4.0 x16, bidirectional
            notes.append(f"{chip.id}: no link bandwidth listed; assumed PCIe 4.0 x16 (64 GB/s)")
    out_bidir = ic.scaleout_bidir_gbs.value if ic.scaleout_bidir_gbs else 0.0
    if not out_bidir:
        out_bidir = 100.0  # one 400 Gb/s NIC per chip, both directions: 2 x 50 GB/s
        notes.append(
            f"{chip.id}: no scale-out bandwidth listed; assumed one 400 Gb/s NIC "
            "per chip (50 GB/s each way) for traffic between scale-up domains"
        )
    n = 1
    if rank_per_die:
        n = compute_dies(chip)
        if n < 2:
            raise PerfInputError(
                f"{chip.id} has one compute die in the catalog: --rank-per-die needs a "
                "multi-die package (e.g. ascend-910c)"
            )
        notes.append(
            f"{chip.id}: one rank per compute die ({n} per package); per-die peak, bandwidth, "
            "memory and links = package / " + str(n)
        )
    domain = ic.scaleup_domain_chips.value if ic.scaleup_domain_chips else None
    return ChipPerf(
        chip_id=chip.id,
        family=chip.family,
        vendor=chip.vendor,
        peak_flops=peak * 1e12 / n,
        mem_bw_bs=chip.memory.bandwidth_tbs.value * 1e12 / n,
        link_bw_bs=link_bidir / 2 * 1e9 / n,
        scaleout_bw_bs=out_bidir / 2 * 1e9 / n,
        capacity_b=chip.memory.capacity_gb.value * 1e9 / n,
        domain_chips=domain * n if domain else None,
        tdp_w=chip.tdp_w.value / n if chip.tdp_w else None,
        price_usd=chip.price_usd.value / n if chip.price_usd else None,
        mode=mode,
        notes=notes,
        precision_note=fallback,
        ranks_per_package=n,
    )


@dataclass(frozen=True)
class Efficiency:
    """Achievable fractions of peak and fixed times (fitted in ``perf/calibration/``).

    Phase-resolved: ``compute`` of the dense matmul peak in decode steps, ``compute_prefill`` in
    prefill passes (fitted on TTFT and prefill data); ``memory`` of HBM bandwidth for weight and
    activation traffic, ``attn_memory`` for KV-cache reads; ``link`` of the per-direction
    scale-up bandwidth, ``link_out`` of the scale-out network; ``overhead_s``: fixed time per
    forward pass (kernel launches, scheduling, sampling); ``link_latency_s``: fixed time per
    collective call. ``None`` = same as the decode / weight / scale-up factor.
    ``is_default``: no measurements for this chip or its family (a typed flag, not prose).
    """

    compute: float = 1.0
    memory: float = 1.0
    link: float = 1.0
    overhead_s: float = 0.0
    link_latency_s: float = 0.0
    ttft_queue_share: float = 0.0  # serving stack: share of the in-flight batch's prefill waited
    ttft_fixed_s: float = 0.0  # serving stack: request handling outside the model
    source: str = "roofline (no calibration)"
    compute_prefill: float | None = None
    attn_memory: float | None = None
    link_out: float | None = None
    is_default: bool = False

    @property
    def eta_prefill(self) -> float:
        return self.compute if self.compute_prefill is None else self.compute_prefill

    @property
    def eta_attn(self) -> float:
        return self.memory if self.attn_memory is None else self.attn_memory

    @property
    def eta_out(self) -> float:
        return self.link if self.link_out is None else self.link_out

    def as_dict(self) -> dict[str, float | str | bool]:
        return {
            "compute": self.compute,
            "compute_prefill": self.eta_prefill,
            "memory": self.memory,
            "attn_memory": self.eta_attn,
            "link": self.link,
            "link_out": self.eta_out,
            "overhead_s": self.overhead_s,
            "link_latency_s": self.link_latency_s,
            "ttft_queue_share": self.ttft_queue_share,
            "ttft_fixed_s": self.ttft_fixed_s,
            "source": self.source,
            "is_default": self.is_default,
        }


ROOFLINE = Efficiency()
