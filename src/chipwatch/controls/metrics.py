"""The metrics the US advanced-computing rules test, each as the rule defines it.

Units: TPP is dimensionless (TOPS x bits); performance density is TPP per mm2; bandwidths are
GB/s (1e9 B/s), decimal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chipwatch.catalog.schema import PRECISION_BITS, Accelerator, Die, Precision

# Ties within this relative tolerance count as the same TPP (e.g. FP8 1979 x 8 = FP16 989.5 x 16).
_TIE = 1e-3


def tpp_by_precision(dense_tops: Mapping[Any, float]) -> dict[str, float]:
    """TPP per precision: dense TOPS (= 2 x MacTOPS) x bit length of the operation.

    3A090 Technical Note (88 FR 73458): TPP = 2 x MacTOPS x bit length, aggregated over all
    processing units; datasheet dense TFLOPS/TOPS already count a MAC as 2 operations.
    """
    return {str(Precision(p)): v * PRECISION_BITS[Precision(p)] for p, v in dense_tops.items()}


# TF32 operands carry 19 significant bits in a 32-bit container: its "bit length of the
# operation" is ambiguous, so TF32 does not set TPP; a higher TF32 x 32 reading is reported.
AMBIGUOUS_BITS = {"tf32"}


def tpp_from_dense(dense_tops: Mapping[Any, float]) -> tuple[float | None, str | None]:
    """(TPP, precision): the highest TPP over supported precisions (CSET fn. 2), dense only.

    TF32 is left out (ambiguous bit length) unless it is the only precision given.
    """
    by = tpp_by_precision(dense_tops)
    clear = {p: v for p, v in by.items() if p not in AMBIGUOUS_BITS} or by
    if not clear:
        return None, None
    best = max(clear.values())
    # Among ties prefer 8-bit, then 16-bit: the formats datasheets headline.
    tied = [p for p, v in clear.items() if v >= best * (1 - _TIE)]
    tied.sort(
        key=lambda p: (
            PRECISION_BITS[Precision(p)] != 8,
            PRECISION_BITS[Precision(p)] != 16,
            PRECISION_BITS[Precision(p)],
        )
    )
    return best, tied[0]


def tf32_reading(dense_tops: Mapping[Any, float]) -> float | None:
    """TPP if TF32 counted as a 32-bit operation, when that exceeds the unambiguous TPP."""
    by = tpp_by_precision(dense_tops)
    best, _ = tpp_from_dense(dense_tops)
    t = by.get("tf32")
    return t if t is not None and best is not None and t > best * 1.01 else None


def tpp(acc: Accelerator) -> tuple[float | None, str | None]:
    """(TPP, precision that gives it) for a catalog chip, from its dense peaks."""
    return tpp_from_dense({p: v.value for p, v in acc.compute.dense.items()})


def performance_density(tpp_value: float | None, area_mm2: float | None) -> float | None:
    """PD = TPP / applicable die area (3A090 Technical Note); None when either is unknown."""
    if tpp_value is None or area_mm2 is None or area_mm2 <= 0:
        return None
    return tpp_value / area_mm2


_NODE_NM = re.compile(r"(\d+(?:\.\d+)?)\s*nm", re.IGNORECASE)


def die_is_planar(die: Die) -> bool:
    """A die on a planar process (>= 28 nm, or named 'planar') does not count toward PD area."""
    text = die.process.value if die.process else ""
    if "planar" in text.lower():
        return True
    m = _NODE_NM.search(text)
    return bool(m and float(m.group(1)) >= 28)


def applicable_die_area_mm2(acc: Accelerator) -> float | None:
    """Applicable die area: every non-planar logic die, caches and I/O dies included, memory
    (HBM/DRAM) dies excluded (3A090 Technical Note; BIS briefing 2023-11-06). None if any such
    die's area is unknown, or the chip lists no dies."""
    logic = [d for d in acc.dies if not d.memory_die and not die_is_planar(d)]
    if not logic:
        return None
    total = 0.0
    for d in logic:
        if d.area_mm2 is None:
            return None
        total += d.area_mm2.value * d.count
    return total


def io_bidir_gbs(acc: Accelerator) -> float | None:
    """Aggregate bidirectional I/O to ICs other than volatile memory (3A090.a, Oct 2022):
    scale-up links plus the host interface. None when the scale-up rate is unknown.

    Off-package NICs are separate ICs and are not counted; Ethernet integrated on the die (e.g.
    Gaudi RoCE ports) should be recorded as the chip's scale-up rate in the catalog.
    """
    ic = acc.interconnect
    if ic.scaleup_bidir_gbs is None:
        return None
    host = ic.host_bidir_gbs.value if ic.host_bidir_gbs else 0.0
    if ic.scaleup_link and "pcie" in ic.scaleup_link.value.lower():
        host = 0.0  # the scale-up path *is* the PCIe host link: count it once
    return ic.scaleup_bidir_gbs.value + host


def scaleup_bidir_gbs(acc: Accelerator) -> float | None:
    """Chip-to-chip (scale-up) interconnect rate, GB/s: NVLink, Infinity Fabric, RoCE ports.

    What the 2022 and 2025 letters call "chip-to-chip I/O" / "interconnect bandwidth"."""
    v = acc.interconnect.scaleup_bidir_gbs
    return v.value if v is not None else None


def dram_bw_gbs(acc: Accelerator) -> float | None:
    """Total DRAM bandwidth in GB/s (the 2026 review-policy band; Supp. 2 to part 748 (dd)(1))."""
    return acc.memory.bandwidth_tbs.value * 1000.0
