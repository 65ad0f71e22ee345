"""What the classifier needs to know about a chip, from the catalog or from a hypothetical spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chipwatch.catalog.schema import Accelerator, Precision, Sourced
from chipwatch.controls import metrics
from chipwatch.controls.errors import ControlsInputError


class ChipSpec(BaseModel):
    """A hypothetical chip: TPP (or dense TOPS per precision), die area and what it is for.

    >>> ChipSpec(name="my-asic", tpp=2000, die_area_mm2=600).performance_density
    3.3333333333333335
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = "hypothetical chip"
    id: str | None = Field(default=None, description="a catalog id, so chip-specific actions bind")
    vendor: str | None = None
    kind: Literal["ic", "hbm"] = "ic"
    tpp: float | None = None
    dense_tops: dict[Precision, float] = Field(
        default_factory=dict, description="dense TFLOPS/TOPS per precision (TPP = max x bits)"
    )
    die_area_mm2: float | None = Field(
        default=None,
        description="applicable die area; unknown leaves the density tests (and maybe the "
        "answer) undetermined",
    )
    vendor_country: str | None = Field(default=None, description="ISO code of the designer")
    datacenter: bool = True
    io_bidir_gbs: float | None = None
    scaleup_bidir_gbs: float | None = Field(
        default=None, description="chip-to-chip interconnect (NVLink-class), GB/s"
    )
    dram_bw_gbs: float | None = None
    memory_bandwidth_density: float | None = Field(
        default=None, description="HBM only: GB/s per mm2 of stack (3A090.c)"
    )
    source: str = "user-supplied spec"

    @model_validator(mode="after")
    def _check(self) -> ChipSpec:
        for name in (
            "tpp",
            "die_area_mm2",
            "io_bidir_gbs",
            "scaleup_bidir_gbs",
            "dram_bw_gbs",
            "memory_bandwidth_density",
        ):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise ValueError(f"{name} must not be negative (got {v})")
        for p, v in self.dense_tops.items():
            if v < 0:
                raise ValueError(f"dense_tops.{p} must not be negative (got {v})")
        if self.kind == "hbm":
            if self.memory_bandwidth_density is None:
                raise ValueError("an HBM spec needs memory_bandwidth_density (GB/s/mm2)")
            return self
        if self.tpp is None and not self.dense_tops:
            raise ValueError("give tpp or dense_tops (dense TFLOPS/TOPS per precision)")
        if self.die_area_mm2 == 0:
            raise ValueError("die_area_mm2 must be > 0")
        return self

    @property
    def tpp_value(self) -> tuple[float | None, str | None]:
        if self.tpp is not None:
            return self.tpp, None
        return metrics.tpp_from_dense(self.dense_tops)

    @property
    def performance_density(self) -> float | None:
        return metrics.performance_density(self.tpp_value[0], self.die_area_mm2)

    @classmethod
    def build(cls, **fields: object) -> ChipSpec:
        """Like the constructor, but errors become one-line :class:`ControlsInputError`."""
        try:
            return cls.model_validate(fields)
        except ValidationError as e:
            raise ControlsInputError(_one_line(e, "spec")) from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> ChipSpec:
        """Read a spec file; errors name the file and the field."""
        import yaml

        p = Path(path)
        try:
            doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        except OSError as e:
            raise ControlsInputError(f"{p}: cannot read: {e.strerror or e}") from None
        except yaml.YAMLError as e:
            raise ControlsInputError(f"{p}: invalid YAML: {e}") from None
        if not isinstance(doc, dict):
            raise ControlsInputError(f"{p}: expected a mapping of spec fields")
        doc.setdefault("name", p.stem)
        try:
            return cls.model_validate(doc)
        except ValidationError as e:
            raise ControlsInputError(_one_line(e, str(p))) from None


def _one_line(e: ValidationError, where: str) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(spec)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        parts.append(f"{loc}: {msg}" if loc != "(spec)" else msg)
    return f"{where}: " + "; ".join(parts)


class InputValue(BaseModel):
    field: str
    value: float | bool | str | None
    unit: str | None = None
    source: str
    unverified: bool = False
    note: str | None = None


class ChipInputs(BaseModel):
    """The numbers the rules test, with where each came from."""

    id: str | None
    name: str
    vendor: str | None
    vendor_country: str | None = None
    kind: Literal["ic", "hbm"] = "ic"
    datacenter: bool
    tpp: float | None
    tpp_precision: str | None
    tpp_by_precision: dict[str, float] = Field(default_factory=dict)
    tpp_low: float | None = None
    tpp_high: float | None = None
    die_area_mm2: float | None
    performance_density: float | None
    io_bidir_gbs: float | None
    scaleup_bidir_gbs: float | None = None
    dram_bw_gbs: float | None
    memory_bandwidth_density: float | None = None
    aliases: list[str] = Field(default_factory=list)
    inputs: list[InputValue] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    unverified_metrics: list[str] = Field(
        default_factory=list, description="metrics computed from an unverified input"
    )

    def metric(self, name: str) -> float | None:
        return getattr(self, name)  # type: ignore[no-any-return]


