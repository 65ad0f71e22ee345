"""Record kinds a user catalog folder may hold, for ``chipwatch validate``.

Each kind is a subfolder of the user folder (accelerators may also sit at its top level).
"""

from __future__ import annotations

from pydantic import BaseModel


def schemas() -> dict[str, type[BaseModel]]:
    from chipwatch.catalog.schema import Accelerator
    from chipwatch.controls.rules import USER_KINDS
    from chipwatch.market.loading import ScenarioFile
    from chipwatch.perf.models import ModelSpec

    return {
        "accelerators": Accelerator,
        "models": ModelSpec,
        **USER_KINDS,
        "market/scenarios": ScenarioFile,
    }
