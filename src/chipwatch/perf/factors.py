"""Fitted efficiency factors at run time: the lookup chip -> family -> pooled default -> roofline.

The factors file is produced by :mod:`chipwatch.perf.calibration.fit` (method in
docs/performance-model.md); this module only reads it.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from chipwatch.catalog.schema import Accelerator
from chipwatch.perf.hardware import Efficiency

FACTORS_FILE = "fitted-factors.json"


def measurements_dir() -> Path:
    return Path(str(resources.files("chipwatch") / "data" / "measurements"))


@lru_cache(maxsize=4)
def load_factors(path: str | None = None) -> dict[str, Any]:
    """The fitted-factors file ({} if it has not been produced yet)."""
    f = Path(path) if path else measurements_dir() / FACTORS_FILE
    if not f.is_file():
        return {}
    data: dict[str, Any] = json.loads(f.read_text(encoding="utf-8"))
    return data


def _eff(
    d: dict[str, Any], source: str, serving: dict[str, Any] | None = None, default: bool = False
) -> Efficiency:
    sv = serving or d
    return Efficiency(
        compute_prefill=d.get("compute_prefill"),
        attn_memory=d.get("attn_memory"),
        link_out=d.get("link_out"),
        is_default=default,
        ttft_queue_share=sv.get("ttft_queue_share", 0.0),
        ttft_fixed_s=sv.get("ttft_fixed_s", 0.0),
        compute=d["compute"],
        memory=d["memory"],
        link=d["link"],
        overhead_s=d["overhead_s"],
        link_latency_s=d.get("link_latency_s", 0.0),
        source=source,
    )


def factors_for(
    chip: Accelerator, factors: dict[str, Any] | None = None, engine: str | None = None
) -> Efficiency:
    """Fitted factors for the chip, else its family, else the all-data default, else roofline;
    with ``engine``, the TTFT queueing terms fitted for that serving engine (the file's
    ``engines``) replace the family's.

    ``factors``: the fitted-factors document (a workspace's ``ws.factors``; default: the
    packaged file)."""
    data = load_factors() if factors is None else factors
    eff = _chip_factors(chip, data)
    if engine is None:
        return eff
    e = data.get("engines", {}).get(engine)
    if e is None:
        return replace(eff, source=f"{eff.source}; no TTFT terms fitted for engine {engine}")
    return replace(
        eff,
        ttft_queue_share=e["ttft_queue_share"],
        ttft_fixed_s=e["ttft_fixed_s"],
        source=f"{eff.source}; TTFT queueing: engine {engine} ({e['n_points']} measurements)",
    )


def _chip_factors(chip: Accelerator, data: dict[str, Any]) -> Efficiency:
    fams = data.get("families", {})
    if chip.id in data.get("chips", {}):
        f = data["chips"][chip.id]
        return _eff(
            f,
            f"fitted: chip {chip.id} ({f['n_points']} measurements)",
            fams.get(chip.family or "", data.get("default")),
        )
    if chip.family and chip.family in fams:
        f = fams[chip.family]
        return _eff(f, f"fitted: family {chip.family} ({f['n_points']} measurements)")
    if "default" in data:
        return _eff(
            data["default"],
            "default: pooled fit over all measured families "
            f"(no measurements for family {chip.family or '(none)'})",
            default=True,
        )
    return Efficiency(source="default: roofline (no fitted factors file)", is_default=True)


# ------------------------------------------------------------------------------------------
# Points


def factor_row(
    vendor: str,
    family: str,
    chip: str,
    f: dict[str, Any],
    *,
    ttft_queue_share: float | None,
    points: int,
    fit_err_pct: float | None,
) -> dict[str, Any]:
    """One row of the calibration table from a fitted-factor record (times in ms and us)."""
    return {
        "vendor": vendor,
        "family": family,
        "chip": chip,
        "compute_eff": f["compute"],
        "memory_eff": f["memory"],
        "link_eff": f["link"],
        "overhead_ms": f["overhead_s"] * 1e3,
        "collective_us": f["link_latency_s"] * 1e6,
        "ttft_queue_share": ttft_queue_share,
        "points": points,
        "fit_median_abs_err_pct": fit_err_pct,
    }


def vendor_rows(data: dict[str, Any], cat: Any) -> list[dict[str, Any]]:
    """One row per catalog vendor: fitted efficiencies where measured (point-weighted geometric
    mean over the vendor's fitted families), else the pooled default, marked 'not measured'."""
    fams = data.get("families", {})
    by_vendor: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    vendors = sorted({c.vendor for c in cat})
    fam_vendor = {c.family: c.vendor for c in cat if c.family}
    for fam, f in fams.items():
        by_vendor.setdefault(fam_vendor.get(fam, "?"), []).append((fam, f))
    out = []
    for v in vendors:
        items = by_vendor.get(v, [])
        n = sum(int(f["n_points"]) for _, f in items)
        if not items or n == 0:
            d = data["default"]
            out.append(
                {
                    "vendor": v,
                    "measured": "not measured (pooled default)",
                    "families": "",
                    "points": 0,
                    "compute_eff": d["compute"],
                    "memory_eff": d["memory"],
                    "link_eff": d["link"],
                }
            )
            continue

        def gmean(key: str, items: list[tuple[str, dict[str, Any]]] = items, n: int = n) -> float:
            return math.exp(sum(f["n_points"] * math.log(f[key]) for _, f in items) / n)

        out.append(
            {
                "vendor": v,
                "measured": "fitted",
                "families": ", ".join(sorted(fam for fam, _ in items)),
                "points": n,
                "compute_eff": gmean("compute"),
                "memory_eff": gmean("memory"),
                "link_eff": gmean("link"),
            }
        )
    return out


def factor_rows(data: dict[str, Any], cat: Any) -> list[dict[str, Any]]:
    """The calibration table: one row per fitted family (by vendor), then its chips with their
    own factors, then the pooled default."""
    vendor_of_family = {c.family: c.vendor for c in cat if c.family}
    rows: list[dict[str, Any]] = []
    for fam, f in sorted(
        data["families"].items(), key=lambda kv: (vendor_of_family.get(kv[0], ""), kv[0])
    ):
        vendor = vendor_of_family.get(fam, "?")
        rows.append(
            factor_row(
                vendor,
                fam,
                "(family)",
                f,
                ttft_queue_share=f.get("ttft_queue_share"),
                points=f["n_points"],
                fit_err_pct=f.get("fit_median_abs_err_pct"),
            )
        )
        for chip_id, c in sorted(data.get("chips", {}).items()):
            if chip_id in cat and cat.chip(chip_id).family == fam:
                rows.append(
                    factor_row(
                        vendor,
                        fam,
                        chip_id,
                        c,
                        ttft_queue_share=None,
                        points=c["n_points"],
                        fit_err_pct=c.get("fit_median_abs_err_pct"),
                    )
                )
    d = data["default"]
    rows.append(
        factor_row(
            "(other)",
            "(default)",
            "(no measurements)",
            d,
            ttft_queue_share=d.get("ttft_queue_share"),
            points=0,
            fit_err_pct=None,
        )
    )
    return rows
