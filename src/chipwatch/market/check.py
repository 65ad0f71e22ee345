"""How far a scenario's outputs are from each cited figure (``data/market/estimates.yaml``).

For every estimate row with a ``check`` block, the named scenario (or the one checked) is run and
the figure is set against the model's P10/P50/P90 for that metric, group and year. The relative
distance is (model P50 - cited) / cited. Rows fall in three groups (``check_group``):

- ``input``: the figure feeds the model's inputs, so agreement is by construction;
- ``backtest``: a reported actual (published after its year) kept out of the inputs, an
  out-of-sample test;
- ``forecast``: another forecaster's figure, compared as of its vintage.

Each row carries its basis (units or value, card or package, sold or demand) and vintage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from chipwatch.market.estimates import load_estimates
from chipwatch.market.loading import load_scenario
from chipwatch.market.scenario import Scenario, ScenarioError
from chipwatch.market.simulate import MarketResult, run
from chipwatch.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

GROUP_ORDER = {"input": 0, "backtest": 1, "forecast": 2}
COLUMNS = [
    "check_group",
    "figure",
    "year",
    "cited_value",
    "unit",
    "cited_by",
    "source",
    "status",
    "kind",
    "basis",
    "vintage",
    "model_scenario",
    "metric",
    "group",
    "model_p50",
    "model_p10",
    "model_p90",
    "relative_distance",
    "within_p10_p90",
    "estimate_id",
    "note",
]


def check(
    scenario: str | Scenario, draws: int = 2000, seed: int = 0, *, ws: Workspace | None = None
) -> pd.DataFrame:
    """One row per cited figure: cited value and source, model P50/P10/P90, relative distance."""
    import pandas as pd

    s = load_scenario(scenario, ws=ws)
    runs: dict[str, MarketResult | str] = {}
    rows = []
    for e in load_estimates().values():
        if e.check is None:
            continue
        target = e.check.scenario or s.id
        if target not in runs:
            try:
                runs[target] = run(s if target == s.id else target, draws=draws, seed=seed, ws=ws)
            except ScenarioError as err:
                runs[target] = str(err)
        r = runs[target]
        row = {
            "check_group": e.check_group,
            "figure": e.quantity,
            "year": e.check.year,
            "cited_value": e.value,
            "unit": e.unit,
            "source": e.cite(),
            "cited_by": e.short_cite,
            "status": e.status,
            "kind": e.check.kind,
            "basis": e.basis or e.counted,
            "vintage": e.vintage or e.published,
            "model_scenario": target,
            "metric": e.check.metric,
            "group": e.check.group,
            "model_p50": None,
            "model_p10": None,
            "model_p90": None,
            "relative_distance": None,
            "within_p10_p90": None,
            "estimate_id": e.id,
            "note": e.counted,
        }
        if isinstance(r, str):
            row["note"] = r
        else:
            got = r.get(e.check.metric, e.check.group, e.check.year)
            if got.empty:
                row["note"] = f"model has no {e.check.metric} for {e.check.group} in {e.check.year}"
            else:
                p10, p50, p90 = (float(got.iloc[0][k]) for k in ("p10", "p50", "p90"))
                cited = float(e.value)  # type: ignore[arg-type]
                row.update(
                    model_p50=p50,
                    model_p10=p10,
                    model_p90=p90,
                    relative_distance=(p50 - cited) / cited if cited else None,
                    within_p10_p90=bool(p10 <= cited <= p90) if np.isfinite(p50) else None,
                )
        rows.append(row)
    df = pd.DataFrame(rows, columns=COLUMNS)
    df = df.sort_values("check_group", key=lambda c: c.map(GROUP_ORDER), kind="stable").reset_index(
        drop=True
    )
    df.attrs.update({"scenario": s.id, "draws": draws, "seed": seed})
    return df
