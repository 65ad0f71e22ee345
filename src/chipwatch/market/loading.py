"""Scenarios of a workspace for callers: load one (by id, file, mapping), list them, and the
file schema ``chipwatch validate`` checks user scenario files with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

from chipwatch.market.scenario import Scenario, ScenarioError, ScenarioInfo
from chipwatch.workspace import Workspace, resolve


def load_scenario(
    scenario: str | Scenario | dict[str, Any] | Path, *, ws: Workspace | None = None
) -> Scenario:
    """A scenario by id (packaged or user folders), from a YAML file path, a mapping, or as is."""
    return resolve(ws).scenarios.load(scenario)


def list_scenarios(*, ws: Workspace | None = None) -> list[ScenarioInfo]:
    """Every scenario with a one-line description (packaged first, then user folders)."""
    return resolve(ws).scenarios.list()


class ScenarioFile(BaseModel):
    """A scenario file as written (it may ``extends:`` another), for ``chipwatch validate``:
    checked after resolving inheritance against the workspace's scenarios (validation context
    ``{"ws": ...}``; default workspace otherwise)."""

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _resolve_and_validate(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict):
            ws = (info.context or {}).get("ws")
            try:
                load_scenario(data, ws=ws)
            except ScenarioError as e:
                raise ValueError(str(e).removeprefix("(scenario): ")) from None
        return data
