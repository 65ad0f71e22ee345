"""One classifier for every rule version: ECCN paragraph, threshold tests, license and policy.

It reads the rule sets in force on a date from ``data/rules`` and interprets them; no threshold
lives in this module.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from chipwatch.catalog.schema import Accelerator
from chipwatch.controls import destinations as dst
from chipwatch.controls.errors import ControlsInputError
from chipwatch.controls.rules import (
    METRIC_LABEL,
    POLICY_RANK,
    Action,
    Cmp,
    Exclusion,
    LicenseRule,
    Metric,
    Paragraph,
    Policy,
    RuleBook,
    RuleSet,
    Test,
)
from chipwatch.controls.spec import ChipInputs, ChipSpec, chip_inputs
from chipwatch.workspace import Workspace, resolve

EARLIEST = dt.date(2022, 10, 7)
NEAR_PCT = 3.0  # vendor TPPs differ from datasheet arithmetic by up to ~3%: flag closer margins


class ThresholdCheck(BaseModel):
    """One threshold tested: value, threshold, comparison and margin (value - threshold)."""

    scope: str = Field(description="paragraph, exclusion, license rule or action id")
    metric: str
    label: str
    value: float | None
    threshold: float
    comparison: str
    symbol: str
    passed: bool | None = Field(description="None when the value is unknown")
    margin: float | None
    margin_pct: float | None
    rule_text: str
    text: str


class RuleSetRef(BaseModel):
    id: str
    short: str
    fr_doc: str | None
    fr_citation: str | None
    effective: dt.date
    status: str
    url: str | None = None


class ActionRef(BaseModel):
    id: str
    kind: str
    title: str
    date: dt.date
    bound_by: str
    license_required: bool
    policy: str | None
    conditions: list[str]
    source: str
    unverified: bool
    note: str | None = None


class Classification(BaseModel):
    """The determination for one chip, date and destination (and optional headquarters)."""

    chip: str
    chip_name: str
    date: dt.date
    destination: str
    destination_name: str
    headquarters: str | None = None
    rule_sets: list[RuleSetRef]
    eccn: str | None
    paragraphs_met: list[str]
    undetermined: list[str] = Field(description="paragraphs that unknown inputs leave open")
    excluded_by: str | None = None
    controlled: bool
    control_level: int = Field(description="0 none, 1 3A090.b/.c, 2 3A090.a")
    datacenter: bool
    tpp: float | None
    tpp_precision: str | None
    tpp_range: list[float] | None = None
    performance_density: float | None
    die_area_mm2: float | None
    io_bidir_gbs: float | None
    dram_bw_gbs: float | None
    license_required: bool
    licensing_policy: str
    presumption_of_denial: bool = Field(
        False, description="the licensing policy is a presumption of denial (typed flag)"
    )
    license_exception: str | None = None
    licensing_basis: str | None
    conditions: list[str]
    actions: list[ActionRef]
    tests: list[ThresholdCheck]
    nearest: list[ThresholdCheck] = Field(description="per metric, the closest threshold tested")
    citations: list[str]
    notes: list[str]
    inputs: list[dict[str, object]]
    data_hash: str

    def summary(self) -> str:
        what = self.eccn or (f"excluded ({self.excluded_by})" if self.excluded_by else "not 3A090")
        lic = "license required" if self.license_required else "no license required"
        return (
            f"{self.chip} on {self.date} to {self.destination}: {what}; {lic} "
            f"({self.licensing_policy})"
        )


def fmt_num(v: float) -> str:
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"


def check(test: Test, scope: str, inputs: ChipInputs) -> ThresholdCheck:
    """Test one threshold and say by how much it passes or fails, in the rule's words."""
    value = inputs.metric(test.metric.value)
    label = METRIC_LABEL[test.metric]
    passed: bool | None = None
    margin: float | None = None
    pct: float | None = None
    if value is None:
        text = (
            f"{label} unknown: cannot test {test.cmp.symbol} {fmt_num(test.value)} "
            f"({scope}: {test.text})"
        )
    else:
        passed = test.cmp.holds(value, test.value)
        margin = value - test.value
        pct = 100.0 * margin / test.value if test.value else None
        actual = "=" if margin == 0 else (">" if margin > 0 else "<")
        pct_s = f" ({abs(pct):.1f}%)" if pct is not None else ""
        text = (
            f"{label} {fmt_num(value)} {actual} {fmt_num(test.value)}: {scope} needs {test.text} "
            f"-> {'met' if passed else 'not met'}, margin {fmt_num(abs(margin))}{pct_s}"
        )
    return ThresholdCheck(
        scope=scope,
        metric=test.metric.value,
        label=label,
        value=value,
        threshold=test.value,
        comparison=test.cmp.value,
        symbol=test.cmp.symbol,
        passed=passed,
        margin=margin,
        margin_pct=pct,
        rule_text=test.text,
        text=text,
    )


