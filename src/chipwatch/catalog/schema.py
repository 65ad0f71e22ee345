"""Typed records for the accelerator catalog.

Every measured or published value is a :class:`Sourced` value: the number (or text) plus
where it comes from (a URL, a document title, a key into the file's ``sources`` table, or
``derived: <formula>``), and ``unverified: true`` when no source confirms it.

Units are decimal and live in the field names: TFLOPS/TOPS = 1e12 op/s, TB/s = 1e12 B/s,
GB/s = 1e9 B/s, GB = 1e9 B.
"""

from __future__ import annotations

import math
import re
from enum import StrEnum
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

T = TypeVar("T")

SLUG = re.compile(r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$")
SOURCE_KEY = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
YEAR_MONTH = re.compile(r"^(19|20)\d\d-(0[1-9]|1[0-2])$")


def _source_not_blank(v: str) -> str:
    if not v.strip():
        raise ValueError("source must not be blank")
    return v.strip()


SourceText = Annotated[str, AfterValidator(_source_not_blank)]  # a citation, blanks stripped


class Precision(StrEnum):
    """Numeric formats a chip's peak throughput is quoted in."""

    fp64 = "fp64"
    fp32 = "fp32"
    tf32 = "tf32"
    fp16 = "fp16"
    bf16 = "bf16"
    fp8 = "fp8"
    int8 = "int8"
    fp4 = "fp4"
    int4 = "int4"


# Bit length of each format's operands, as used by the TPP definition (ECCN 3A090 Note).
PRECISION_BITS: dict[Precision, int] = {
    Precision.fp64: 64,
    Precision.fp32: 32,
    Precision.tf32: 32,
    Precision.fp16: 16,
    Precision.bf16: 16,
    Precision.fp8: 8,
    Precision.int8: 8,
    Precision.fp4: 4,
    Precision.int4: 4,
}


def throughput_unit(p: Precision | str) -> str:
    """TFLOPS for floating-point formats, TOPS for integer formats."""
    return "tops" if str(p).startswith("int") else "tflops"


class Segment(StrEnum):
    datacenter = "datacenter"
    workstation = "workstation"
    consumer = "consumer"
    edge = "edge"


class Status(StrEnum):
    shipping = "shipping"
    announced = "announced"
    reported = "reported"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(Strict, Generic[T]):
    """A value with its provenance."""

    value: T
    source: SourceText = Field(
        min_length=1, description="URL, document, sources-table key or 'derived: ...'"
    )
    unverified: bool = False
    low: float | None = None
    high: float | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _range_brackets_value(self) -> Sourced[T]:
        v = self.value
        if isinstance(v, bool) or not isinstance(v, int | float):
            if self.low is not None or self.high is not None:
                raise ValueError("low/high are only allowed on numeric values")
            return self
        if self.low is not None and self.low > v:
            raise ValueError(f"low ({self.low}) is above value ({v})")
        if self.high is not None and self.high < v:
            raise ValueError(f"high ({self.high}) is below value ({v})")
        return self


class NonNegative(Sourced[float]):
    @field_validator("value")
    @classmethod
    def _non_negative(cls, v: float) -> float:
        if v < 0:
            raise ValueError(f"must be >= 0, got {v}")
        return v


class Positive(Sourced[float]):
    @field_validator("value")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError(f"must be > 0, got {v}")
        return v


class Text(Sourced[str]):
    pass


class Flag(Sourced[bool]):
    pass


class Count(Sourced[int]):
    @field_validator("value")
    @classmethod
    def _positive(cls, v: int) -> int:
        if v < 1:
            raise ValueError(f"must be >= 1, got {v}")
        return v


class YearMonth(Sourced[str]):
    @field_validator("value")
    @classmethod
    def _year_month(cls, v: str) -> str:
        if not YEAR_MONTH.match(v):
            raise ValueError(f"must be YYYY-MM, got {v!r}")
        return v


class Die(Strict):
    """One die in the package. ``count`` identical dies share one entry."""

    name: str
    count: int = Field(default=1, ge=1)
    area_mm2: Positive | None = None
    process: Text | None = None
    foundry: Text | None = None
    processing: bool = Field(description="holds processing units (counts towards PD die area)")
    memory_die: bool = Field(default=False, description="a DRAM/HBM die (never counts towards PD)")


class Compute(Strict):
    """Peak throughput by precision, TFLOPS (float) or TOPS (integer). Dense = no sparsity."""

    dense: dict[Precision, Positive]
    sparse: dict[Precision, Positive] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sparse_not_below_dense(self) -> Compute:
        for p, s in self.sparse.items():
            d = self.dense.get(p)
            if d is not None and s.value < d.value:
                raise ValueError(f"sparse {p} ({s.value}) is below dense ({d.value})")
        return self


class Memory(Strict):
    capacity_gb: Positive
    bandwidth_tbs: Positive
    type: Text | None = None
    stacks: Count | None = None


class Interconnect(Strict):
    scaleup_bidir_gbs: NonNegative | None = Field(
        default=None, description="aggregate bidirectional scale-up bandwidth per chip, GB/s"
    )
    scaleup_link: Text | None = None
    scaleup_domain_chips: Count | None = None
    host_bidir_gbs: NonNegative | None = Field(
        default=None, description="host interface (PCIe) bidirectional rate, GB/s"
    )
    scaleout_bidir_gbs: NonNegative | None = None
    scaleout_link: Text | None = None


# Upper bounds by unit: a value past these is a typo or a unit slip, not a chip (the largest
# real ones are ~1e4 TFLOPS, ~20 TB/s, a wafer-scale die of ~46,000 mm2 and ~25 kW).
PHYSICAL_MAX: dict[str, float] = {
    "tflops": 1e6,
    "tops": 1e6,
    "TB/s": 1e3,
    "GB": 1e5,
    "GB/s": 1e6,
    "mm2": 1e5,
    "W": 1e6,
    "USD": 1e9,
}


class Accelerator(Strict):
    id: str
    name: str = Field(min_length=1)
    vendor: str = Field(min_length=1)
    vendor_country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    family: str | None = Field(default=None, description="architecture family, for calibration")
    aliases: list[str] = Field(default_factory=list)
    released: YearMonth
    status: Status
    segment: Segment
    datacenter_marketed: Flag
    dies: list[Die] = Field(default_factory=list)
    compute: Compute
    memory: Memory
    interconnect: Interconnect = Field(default_factory=Interconnect)
    tdp_w: Positive | None = None
    price_usd: Positive | None = None
    notes: str | None = None
    sources: dict[str, str] = Field(
        default_factory=dict, description="citation keys used by 'source:' fields"
    )

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError(f"id must be a lowercase slug like 'h100-sxm', got {v!r}")
        return v

    @model_validator(mode="after")
    def _within_physical_bounds(self) -> Accelerator:
        for path, v, unit in self.sourced_values():
            top = PHYSICAL_MAX.get(unit or "")
            if top is None or not isinstance(v.value, int | float):
                continue
            for name, x in (("value", v.value), ("high", v.high), ("low", v.low)):
                if x is not None and not math.isfinite(x):
                    raise ValueError(f"{path}.{name}: not a finite number")
                if x is not None and x > top:
                    raise ValueError(
                        f"{path}.{name}: {x:g} {unit} is above the physical bound of {top:g} "
                        f"{unit} (a unit slip?)"
                    )
        return self

    @model_validator(mode="after")
    def _source_keys_exist(self) -> Accelerator:
        for path, v, _ in self.sourced_values():
            for part in v.source.split(";"):
                part = part.strip()
                if SOURCE_KEY.match(part) and part not in self.sources:
                    raise ValueError(
                        f"{path}: source key {part!r} is not in this file's 'sources' table"
                    )
        return self

    # --- convenience accessors -------------------------------------------------------
    def dense(self, precision: Precision | str) -> float | None:
        """Dense peak for a precision (TFLOPS or TOPS), or None if the chip lacks it."""
        v = self.compute.dense.get(Precision(precision))
        return v.value if v else None

    @property
    def processing_die_area_mm2(self) -> float | None:
        """Sum of the areas of dies that hold processing units; None if any is unknown."""
        total = 0.0
        dies = [d for d in self.dies if d.processing and not d.memory_die]
        if not dies:
            return None
        for d in dies:
            if d.area_mm2 is None:
                return None
            total += d.area_mm2.value * d.count
        return total

    def cite(self, source: str) -> str:
        """Resolve sources-table keys (one, or several joined by '; ') to their citations."""
        parts = [p.strip() for p in source.split(";")]
        if not any(p in self.sources for p in parts):
            return source  # a URL, a title or a formula, as written
        return "; ".join(self.sources.get(p, p) for p in parts if p)

    def sourced_values(self) -> list[tuple[str, Sourced[object], str | None]]:
        """Every sourced value as (field path, value, unit)."""
        out: list[tuple[str, Sourced[object], str | None]] = []
        out.append(("released", self.released, None))  # type: ignore[arg-type]
        out.append(("datacenter_marketed", self.datacenter_marketed, None))  # type: ignore[arg-type]
        for kind, table in (("dense", self.compute.dense), ("sparse", self.compute.sparse)):
            for p, v in table.items():
                out.append((f"{throughput_unit(p)}_{p}_{kind}", v, throughput_unit(p)))  # type: ignore[arg-type]
        mem = self.memory
        for name, unit in (
            ("capacity_gb", "GB"),
            ("bandwidth_tbs", "TB/s"),
            ("type", None),
            ("stacks", None),
        ):
            v = getattr(mem, name)
            if v is not None:
                out.append((f"memory.{name}", v, unit))
        ic = self.interconnect
        for name in Interconnect.model_fields:
            v = getattr(ic, name)
            if v is not None:
                out.append((f"interconnect.{name}", v, "GB/s" if name.endswith("gbs") else None))
        for i, d in enumerate(self.dies):
            for name, unit in (("area_mm2", "mm2"), ("process", None), ("foundry", None)):
                v = getattr(d, name)
                if v is not None:
                    out.append((f"dies[{i}].{name}", v, unit))
        if self.tdp_w is not None:
            out.append(("tdp_w", self.tdp_w, "W"))  # type: ignore[arg-type]
        if self.price_usd is not None:
            out.append(("price_usd", self.price_usd, "USD"))  # type: ignore[arg-type]
        return out

    def flat(self) -> dict[str, object]:
        """One wide row: the headline numbers with units in the column names."""
        row: dict[str, object] = {
            "id": self.id,
            "name": self.name,
            "vendor": self.vendor,
            "vendor_country": self.vendor_country,
            "family": self.family,
            "released": self.released.value,
            "status": self.status.value,
            "segment": self.segment.value,
            "datacenter_marketed": self.datacenter_marketed.value,
        }
        for p in Precision:
            unit = throughput_unit(p)
            d = self.compute.dense.get(p)
            row[f"{unit}_{p}_dense"] = d.value if d else None
        row["mem_gb"] = self.memory.capacity_gb.value
        row["mem_bw_tbs"] = self.memory.bandwidth_tbs.value
        row["mem_type"] = self.memory.type.value if self.memory.type else None
        ic = self.interconnect
        row["scaleup_bidir_gbs"] = ic.scaleup_bidir_gbs.value if ic.scaleup_bidir_gbs else None
        row["scaleup_link"] = ic.scaleup_link.value if ic.scaleup_link else None
        row["host_bidir_gbs"] = ic.host_bidir_gbs.value if ic.host_bidir_gbs else None
        row["die_area_mm2"] = self.processing_die_area_mm2
        row["tdp_w"] = self.tdp_w.value if self.tdp_w else None
        row["price_usd"] = self.price_usd.value if self.price_usd else None
        row["price_usd_low"] = self.price_usd.low if self.price_usd else None
        row["price_usd_high"] = self.price_usd.high if self.price_usd else None
        row["unverified_fields"] = sum(1 for _, v, _ in self.sourced_values() if v.unverified)
        return row
