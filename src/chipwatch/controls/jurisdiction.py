"""Whether US export law reaches a chip at all: US origin, BIS guidance, FDP rules, de minimis.

A US-designed chip is subject to the EAR (US-origin technology; made abroad, it is a foreign
direct product). A foreign-designed chip is subject only through a rule that reaches it; the
engine says true when a record in ``data/rules/jurisdiction`` says so for the chip on the date
(BIS's GP10 guidance of 2025-05-13), and null otherwise, naming what would decide it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from chipwatch.controls.rules import RuleBook
from chipwatch.controls.spec import ChipInputs

Basis = Literal["us_origin", "gp10_guidance", "fdp", "de_minimis", "not_determined"]


class Jurisdiction(BaseModel):
    subject_to_ear: bool | None
    basis: Basis
    text: str
    confidence: Literal["high", "medium", "low"]
    citations: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list, description="what would decide it")
    license_required: bool | None = Field(
        default=None, description="set when the basis itself requires authorization (GP10)"
    )


US_ORIGIN = Jurisdiction(
    subject_to_ear=True,
    basis="us_origin",
    text=(
        "US-designed: US-origin technology; a chip made abroad from it is a foreign direct "
        "product (734.9(h)) and, once in the US, a US-origin item."
    ),
    confidence="high",
    citations=["15 CFR 734.3(a); 734.9(h) (87 FR 62186, 88 FR 73458)"],
)


def jurisdiction(
    inputs: ChipInputs, meets_3a090: bool | None, on: dt.date, rb: RuleBook
) -> Jurisdiction:
    """Subject to the EAR on this date, and why (``meets_3a090``: None when undetermined)."""
    if inputs.vendor_country in (None, "US"):
        return US_ORIGIN
    applicable = [
        j
        for j in rb.jurisdiction
        if j.current(on) and j.covers(inputs.id, inputs.vendor, inputs.vendor_country)
    ]
    for j in applicable:
        if j.subject_to_ear is not True:
            continue
        named = inputs.id in j.named_ids
        if named or (not j.needs_3a090 or meets_3a090):
            return Jurisdiction(
                subject_to_ear=True,
                basis=j.kind,
                text=f"{j.title}: {j.text}"
                + ("" if named else " (covers the chip by its parameters)"),
                confidence=j.confidence if named else "low",
                citations=[f"{j.id}: {j.source}"],
                license_required=j.license_required,
            )
    paths = [
        j
        for j in applicable
        if j.subject_to_ear is None and (meets_3a090 is not False or not j.needs_3a090)
    ]
    missing = [
        "production chain (US-origin design software, technology or fab equipment) for the "
        "foreign direct product rules",
        "share of controlled US-origin content (de minimis, 734.4)",
    ]
    return Jurisdiction(
        subject_to_ear=None,
        basis="not_determined",
        text=(
            f"Foreign-made ({inputs.vendor_country}, {inputs.vendor}): subject to the EAR only if "
            "a foreign direct product rule or de minimis reaches it; not determinable from the "
            "catalog. Possible paths: " + "; ".join(j.title for j in paths)
        ),
        confidence="low",
        citations=[f"{j.id}: {j.source}" for j in paths],
        missing=missing,
    )
