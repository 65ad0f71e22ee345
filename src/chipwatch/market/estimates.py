"""Dated, sourced market estimates (``data/market/estimates.yaml``): one row per figure and vintage.

Scenario inputs cite rows as ``est:<id>``; rows with a ``check`` block are compared with model
output by :func:`chipwatch.market.check.check`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chipwatch.catalog.loader import packaged_dir, read_yaml

EST_REF = re.compile(r"est:([a-z0-9][a-z0-9.\-]*[a-z0-9])")


class CheckSpec(BaseModel):
    """Which model output a figure is compared with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str
    group: str = "total"
    year: int
    scenario: str | None = Field(default=None, description="default: the scenario being checked")
    kind: Literal["independent", "input"] = "independent"
    group_as: Literal["input", "backtest", "forecast"] | None = Field(
        default=None,
        description="check group; default: input for kind input, else forecast when published "
        "before the figure's year ended, backtest (a reported actual) otherwise",
    )


class Estimate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    quantity: str
    year: int | None = None
    value: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str
    counted: str | None = None
    published: str
    source_org: str
    source: str = Field(min_length=1)
    status: Literal["src", "secondary", "seed", "unverified"]
    vintage: str | None = None
    basis: str | None = Field(
        default=None, description="what is counted: units or value, card or package, sold or demand"
    )
    note: str | None = None
    check: CheckSpec | None = None

    @model_validator(mode="after")
    def _has_number(self) -> Estimate:
        if self.check is not None and self.value is None:
            raise ValueError("a row with a check needs a value")
        return self

    def cite(self) -> str:
        return f"{self.source_org} ({self.published}): {self.source}"

    @property
    def check_group(self) -> str | None:
        """``input``, ``backtest`` (a reported actual, out of sample) or ``forecast``."""
        if self.check is None:
            return None
        if self.check.group_as is not None:
            return self.check.group_as
        if self.check.kind == "input":
            return "input"
        return "forecast" if self.published[:4] <= str(self.check.year) else "backtest"

    @property
    def short_cite(self) -> str:
        return f"{self.source_org} {self.published}"


@lru_cache(maxsize=1)
def load_estimates() -> dict[str, Estimate]:
    """All packaged estimate rows by id."""
    path = packaged_dir("market") / "estimates.yaml"
    docs, errors = read_yaml(path)
    if errors:
        raise ValueError(str(errors[0]))
    out: dict[str, Estimate] = {}
    for d in docs:
        e = Estimate.model_validate(d)
        if e.id in out:
            raise ValueError(f"{path}: duplicate estimate id {e.id!r}")
        out[e.id] = e
    return out


def references(text: str) -> list[str]:
    """The ``est:<id>`` references in a source string."""
    return EST_REF.findall(text)
