"""One classifier for every rule version, in the order a compliance officer works:

1. is the chip out yet (no ruling before its release);
2. which 3A090 paragraph it meets under the items text in force (unknown inputs leave it open);
3. whether US law reaches it (jurisdiction: US origin, GP10 guidance, FDP rules, de minimis);
4. the parties (headquarters, ultimate parent, Entity List screening);
5. licensing for the shipment (destination, origin, transaction) from the rules and actions
   legally in force; announcements and unenforced rules are listed as context;
6. where an input is missing, every outcome it allows: the answer is undetermined (null) unless
   they all agree.

It reads the rule data in ``data/rules``; no threshold or rule wording lives in this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from chipwatch.catalog.schema import Accelerator
from chipwatch.controls import destinations as dst
from chipwatch.controls.errors import ControlsInputError
from chipwatch.controls.jurisdiction import Jurisdiction, jurisdiction
from chipwatch.controls.licensing import (
    ActionRef,
    LicensingFinding,
    Shipment,
    legal_context,
    licensing,
    shipment,
)
from chipwatch.controls.market_access import MarketAccess, market_access
from chipwatch.controls.parties import Parties, ScreeningHit, parties
from chipwatch.controls.rules import (
    Cmp,
    Exclusion,
    Metric,
    Paragraph,
    Policy,
    RuleBook,
    RuleSet,
)
from chipwatch.controls.spec import ChipInputs, ChipSpec, InputValue, chip_inputs
from chipwatch.controls.thresholds import (
    NEAR_PCT,
    ThresholdCheck,
    all_pass,
    check,
    fmt_num,
    unverified_at_the_line,
)
from chipwatch.workspace import Workspace, resolve

EARLIEST = dt.date(2022, 10, 7)

MISSING_INPUT = {
    "performance_density": "applicable die area (die_area_mm2), for performance density",
    "tpp": "TPP (dense TOPS/TFLOPS by precision)",
    "dram_bw_gbs": "total DRAM bandwidth (GB/s)",
    "io_bidir_gbs": "aggregate bidirectional I/O (GB/s)",
    "scaleup_bidir_gbs": "chip-to-chip interconnect bandwidth (GB/s)",
    "memory_bandwidth_density": "HBM memory bandwidth density (GB/s/mm2)",
}


class RuleSetRef(BaseModel):
    id: str
    short: str
    fr_doc: str | None
    fr_citation: str | None
    effective: dt.date
    status: str
    legal_status: str = "in_force"
    url: str | None = None


class Outcome(BaseModel):
    """One way an undetermined input could resolve, and the licensing answer it gives."""

    assumption: str
    eccn: str | None
    subject_to_ear: bool | None
    license_required: bool
    licensing_policy: str


class Classification(BaseModel):
    """The determination for one chip, date, shipment and set of parties."""

    chip: str
    chip_name: str
    date: dt.date
    status: Literal["determined", "undetermined", "not_released"] = "determined"
    destination: str
    destination_name: str
    origin: str = "US"
    transaction: str = "export"
    headquarters: str | None = None
    parent_headquarters: str | None = None
    end_user: str | None = None
    screening: list[ScreeningHit] = Field(default_factory=list)
    jurisdiction: Jurisdiction | None = None
    rule_sets: list[RuleSetRef]
    eccn: str | None
    paragraphs_met: list[str]
    undetermined: list[str] = Field(description="paragraphs that unknown inputs leave open")
    excluded_by: str | None = None
    controlled: bool | None
    control_level: int = Field(description="0 none, 1 3A090.b/.c, 2 3A090.a")
    datacenter: bool
    tpp: float | None
    tpp_precision: str | None
    tpp_range: list[float] | None = None
    performance_density: float | None
    die_area_mm2: float | None
    io_bidir_gbs: float | None
    dram_bw_gbs: float | None
    license_required: bool | None = Field(description="null when undetermined or not released")
    licensing_policy: str
    presumption_of_denial: bool | None = Field(
        None,
        description="the licensing policy is a presumption of denial (typed flag); null when "
        "undetermined or not released",
    )
    license_exception: str | None = None
    licensing_basis: str | None
    licensing_basis_kind: str = "none"
    missing_inputs: list[str] = Field(default_factory=list)
    outcomes: list[Outcome] = Field(default_factory=list, description="range of outcomes")
    assumptions: list[str] = Field(default_factory=list)
    conditions: list[str]
    actions: list[ActionRef]
    context: list[str] = Field(
        default_factory=list, description="announced, suspended or unenforced measures, not applied"
    )
    warnings: list[str] = Field(default_factory=list, description="near-threshold warnings")
    market_access: MarketAccess | None = Field(
        default=None, description="the destination's own measures (not US law), where recorded"
    )
    tests: list[ThresholdCheck]
    nearest: list[ThresholdCheck] = Field(description="per metric, the closest threshold tested")
    citations: list[str]
    notes: list[str]
    inputs: list[dict[str, object]]
    data_hash: str

    def summary(self) -> str:
        what = self.eccn or (f"excluded ({self.excluded_by})" if self.excluded_by else "not 3A090")
        if not self.eccn and self.undetermined:
            what = f"{', '.join(self.undetermined)} open"
        lic = {True: "license required", False: "no license required", None: "undetermined"}[
            self.license_required
        ]
        return (
            f"{self.chip} on {self.date} to {self.destination}: {what}; {lic} "
            f"({self.licensing_policy})"
        )


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
    ev = r.status_on(on)
    if ev is not None and ev.unverified:
        status += f"; legal status since {ev.date} unverified"
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


# -- step 0: overrides the user decides ---------------------------------------------------------


def with_overrides(
    inputs: ChipInputs, assume_pd: float | None, die_area_mm2: float | None
) -> ChipInputs:
    """Apply ``--die-area`` / ``--assume-pd``: the user decides an input the data leaves open."""
    if die_area_mm2 is not None:
        if die_area_mm2 <= 0:
            raise ControlsInputError(f"die area must be > 0 mm2 (got {die_area_mm2})")
        pd = inputs.tpp / die_area_mm2 if inputs.tpp is not None else None
        iv = InputValue(
            field="die_area_mm2",
            value=die_area_mm2,
            unit="mm2",
            source="user override (--die-area)",
        )
        inputs = inputs.model_copy(
            update={
                "die_area_mm2": die_area_mm2,
                "performance_density": pd,
                "inputs": [*inputs.inputs, iv],
            }
        )
    if assume_pd is not None:
        if assume_pd < 0:
            raise ControlsInputError(f"performance density must not be negative (got {assume_pd})")
        iv = InputValue(
            field="performance_density", value=assume_pd, source="user assumption (--assume-pd)"
        )
        inputs = inputs.model_copy(
            update={"performance_density": assume_pd, "inputs": [*inputs.inputs, iv]}
        )
    return inputs


# -- step 1: release ------------------------------------------------------------------------------


def release_date(chip: Accelerator | ChipSpec | ChipInputs) -> tuple[dt.date | None, bool]:
    """First day of the chip's release month (catalog chips only) and whether it is unverified."""
    if not isinstance(chip, Accelerator):
        return None, False
    y, m = (int(x) for x in str(chip.released.value).split("-")[:2])
    return dt.date(y, m, 1), bool(chip.released.unverified)


