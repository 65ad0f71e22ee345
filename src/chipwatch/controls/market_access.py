"""Whether a chip can be bought in China on a date under PRC measures: a layer separate from US law.

US export rules decide whether a chip may leave; PRC measures (customs instructions, CAC and
MIIT purchase guidance, the domestic-chip rule for state-funded data centres) decide whether
Chinese buyers may take it. The market model uses this as its second gate.

>>> import datetime as dt
>>> market_access("h200-sxm", dt.date(2026, 1, 20)).open
False
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from chipwatch.catalog.schema import Accelerator
from chipwatch.controls.rules import Measure, RuleBook
from chipwatch.workspace import Workspace, resolve

Status = Literal["open", "discouraged", "restricted_segment", "conditional", "blocked"]

# How each effect bears on whether buyers in the market may take the chip.
OPEN_BY_EFFECT: dict[str, bool | None] = {
    "block": False,
    "conditional": None,  # named buyers only
    "discourage": True,
    "restrict_segment": True,  # open outside the named segment
    "scrutiny": True,
    "permit_required": True,
}
RANK: dict[str, int] = {
    "scrutiny": 0,
    "permit_required": 0,
    "discourage": 1,
    "restrict_segment": 2,
    "conditional": 3,
    "block": 4,
}


class MeasureRef(BaseModel):
    id: str
    authority: str
    title: str
    date: dt.date
    effect: str
    segment: str | None = None
    confidence: str
    source: str
    note: str | None = None


class MarketAccess(BaseModel):
    """PRC-side access for one chip on one date (``open`` None: only for some buyers)."""

    chip: str
    date: dt.date
    market: str = "CN"
    open: bool | None
    status: Status
    measures: list[MeasureRef] = Field(description="measures in force that bind the chip")
    restricted_segments: list[str] = Field(default_factory=list)
    sources: list[str]
    confidence: Literal["high", "medium", "low"]
    notes: list[str] = Field(default_factory=list)


def _chip(chip: Accelerator | str, ws: Workspace | None) -> Accelerator:
    if isinstance(chip, Accelerator):
        return chip
    return resolve(ws).catalog.chip(chip)


def measures_in_force(acc: Accelerator, on: dt.date, market: str, rb: RuleBook) -> list[Measure]:
    """Measures of the market's government current on the date that cover the chip, with any
    superseded by a later measure dropped."""
    ms = [
        m
        for m in rb.measures
        if m.country == market
        and m.applies_to == "imports"
        and m.current(on)
        and m.covers(acc.id, acc.vendor, acc.vendor_country)
    ]
    gone = {s for m in ms for s in m.supersedes}
    return [m for m in ms if m.id not in gone]


def market_access(
    chip: Accelerator | str,
    date: dt.date,
    *,
    market: str = "CN",
    ws: Workspace | None = None,
    rules: RuleBook | None = None,
) -> MarketAccess:
    """Whether buyers in ``market`` may take the chip on ``date`` under that market's own measures.

    ``open`` is False when a measure blocks purchases, None when only named buyers may buy, and
    True otherwise (with discouragement and segment restrictions listed).
    """
    acc = _chip(chip, ws)
    rb = rules if rules is not None else resolve(ws).rulebook
    ms = measures_in_force(acc, date, market, rb)
    notes: list[str] = []
    if acc.vendor_country == market:
        notes.append(f"Domestic chip ({acc.vendor}): no {market} import measure applies.")
    worst = max(ms, key=lambda m: (RANK[m.effect], m.date), default=None)
    status: Status = "open"
    open_: bool | None = True
    if worst is not None:
        open_ = OPEN_BY_EFFECT[worst.effect]
        status = {
            "block": "blocked",
            "conditional": "conditional",
            "discourage": "discouraged",
            "restrict_segment": "restricted_segment",
        }.get(worst.effect, "open")  # type: ignore[assignment]
    conf_rank = {"high": 2, "medium": 1, "low": 0}
    confidence = min((m.confidence for m in ms), key=lambda c: conf_rank[c], default="medium")
    if not ms:
        notes.append(
            f"No {market} measure in the data binds this chip on {date}; measures are reported "
            "instructions, mostly unpublished, so absence of a record is not proof of access."
        )
    return MarketAccess(
        chip=acc.id,
        date=date,
        market=market,
        open=open_,
        status=status,
        measures=[
            MeasureRef(
                id=m.id,
                authority=m.authority,
                title=m.title,
                date=m.date,
                effect=m.effect,
                segment=m.segment,
                confidence=m.confidence,
                source=m.source,
                note=m.note,
            )
            for m in ms
        ],
        restricted_segments=[m.segment for m in ms if m.segment],
        sources=[f"{m.id}: {m.source}" for m in ms],
        confidence=confidence,  # type: ignore[arg-type]
        notes=notes,
    )


__all__ = ["MarketAccess", "MeasureRef", "market_access", "measures_in_force"]
