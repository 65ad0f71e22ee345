"""Rule sets, chip-specific actions and country groups as typed, versioned data.

Everything numeric about the export controls lives in ``data/rules/`` (YAML); this module only
defines the schema and loads it. The classifier interprets it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chipwatch.catalog.loader import LoadError, load_records, packaged_dir, yaml_files


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Metric(StrEnum):
    """Quantities a threshold can test, with their units."""

    tpp = "tpp"
    performance_density = "performance_density"
    io_bidir_gbs = "io_bidir_gbs"
    scaleup_bidir_gbs = "scaleup_bidir_gbs"
    dram_bw_gbs = "dram_bw_gbs"
    memory_bandwidth_density = "memory_bandwidth_density"


METRIC_LABEL = {
    Metric.tpp: "TPP",
    Metric.performance_density: "PD",
    Metric.io_bidir_gbs: "I/O (GB/s, bidirectional)",
    Metric.scaleup_bidir_gbs: "chip-to-chip interconnect (GB/s, bidirectional)",
    Metric.dram_bw_gbs: "DRAM bandwidth (GB/s)",
    Metric.memory_bandwidth_density: "memory bandwidth density (GB/s/mm2)",
}


class Cmp(StrEnum):
    """How a value is compared with a threshold, as the rule words it."""

    ge = "ge"  # "of X or more"
    gt = "gt"  # "greater than X"
    le = "le"  # "X or less"
    lt = "lt"  # "less than X"

    @property
    def symbol(self) -> str:
        return {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}[self.value]

    def holds(self, value: float, threshold: float) -> bool:
        if self is Cmp.ge:
            return value >= threshold
        if self is Cmp.gt:
            return value > threshold
        if self is Cmp.le:
            return value <= threshold
        return value < threshold


class Policy(StrEnum):
    """Licensing outcome vocabulary, from least to most restrictive (see POLICY_RANK)."""

    none = "none"  # no license requirement for this destination
    license_exception_aia = "license_exception_aia"
    license_exception_aca = "license_exception_aca"
    license_exception_nac = "license_exception_nac"
    presumption_of_approval = "presumption_of_approval"
    approval_with_conditions = "approval_with_conditions"
    case_by_case = "case_by_case"
    not_stated = "not_stated"  # a license is required; no published review policy
    presumption_of_denial = "presumption_of_denial"


POLICY_RANK = {p: i for i, p in enumerate(Policy)}


class LegalStatus(StrEnum):
    """Where a rule or action stands in law on a date. Only ``in_force`` items are applied."""

    announced = "announced"  # announced, not (yet) implemented by a rule or licence
    in_force = "in_force"
    not_enforced = "not_enforced"  # on the books, but the agency said it will not enforce it
    suspended = "suspended"  # stayed for a stated window
    rescinded = "rescinded"  # formally withdrawn
    superseded = "superseded"  # replaced by a later rule (its text no longer applies)


class StatusEvent(Strict):
    """From ``date`` on, the item has ``status`` (until the next event)."""

    date: dt.date
    status: LegalStatus
    source: str | None = None
    note: str | None = None
    unverified: bool = False


class Transaction(StrEnum):
    """EAR transaction types (15 CFR 734.14-734.16)."""

    export = "export"  # shipment out of the United States
    reexport = "reexport"  # from one foreign country to another
    transfer = "transfer"  # in-country transfer (change of end use or end user)


class Test(Strict):
    """One threshold: ``metric cmp value`` (e.g. tpp ge 4800 = 'TPP of 4800 or more')."""

    metric: Metric
    cmp: Cmp
    value: float
    text: str = Field(min_length=1, description="the rule's own words for this threshold")


class Paragraph(Strict):
    """An ECCN paragraph: met when every test holds."""

    id: str
    label: str | None = None
    applies_to: Literal["ic", "hbm"] = "ic"
    all: list[Test] = Field(min_length=1)
    text: str
    cite: str | None = None


class Exclusion(Strict):
    """A note that takes an item out of the ECCN (e.g. Note 2 to 3A090)."""

    id: str
    datacenter: bool | None = None
    all: list[Test] = Field(default_factory=list)
    text: str
    cite: str | None = None


ItemKind = Literal["ic", "hbm"]


def _ic_only() -> list[ItemKind]:
    return ["ic"]


class ItemNote(Strict):
    """A note on the items text, shown for the item kinds it concerns."""

    text: str
    applies_to: list[ItemKind] = Field(default_factory=_ic_only)


class Items(Strict):
    mode: Literal["replace", "amend"] = "replace"
    eccn: str = "3A090"
    paragraphs: list[Paragraph] = Field(default_factory=list)
    exclusions: list[Exclusion] = Field(default_factory=list)
    notes: list[ItemNote] = Field(default_factory=list)

    @field_validator("notes", mode="before")
    @classmethod
    def _plain_notes(cls, v: object) -> object:
        if isinstance(v, list):
            return [{"text": n} if isinstance(n, str) else n for n in v]
        return v


class Where(Strict):
    """A set of destinations: any / codes / groups, minus except_* ."""

    any: bool = False
    codes: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    except_codes: list[str] = Field(default_factory=list)
    except_groups: list[str] = Field(default_factory=list)


class ItemMatch(Strict):
    paragraph: str = Field(description="paragraph prefix, e.g. '3A090.a' or '3A090'")
    datacenter: bool | None = None


class LicenseRule(Strict):
    id: str
    items: list[ItemMatch] = Field(min_length=1)
    destination: Where
    headquarters: Where | None = Field(
        default=None, description="applies only when a party is headquartered here"
    )
    tests: list[Test] = Field(default_factory=list)
    transactions: list[Transaction] = Field(
        default_factory=lambda: list(Transaction),
        description="transaction types the rule covers (default all)",
    )
    exported_from: Where | None = Field(
        default=None, description="only for shipments from here (e.g. exports from the US)"
    )
    license_required: bool
    policy: Policy
    exception: str | None = None
    conditions: list[str] = Field(default_factory=list)
    text: str
    cite: str | None = None
    unverified: bool = False
    note: str | None = None

    @property
    def basis(self) -> Literal["destination", "headquarters"]:
        """What the rule keys on: the destination, or where a party is headquartered."""
        return "headquarters" if self.headquarters is not None else "destination"


class Licensing(Strict):
    mode: Literal["replace", "amend"] = "replace"
    rules: list[LicenseRule] = Field(default_factory=list)


class RuleSet(Strict):
    id: str
    short: str
    title: str
    fr_doc: str | None = None
    fr_citation: str | None = None
    url: str | None = None
    published: dt.date | None = None
    effective: dt.date
    compliance: dt.date | None = None
    ends: dt.date | None = None
    ends_reason: str | None = None
    not_enforced_from: dt.date | None = None
    announced: dt.date | None = None
    status_history: list[StatusEvent] = Field(
        default_factory=list, description="legal-status changes beyond effective/ends"
    )
    date_note: str | None = None
    unverified: bool = False
    items: Items | None = None
    licensing: Licensing | None = None
    notes: list[str] = Field(default_factory=list)
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _dates_and_cites(self) -> RuleSet:
        if self.ends and self.ends <= self.effective:
            raise ValueError(f"ends ({self.ends}) must be after effective ({self.effective})")
        cites = [p.cite for p in (self.items.paragraphs if self.items else [])]
        cites += [e.cite for e in (self.items.exclusions if self.items else [])]
        cites += [r.cite for r in (self.licensing.rules if self.licensing else [])]
        for c in cites:
            if c is not None and c not in self.sources:
                raise ValueError(f"cite {c!r} is not in this rule set's 'sources' table")
        return self

    def status_events(self) -> list[StatusEvent]:
        """The rule set's legal history, oldest first."""
        ev = [
            StatusEvent(date=self.effective, status=LegalStatus.in_force, source=self.fr_citation)
        ]
        if self.announced and self.announced < self.effective:
            ev.append(StatusEvent(date=self.announced, status=LegalStatus.announced))
        if self.not_enforced_from:
            ev.append(StatusEvent(date=self.not_enforced_from, status=LegalStatus.not_enforced))
        if self.ends:
            ev.append(
                StatusEvent(date=self.ends, status=LegalStatus.superseded, note=self.ends_reason)
            )
        return sorted([*ev, *self.status_history], key=lambda e: e.date)

    def status_on(self, on: dt.date) -> StatusEvent | None:
        """The legal status on a date; None before anything was announced."""
        last = None
        for e in self.status_events():
            if e.date <= on:
                last = e
        return last

    def in_force(self, on: dt.date) -> bool:
        """Legally in force on this date (effective, not ended, suspended or unenforced)."""
        s = self.status_on(on)
        return s is not None and s.status is LegalStatus.in_force

    def licensing_applies(self, on: dt.date) -> bool:
        """Its licensing rules bind: in force and past any compliance date."""
        return self.in_force(on) and not (self.compliance and on < self.compliance)

    def cite(self, key: str | None) -> str:
        if key is None:
            return self.fr_citation or self.title
        return self.sources.get(key, key)


