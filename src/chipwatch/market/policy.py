"""Adapter to the export-control engine: can a foreign chip be sold to buyers in a market, by month?

The rest of the market model calls only :func:`monthly_availability`. It asks
``chipwatch.controls.classify(acc, date, market, ws=ws)`` on the 15th of each month, with the
workspace's catalog and rulebook (so a user's rules or actions file counts here exactly as in
``chipwatch classify``). A month is available when no licence is required; when one is required,
``licences`` decides: ``grant`` (licences are issued), ``deny`` (they are not), or ``engine``
(available unless the engine's licensing policy is a presumption of denial). Scenario windows
still apply on top.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from chipwatch.controls import classify
from chipwatch.workspace import Workspace, resolve


def month_dates(years: list[int]) -> list[dt.date]:
    return [dt.date(y, m, 15) for y in years for m in range(1, 13)]


def _month_status(
    chip_id: str, day: dt.date, market: str, ws: Workspace
) -> tuple[bool, bool, bool]:
    """(licence required, presumption of denial, undetermined) for one chip on one day, cached
    on the workspace. Undetermined counts as a licence requirement: unknown is not "no"."""

    def compute() -> tuple[bool, bool, bool]:
        r = classify(ws.catalog.chip(chip_id), day, market, ws=ws)
        if r.license_required is None and r.status == "undetermined":
            return True, False, True  # a licence may be needed
        return bool(r.license_required), bool(r.presumption_of_denial), False

    return ws.memo("market.month_status", (chip_id, day, market), compute, limit=4096)


def monthly_availability(
    chip_id: str,
    years: list[int],
    market: str,
    licences: str = "engine",
    *,
    ws: Workspace | None = None,
) -> tuple[np.ndarray, list[str]]:
    """0/1 availability for each month of ``years`` (shape: 12 * len(years)) and notes."""
    ws = resolve(ws)
    n = 12 * len(years)
    out = np.ones(n)
    notes: list[str] = []
    try:
        for i, day in enumerate(month_dates(years)):
            required, denial, undetermined = _month_status(chip_id, day, market, ws)
            if required:
                out[i] = {"grant": 1.0, "deny": 0.0}.get(licences, 0.0 if denial else 1.0)
                if undetermined and not notes:
                    notes.append(
                        f"{chip_id}: license requirement undetermined in some months (an input "
                        "the rules test is unknown); treated like a granted licence under "
                        "'engine', as unavailable under 'deny'"
                    )
    except Exception as e:  # the engine is another domain: never let it break a market run
        return np.ones(n), [
            f"export-control engine failed for {chip_id} ({e}); treated as available"
        ]
    return out, notes
