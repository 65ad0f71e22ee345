"""Licensing for a classified item: which rule in force binds the shipment, which chip-specific
actions bind the chip, and the review policy that results (15 CFR 742.6, 744.11, 744.23)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from chipwatch.controls import destinations as dst
from chipwatch.controls.errors import ControlsInputError
from chipwatch.controls.parties import Parties
from chipwatch.controls.rules import (
    POLICY_RANK,
    Action,
    LegalStatus,
    LicenseRule,
    Policy,
    RuleBook,
    RuleSet,
    Transaction,
)
from chipwatch.controls.spec import ChipInputs
from chipwatch.controls.thresholds import ThresholdCheck, all_pass, check, unverified_at_the_line

BasisKind = Literal["destination", "headquarters", "entity_list", "action", "gp10", "none"]


class Shipment(BaseModel):
    """Where the item goes, where from, and the EAR transaction type."""

    destination: str
    origin: str
    transaction: Transaction


def shipment(
    destination_code: str, origin: str | None, transaction: str | None, rb: RuleBook
) -> Shipment:
    """Resolve ``--from`` / ``--transaction``: from the US is an export, from elsewhere to
    another country a reexport, within one country a transfer (in-country)."""
    frm = dst.effective_code(dst.resolve(origin, rb)) if origin else None
    t = None
    if transaction is not None:
        try:
            t = Transaction(transaction.lower())
        except ValueError:
            raise ControlsInputError(
                f"unknown transaction {transaction!r}: use export, reexport or transfer"
            ) from None
    if frm is None:
        frm = {
            None: "US",
            Transaction.export: "US",
            Transaction.transfer: destination_code,
        }.get(t)
        if frm is None:
            raise ControlsInputError("a reexport needs --from CC (the country it leaves)")
    implied = (
        Transaction.export
        if frm == "US"
        else (Transaction.transfer if frm == destination_code else Transaction.reexport)
    )
    if t is not None and t is not implied:
        raise ControlsInputError(
            f"transaction {t.value} does not fit --from {frm} to {destination_code}: that is a "
            f"{implied.value} (export = from the US; reexport = between two foreign countries; "
            "transfer = within one country)"
        )
    return Shipment(destination=destination_code, origin=frm, transaction=implied)


class ActionRef(BaseModel):
    id: str
    kind: str
    title: str
    date: dt.date
    bound_by: str
    legal_status: str
    applied: bool
    context: str
    license_required: bool
    policy: str | None
    conditions: list[str]
    source: str
    unverified: bool
    note: str | None = None


@dataclass
class LicensingFinding:
    """The licensing answer for one assumed ECCN paragraph (None: no 3A090 paragraph)."""

    license_required: bool
    policy: Policy
    basis: str | None
    basis_kind: BasisKind
    exception: str | None = None
    conditions: list[str] = field(default_factory=list)
    actions: list[ActionRef] = field(default_factory=list)
    tests: list[ThresholdCheck] = field(default_factory=list)
    citations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)


def license_stack(on: dt.date, rb: RuleBook) -> tuple[list[tuple[RuleSet, LicenseRule]], list[str]]:
    """The licensing rules binding on the date, newest rule set first (replace / amend)."""
    stack: list[tuple[RuleSet, LicenseRule]] = []
    notes: list[str] = []
    for r in rb.rule_sets:
        if not r.in_force(on) or r.licensing is None:
            continue
        if not r.licensing_applies(on):
            notes.append(
                f"{r.short} is in force but compliance is not required until "
                f"{r.compliance}; its licensing rules are not applied."
            )
            continue
        new = [(r, x) for x in r.licensing.rules]
        stack = new if r.licensing.mode == "replace" else new + stack
    return stack, notes


def covers_item(rule: LicenseRule, eccn: str, datacenter: bool) -> bool:
    for m in rule.items:
        if m.datacenter is not None and m.datacenter != datacenter:
            continue
        if eccn == m.paragraph or eccn.startswith(m.paragraph + "."):
            return True
    return False


def covers_shipment(rule: LicenseRule, ship: Shipment, on: dt.date, rb: RuleBook) -> bool:
    if ship.transaction not in rule.transactions:
        return False
    if rule.exported_from is not None and not (
        ship.origin in rule.exported_from.codes or rule.exported_from.any
    ):
        return False
    return dst.matches(rule.destination, ship.destination, on, rb)


def binding_rule(
    eccn: str,
    inputs: ChipInputs,
    ship: Shipment,
    who: Parties,
    on: dt.date,
    rb: RuleBook,
) -> tuple[tuple[RuleSet, LicenseRule] | None, LicensingFinding]:
    """The first rule of the stack that covers the item, the shipment and the parties."""
    stack, notes = license_stack(on, rb)
    out = LicensingFinding(False, Policy.none, None, "none", notes=notes)
    for r, rule in stack:
        if not covers_item(rule, eccn, inputs.datacenter):
            continue
        if rule.headquarters is not None:
            if not who.hq_known:
                if dst.matches(rule.destination, ship.destination, on, rb):
                    out.assumptions.append(
                        f"Headquarters not given: {rule.id} ({dst.describe(rule.headquarters)}-"
                        "headquartered parties) not evaluated; pass --hq / --parent-hq / "
                        "--end-user. The answer assumes no such party."
                    )
                continue
            if not any(dst.matches(rule.headquarters, c, on, rb) for c in who.hq_codes):
                continue
        if not covers_shipment(rule, ship, on, rb):
            continue
        cs = [unverified_at_the_line(check(t, rule.id, inputs), inputs) for t in rule.tests]
        out.tests += cs
        ok = all_pass(cs) if cs else True
        if ok is None:
            open_tests = "; ".join(c.text for c in cs if c.passed is None)
            out.assumptions.append(
                f"Review policy not decided: {rule.id} ({r.short}, {rule.policy.value}) could "
                f"apply but {open_tests}. Assumed not met: the policy shown may be stricter "
                "than the rule allows."
            )
            continue
        if not ok:
            continue
        return (r, rule), out
    return None, out


def action_binds(action: Action, inputs: ChipInputs) -> tuple[str | None, list[ThresholdCheck]]:
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


def chip_actions(
    inputs: ChipInputs, ship: Shipment, who: Parties, on: dt.date, rb: RuleBook
) -> tuple[list[Action], list[ActionRef], list[ThresholdCheck]]:
    """Actions that bind the chip for this shipment: (applied, refs incl. context, tests)."""
    applied: list[Action] = []
    refs: list[ActionRef] = []
    tests: list[ThresholdCheck] = []
    for a in rb.actions:
        if not a.current(on):
            continue
        how, cs = action_binds(a, inputs)
        if how is None:
            continue
        to_dest = dst.matches(a.destination, ship.destination, on, rb)
        to_hq = bool(
            a.headquarters and any(dst.matches(a.headquarters, c, on, rb) for c in who.hq_codes)
        )
        if not (to_dest or to_hq):
            continue
        tests += cs
        binds = a.in_force(on) and a.licensing
        if binds:
            applied.append(a)
        refs.append(
            ActionRef(
                id=a.id,
                kind=a.kind,
                title=a.title,
                date=a.date,
                bound_by=how,
                legal_status=a.legal_status.value,
                applied=binds,
                context=a.context(),
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
    return applied, refs, tests


def licensing(
    eccn: str | None, inputs: ChipInputs, ship: Shipment, who: Parties, on: dt.date, rb: RuleBook
) -> LicensingFinding:
    """License requirement and review policy, assuming the item is ``eccn`` (None: not 3A090).

    Any license requirement stands; among the measures that set a policy, the later in time
    wins (a chip-specific action after a rule), and on the same day the more restrictive.
    """
    matched, out = (None, LicensingFinding(False, Policy.none, None, "none"))
    if eccn is not None:
        matched, out = binding_rule(eccn, inputs, ship, who, on, rb)
    applied, out.actions, tests = chip_actions(inputs, ship, who, on, rb)
    out.tests += tests
    required = bool(matched and matched[1].license_required) or any(
        a.license_required for a in applied
    )
    candidates: list[tuple[dt.date, int, Policy, str, BasisKind]] = []
    if matched:
        r, rule = matched
        candidates.append(
            (
                r.effective,
                POLICY_RANK[rule.policy],
                rule.policy,
                f"{rule.id} ({r.short})",
                rule.basis,
            )
        )
        out.citations.append(f"{rule.id}: {r.cite(rule.cite)}")
        out.conditions += rule.conditions
        if rule.unverified:
            out.notes.append(f"Licensing rule {rule.id} is partly unverified: {rule.text}")
    for a in applied:
        if a.policy is not None:
            candidates.append(
                (a.date, POLICY_RANK[a.policy], a.policy, f"{a.id} ({a.title})", "action")
            )
        out.conditions += a.conditions
        out.citations.append(f"{a.id}: {a.source}")
        if a.note and (a.date_unverified or a.policy_unverified):
            out.notes.append(f"Action {a.id} is partly unverified: {a.note}")
    for ref in out.actions:
        if not ref.applied:
            out.notes.append(f"Context: {ref.title} ({ref.context}).")
    if who.listed:
        out.conditions = []  # the Entity List requirement governs; band conditions are moot
    for h in who.listed:
        # Entity List: a license for all items subject to the EAR, whatever the ECCN (744.11).
        required = True
        pol = Policy(h.policy)
        candidates.append(
            (h.added, POLICY_RANK[pol] + len(Policy), pol, f"Entity List: {h.name}", "entity_list")
        )
        out.citations.append(f"Entity List ({h.name}): {h.fr_citation}")
    if candidates:
        _, _, policy, basis, kind = max(
            candidates, key=lambda c: (c[4] == "entity_list", c[0], c[1])
        )
    else:
        policy, basis, kind = (Policy.not_stated if required else Policy.none), None, "none"
    if required and POLICY_RANK[policy] < POLICY_RANK[Policy.presumption_of_approval]:
        policy = Policy.not_stated  # an action requires a license; the exception cannot be used
    out.license_required = required
    out.policy = policy
    out.basis = basis
    out.basis_kind = kind if (required or policy is not Policy.none) else "none"
    out.exception = matched[1].exception if matched and not required else None
    return out


def legal_context(on: dt.date, rb: RuleBook) -> list[str]:
    """Rule sets that are not in force on the date but have a legal standing worth stating."""
    out: list[str] = []
    for r in rb.rule_sets:
        ev = r.status_on(on)
        if ev is None or ev.status is LegalStatus.in_force or ev.status is LegalStatus.superseded:
            continue
        line = f"{r.short} ({r.fr_citation or r.id}): {ev.status.value} since {ev.date}"
        if ev.status is LegalStatus.announced:
            line += f"; in force from {r.effective}"
        if ev.source:
            line += f" ({ev.source})"
        if ev.note:
            line += f". {ev.note}"
        if ev.unverified:
            line += " [unverified]"
        out.append(line + "; not applied.")
    return out