# -- step 2: items ------------------------------------------------------------------------------


class ItemsFinding(BaseModel):
    eccn: str | None
    met: list[str]
    undetermined: list[str]
    excluded_by: str | None
    open_exclusions: list[str] = Field(default_factory=list)
    tests: list[ThresholdCheck]
    citations: list[str]
    notes: list[str]
    paragraph_ids: set[str]


def items_text(
    on: dt.date, rb: RuleBook, kind: str
) -> tuple[list[tuple[RuleSet, Paragraph]], list[tuple[RuleSet, Exclusion]], list[str]]:
    """The ECCN paragraphs and exclusions in force (replace / amend, oldest first), with notes."""
    paragraphs: list[tuple[RuleSet, Paragraph]] = []
    exclusions: list[tuple[RuleSet, Exclusion]] = []
    notes: list[str] = []
    for r in rule_sets_in_force(on, rb):
        if r.items is None:
            continue
        if r.items.mode == "replace":
            paragraphs, exclusions = [], []
        paragraphs += [(r, p) for p in r.items.paragraphs]
        exclusions += [(r, e) for e in r.items.exclusions]
        notes += [f"{r.short}: {n.text}" for n in r.items.notes if kind in n.applies_to]
    return paragraphs, exclusions, notes


def classify_items(inputs: ChipInputs, on: dt.date, rb: RuleBook) -> ItemsFinding:
    """Exclusions first (e.g. Note 2 to 3A090), then each paragraph's tests."""
    paragraphs, exclusions, notes = items_text(on, rb, inputs.kind)
    tests: list[ThresholdCheck] = []
    citations: list[str] = []
    excluded_by = None
    open_exclusions: list[str] = []
    for r, e in exclusions:
        if e.datacenter is not None and e.datacenter != inputs.datacenter:
            continue
        cs = [unverified_at_the_line(check(t, e.id, inputs), inputs) for t in e.all]
        tests += cs
        if all_pass(cs):
            excluded_by = e.id
            citations.append(f"{e.id}: {r.cite(e.cite)}")
            notes.append(f"Excluded by {e.id}: {e.text}")
        elif all_pass(cs) is None:
            open_exclusions.append(e.id)
            notes.append(
                f"{e.id} could not be decided (unknown or unverified inputs at its line): the "
                "paragraphs it would exclude stay open."
            )
    met: list[str] = []
    undetermined: list[str] = []
    for r, p in paragraphs:
        if p.applies_to != inputs.kind:
            continue
        cs = [unverified_at_the_line(check(t, p.id, inputs), inputs) for t in p.all]
        tests += cs
        ok = all_pass(cs)
        citations.append(f"{p.id}: {r.cite(p.cite)}")
        if ok and not excluded_by and not open_exclusions:
            met.append(p.id)
        elif ok is not False and not excluded_by:
            undetermined.append(p.id)
    return ItemsFinding(
        eccn=met[0] if met else None,
        met=met,
        undetermined=undetermined,
        excluded_by=excluded_by,
        open_exclusions=open_exclusions,
        tests=tests,
        citations=citations,
        notes=notes,
        paragraph_ids={p.id for _, p in paragraphs},
    )


