"""The control frontier: for a die area and date, the largest TPP that stays outside each
controlled paragraph, and the thresholds in force as regions for drawing.

At a fixed applicable die area A, PD = TPP / A, so every PD threshold p becomes a TPP threshold
p x A and each paragraph is an interval of TPP.
"""

from __future__ import annotations

import datetime as dt
import math

from pydantic import BaseModel, Field, computed_field

from chipwatch.controls.classifier import check_date, items_text, rule_sets_in_force
from chipwatch.controls.errors import ControlsInputError
from chipwatch.controls.rules import (
    Cmp,
    Exclusion,
    Metric,
    Paragraph,
    RuleBook,
    Test,
)
from chipwatch.workspace import Workspace, resolve

BITS = {"bf16": 16, "fp8": 8}


class Bound(BaseModel):
    value: float
    inclusive: bool
    source: str = Field(description="the test that sets it, in the rule's words")


class Interval(BaseModel):
    """A set of TPP values: lo <(=) TPP <(=) hi; hi None = unbounded."""

    lo: Bound | None
    hi: Bound | None

    def empty(self) -> bool:
        if self.lo is None or self.hi is None:
            return False
        if self.lo.value > self.hi.value:
            return True
        return self.lo.value == self.hi.value and not (self.lo.inclusive and self.hi.inclusive)


def _tighten_lo(a: Bound | None, b: Bound) -> Bound:
    if a is None or b.value > a.value or (b.value == a.value and not b.inclusive):
        return b
    return a


def _tighten_hi(a: Bound | None, b: Bound) -> Bound:
    if a is None or b.value < a.value or (b.value == a.value and not b.inclusive):
        return b
    return a


def tpp_interval(
    tests: list[Test], area_mm2: float, others: dict[str, float | None], scope: str
) -> tuple[Interval | None, list[str]]:
    """The TPP values meeting all tests at this die area (None if a non-TPP test fails)."""
    lo: Bound | None = None
    hi: Bound | None = None
    notes: list[str] = []
    for t in tests:
        if t.metric in (Metric.tpp, Metric.performance_density):
            scale = area_mm2 if t.metric is Metric.performance_density else 1.0
            v = t.value * scale
            src = f"{scope}: {t.text}" + (
                f" (PD {t.value:g} x {area_mm2:g} mm2 = TPP {v:,.1f})" if scale != 1.0 else ""
            )
            if t.cmp in (Cmp.ge, Cmp.gt):
                lo = _tighten_lo(lo, Bound(value=v, inclusive=t.cmp is Cmp.ge, source=src))
            else:
                hi = _tighten_hi(hi, Bound(value=v, inclusive=t.cmp is Cmp.le, source=src))
            continue
        value = others.get(t.metric.value)
        if value is None:
            notes.append(f"{scope} also needs {t.text}; not given, assumed met (worst case).")
        elif not t.cmp.holds(value, t.value):
            return None, [f"{scope} cannot be met: {t.text} fails for the given value {value:g}."]
    iv = Interval(lo=lo, hi=hi)
    return (None if iv.empty() else iv), notes


def _minus_lower_ray(p: Interval, excl: Interval) -> Interval | None:
    """P minus an exclusion of the form TPP < x (the only shape the rules use)."""
    if excl.hi is None:
        return None
    new_lo = Bound(value=excl.hi.value, inclusive=not excl.hi.inclusive, source=excl.hi.source)
    lo = (
        p.lo
        if p.lo
        and (p.lo.value > new_lo.value or (p.lo.value == new_lo.value and not p.lo.inclusive))
        else new_lo
    )
    iv = Interval(lo=lo, hi=p.hi)
    return None if iv.empty() else iv


class ParagraphFrontier(BaseModel):
    paragraph: str
    rule_set: str
    controlled_tpp: Interval | None = Field(description="TPP values meeting it at this area")
    max_uncontrolled_tpp: float | None = Field(
        description="TPP must stay below this (or at it if allowed) to stay outside the paragraph"
    )
    max_is_allowed: bool | None = Field(description="True if TPP equal to it is still outside")
    binding: str | None
    notes: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tflops_bf16_dense_max(self) -> float | None:
        """Dense BF16 TFLOPS at the frontier TPP (TPP / 16)."""
        t = self.max_uncontrolled_tpp
        return t / BITS["bf16"] if t is not None else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tflops_fp8_dense_max(self) -> float | None:
        """Dense FP8 TFLOPS at the frontier TPP (TPP / 8)."""
        t = self.max_uncontrolled_tpp
        return t / BITS["fp8"] if t is not None else None


