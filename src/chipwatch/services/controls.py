"""Export-control operations, one per request model (what ``chipwatch classify|timeline|frontier``
and ``/api/classify|timeline|frontier`` both call), and the control map the views share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from chipwatch.controls import ChipSpec, Classification, Frontier, classify, thresholds_in_force
from chipwatch.controls import frontier as _frontier
from chipwatch.controls import timeline as _timeline
from chipwatch.controls.changes import diff as _diff
from chipwatch.controls.changes import proposal_sets
from chipwatch.controls.changes import propose as _propose
from chipwatch.controls.changes import status as _status
from chipwatch.controls.errors import ControlsInputError
from chipwatch.controls.requests import (
    ClassifyRequest,
    FrontierRequest,
    RulesDiffRequest,
    RulesProposeRequest,
    RulesStatusRequest,
    TimelineRequest,
)
from chipwatch.services.errors import InvalidRequest
from chipwatch.workspace import Workspace, resolve


def subject(chip: str | None, spec: dict[str, Any] | None, *, ws: Workspace | None = None) -> Any:
    """The catalog chip, or a ``ChipSpec`` built from the given fields (one-line
    :class:`InvalidRequest` errors naming the field)."""
    if chip:
        return resolve(ws).catalog.chip(chip)
    if not spec:
        raise InvalidRequest(
            "give a catalog 'chip' id, or a hypothetical chip's 'tpp' (or "
            "'dense_tops') and 'die_area_mm2'"
        )
    try:
        return ChipSpec.build(**spec)
    except ControlsInputError as e:
        raise InvalidRequest(str(e)) from None


def _row(chip: Any, c: Any) -> dict[str, Any]:
    return {
        "chip": chip.id,
        "name": chip.name,
        "vendor": chip.vendor,
        "vendor_country": chip.vendor_country,
        "datacenter": c.datacenter,
        "tpp": c.tpp,
        "performance_density": c.performance_density,
        "eccn": c.eccn,
        "controlled": c.controlled,
        "license_required": c.license_required,
        "licensing_policy": c.licensing_policy,
        "actions": [a.id for a in c.actions],
        "summary": c.summary(),
    }


def _error_row(chip: Any, e: Exception) -> dict[str, Any]:
    return {
        "chip": chip.id,
        "name": chip.name,
        "vendor": chip.vendor,
        "vendor_country": chip.vendor_country,
        "error": str(e),
        "tpp": None,
        "performance_density": None,
        "eccn": None,
        "license_required": None,
        "licensing_policy": "unknown",
        "actions": [],
        "datacenter": None,
        "controlled": None,
        "summary": f"{chip.id}: cannot classify: {e}",
    }


def control_map(
    on: dt.date, destination: str, *, ws: Workspace | None = None
) -> list[dict[str, Any]]:
    """Every catalog chip classified on a date: its TPP, PD and status (for the control map),
    computed once per workspace, date and destination."""
    w = resolve(ws)

    def compute() -> list[dict[str, Any]]:
        # a bad date or destination fails the whole map (raised here); a chip whose own inputs
        # the engine refuses gets a row saying why instead of a status
        classify(ChipSpec(tpp=1, die_area_mm2=1), on, destination, ws=w)
        rows: list[dict[str, Any]] = []
        for chip in w.catalog:
            try:
                rows.append(_row(chip, classify(chip, on, destination, ws=w)))
            except ValueError as e:
                rows.append(_error_row(chip, e))
        return rows

    return w.memo("services.control_map", (on, destination), compute, limit=1000)


def rule_sets_in_force(on: dt.date, destination: str, *, ws: Workspace | None = None) -> list[str]:
    """Short names of the rule sets in force on a date (for a destination)."""
    probe = classify(ChipSpec(tpp=1, die_area_mm2=1), on, destination, ws=ws)
    return [r.short for r in probe.rule_sets]


def threshold_regions(on: dt.date, *, ws: Workspace | None = None) -> Any:
    return thresholds_in_force(on, ws=ws)


def classify_request(req: ClassifyRequest, *, ws: Workspace | None = None) -> Classification:
    """Classify the request's chip (catalog id, ``spec`` or spec fields) on its date."""
    w = resolve(ws)
    return classify(
        subject(req.chip, req.spec or req.spec_fields(), ws=w),
        req.date,
        req.destination.upper(),
        headquarters=req.headquarters.upper() if req.headquarters else None,
        parent_headquarters=req.parent_headquarters.upper() if req.parent_headquarters else None,
        end_user=req.end_user,
        owned_by_listed=req.owned_by_listed,
        transaction=req.transaction,
        origin=req.origin.upper() if req.origin else None,
        assume_pd=req.assume_pd,
        die_area_mm2=req.die_area_mm2 if (req.chip or req.spec) else None,
        ws=w,
    )


def timeline(req: TimelineRequest, *, ws: Workspace | None = None) -> dict[str, Any]:
    """The chip's periods of equal status, with what changed each."""
    w = resolve(ws)
    chip = w.catalog.chip(req.chip)
    periods = _timeline(
        chip,
        req.destination.upper(),
        start=req.start,
        end=req.end,
        headquarters=req.headquarters.upper() if req.headquarters else None,
        ws=w,
    )
    return {"chip": chip.id, "destination": req.destination.upper(), "periods": periods}


def frontier(req: FrontierRequest, *, ws: Workspace | None = None) -> Frontier:
    """The control frontier at the request's die area and date."""
    return _frontier(
        req.die_area_mm2,
        req.date,
        datacenter=req.datacenter,
        io_bidir_gbs=req.io_bidir_gbs,
        dram_bw_gbs=req.dram_bw_gbs,
        ws=ws,
    )


def rules_status(req: RulesStatusRequest, *, ws: Workspace | None = None) -> dict[str, Any]:
    """The rulebook as of a date, each item with its legal status."""
    on = req.date or dt.date.today()
    return {"date": on, "items": _status(on, resolve(ws).rulebook)}


def rules_diff(req: RulesDiffRequest, *, ws: Workspace | None = None) -> dict[str, Any]:
    """Chips whose answer changed between two dates, with the events in between."""
    w = resolve(ws)
    d = _diff(w.catalog.chips(), req.date_a, req.date_b, req.destination.upper(), w.rulebook)
    return {**d.model_dump(mode="json"), "newly_controlled": d.newly_controlled}


def rules_propose(req: RulesProposeRequest, *, ws: Workspace | None = None) -> dict[str, Any]:
    """Chips that flip under the proposed rule sets (laid over the rulebook, not applied)."""
    w = resolve(ws)
    sets = proposal_sets(req.rule_sets, "rule_sets")
    d = _propose(w.catalog.chips(), sets, w.rulebook, req.date, req.destination.upper())
    return {**d.model_dump(mode="json"), "newly_controlled": d.newly_controlled}
