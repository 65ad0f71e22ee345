"""Request models of the export-control engine's operations, one per operation.

The CLI options (``chipwatch classify|timeline|frontier``), the API query models and bodies
(``/api/classify``, ``/api/timeline``, ``/api/frontier``) and the dashboard's classify form use
these; ``tests/test_parity.py`` checks the CLI against them.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

Code = Annotated[str, Field(min_length=2, max_length=3)]
SPEC_FIELDS = ("tpp", "dense_tops", "die_area_mm2", "io_bidir_gbs", "dram_bw_gbs")
ONE_CHIP = (
    "give exactly one of: a catalog 'chip' id, a 'spec', or a hypothetical chip's 'tpp' (or "
    "'dense_tops') and 'die_area_mm2'"
)


def _positive_area(v: float) -> float:
    if not (math.isfinite(v) and 0 < v <= 1e6):
        raise ValueError(f"die area must be a positive number of mm2 up to 1e6 (got {v})")
    return v


def finite_tree(value: Any, where: str = "spec") -> Any:
    """``value`` unchanged, or ValueError naming the first NaN or infinity inside it."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where}: not a finite number")
    if isinstance(value, dict):
        for k, v in value.items():
            finite_tree(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            finite_tree(v, f"{where}[{i}]")
    return value


class Request(BaseModel):
    """Unknown fields are refused; so are NaN and infinities, also inside a ``spec``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ClassifyRequest(Request):
    """``classify``: a catalog chip, or a hypothetical chip (``spec``, or its fields given one by
    one), under the US rules in force on a date, for a destination."""

    chip: str | None = Field(None, max_length=64, description="Catalog chip id.")
    spec: Annotated[dict[str, Any], AfterValidator(finite_tree)] | None = Field(
        None,
        description="A hypothetical chip's ChipSpec fields (name, tpp or dense_tops, "
        "die_area_mm2, datacenter, io_bidir_gbs, ...).",
    )
    name: str = Field(
        "hypothetical chip", max_length=100, description="Name of a hypothetical chip."
    )
    tpp: float | None = Field(None, description="Hypothetical chip: total processing performance.")
    dense_tops: dict[str, float] = Field(
        default_factory=dict,
        description="Hypothetical chip: dense TFLOPS/TOPS per precision (TPP = max x bits).",
    )
    die_area_mm2: float | None = Field(
        None,
        description="Applicable die area, mm2: a hypothetical chip's, or an override that "
        "decides a catalog chip's unknown density.",
    )
    datacenter: bool = Field(True, description="Designed or marketed for datacenters.")
    io_bidir_gbs: float | None = Field(
        None, description="Aggregate bidirectional I/O, GB/s (2022 rule)."
    )
    dram_bw_gbs: float | None = Field(None, description="Total DRAM bandwidth, GB/s (2026 band).")
    date: dt.date | None = Field(None, description="YYYY-MM-DD (default today).")
    destination: Code = Field("CN", description="ISO 3166 code, e.g. CN, AE.")
    headquarters: Code | None = Field(
        None,
        description="Where the buyer/end user is headquartered (ISO code), for the HQ rule.",
    )
    parent_headquarters: Code | None = Field(
        None, description="Where the party's ultimate parent is headquartered (ISO code)."
    )
    end_user: str | None = Field(
        None,
        max_length=200,
        description="End user name, screened against the packaged Entity List subset.",
    )
    owned_by_listed: bool = Field(
        False, description="The party is 50%+ owned by listed entities (Affiliates rule)."
    )
    transaction: Literal["export", "reexport", "transfer"] | None = Field(
        None, description="export, reexport or transfer (in-country); default implied by origin."
    )
    origin: Code | None = Field(
        None, description="Country the item leaves (default US: an export)."
    )
    assume_pd: float | None = Field(
        None, ge=0, description="Assume this performance density (decides an unknown)."
    )

    @model_validator(mode="after")
    def _one_chip(self) -> ClassifyRequest:
        given = sum((self.chip is not None, self.spec is not None, self.spec_fields() is not None))
        if given != 1:
            raise ValueError(ONE_CHIP)
        return self

    def spec_fields(self) -> dict[str, Any] | None:
        """The hypothetical chip given field by field (None when no spec field was given; a
        die area given with a catalog chip is an override, not a spec)."""
        fields = [f for f in SPEC_FIELDS if self.chip is None or f != "die_area_mm2"]
        if not any(getattr(self, f) not in (None, {}) for f in fields):
            return None
        return self.model_dump(include={"name", "datacenter", *SPEC_FIELDS})


class TimelineRequest(Request):
    """``timeline``: a chip's status from October 2022 to today and what changed it."""

    chip: str = Field("h20", min_length=1, max_length=64, description="Catalog chip id.")
    destination: Code = Field("CN", description="ISO 3166 code, e.g. CN, AE.")
    headquarters: Code | None = Field(
        None, description="Headquarters of the party (ISO code), for the HQ rule."
    )
    start: dt.date | None = Field(None, description="YYYY-MM-DD (default 2022-10-07).")
    end: dt.date | None = Field(None, description="YYYY-MM-DD (default today).")


class FrontierRequest(Request):
    """``frontier``: the largest TPP that stays outside each controlled paragraph at a die area."""

    die_area_mm2: Annotated[float, AfterValidator(_positive_area)] = Field(
        description="Applicable die area, mm2 (e.g. 814 = GH100)."
    )
    date: dt.date | None = Field(None, description="YYYY-MM-DD (default today).")
    datacenter: bool = Field(True, description="Designed or marketed for datacenters.")
    io_bidir_gbs: float | None = Field(
        None, ge=0, description="Aggregate bidirectional I/O, GB/s (2022 rule)."
    )
    dram_bw_gbs: float | None = Field(
        None, ge=0, description="Total DRAM bandwidth, GB/s (2026 band)."
    )


class RulesStatusRequest(Request):
    """``rules status``: every rule set, action, guidance and foreign measure known on a date."""

    date: dt.date | None = Field(None, description="YYYY-MM-DD (default today).")


class RulesDiffRequest(Request):
    """``rules diff``: catalog chips whose classification, licence or policy changed."""

    date_a: dt.date = Field(description="First date, YYYY-MM-DD.")
    date_b: dt.date = Field(description="Second date, YYYY-MM-DD (not before the first).")
    destination: Code = Field("CN", description="ISO 3166 code, e.g. CN, AE.")


class RulesProposeRequest(Request):
    """``rules propose``: catalog chips that flip under proposed rule sets."""

    rule_sets: Annotated[list[dict[str, Any]], AfterValidator(finite_tree)] = Field(
        min_length=1,
        max_length=10,
        description="Proposed rule sets in the packaged rules schema.",
    )
    date: dt.date | None = Field(
        None, description="Date to compare on (default: the proposal's effective date)."
    )
    destination: Code = Field("CN", description="ISO 3166 code, e.g. CN, AE.")
