"""Fitted efficiency factors at run time: the lookup chip -> family -> pooled default -> roofline.

The factors file is produced by :mod:`chipwatch.perf.calibration.fit` (method in
docs/performance-model.md); this module only reads it.
"""

from __future__ import annotations

import json
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


def _eff(d: dict[str, Any], source: str, serving: dict[str, Any] | None = None) -> Efficiency:
    sv = serving or d
    return Efficiency(
        ttft_queue_share=sv.get("ttft_queue_share", 0.0),
        ttft_fixed_s=sv.get("ttft_fixed_s", 0.0),
        compute=d["compute"],
        memory=d["memory"],
        link=d["link"],
        overhead_s=d["overhead_s"],
        link_latency_s=d.get("link_latency_s", 0.0),
        source=source,
    )


def factors_for(chip: Accelerator, factors: dict[str, Any] | None = None) -> Efficiency:
    """Fitted factors for the chip, else its family, else the all-data default, else roofline.

    ``factors``: the fitted-factors document (a workspace's ``ws.factors``; default: the
    packaged file)."""
    data = load_factors() if factors is None else factors
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
        )
    return Efficiency(source="default: roofline (no fitted factors file)")


# ------------------------------------------------------------------------------------------
# Points
