"""Adapter to the export-control engine: can a foreign chip be sold to buyers in a market, by month?

The rest of the market model calls only :func:`monthly_availability`. It asks
``chipwatch.controls.classify(acc, date, market)`` on the 15th of each month. A month is available
when no licence is required; when one is required, ``licences`` decides: ``grant`` (licences are
issued), ``deny`` (they are not), or ``engine`` (available unless the engine's licensing policy is
a presumption of denial). If the engine is not installed, every month counts as available and a
note says so; scenario windows still apply on top.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

ENGINE_MISSING = (
    "export-control engine (chipwatch.controls) not available: availability from scenario "
    "windows only"
)


def _classify():  # type: ignore[no-untyped-def]
    try:
        from chipwatch.controls import classify
    except ImportError:
        return None
    return classify


def month_dates(years: list[int]) -> list[dt.date]:
    return [dt.date(y, m, 15) for y in years for m in range(1, 13)]


@lru_cache(maxsize=4096)
def _month_status(
    chip_id: str, day: dt.date, market: str, catalog_key: object = None
) -> tuple[bool, str]:
    """(licence required, licensing policy) for one chip on one day (``catalog_key``: the
    catalog in use, so that a user override of the chip is not answered from the cache)."""
    from chipwatch.controls.rules import load_rulebook
    from chipwatch.session import catalog, catalog_dirs

    classify = _classify()
    assert classify is not None
    # the rules of the catalog in use (user / proposed rule sets included), not only the packaged
    r = classify(catalog().chip(chip_id), day, market, rules=load_rulebook(catalog_dirs()))
    if r.license_required is None and r.status == "undetermined":
        return True, "undetermined"  # unknown is not "no license": a licence may be needed
    return bool(r.license_required), str(getattr(r, "licensing_policy", "") or "")


def denies(policy: str) -> bool:
    p = policy.lower().replace("_", " ").replace("-", " ")
    return "denial" in p or "deny" in p or "prohibit" in p


def monthly_availability(
    chip_id: str, years: list[int], market: str, licences: str = "engine"
) -> tuple[np.ndarray, list[str]]:
    """0/1 availability for each month of ``years`` (shape: 12 * len(years)) and notes."""
    n = 12 * len(years)
    if _classify() is None:
        return np.ones(n), [ENGINE_MISSING]
    from chipwatch import session

    out = np.ones(n)
    notes: list[str] = []
    key = session.key()
    try:
        for i, day in enumerate(month_dates(years)):
            required, policy = _month_status(chip_id, day, market, key)
            if required:
                out[i] = {"grant": 1.0, "deny": 0.0}.get(licences, 0.0 if denies(policy) else 1.0)
                if policy == "undetermined" and not notes:
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
