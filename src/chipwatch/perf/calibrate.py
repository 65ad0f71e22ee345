"""Calibration: efficiency factors per chip family, fitted on published measurements."""

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
    return json.loads(f.read_text(encoding="utf-8"))


def _eff(d: dict[str, Any], source: str) -> Efficiency:
    return Efficiency(
        compute=d["compute"],
        memory=d["memory"],
        link=d["link"],
        overhead_s=d["overhead_s"],
        source=source,
    )


def factors_for(chip: Accelerator, path: str | None = None) -> Efficiency:
    """Fitted factors for the chip's family, else the all-data default, else the roofline."""
    data = load_factors(path)
    fams = data.get("families", {})
    if chip.family and chip.family in fams:
        f = fams[chip.family]
        return _eff(f, f"fitted: family {chip.family} ({f['n_measurements']} measurements)")
    if "default" in data:
        return _eff(
            data["default"],
            "default: factors fitted on all measured families "
            f"(no measurements for family {chip.family or '(none)'})",
        )
    return Efficiency(source="default: roofline (no fitted factors file)")