class Binds(Strict):
    """Which chips an action binds: by id, or by vendor + parameters as the letter says."""

    ids: list[str] = Field(default_factory=list)
    vendor: str | None = None
    all: list[Test] = Field(default_factory=list)
    any: list[Test] = Field(default_factory=list)
    parameters_text: str | None = None
    parameters_unverified: bool = False


class Action(Strict):
    id: str
    kind: Literal["is_informed_letter", "licensing_decision", "announcement", "guidance", "tariff"]
    title: str
    date: dt.date
    date_unverified: bool = False
    ends: dt.date | None = None
    ends_reason: str | None = None
    in_force_from: dt.date | None = Field(
        default=None, description="for an announcement: when a rule or licence implemented it"
    )
    confidence: Literal["high", "medium", "low"] = "medium"
    binds: Binds
    destination: Where
    headquarters: Where | None = None
    license_required: bool
    policy: Policy | None = None
    policy_unverified: bool = False
    conditions: list[str] = Field(default_factory=list)
    source: str
    note: str | None = None

    def current(self, on: dt.date) -> bool:
        """Announced or in force on this date (and not ended)."""
        return self.date <= on and not (self.ends and on >= self.ends)

    @property
    def legal_status(self) -> LegalStatus:
        """An announcement is not a licensing policy; letters, licences and guidance bind."""
        return LegalStatus.announced if self.kind == "announcement" else LegalStatus.in_force

    @property
    def licensing(self) -> bool:
        """Whether the action sets a license requirement or review policy (a tariff does not)."""
        return self.kind not in ("tariff", "announcement")

    def in_force(self, on: dt.date) -> bool:
        return self.current(on) and self.legal_status is LegalStatus.in_force

    def context(self) -> str:
        """One line on the action's legal standing, e.g. for an announcement not yet in law."""
        if self.kind == "announcement":
            s = f"announced {self.date}"
            if self.in_force_from:
                s += f", in force from {self.in_force_from}"
            if self.ends_reason:
                s += f" ({self.ends_reason})"
            return s + "; not a licensing policy until implemented"
        if self.kind == "tariff":
            return f"{self.date}: a tariff, not a license condition"
        return f"{self.kind.replace('_', ' ')} of {self.date}"