# -- step 6: outcomes under missing inputs ------------------------------------------------------


def outcomes(
    items: ItemsFinding,
    juris: Jurisdiction,
    lic_for: dict[str | None, LicensingFinding],
) -> list[Outcome]:
    """Every licensing answer the open inputs allow (paragraph met or not; EAR reach)."""
    eccns: list[str | None] = [items.eccn] if items.eccn else [None]
    if not items.eccn:
        eccns += items.undetermined
    subjects = [juris.subject_to_ear] if juris.subject_to_ear is not None else [True, False]
    out: list[Outcome] = []
    if False in subjects:
        out.append(
            Outcome(
                assumption="not subject to the EAR",
                eccn=None,
                subject_to_ear=False,
                license_required=False,
                licensing_policy=Policy.none.value,
            )
        )
    for subject in subjects:
        for e in eccns:
            if subject is False:
                continue
            f = lic_for.get(e) or next(iter(lic_for.values()))
            what = f"meets {e}" if e and e != items.eccn else (e or "no 3A090 paragraph")
            if juris.subject_to_ear is None:
                what += "; subject to the EAR"
            out.append(
                Outcome(
                    assumption=what,
                    eccn=e,
                    subject_to_ear=subject,
                    license_required=f.license_required,
                    licensing_policy=f.policy.value,
                )
            )
    return out


def missing_inputs(items: ItemsFinding, juris: Jurisdiction) -> list[str]:
    """What would decide the open tests: an unknown value, or a verified one at the line."""
    out: list[str] = []
    open_scopes = {*items.undetermined, *items.open_exclusions}
    for t in items.tests:
        if t.passed is not None or t.scope not in open_scopes:
            continue
        if t.value is None:
            out.append(MISSING_INPUT.get(t.metric, t.metric))
        else:
            out.append(
                f"a verified {t.label} ({fmt_num(t.value)} is unverified and within "
                f"{NEAR_PCT:.0f}% of {fmt_num(t.threshold)})"
            )
    return list(dict.fromkeys(out)) + (juris.missing if juris.subject_to_ear is None else [])


class Decision(BaseModel):
    outcomes: list[Outcome]
    determined: bool
    license_required: bool | None
    missing: list[str]
    notes: list[str]