def all_pass(checks: list[ThresholdCheck]) -> bool | None:
    """True if every check passes, False if any fails, None if none fails but some are unknown."""
    if any(c.passed is False for c in checks):
        return False
    if any(c.passed is None for c in checks):
        return None
    return True


def check_date(on: dt.date) -> None:
    if on < EARLIEST:
        raise ControlsInputError(
            f"date {on} is before 2022-10-07, when the first advanced-computing rule (87 FR 62186) "
            "took effect; the engine covers 2022-10-07 onward"
        )


def rule_sets_in_force(on: dt.date, rb: RuleBook) -> list[RuleSet]:
    return [r for r in rb.rule_sets if r.in_force(on)]


def _ref(r: RuleSet, on: dt.date) -> RuleSetRef:
    status = "in force"
    if r.compliance and on < r.compliance:
        status = f"in force; compliance not required until {r.compliance}"
    if not r.items and not r.licensing:
        status = "in force; informational (not applied)"
    return RuleSetRef(
        id=r.id,
        short=r.short,
        fr_doc=r.fr_doc,
        fr_citation=r.fr_citation,
        effective=r.effective,
        status=status,
        url=r.url,
    )


def _level(paragraph: str | None) -> int:
    if paragraph is None:
        return 0
    return 2 if paragraph.split(".")[1:2] == ["a"] else 1


def _item_matches(rule: LicenseRule, met: list[str], datacenter: bool) -> bool:
    for m in rule.items:
        if m.datacenter is not None and m.datacenter != datacenter:
            continue
        if any(p == m.paragraph or p.startswith(m.paragraph + ".") for p in met):
            return True
    return False


def _binds(action: Action, inputs: ChipInputs) -> tuple[str | None, list[ThresholdCheck]]:
    """How an action binds the chip: 'id', 'parameters', or None; with the parameter checks."""
    ids = {i.lower() for i in action.binds.ids}
    names = {inputs.id or "", *inputs.aliases}
    if ids & {n.lower() for n in names if n}:
        return "id", []
    b = action.binds
    if not (b.all or b.any):
        return None, []
    if b.vendor and (inputs.vendor or "").lower() != b.vendor.lower():
        return None, []
    alls = [check(t, action.id, inputs) for t in b.all]
    anys = [check(t, action.id, inputs) for t in b.any]
    ok_all = all_pass(alls) if alls else True
    ok_any = any(c.passed for c in anys) if anys else True
    if ok_all and ok_any:
        return "parameters", alls + anys
    return None, alls + anys