class GroupMember(Strict):
    code: str
    from_: dt.date | None = Field(default=None, alias="from")
    until: dt.date | None = None
    note: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def on(self, d: dt.date) -> bool:
        return (self.from_ is None or d >= self.from_) and (self.until is None or d < self.until)


class CountryGroup(Strict):
    id: str
    name: str
    source: str
    unverified: bool = False
    note: str | None = None
    members: list[GroupMember]

    @field_validator("members", mode="before")
    @classmethod
    def _codes(cls, v: object) -> object:
        if isinstance(v, list):
            return [{"code": m} if isinstance(m, str) else m for m in v]
        return v


class Country(Strict):
    id: str = Field(pattern=r"^[A-Z]{2}$")
    name: str
    alpha_3: str
    treated_as: str | None = None
    note: str | None = None


class ListedEntity(Strict):
    """An Entity List (or MEU) entry relevant to AI chips, with its citation."""

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    country: str
    listing: Literal["entity_list", "meu"] = "entity_list"
    affiliate_of: str | None = None
    added: dt.date
    removed: dt.date | None = None
    fr_citation: str
    license_requirement: str
    policy: Policy
    fdp: str | None = None
    confidence: Literal["high", "medium", "low"]
    source: str

    def listed(self, on: dt.date) -> bool:
        return self.added <= on and not (self.removed and on >= self.removed)


