"""A chip's control status through time: one period per distinct status, with what changed it."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from chipwatch.catalog.schema import Accelerator
from chipwatch.controls.classifier import (
    EARLIEST,
    Classification,
    check_date,
    classify,
    release_date,
)
from chipwatch.controls.errors import ControlsInputError
from chipwatch.controls.rules import RuleBook
from chipwatch.controls.spec import ChipInputs, ChipSpec, chip_inputs
from chipwatch.controls.thresholds import fmt_num
from chipwatch.workspace import Workspace, resolve


class Period(BaseModel):
    """A stretch of days [start, end] with one status. ``end`` None means 'to date'."""

    start: dt.date
    end: dt.date | None
    eccn: str | None
    excluded_by: str | None
    license_required: bool | None
    status: str = "determined"
    licensing_policy: str
    license_exception: str | None
    actions: list[str]
    rule_sets: list[str]
    changed_by: list[str]
    reason: str


def changes_on(day: dt.date, rb: RuleBook, actions: set[str] | None = None) -> list[str]:
    """What starts or stops applying on this day, in words (only the given actions, if set)."""
    out: list[str] = []
    for r in rb.rule_sets:
        name = f"{r.short} ({r.fr_citation})"
        if r.effective == day:
            out.append(f"{name} took effect")
        if r.compliance == day:
            out.append(f"{name}: compliance date")
        if r.ends == day:
            out.append(f"{name} ended: {r.ends_reason or 'replaced'}")
        if r.not_enforced_from == day:
            out.append(f"{name}: BIS announced non-enforcement")
        for ev in r.status_history:
            if ev.date == day:
                out.append(
                    f"{name}: {ev.status.value}" + (" [unverified]" if ev.unverified else "")
                )
    for a in rb.actions:
        if actions is not None and a.id not in actions:
            continue
        if a.date == day:
            out.append(f"{a.title} ({a.date})")
        if a.ends == day:
            out.append(f"{a.title} ended: {a.ends_reason or ''}".rstrip(": "))
    for g in rb.groups.values():
        for m in g.members:
            if m.from_ == day:
                out.append(f"{m.code} joined {g.id}")
            if m.until == day:
                out.append(f"{m.code} left {g.id}")
    return out


def _key(c: Classification) -> tuple[object, ...]:
    return (
        c.status,
        c.eccn,
        c.excluded_by,
        c.license_required,
        c.licensing_policy,
        c.license_exception,
        tuple(a.id for a in c.actions if a.applied),
    )


def _reason(c: Classification) -> str:
    if c.eccn:
        met = [t for t in c.tests if t.scope == c.eccn]
        why = "; ".join(
            f"{t.label} {fmt_num(t.value)} {t.symbol} {fmt_num(t.threshold)}"
            for t in met
            if t.value is not None
        )
        what = f"{c.eccn} ({why})"
    elif c.excluded_by:
        what = f"excluded by {c.excluded_by}"
    else:
        what = "no 3A090 paragraph met"
        if c.nearest:
            what += (
                " ("
                + "; ".join(
                    f"{t.label} {fmt_num(t.value or 0)} vs {fmt_num(t.threshold)} for {t.scope}"
                    for t in c.nearest
                )
                + ")"
            )
    lic = {True: "license required", False: "no license required", None: "undetermined"}[
        c.license_required
    ]
    if c.status == "not_released":
        return "not released yet: no ruling"
    parts = [what, f"{lic}: {c.licensing_policy}"]
    if c.missing_inputs:
        parts.append("missing " + "; ".join(c.missing_inputs))
    if c.licensing_basis:
        parts.append(f"basis {c.licensing_basis}")
    return "; ".join(parts)


def timeline(
    chip: Accelerator | ChipSpec | ChipInputs,
    destination: str = "CN",
    start: dt.date | None = None,
    end: dt.date | None = None,
    headquarters: str | None = None,
    *,
    ws: Workspace | None = None,
) -> list[Period]:
    """Every period from ``start`` (default 2022-10-07) to ``end`` (default today) with its
    status and what changed it; consecutive days with the same status are merged."""
    ws = resolve(ws)
    rb = ws.rulebook
    start = start or EARLIEST
    end = end or dt.date.today()
    check_date(start)
    if end < start:
        raise ControlsInputError(f"end {end} is before start {start}")
    # a catalog chip keeps its release month (no ruling before it); a spec is reduced to inputs
    subject = chip if isinstance(chip, Accelerator) else chip_inputs(chip)
    released, _ = release_date(chip)
    extra = [released] if released and start < released <= end else []
    days = [start] + sorted({d for d in [*rb.change_dates(), *extra] if start < d <= end})
    periods: list[Period] = []
    last_key: tuple[object, ...] | None = None
    for day in days:
        c = classify(subject, day, destination, headquarters=headquarters, ws=ws)
        k = _key(c)
        if k == last_key:
            continue
        if periods:
            periods[-1].end = day - dt.timedelta(days=1)
        relevant = {a.id for a in c.actions} | set(periods[-1].actions if periods else [])
        changed = changes_on(day, rb, relevant) if day != start or day == EARLIEST else []
        if released is not None and day == released:
            changed.append(f"released ({released:%Y-%m}, catalog)")
        if day == start and day == EARLIEST:
            changed = changed or ["start of coverage"]
        periods.append(
            Period(
                start=day,
                end=None,
                eccn=c.eccn,
                excluded_by=c.excluded_by,
                license_required=c.license_required,
                status=c.status,
                licensing_policy=c.licensing_policy,
                license_exception=c.license_exception,
                actions=[a.id for a in c.actions],
                rule_sets=[r.id for r in c.rule_sets],
                changed_by=changed,
                reason=_reason(c),
            )
        )
        last_key = k
    if periods and end < dt.date.today():
        periods[-1].end = end
    return periods
