"""Catalog rows for the views: filtered and sorted chip rows, one chip in detail."""

from __future__ import annotations

from typing import Any

from chipwatch.catalog import Catalog
from chipwatch.services.errors import ChoiceError

SEGMENTS = ("datacenter", "workstation", "consumer", "edge")


def chip_rows(
    cat: Catalog,
    vendor: str | None = None,
    segment: str | None = None,
    country: str | None = None,
    q: str | None = None,
    sort: str = "id",
    order: str = "asc",
) -> list[dict[str, Any]]:
    """Flat chip rows matching the filters, sorted on one column (missing values last)."""
    if segment and segment.lower() not in SEGMENTS:
        raise ChoiceError(
            f"unknown segment {segment!r}: use one of {', '.join(SEGMENTS)}",
            "segment",
            segment,
            list(SEGMENTS),
            missing=False,
        )
    chips = cat.chips(vendor=vendor, segment=segment)
    if vendor and not chips:
        vendors = sorted({c.vendor for c in cat})
        raise ChoiceError(f"no chips from vendor {vendor!r}", "vendor", vendor, vendors)
    rows = [c.flat() for c in chips]
    if country:
        rows = [r for r in rows if str(r["vendor_country"]).lower() == country.lower()]
    if q:
        needle = q.lower()
        rows = [r for r in rows if needle in f"{r['id']} {r['name']} {r['vendor']}".lower()]
    if rows and sort not in rows[0]:
        raise ChoiceError(
            f"cannot sort by {sort!r}", "column", sort, list(rows[0]), missing=False, list_all=False
        )
    present = [r for r in rows if r.get(sort) is not None]
    missing = [r for r in rows if r.get(sort) is None]
    present.sort(key=lambda r: r[sort], reverse=order == "desc")  # type: ignore[arg-type,return-value]
    return present + missing


def chip_detail(cat: Catalog, chip_id: str) -> dict[str, Any]:
    """One chip with every sourced value (same shape as ``chipwatch chips show --json``), and
    its names in other languages where recorded (``local_names``, each with its source)."""
    d = cat.detail(chip_id)
    return {**d, "local_names": local_names(d["id"], d["name"], d["vendor"])}


def local_names(chip_id: str, name: str, vendor: str) -> dict[str, Any]:
    """``{"zh-CN": {name, vendor, name_source, vendor_source, unverified}}`` for a chip (empty
    when neither the chip nor its vendor has a recorded Chinese name)."""
    from chipwatch.i18n.names import chip_local, chip_name, vendor_local, vendor_name

    chip, maker = chip_local(chip_id), vendor_local(vendor)
    if chip is None and maker is None:
        return {}
    return {
        "zh-CN": {
            "name": chip_name(chip_id, name, vendor, "zh-CN"),
            "vendor": vendor_name(vendor, "zh-CN"),
            "name_source": chip.source if chip else (maker.source if maker else None),
            "vendor_source": maker.source if maker else None,
            "unverified": bool(chip and chip.unverified),
        }
    }