def decide(
    items: ItemsFinding,
    juris: Jurisdiction,
    lic_for: dict[str | None, LicensingFinding],
    primary: LicensingFinding,
) -> Decision:
    """Determined when every outcome the open inputs allow gives the same licence answer;
    otherwise null, with what is missing."""
    outs = outcomes(items, juris, lic_for)
    decided = {o.license_required for o in outs}
    determined = len(decided) == 1
    license_required = decided.pop() if determined else None
    notes: list[str] = []
    missing: list[str] = []
    if not determined:
        missing = missing_inputs(items, juris)
        notes.append(
            "Undetermined: the outcome depends on "
            + "; ".join(missing)
            + ". Give the value (e.g. --die-area or --assume-pd) to decide it."
        )
    elif items.undetermined and not items.met:
        notes.append(
            f"{', '.join(items.undetermined)} depend on unknown inputs, but every outcome gives "
            f"the same license answer ({'required' if license_required else 'not required'})."
        )
    if juris.subject_to_ear is False:
        notes.append("Not subject to the EAR: no US license requirement.")
    if determined and juris.subject_to_ear is None and primary.policy is not Policy.none:
        notes.append(
            f"Policy {primary.policy.value} applies if the chip is subject to the EAR "
            "(undetermined); if it is not, nothing applies."
        )
    return Decision(
        outcomes=outs,
        determined=determined,
        license_required=license_required,
        missing=missing,
        notes=notes,
    )


# -- step 7: warnings and notes -----------------------------------------------------------------


def near_threshold_warnings(tests: list[ThresholdCheck], paragraph_ids: set[str]) -> list[str]:
    """Values within ~3% of a line, for the ECCN paragraphs and the review-policy bands alike."""
    out = []
    for c in tests:
        if not c.near:
            continue
        kind = "ECCN threshold" if c.scope in paragraph_ids else "review-policy or band line"
        tail = (
            f" Vendor-published TPPs differ from datasheet arithmetic by up to ~{NEAR_PCT:.0f}%."
            if c.metric == Metric.tpp.value
            else ""
        )
        out.append(f"Near a {kind}: {c.text}.{tail}")
    return list(dict.fromkeys(out))


def nearest_checks(tests: list[ThresholdCheck], paragraph_ids: set[str]) -> list[ThresholdCheck]:
    nearest: dict[str, ThresholdCheck] = {}
    for c in tests:
        if c.margin_pct is None or c.scope not in paragraph_ids:
            continue
        best = nearest.get(c.metric)
        if best is None or abs(c.margin_pct) < abs(best.margin_pct or 0):
            nearest[c.metric] = c
    return list(nearest.values())


def data_notes(
    inputs: ChipInputs, code: str, country_note: str | None, on: dt.date, rb: RuleBook
) -> list[str]:
    notes = [
        f"Input {i.field} = {i.value} is unverified ({i.source})."
        for i in inputs.inputs
        if i.unverified
    ]
    ug = dst.unverified_groups(code, on, rb)
    if ug:
        notes.append(
            f"Country-group membership of {code} ({', '.join(ug)}) was entered from "
            "secondary sources (unverified)."
        )
    if code == "US":
        notes.append("Destination is the United States: not an export.")
    if country_note:
        notes.append(country_note)
    for r in rule_sets_in_force(on, rb):
        if not r.items and not r.licensing:
            notes += [f"{r.short}: {n}" for n in r.notes]
    return notes


def shipment_measures(inputs: ChipInputs, ship: Shipment, on: dt.date, rb: RuleBook) -> list[str]:
    """Measures of the country the item leaves (e.g. Malaysia's permit rule): not US law."""
    return [
        f"{m.title} ({m.authority}, from {m.date}; {m.source}): the country the item leaves, "
        "not US law"
        for m in rb.measures
        if m.applies_to == "shipments_from"
        and m.country == ship.origin
        and m.current(on)
        and m.covers(inputs.id, inputs.vendor, inputs.vendor_country)
    ]


def _rulebook(rules: RuleBook | None, ws: Workspace | None) -> RuleBook:
    """The workspace's rulebook, or an explicit derived one (e.g. with proposed rule sets)."""
    return rules if rules is not None else resolve(ws).rulebook


