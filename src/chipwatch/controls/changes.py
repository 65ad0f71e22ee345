"""What changes between two dates, or under a proposed rule: chip by chip, with the reason.

``diff`` compares the catalog's classifications on two dates; ``propose`` reads a rule set in
the packaged schema (e.g. a moved TPP line), lays it over the rulebook, and lists the chips whose
answer flips. ``status`` is the rulebook as of a date with each item's legal status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from chipwatch.catalog.loader import read_yaml, validation_errors
from chipwatch.catalog.schema import Accelerator
from chipwatch.controls.classifier import Classification, classify
from chipwatch.controls.errors import ControlsInputError
from chipwatch.controls.rules import LegalStatus, RuleBook, RuleSet
from chipwatch.controls.timeline import changes_on


class ChipChange(BaseModel):
    chip: str
    name: str
    before: str = Field(description="ECCN; license; policy before")
    after: str
    became_controlled: bool
    no_longer_controlled: bool
    license_before: bool | None
    license_after: bool | None
    policy_before: str
    policy_after: str
    reason: str


class Diff(BaseModel):
    date_a: dt.date
    date_b: dt.date
    destination: str
    label_a: str
    label_b: str
    changes: list[ChipChange]
    events: list[str] = Field(description="what took effect or ended between the two")
    unchanged: int

    @property
    def newly_controlled(self) -> list[str]:
        return [c.chip for c in self.changes if c.became_controlled]


def _state(c: Classification) -> str:
    what = c.eccn or (f"excluded ({c.excluded_by})" if c.excluded_by else "not 3A090")
    if c.status == "not_released":
        return "not released"
    lic = {True: "license required", False: "no license", None: "undetermined"}[c.license_required]
    return f"{what}; {lic}; {c.licensing_policy}"


def _key(c: Classification) -> tuple[object, ...]:
    return (c.status, c.eccn, c.controlled, c.license_required, c.licensing_policy)


def compare(
    chips: Iterable[Accelerator],
    a: tuple[dt.date, RuleBook, str],
    b: tuple[dt.date, RuleBook, str],
    destination: str,
    events: list[str],
) -> Diff:
    """Classify every chip under (date, rulebook) a and b and keep those that differ."""
    out: list[ChipChange] = []
    same = 0
    for acc in chips:
        ca = classify(acc, a[0], destination, rules=a[1])
        cb = classify(acc, b[0], destination, rules=b[1])
        if _key(ca) == _key(cb):
            same += 1
            continue
        ctl_a, ctl_b = bool(ca.controlled), bool(cb.controlled)
        reason = cb.licensing_basis or (cb.eccn and f"meets {cb.eccn}") or ""
        if cb.status == "undetermined":
            reason = "undetermined: " + "; ".join(cb.missing_inputs)
        elif not reason and ca.eccn and not cb.eccn:
            reason = f"no longer meets {ca.eccn}"
        out.append(
            ChipChange(
                chip=acc.id,
                name=acc.name,
                before=_state(ca),
                after=_state(cb),
                became_controlled=ctl_b and not ctl_a and ca.status != "not_released",
                no_longer_controlled=ctl_a and not ctl_b and cb.status != "not_released",
                license_before=ca.license_required,
                license_after=cb.license_required,
                policy_before=ca.licensing_policy,
                policy_after=cb.licensing_policy,
                reason=reason,
            )
        )
    return Diff(
        date_a=a[0],
        date_b=b[0],
        destination=destination.upper(),
        label_a=a[2],
        label_b=b[2],
        changes=out,
        events=events,
        unchanged=same,
    )


def diff(
    chips: Iterable[Accelerator], date_a: dt.date, date_b: dt.date, destination: str, rb: RuleBook
) -> Diff:
    """Every catalog chip whose classification, license requirement or policy changed."""
    if date_b < date_a:
        raise ControlsInputError(f"DATE_B {date_b} is before DATE_A {date_a}")
    days = [d for d in rb.change_dates() if date_a < d <= date_b]
    events = [f"{d}: {e}" for d in days for e in changes_on(d, rb)]
    return compare(chips, (date_a, rb, str(date_a)), (date_b, rb, str(date_b)), destination, events)


def read_proposal(path: str | Path) -> list[RuleSet]:
    """Rule sets from a YAML file in the packaged schema; errors name file, field and reason."""
    p = Path(path)
    if not p.is_file():
        raise ControlsInputError(f"{p}: no such file")
    docs, errs = read_yaml(p)
    if errs:
        raise ControlsInputError("; ".join(str(e) for e in errs))
    if not docs:
        raise ControlsInputError(f"{p}: no rule set in the file")
    return proposal_sets(docs, str(p))


def with_rule_sets(rb: RuleBook, proposed: list[RuleSet], tag: str = "proposed") -> RuleBook:
    """A derived rulebook: the proposed rule sets added (same id: replaced)."""
    ids = {r.id for r in proposed}
    sets = sorted(
        [r for r in rb.rule_sets if r.id not in ids] + proposed, key=lambda r: (r.effective, r.id)
    )
    return rb.model_copy(update={"rule_sets": sets, "data_hash": f"{rb.data_hash}+{tag}"})


def propose(
    chips: Iterable[Accelerator],
    proposed: list[RuleSet],
    rb: RuleBook,
    on: dt.date | None = None,
    destination: str = "CN",
) -> Diff:
    """Which chips flip on ``on`` (default: the proposal's effective date) under the proposal."""
    day = on or max(r.effective for r in proposed)
    new = with_rule_sets(rb, proposed)
    events = [f"proposed: {r.short} ({r.id}), effective {r.effective}" for r in proposed]
    return compare(chips, (day, rb, "rules in force"), (day, new, "proposed"), destination, events)


class StatusItem(BaseModel):
    kind: str
    id: str
    title: str
    date: dt.date
    legal_status: str
    since: dt.date | None
    citation: str
    confidence: str | None = None
    note: str | None = None


def status(on: dt.date, rb: RuleBook) -> list[StatusItem]:
    """The rulebook as of a date: every rule set, action, guidance and foreign measure known by
    then, with its legal status."""
    out: list[StatusItem] = []
    for r in rb.rule_sets:
        ev = r.status_on(on)
        if ev is None:
            continue
        out.append(
            StatusItem(
                kind="rule set",
                id=r.id,
                title=r.short,
                date=r.effective,
                legal_status=ev.status.value,
                since=ev.date,
                citation=f"{r.fr_citation or ''} (FR Doc. {r.fr_doc})",
                confidence="unverified" if (r.unverified or ev.unverified) else None,
                note=ev.note or (r.ends_reason if ev.status is LegalStatus.superseded else None),
            )
        )
    for a in rb.actions:
        if a.date > on:
            continue
        st = "ended" if a.ends and on >= a.ends else a.legal_status.value
        if a.kind == "announcement" and a.in_force_from and on >= a.in_force_from:
            st = "implemented"
        out.append(
            StatusItem(
                kind=a.kind.replace("_", " "),
                id=a.id,
                title=a.title,
                date=a.date,
                legal_status=st,
                since=a.ends if st in ("ended", "implemented") else a.date,
                citation=a.source,
                confidence=a.confidence,
                note=a.ends_reason if st in ("ended", "implemented") else None,
            )
        )
    for j in rb.jurisdiction:
        if j.date <= on:
            out.append(
                StatusItem(
                    kind=j.kind.replace("_", " "),
                    id=j.id,
                    title=j.title,
                    date=j.date,
                    legal_status="in_force",
                    since=j.date,
                    citation=j.source,
                    confidence=j.confidence,
                )
            )
    for m in rb.measures:
        if m.date <= on:
            out.append(
                StatusItem(
                    kind=f"{m.country} measure ({m.effect})",
                    id=m.id,
                    title=m.title,
                    date=m.date,
                    legal_status="in_force" if m.current(on) else "ended",
                    since=m.date,
                    citation=m.source,
                    confidence=m.confidence,
                    note=m.note,
                )
            )
    return sorted(out, key=lambda i: (i.date, i.id))


def proposal_sets(docs: list[dict[str, Any]], where: str = "rules") -> list[RuleSet]:
    """Rule sets from posted data; errors name the item, field and reason."""
    out = []
    for i, d in enumerate(docs):
        try:
            out.append(RuleSet.model_validate(d))
        except ValidationError as e:
            raise ControlsInputError(
                "; ".join(str(x) for x in validation_errors(f"{where}[{i}]", e))
            ) from None
    return out


def proposal_folder(sets: list[RuleSet]) -> Path:
    """A user folder holding the proposed rule sets as ``rules/sets/``: overlay it on a
    workspace (``ws.overlay(folder)``) to run any domain under the proposal."""
    import hashlib
    import tempfile

    import yaml

    texts = {
        r.id: yaml.safe_dump(r.model_dump(mode="json", by_alias=True, exclude_none=True))
        for r in sets
    }
    digest = hashlib.sha256("".join(texts[k] for k in sorted(texts)).encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"chipwatch-proposal-{digest}"
    (folder / "rules" / "sets").mkdir(parents=True, exist_ok=True)
    for rid, text in texts.items():
        (folder / "rules" / "sets" / f"{rid}.yaml").write_text(text, encoding="utf-8")
    return folder