class Frontier(BaseModel):
    die_area_mm2: float
    date: dt.date
    datacenter: bool
    rule_sets: list[str]
    paragraphs: list[ParagraphFrontier]
    max_uncontrolled_tpp: float | None
    max_is_allowed: bool | None
    binding_paragraph: str | None
    binding_threshold: str | None
    pd_at_max: float | None
    tflops_bf16_dense_max: float | None
    tflops_fp8_dense_max: float | None
    summary: str
    notes: list[str]


def _paragraphs(
    on: dt.date, rb: RuleBook
) -> tuple[list[tuple[str, Paragraph]], list[tuple[str, Exclusion]]]:
    """The IC paragraphs and exclusions in force (the classifier's items text)."""
    paras, excls, _ = items_text(on, rb, "ic")
    return [(r.id, p) for r, p in paras if p.applies_to == "ic"], [(r.id, e) for r, e in excls]


def exclusions_that_apply(
    excls: list[tuple[str, Exclusion]],
    area_mm2: float,
    datacenter: bool,
    others: dict[str, float | None],
) -> tuple[list[tuple[str, Interval]], list[str]]:
    """The exclusions (e.g. Note 2 to 3A090) that reach this kind of chip, as TPP intervals."""
    out: list[tuple[str, Interval]] = []
    notes: list[str] = []
    for _, e in excls:
        if e.datacenter is not None and e.datacenter != datacenter:
            continue
        iv, _n = tpp_interval(e.all, area_mm2, others, e.id)
        if iv is not None:
            out.append((e.id, iv))
            notes.append(f"{e.id} applies: {e.text}")
    return out, notes


def paragraph_frontier(
    rid: str,
    p: Paragraph,
    area_mm2: float,
    others: dict[str, float | None],
    excluded: list[tuple[str, Interval]],
) -> ParagraphFrontier:
    """The TPP values meeting one paragraph at this area, less the excluded ones; the frontier
    is the lower edge of what is left."""
    iv, notes = tpp_interval(p.all, area_mm2, others, p.id)
    for eid, ex in excluded:
        if iv is None:
            break
        iv = _minus_lower_ray(iv, ex)
        if (
            iv is not None
            and iv.lo is not None
            and ex.hi is not None
            and iv.lo.value == ex.hi.value
        ):
            notes.append(f"lower bound set by {eid}")
    if iv is None:
        return ParagraphFrontier(
            paragraph=p.id,
            rule_set=rid,
            controlled_tpp=None,
            max_uncontrolled_tpp=None,
            max_is_allowed=None,
            binding=None,
            notes=notes + ["cannot be met at this area"],
        )
    lo = iv.lo
    return ParagraphFrontier(
        paragraph=p.id,
        rule_set=rid,
        controlled_tpp=iv,
        max_uncontrolled_tpp=lo.value if lo else 0.0,
        max_is_allowed=(not lo.inclusive) if lo else False,
        binding=lo.source if lo else None,
        notes=notes,
    )


def lowest_frontier(out: list[ParagraphFrontier]) -> ParagraphFrontier | None:
    """The paragraph reached first as TPP grows: the one that binds."""
    met = [f for f in out if f.controlled_tpp is not None and f.max_uncontrolled_tpp is not None]
    return min(met, key=lambda f: (f.max_uncontrolled_tpp, f.max_is_allowed)) if met else None


def _summary(best: ParagraphFrontier | None, area_mm2: float, on: dt.date, datacenter: bool) -> str:
    if best is None or best.max_uncontrolled_tpp is None:
        return (
            f"No 3A090 paragraph can be met at {area_mm2:g} mm2 on {on} with the given "
            "inputs: TPP alone does not bring the chip under control."
        )
    mx = best.max_uncontrolled_tpp
    rel = "<=" if best.max_is_allowed else "<"
    return (
        f"At {area_mm2:g} mm2 on {on} ({'datacenter' if datacenter else 'non-datacenter'}"
        f"), a chip stays outside every 3A090 paragraph with TPP {rel} {mx:,.1f}: "
        f"dense BF16 {rel} {mx / 16:,.1f} TFLOPS or FP8 {rel} {mx / 8:,.1f} TFLOPS "
        f"(PD {rel} {mx / area_mm2:.3f}); binding: {best.binding}."
    )


def _upper_bound_notes(out: list[ParagraphFrontier]) -> list[str]:
    notes = []
    for f in out:
        hi = f.controlled_tpp.hi if f.controlled_tpp else None
        if hi is not None and f.max_uncontrolled_tpp is not None:
            notes.append(
                f"{f.paragraph} is bounded above ({hi.source}); TPP above it falls into a "
                "stricter paragraph, not outside control."
            )
    return notes