def inputs_from_spec(spec: ChipSpec) -> ChipInputs:
    t, prec = spec.tpp_value
    by = metrics.tpp_by_precision(spec.dense_tops) if spec.dense_tops else {}
    ins = [
        InputValue(
            field="tpp" if spec.tpp is not None else f"dense_{p}", value=v, source=spec.source
        )
        for p, v in ([("tpp", spec.tpp)] if spec.tpp is not None else list(spec.dense_tops.items()))
    ]
    for f, unit in (
        ("die_area_mm2", "mm2"),
        ("io_bidir_gbs", "GB/s"),
        ("scaleup_bidir_gbs", "GB/s"),
        ("dram_bw_gbs", "GB/s"),
        ("memory_bandwidth_density", "GB/s/mm2"),
        ("datacenter", None),
    ):
        v = getattr(spec, f)
        if v is not None:
            ins.append(InputValue(field=f, value=v, unit=unit, source=spec.source))
    return ChipInputs(
        id=spec.id,
        name=spec.name,
        vendor=spec.vendor,
        vendor_country=spec.vendor_country,
        kind=spec.kind,
        datacenter=spec.datacenter,
        tpp=t,
        tpp_precision=prec,
        tpp_by_precision=by,
        die_area_mm2=spec.die_area_mm2,
        performance_density=spec.performance_density,
        io_bidir_gbs=spec.io_bidir_gbs,
        scaleup_bidir_gbs=spec.scaleup_bidir_gbs,
        dram_bw_gbs=spec.dram_bw_gbs,
        memory_bandwidth_density=spec.memory_bandwidth_density,
        inputs=ins,
    )


def _sourced_input(
    acc: Accelerator, field: str, v: Sourced[Any], unit: str | None = None
) -> InputValue:
    """A catalog value as a classification input, with its citation and caveats."""
    return InputValue(
        field=field,
        value=v.value,
        unit=unit,
        source=acc.cite(v.source),
        unverified=v.unverified,
        note=v.note,
    )


def inputs_from_accelerator(acc: Accelerator) -> ChipInputs:
    t, prec = metrics.tpp(acc)
    by = metrics.tpp_by_precision({p: v.value for p, v in acc.compute.dense.items()})
    notes: list[str] = []
    ins: list[InputValue] = []
    low = high = None
    if prec is not None:
        v = acc.compute.dense[Precision(prec)]
        bits = t / v.value if t and v.value else None
        ins.append(_sourced_input(acc, f"compute.dense.{prec}", v, "TFLOPS/TOPS"))
        if bits and (v.low is not None or v.high is not None):
            low = (v.low if v.low is not None else v.value) * bits
            high = (v.high if v.high is not None else v.value) * bits
    alt = metrics.tf32_reading({p: v.value for p, v in acc.compute.dense.items()})
    if alt is not None and t is not None:
        high = max(high or t, alt)
        low = low if low is not None else t
        notes.append(
            f"TF32 x 32 bits would give TPP {alt:,.0f} (vs {t:,.0f}): TF32 carries 19 significant "
            "bits in a 32-bit container, so its bit length is ambiguous; the engine uses the "
            "unambiguous precisions and reports the TF32 reading as the top of the TPP range."
        )
    area = metrics.applicable_die_area_mm2(acc)
    for i, d in enumerate(acc.dies):
        if d.area_mm2 is not None:
            field = f"dies[{i}].area_mm2 ({d.name} x{d.count})"
            ins.append(_sourced_input(acc, field, d.area_mm2, "mm2"))
    if area is None:
        notes.append("Applicable die area unknown: performance density is undefined (not guessed).")
    dc = acc.datacenter_marketed
    ins.append(_sourced_input(acc, "datacenter_marketed", dc))
    ic = acc.interconnect
    for name in ("scaleup_bidir_gbs", "host_bidir_gbs"):
        v = getattr(ic, name)
        if v is not None:
            ins.append(_sourced_input(acc, f"interconnect.{name}", v, "GB/s"))
    ins.append(_sourced_input(acc, "memory.bandwidth_tbs", acc.memory.bandwidth_tbs, "TB/s"))
    unverified: list[str] = []
    if prec is not None and acc.compute.dense[Precision(prec)].unverified:
        unverified += ["tpp", "performance_density"]
    if any(d.area_mm2 is not None and d.area_mm2.unverified for d in acc.dies):
        unverified.append("performance_density")
    if acc.memory.bandwidth_tbs.unverified:
        unverified.append("dram_bw_gbs")
    sc = acc.interconnect.scaleup_bidir_gbs
    if sc is not None and sc.unverified:
        unverified.append("scaleup_bidir_gbs")
    return ChipInputs(
        unverified_metrics=sorted(set(unverified)),
        id=acc.id,
        name=acc.name,
        vendor=acc.vendor,
        vendor_country=acc.vendor_country,
        datacenter=dc.value,
        tpp=t,
        tpp_precision=prec,
        tpp_by_precision=by,
        tpp_low=low,
        tpp_high=high,
        die_area_mm2=area,
        performance_density=metrics.performance_density(t, area),
        io_bidir_gbs=metrics.io_bidir_gbs(acc),
        scaleup_bidir_gbs=metrics.scaleup_bidir_gbs(acc),
        dram_bw_gbs=metrics.dram_bw_gbs(acc),
        aliases=list(acc.aliases),
        inputs=ins,
        notes=notes,
    )


def chip_inputs(chip: Accelerator | ChipSpec | ChipInputs) -> ChipInputs:
    if isinstance(chip, ChipInputs):
        return chip
    if isinstance(chip, ChipSpec):
        return inputs_from_spec(chip)
    return inputs_from_accelerator(chip)
