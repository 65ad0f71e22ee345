"""Request models of the market model's operations, one per operation.

The CLI options (``chipwatch market run|compare|sensitivity|check``), the API query models
(``/api/market/...``) and the dashboard's market page use these; ``tests/test_parity.py``
checks the CLI against them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from chipwatch.controls.requests import finite_tree

SCENARIO_HELP = "Scenario id (see `market list`) or a YAML file."
DRAWS_HELP = "Monte Carlo draws (1-50,000)."
SEED_HELP = "Random seed (same seed, same numbers)."
DEFAULT_DRAWS = 2000
MAX_DRAWS = 50_000


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class MarketRunRequest(Request):
    """``market run``: a scenario's yearly units, revenue, shares and stocks, P10/P50/P90."""

    scenario: str = Field("baseline", min_length=1, max_length=200, description=SCENARIO_HELP)
    draws: int = Field(DEFAULT_DRAWS, ge=1, le=MAX_DRAWS, description=DRAWS_HELP)
    seed: int = Field(0, ge=0, le=2**32 - 1, description=SEED_HELP)
    metric: str | None = Field(None, max_length=64, description="Only this metric.")
    group: str | None = Field(None, max_length=64, description="Only this group.")
    rules: Annotated[list[dict[str, Any]], AfterValidator(finite_tree)] | None = Field(
        None,
        max_length=10,
        description="Proposed rule sets (the packaged rules schema) to run under, on a "
        "workspace overlaid with them; the result adds the change against the rules in force.",
    )


class MarketCompareRequest(Request):
    """``market compare``: two scenarios per year on one metric, with the paired difference."""

    a: str = Field("h20-allowed", min_length=1, max_length=200, description="First scenario.")
    b: str = Field("h20-banned", min_length=1, max_length=200, description="Second scenario.")
    metric: str = Field("domestic_share", max_length=64, description="Metric to compare.")
    group: str | None = Field(
        None, max_length=64, description="Group (vendor, country, product); default total."
    )
    draws: int = Field(DEFAULT_DRAWS, ge=1, le=MAX_DRAWS, description=DRAWS_HELP)
    seed: int = Field(0, ge=0, le=2**32 - 1, description=SEED_HELP)


class SensitivityRequest(Request):
    """``market sensitivity``: which inputs move an output most (one at a time, P10 to P90)."""

    scenario: str = Field("baseline", min_length=1, max_length=200, description=SCENARIO_HELP)
    metric: str = Field("domestic_share", max_length=64, description="Output to explain.")
    year: int | None = Field(None, ge=1900, le=2200, description="Year (default: last).")
    group: str = Field("total", max_length=64, description="Group (default total).")


class CheckRequest(Request):
    """``market check``: the model against every cited figure."""

    scenario: str = Field("baseline", min_length=1, max_length=200, description=SCENARIO_HELP)
    draws: int = Field(DEFAULT_DRAWS, ge=1, le=MAX_DRAWS, description=DRAWS_HELP)
    seed: int = Field(0, ge=0, le=2**32 - 1, description=SEED_HELP)