class JurisdictionRule(Strict):
    """A way a foreign-made chip becomes subject to the EAR (guidance, FDP rule, de minimis)."""

    id: str
    kind: Literal["gp10_guidance", "fdp", "de_minimis"]
    title: str
    date: dt.date
    ends: dt.date | None = None
    vendor_countries: list[str] = Field(default_factory=list, description="'any' for all")
    vendors: list[str] = Field(default_factory=list)
    named_ids: list[str] = Field(default_factory=list)
    needs_3a090: bool = False
    subject_to_ear: bool | None
    license_required: bool | None = None
    text: str
    confidence: Literal["high", "medium", "low"]
    source: str

    def current(self, on: dt.date) -> bool:
        return self.date <= on and not (self.ends and on >= self.ends)

    def covers(self, chip_id: str | None, vendor: str | None, vendor_country: str | None) -> bool:
        if chip_id and chip_id in self.named_ids:
            return True
        if vendor and vendor in self.vendors:
            return True
        return bool(
            self.vendor_countries
            and ("any" in self.vendor_countries or vendor_country in self.vendor_countries)
        )


class Measure(Strict):
    """A non-US measure on buying or moving AI chips (PRC purchase guidance, customs, permits)."""

    id: str
    country: str
    authority: str
    title: str
    date: dt.date
    date_unverified: bool = False
    ends: dt.date | None = None
    chips: list[str] = Field(default_factory=list)
    vendors: list[str] = Field(default_factory=list)
    vendor_countries: list[str] = Field(default_factory=list)
    vendor_countries_not: list[str] = Field(default_factory=list)
    effect: Literal[
        "block", "discourage", "restrict_segment", "scrutiny", "conditional", "permit_required"
    ]
    segment: str | None = None
    applies_to: Literal["imports", "shipments_from"] = "imports"
    supersedes: list[str] = Field(default_factory=list)
    confidence: Literal["high", "medium", "low"]
    source: str
    note: str | None = None

    def current(self, on: dt.date) -> bool:
        return self.date <= on and not (self.ends and on >= self.ends)

    def covers(self, chip_id: str | None, vendor: str | None, vendor_country: str | None) -> bool:
        if self.chips:
            return bool(chip_id and chip_id in self.chips)
        if self.vendors:
            return bool(vendor and vendor in self.vendors)
        if self.vendor_countries and vendor_country not in self.vendor_countries:
            return False
        return not (self.vendor_countries_not and vendor_country in self.vendor_countries_not)