def classify(
    chip: Accelerator | ChipSpec | ChipInputs,
    on: dt.date | None = None,
    destination: str = "CN",
    headquarters: str | None = None,
    *,
    rules: RuleBook | None = None,
    parent_headquarters: str | None = None,
    end_user: str | None = None,
    owned_by_listed: bool = False,
    transaction: str | None = None,
    origin: str | None = None,
    assume_pd: float | None = None,
    die_area_mm2: float | None = None,
    ws: Workspace | None = None,
) -> Classification:
    """Classify a chip under the US rules legally in force on a date, for a shipment and parties.

    ``headquarters`` / ``parent_headquarters`` (ISO codes): where the purchaser, consignee or end
    user (or its ultimate parent) is headquartered; ``end_user`` is screened against the
    packaged Entity List subset; ``origin`` / ``transaction``: export from the US (default),
    reexport or in-country transfer. None for a party leaves the headquarters rules unevaluated
    (stated in ``assumptions``). The rules are the workspace's rulebook (packaged plus user
    rules files); ``rules`` replaces it with a derived rulebook (e.g. proposed rule sets).
    """
    rb = _rulebook(rules, ws)
    on = on or dt.date.today()
    check_date(on)
    inputs = with_overrides(chip_inputs(chip), assume_pd, die_area_mm2)
    if inputs.tpp is not None and inputs.tpp < 0:
        raise ControlsInputError(f"TPP must not be negative (got {inputs.tpp})")
    country = dst.resolve(destination, rb)
    code = dst.effective_code(country)
    ship = shipment(code, origin, transaction, rb)
    who = parties(on, rb, headquarters, parent_headquarters, end_user, owned_by_listed)

    released, release_unverified = release_date(chip)
    if released is not None and on < released:
        return _not_released(
            inputs, on, country.id, country.name, ship, who, released, release_unverified, rb
        )

    items = classify_items(inputs, on, rb)
    meets: bool | None = bool(items.met) or (None if items.undetermined else False)
    juris = jurisdiction(inputs, meets, on, rb)

    lic_for: dict[str | None, LicensingFinding] = {}
    for e in [items.eccn, *([] if items.eccn else items.undetermined)]:
        lic_for[e] = licensing(e, inputs, ship, who, on, rb)
    primary = lic_for[items.eccn]
    if juris.basis == "gp10_guidance" and juris.license_required:
        primary = _gp10(primary, juris)
        lic_for = {items.eccn: primary}
    d = decide(items, juris, lic_for, primary)
    outs, determined, license_required, missing = (
        d.outcomes,
        d.determined,
        d.license_required,
        d.missing,
    )
    notes = list(inputs.notes) + items.notes + primary.notes + who.notes + d.notes
    tests = items.tests + [t for f in lic_for.values() for t in f.tests]
    policy = primary.policy.value if determined else "undetermined"
    tpp_range = (
        [inputs.tpp_low, inputs.tpp_high]
        if inputs.tpp_low is not None and inputs.tpp_high is not None
        else None
    )
    return Classification(
        chip=inputs.id or inputs.name,
        chip_name=inputs.name,
        date=on,
        status="determined" if determined else "undetermined",
        destination=country.id,
        destination_name=country.name,
        origin=ship.origin,
        transaction=ship.transaction.value,
        headquarters=who.headquarters,
        parent_headquarters=who.parent_headquarters,
        end_user=who.end_user,
        screening=who.hits + who.possible,
        jurisdiction=juris,
        rule_sets=[_ref(r, on) for r in rule_sets_in_force(on, rb)],
        eccn=items.eccn,
        paragraphs_met=items.met,
        undetermined=items.undetermined,
        excluded_by=items.excluded_by,
        controlled=(bool(items.met) or bool(license_required)) if determined or items.met else None,
        control_level=_level(items.eccn),
        datacenter=inputs.datacenter,
        tpp=inputs.tpp,
        tpp_precision=inputs.tpp_precision,
        tpp_range=tpp_range,  # type: ignore[arg-type]
        performance_density=inputs.performance_density,
        die_area_mm2=inputs.die_area_mm2,
        io_bidir_gbs=inputs.io_bidir_gbs,
        dram_bw_gbs=inputs.dram_bw_gbs,
        license_required=license_required,
        licensing_policy=policy,
        presumption_of_denial=(primary.policy is Policy.presumption_of_denial)
        if determined
        else None,
        license_exception=primary.exception if determined else None,
        licensing_basis=primary.basis if determined else None,
        licensing_basis_kind=primary.basis_kind if determined else "none",
        missing_inputs=missing,
        outcomes=outs if len(outs) > 1 else [],
        assumptions=primary.assumptions,
        conditions=primary.conditions,
        actions=primary.actions,
        context=[n.removeprefix("Context: ") for n in notes if n.startswith("Context: ")]
        + legal_context(on, rb)
        + shipment_measures(inputs, ship, on, rb),
        warnings=near_threshold_warnings(tests, items.paragraph_ids),
        market_access=(
            market_access(chip, on, market=code, ws=ws, rules=rb)
            if isinstance(chip, Accelerator) and any(m.country == code for m in rb.measures)
            else None
        ),
        tests=tests,
        nearest=nearest_checks(tests, items.paragraph_ids),
        citations=list(
            dict.fromkeys(
                items.citations
                + primary.citations
                + juris.citations
                + [
                    f"{r.short}: {r.fr_citation or ''} (FR Doc. {r.fr_doc}) {r.url or ''}".strip()
                    for r in rule_sets_in_force(on, rb)
                ]
            )
        ),
        notes=list(
            dict.fromkeys(
                [n for n in notes if not n.startswith("Context: ")]
                + data_notes(
                    inputs,
                    code,
                    f"{country.name} is treated as {country.treated_as} under the EAR."
                    if country.treated_as
                    else None,
                    on,
                    rb,
                )
            )
        ),
        inputs=[i.model_dump(mode="json") for i in inputs.inputs],
        data_hash=rb.data_hash,
    )