def frontier(
    die_area_mm2: float,
    on: dt.date | None = None,
    datacenter: bool = True,
    io_bidir_gbs: float | None = None,
    dram_bw_gbs: float | None = None,
    *,
    ws: Workspace | None = None,
) -> Frontier:
    """The largest TPP (and dense BF16/FP8 TFLOPS) that stays outside each controlled paragraph
    for a chip of this applicable die area, and which threshold binds: each paragraph's TPP
    interval at this area (PD x area), less the exclusions, and the lowest lower edge."""
    if not (die_area_mm2 > 0 and math.isfinite(die_area_mm2)):
        raise ControlsInputError(f"die area must be a positive number of mm2 (got {die_area_mm2})")
    rb = resolve(ws).rulebook
    on = on or dt.date.today()
    check_date(on)
    others = {"io_bidir_gbs": io_bidir_gbs, "dram_bw_gbs": dram_bw_gbs}
    paras, excls = _paragraphs(on, rb)
    excluded, notes = exclusions_that_apply(excls, die_area_mm2, datacenter, others)
    out = [paragraph_frontier(rid, p, die_area_mm2, others, excluded) for rid, p in paras]
    best = lowest_frontier(out)
    notes += [n for f in out for n in f.notes]
    mx = best.max_uncontrolled_tpp if best else None
    if best is not None and mx is not None:
        notes += _upper_bound_notes(out)
    return Frontier(
        die_area_mm2=die_area_mm2,
        date=on,
        datacenter=datacenter,
        rule_sets=[r.id for r in rule_sets_in_force(on, rb)],
        paragraphs=out,
        max_uncontrolled_tpp=mx,
        max_is_allowed=best.max_is_allowed if best and mx is not None else None,
        binding_paragraph=best.paragraph if best else None,
        binding_threshold=best.binding if best else None,
        pd_at_max=mx / die_area_mm2 if mx is not None else None,
        tflops_bf16_dense_max=mx / BITS["bf16"] if mx is not None else None,
        tflops_fp8_dense_max=mx / BITS["fp8"] if mx is not None else None,
        summary=_summary(best, die_area_mm2, on, datacenter),
        notes=list(dict.fromkeys(notes)),
    )


class ThresholdRegion(BaseModel):
    """One paragraph's region in the TPP x PD plane on a date (for drawing a control map)."""

    kind: str = Field(description="paragraph, exclusion or policy_band")
    id: str
    rule_set: str
    tpp_min: float | None = None
    tpp_min_inclusive: bool = True
    tpp_max: float | None = None
    tpp_max_inclusive: bool = False
    pd_min: float | None = None
    pd_min_inclusive: bool = True
    pd_max: float | None = None
    pd_max_inclusive: bool = False
    datacenter: bool | None = None
    other: list[str] = Field(default_factory=list, description="tests on other metrics")
    policy: str | None = None
    text: str


def _region(
    kind: str,
    rid: str,
    rule_set: str,
    tests: list[Test],
    text: str,
    datacenter: bool | None = None,
    policy: str | None = None,
) -> ThresholdRegion:
    r = ThresholdRegion(
        kind=kind, id=rid, rule_set=rule_set, text=text, datacenter=datacenter, policy=policy
    )
    for t in tests:
        if t.metric in (Metric.tpp, Metric.performance_density):
            pre = "tpp" if t.metric is Metric.tpp else "pd"
            if t.cmp in (Cmp.ge, Cmp.gt):
                setattr(r, f"{pre}_min", t.value)
                setattr(r, f"{pre}_min_inclusive", t.cmp is Cmp.ge)
            else:
                setattr(r, f"{pre}_max", t.value)
                setattr(r, f"{pre}_max_inclusive", t.cmp is Cmp.le)
        else:
            r.other.append(f"{t.metric.value} {t.cmp.symbol} {t.value:g} ({t.text})")
    return r


def thresholds_in_force(
    on: dt.date | None = None, *, ws: Workspace | None = None
) -> list[ThresholdRegion]:
    """The paragraphs, exclusions and licensing-policy bands in force on a date, as regions."""
    rb = resolve(ws).rulebook
    on = on or dt.date.today()
    check_date(on)
    paras, excls = _paragraphs(on, rb)
    out = [_region("paragraph", p.id, rid, p.all, p.text) for rid, p in paras]
    out += [
        _region("exclusion", e.id, rid, e.all, e.text, datacenter=e.datacenter) for rid, e in excls
    ]
    for r in rule_sets_in_force(on, rb):
        if r.licensing and r.licensing_applies(on):
            for lr in r.licensing.rules:
                if lr.tests:
                    out.append(
                        _region(
                            "policy_band", lr.id, r.id, lr.tests, lr.text, policy=lr.policy.value
                        )
                    )
    return out