def classify(
    chip: Accelerator | ChipSpec | ChipInputs,
    on: dt.date | None = None,
    destination: str = "CN",
    headquarters: str | None = None,
    *,
    ws: Workspace | None = None,
) -> Classification:
    """Classify a chip under the US rules in force on a date, for a destination.

    ``headquarters`` (ISO code) is where the purchaser / consignee / end user is headquartered
    (or its ultimate parent), for the headquarters rule; None leaves that rule unevaluated.
    The rules are the workspace's rulebook (packaged plus user rules files).
    """
    rb = resolve(ws).rulebook
    on = on or dt.date.today()
    check_date(on)
    inputs = chip_inputs(chip)
    if inputs.tpp is not None and inputs.tpp < 0:
        raise ControlsInputError(f"TPP must not be negative (got {inputs.tpp})")
    country = dst.resolve(destination, rb)
    code = dst.effective_code(country)
    hq_country = dst.resolve(headquarters, rb) if headquarters else None
    hq_code = dst.effective_code(hq_country) if hq_country else None

    notes: list[str] = list(inputs.notes)
    citations: list[str] = []
    in_force = rule_sets_in_force(on, rb)

    # 1. Items: the paragraphs in force (replace / amend, oldest first).
    paragraphs: list[tuple[RuleSet, Paragraph]] = []
    exclusions: list[tuple[RuleSet, Exclusion]] = []
    for r in in_force:
        if r.items is None:
            continue
        if r.items.mode == "replace":
            paragraphs, exclusions = [], []
        paragraphs += [(r, p) for p in r.items.paragraphs]
        exclusions += [(r, e) for e in r.items.exclusions]
        notes += [f"{r.short}: {n}" for n in r.items.notes if inputs.kind == "ic" or "HBM" in n]

    tests: list[ThresholdCheck] = []
    excluded_by = None
    for r, e in exclusions:
        if e.datacenter is not None and e.datacenter != inputs.datacenter:
            continue
        cs = [check(t, e.id, inputs) for t in e.all]
        tests += cs
        if all_pass(cs):
            excluded_by = e.id
            citations.append(f"{e.id}: {r.cite(e.cite)}")
            notes.append(f"Excluded by {e.id}: {e.text}")
        elif all_pass(cs) is None:
            notes.append(f"{e.id} could not be tested (unknown inputs).")

    met: list[str] = []
    undetermined: list[str] = []
    for r, p in paragraphs:
        if p.applies_to != inputs.kind:
            continue
        cs = [check(t, p.id, inputs) for t in p.all]
        tests += cs
        ok = all_pass(cs)
        citations.append(f"{p.id}: {r.cite(p.cite)}")
        if ok and not excluded_by:
            met.append(p.id)
        elif ok is None and not excluded_by:
            undetermined.append(p.id)
    eccn = met[0] if met else None
    if undetermined and not met:
        notes.append(
            f"Not determined: {', '.join(undetermined)} depend on unknown inputs "
            "(see tests); the result assumes they are not met."
        )

    # 2. Licensing: the rules of the sets whose licensing binds on this date, newest first.
    stack: list[tuple[RuleSet, LicenseRule]] = []
    for r in in_force:
        if r.licensing is None:
            continue
        if not r.licensing_applies(on):
            notes.append(
                f"{r.short} is in force but compliance is not required until "
                f"{r.compliance}; its licensing rules are not applied."
            )
            if r.not_enforced_from:
                notes.append(
                    f"{r.short}: BIS announced non-enforcement from "
                    f"{r.not_enforced_from}, before its compliance date, so its "
                    "licensing rules never bound."
                )
            continue
        new = [(r, x) for x in r.licensing.rules]
        stack = new if r.licensing.mode == "replace" else new + stack
    matched: tuple[RuleSet, LicenseRule] | None = None
    hq_note = False
    for r, rule in stack:
        if eccn is None or not _item_matches(rule, [eccn], inputs.datacenter):
            continue
        if rule.headquarters is not None:
            if hq_code is None:
                hq_note = True
                continue
            if not dst.matches(rule.headquarters, hq_code, on, rb):
                continue
        if not dst.matches(rule.destination, code, on, rb):
            continue
        cs = [check(t, rule.id, inputs) for t in rule.tests]
        tests += cs
        ok = all_pass(cs) if cs else True
        if ok is None:
            notes.append(f"{rule.id} ({r.short}) could apply but its tests need unknown inputs.")
            continue
        if not ok:
            continue
        matched = (r, rule)
        break
    if hq_note and headquarters is None:
        notes.append(
            "Headquarters rule not evaluated: a license is also required when a party "
            "is headquartered in (or its ultimate parent is in) D:5 or Macau, wherever "
            "it is located (pass headquarters / --hq to evaluate)."
        )

    # 3. Chip-specific actions in force that bind this chip for this destination.
    action_refs: list[ActionRef] = []
    binding: list[Action] = []
    for a in rb.actions:
        if not a.in_force(on):
            continue
        how, cs = _binds(a, inputs)
        if how is None:
            continue
        to_dest = dst.matches(a.destination, code, on, rb)
        to_hq = bool(a.headquarters and hq_code and dst.matches(a.headquarters, hq_code, on, rb))
        if not (to_dest or to_hq):
            continue
        tests += cs
        binding.append(a)
        action_refs.append(
            ActionRef(
                id=a.id,
                kind=a.kind,
                title=a.title,
                date=a.date,
                bound_by=how,
                license_required=a.license_required,
                policy=a.policy.value if a.policy else None,
                conditions=a.conditions,
                source=a.source,
                unverified=a.date_unverified
                or a.policy_unverified
                or (how == "parameters" and a.binds.parameters_unverified),
                note=a.note,
            )
        )
        citations.append(f"{a.id}: {a.source}")
        if action_refs[-1].unverified and a.note:
            notes.append(f"Action {a.id} is partly unverified: {a.note}")

    # 4. Combine: any license requirement stands; the later-in-time measure sets the policy.
    license_required = bool(matched and matched[1].license_required)
    license_required = license_required or any(a.license_required for a in binding)
    candidates: list[tuple[dt.date, int, Policy, str]] = []
    if matched:
        candidates.append(
            (
                matched[0].effective,
                POLICY_RANK[matched[1].policy],
                matched[1].policy,
                f"{matched[1].id} ({matched[0].short})",
            )
        )
    for a in binding:
        if a.policy is not None:
            candidates.append((a.date, POLICY_RANK[a.policy], a.policy, f"{a.id} ({a.title})"))
    if candidates:
        _, _, policy, basis = max(candidates, key=lambda c: (c[0], c[1]))
    else:
        policy, basis = (Policy.not_stated if license_required else Policy.none), None
    if license_required and POLICY_RANK[policy] < POLICY_RANK[Policy.presumption_of_approval]:
        policy = Policy.not_stated  # an action requires a license; the exception cannot be used
    conditions = list(matched[1].conditions) if matched else []
    for a in binding:
        conditions += a.conditions
    exception = matched[1].exception if matched and not license_required else None
    if matched:
        citations.append(f"{matched[1].id}: {matched[0].cite(matched[1].cite)}")
        if matched[1].unverified:
            notes.append(f"Licensing rule {matched[1].id} is partly unverified: {matched[1].text}")

    # 5. Notes on uncertain inputs and data.
    for i in inputs.inputs:
        if i.unverified:
            notes.append(f"Input {i.field} = {i.value} is unverified ({i.source}).")
    paragraph_ids = {p.id for _, p in paragraphs}
    near = [
        c
        for c in tests
        if c.margin_pct is not None and abs(c.margin_pct) < NEAR_PCT and c.scope in paragraph_ids
    ]
    for c in near:
        notes.append(
            f"Near a threshold: {c.text}. Vendor-published TPPs differ from datasheet "
            f"arithmetic by up to ~{NEAR_PCT:.0f}%."
        )
    ug = dst.unverified_groups(code, on, rb)
    if ug:
        notes.append(
            f"Country-group membership of {code} ({', '.join(ug)}) was entered from "
            "secondary sources (unverified)."
        )
    if code == "US":
        notes.append("Destination is the United States: not an export.")
    if country.treated_as:
        notes.append(f"{country.name} is treated as {country.treated_as} under the EAR.")
    if inputs.vendor_country and inputs.vendor_country != "US":
        notes.append(
            f"Vendor country {inputs.vendor_country}: the engine assumes the item is "
            "subject to the EAR; whether it is (US content, foreign direct product rules) "
            "is not evaluated."
        )
    for r in in_force:
        if not r.items and not r.licensing:
            notes += [f"{r.short}: {n}" for n in r.notes]
    for r in rb.rule_sets:
        if r.not_enforced_from and on >= r.not_enforced_from and r.effective <= on:
            notes.append(
                f"{r.short} ({r.fr_citation}) is not applied: BIS announced "
                f"non-enforcement from {r.not_enforced_from}."
            )
    for r in in_force:
        citations.append(
            f"{r.short}: {r.fr_citation or ''} (FR Doc. {r.fr_doc}) {r.url or ''}".strip()
        )

    nearest: dict[str, ThresholdCheck] = {}
    for c in tests:
        if c.margin_pct is None or c.scope not in paragraph_ids:
            continue
        best = nearest.get(c.metric)
        if best is None or abs(c.margin_pct) < abs(best.margin_pct or 0):
            nearest[c.metric] = c

    tpp_range = (
        [inputs.tpp_low, inputs.tpp_high]
        if inputs.tpp_low is not None and inputs.tpp_high is not None
        else None
    )
    return Classification(
        chip=inputs.id or inputs.name,
        chip_name=inputs.name,
        date=on,
        destination=country.id,
        destination_name=country.name,
        headquarters=hq_country.id if hq_country else None,
        rule_sets=[_ref(r, on) for r in in_force],
        eccn=eccn,
        paragraphs_met=met,
        undetermined=undetermined,
        excluded_by=excluded_by,
        controlled=bool(met) or license_required,
        control_level=_level(eccn),
        datacenter=inputs.datacenter,
        tpp=inputs.tpp,
        tpp_precision=inputs.tpp_precision,
        tpp_range=tpp_range,  # type: ignore[arg-type]
        performance_density=inputs.performance_density,
        die_area_mm2=inputs.die_area_mm2,
        io_bidir_gbs=inputs.io_bidir_gbs,
        dram_bw_gbs=inputs.dram_bw_gbs,
        license_required=license_required,
        licensing_policy=policy.value,
        presumption_of_denial=policy == Policy.presumption_of_denial,
        license_exception=exception,
        licensing_basis=basis,
        conditions=conditions,
        actions=action_refs,
        tests=tests,
        nearest=list(nearest.values()),
        citations=list(dict.fromkeys(citations)),
        notes=list(dict.fromkeys(notes)),
        inputs=[i.model_dump(mode="json") for i in inputs.inputs],
        data_hash=rb.data_hash,
    )


__all__ = ["Classification", "ThresholdCheck", "classify", "check", "Cmp", "Metric"]