def _gp10(f: LicensingFinding, juris: Jurisdiction) -> LicensingFinding:
    """A PRC-made chip named by the GP10 guidance: BIS authorization for any dealing, anywhere."""
    return LicensingFinding(
        license_required=True,
        policy=Policy.not_stated,
        basis="General Prohibition 10 (BIS guidance of 2025-05-13 on PRC advanced computing ICs)",
        basis_kind="gp10",
        citations=juris.citations,
        notes=[
            "PRC-made: the US-origin destination and headquarters rules do not set this answer; "
            "BIS's GP10 guidance does (no license exception; technical analysis excepted).",
            *[n for n in f.notes if not n.startswith("Context: ")],
        ],
        assumptions=[],
    )


def _not_released(
    inputs: ChipInputs,
    on: dt.date,
    dest: str,
    dest_name: str,
    ship: Shipment,
    who: Parties,
    released: dt.date,
    unverified: bool,
    rb: RuleBook,
) -> Classification:
    note = f"{inputs.name} was not released on {on} (released {released:%Y-%m}"
    note += ", month unverified)" if unverified else ")"
    return Classification(
        chip=inputs.id or inputs.name,
        chip_name=inputs.name,
        date=on,
        status="not_released",
        destination=dest,
        destination_name=dest_name,
        origin=ship.origin,
        transaction=ship.transaction.value,
        headquarters=who.headquarters,
        parent_headquarters=who.parent_headquarters,
        end_user=who.end_user,
        rule_sets=[_ref(r, on) for r in rule_sets_in_force(on, rb)],
        eccn=None,
        paragraphs_met=[],
        undetermined=[],
        controlled=None,
        control_level=0,
        datacenter=inputs.datacenter,
        tpp=inputs.tpp,
        tpp_precision=inputs.tpp_precision,
        performance_density=inputs.performance_density,
        die_area_mm2=inputs.die_area_mm2,
        io_bidir_gbs=inputs.io_bidir_gbs,
        dram_bw_gbs=inputs.dram_bw_gbs,
        license_required=None,
        licensing_policy="not_released",
        licensing_basis=None,
        conditions=[],
        actions=[],
        tests=[],
        nearest=[],
        citations=[],
        notes=[note + ": no ruling."],
        inputs=[i.model_dump(mode="json") for i in inputs.inputs],
        data_hash=rb.data_hash,
    )


__all__ = [
    "Classification",
    "Outcome",
    "ThresholdCheck",
    "classify",
    "check",
    "fmt_num",
    "Cmp",
    "Metric",
]
