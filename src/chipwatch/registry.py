"""Record kinds a user catalog folder may hold, for ``chipwatch validate``.

Each domain adds its schema here when it lands (e.g. ``models`` for the performance model).
"""

from __future__ import annotations

from pydantic import BaseModel


def schemas() -> dict[str, type[BaseModel]]:
    from chipwatch.catalog.schema import Accelerator

    kinds: dict[str, type[BaseModel]] = {"accelerators": Accelerator}
    kinds["models"] = __import__("chipwatch.perf.models", fromlist=["ModelSpec"]).ModelSpec
    kinds.update(__import__("chipwatch.controls.rules", fromlist=["USER_KINDS"]).USER_KINDS)
    kinds["market/scenarios"] = __import__("chipwatch.market.scenario", fromlist=["x"]).ScenarioFile
    return kinds
