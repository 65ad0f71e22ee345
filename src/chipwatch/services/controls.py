"""Export-control operations the views share: the subject of a query, the control map."""

from __future__ import annotations

import datetime as dt
from typing import Any

from chipwatch.controls import ChipSpec, classify, thresholds_in_force
from chipwatch.controls.errors import ControlsInputError
from chipwatch.workspace import Workspace, resolve


def subject(chip: str | None, spec: dict[str, Any] | None, *, ws: Workspace | None = None) -> Any:
    """The catalog chip, or a ``ChipSpec`` built from the given fields (one-line errors)."""
    if chip:
        return resolve(ws).catalog.chip(chip)
    if not spec:
        raise ControlsInputError(
            "give a catalog 'chip' id, or a hypothetical chip's 'tpp' (or "
            "'dense_tops') and 'die_area_mm2'"
        )
    return ChipSpec.build(**spec)


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
