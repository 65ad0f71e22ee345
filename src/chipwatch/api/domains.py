"""Access to the analysis domains, which may not all be present in a build.

A missing domain is answered with 503 and a message saying so, never with made-up numbers.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from chipwatch.api.errors import ApiError

NAMES = {
    "controls": ("the export-control engine", ("classify", "timeline", "frontier")),
    "perf": ("the performance model", ("infer", "load_models")),
    "market": ("the market model", ("list_scenarios", "run")),
}


def available(domain: str) -> bool:
    try:
        domain_module(domain)
    except ApiError:
        return False
    return True


def domain_module(domain: str) -> ModuleType:
    """``chipwatch.<domain>`` if it provides its public functions, else 503."""
    label, needed = NAMES[domain]
    try:
        mod = importlib.import_module(f"chipwatch.{domain}")
    except ImportError as e:
        raise ApiError(503, f"{label} is not available yet in this build ({e})") from e
    missing = [n for n in needed if not hasattr(mod, n)]
    if missing:
        raise ApiError(
            503,
            f"{label} is not available yet in this build "
            f"(chipwatch.{domain} lacks {', '.join(missing)})",
        )
    return mod