class RuleBook(BaseModel):
    """All the control data, loaded once: rule sets by date, actions, groups, countries."""

    model_config = ConfigDict(frozen=True)

    rule_sets: list[RuleSet]
    actions: list[Action]
    groups: dict[str, CountryGroup]
    countries: dict[str, Country]
    entities: list[ListedEntity] = Field(default_factory=list)
    jurisdiction: list[JurisdictionRule] = Field(default_factory=list)
    measures: list[Measure] = Field(default_factory=list)
    proposed: list[RuleSet] = Field(
        default_factory=list,
        description="proposed rule sets from user folders (DIR/rules/proposed): never applied, "
        "shown as an overlay and by `rules propose`",
    )
    data_hash: str
    errors: list[str] = Field(default_factory=list)

    def rule_set(self, rid: str) -> RuleSet:
        for r in self.rule_sets:
            if r.id == rid:
                return r
        raise KeyError(rid)

    def change_dates(self) -> list[dt.date]:
        """Every date on which something in the data starts or stops applying."""
        ds: set[dt.date] = set()
        for r in self.rule_sets:
            for d in (r.effective, r.compliance, r.ends, r.not_enforced_from):
                if d:
                    ds.add(d)
        for r in self.rule_sets:
            ds.update(e.date for e in r.status_history)
        for a in self.actions:
            ds.add(a.date)
            if a.ends:
                ds.add(a.ends)
        for g in self.groups.values():
            for m in g.members:
                for d in (m.from_, m.until):
                    if d:
                        ds.add(d)
        return sorted(ds)


def rules_data_hash(extra_dirs: Iterable[str | Path] = ()) -> str:
    """sha256 (first 12 hex) over the packaged rules YAML, so a memo names its data version."""
    h = hashlib.sha256()
    base = packaged_dir("rules")
    files = yaml_files(base)
    for d in extra_dirs:
        if (Path(d) / "rules").is_dir():
            files += yaml_files(Path(d) / "rules")
    for f in files:
        h.update(str(f.relative_to(f.parents[1])).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def _fmt(errors: list[LoadError]) -> list[str]:
    return [str(e) for e in errors]


@lru_cache(maxsize=8)
def _load(extra: tuple[str, ...], env: bool = True) -> RuleBook:
    sets = load_records("rules/sets", RuleSet, extra, env)
    acts = load_records("rules/actions", Action, extra, env)
    groups = load_records("rules/groups", CountryGroup, extra, env)
    countries = load_records("rules/countries", Country, extra, env)
    entities = load_records("rules/entities", ListedEntity, extra, env)
    juris = load_records("rules/jurisdiction", JurisdictionRule, extra, env)
    measures = load_records("rules/measures", Measure, extra, env)
    proposed = load_records("rules/proposed", RuleSet, extra, env)
    errors = [
        _fmt(x.errors) for x in (sets, acts, groups, countries, entities, juris, measures, proposed)
    ]
    return RuleBook(
        rule_sets=sorted(sets.records.values(), key=lambda r: (r.effective, r.id)),
        actions=sorted(acts.records.values(), key=lambda a: (a.date, a.id)),
        groups=groups.records,
        countries=countries.records,
        entities=sorted(entities.records.values(), key=lambda e: e.id),
        jurisdiction=sorted(juris.records.values(), key=lambda j: (j.date, j.id)),
        measures=sorted(measures.records.values(), key=lambda m: (m.date, m.id)),
        proposed=sorted(proposed.records.values(), key=lambda r: (r.effective, r.id)),
        data_hash=rules_data_hash(extra),
        errors=[e for es in errors for e in es],
    )


# User-extensible kinds for ``chipwatch validate``: DIR/rules/sets/, DIR/rules/actions/.
USER_KINDS: dict[str, type[BaseModel]] = {
    "rules/sets": RuleSet,
    "rules/actions": Action,
    "rules/entities": ListedEntity,
    "rules/measures": Measure,
    "rules/proposed": RuleSet,
}


def load_rulebook(extra_dirs: Iterable[str | Path] = (), env: bool = True) -> RuleBook:
    """The packaged rule data plus user folders (``DIR/rules/sets``, ``DIR/rules/actions``;
    ``CHIPWATCH_PATH`` first unless ``env`` is False)."""
    return _load(tuple(str(d) for d in extra_dirs), env)
