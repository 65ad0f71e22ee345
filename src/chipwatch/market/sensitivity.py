"""One-at-a-time sensitivity (tornado): which uncertain inputs move an output most.

Every input is held at its median (uniform 0.5) while one is set to its 10th and then its 90th
percentile; a yearly series moves all its years together (it is one input). The swing is
|output at P90 - output at P10|. All 1 + 2n cases run as one vectorized simulation. It ignores
interactions between inputs (Sobol indices would capture them; SALib is not a dependency).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from chipwatch.market.distributions import Dist, series_at, series_ppf
from chipwatch.market.loading import load_scenario
from chipwatch.market.scenario import Scenario
from chipwatch.market.simulate import (
    cites_unverified,
    compile_scenario,
    metric_draws,
    simulate,
)
from chipwatch.workspace import Workspace, resolve

if TYPE_CHECKING:
    import pandas as pd


def _uncertain(spec: Dist | dict[int, Dist]) -> bool:
    return spec.uncertain if isinstance(spec, Dist) else any(d.uncertain for d in spec.values())


def _value(spec: Dist | dict[int, Dist], u: float, years: list[int], year: int) -> float:
    if isinstance(spec, Dist):
        return float(spec.ppf(np.array([u]))[0])
    return float(series_ppf(spec, years, np.array([u]))[0, years.index(year)])


def sensitivity(
    scenario: str | Scenario,
    metric: str = "domestic_share",
    year: int | None = None,
    group: str = "total",
    low_q: float = 0.1,
    high_q: float = 0.9,
    *,
    ws: Workspace | None = None,
) -> pd.DataFrame:
    """Tornado table sorted by swing: input, low_value, high_value, output_at_low,
    output_at_high, swing (plus base_output, source, unverified). ``year``: default the last."""
    import pandas as pd

    ws = resolve(ws)
    s = load_scenario(scenario, ws=ws)
    c = compile_scenario(s, ws=ws)
    year = c.years[-1] if year is None else year
    if year not in c.years:
        raise ValueError(f"year {year} is outside the scenario ({c.years[0]}-{c.years[-1]})")
    names = [n for n, spec in c.inputs.items() if _uncertain(spec)]
    cases = 1 + 2 * len(names)
    u = {n: np.full(cases, 0.5) for n in c.inputs}
    for i, n in enumerate(names):
        u[n][1 + 2 * i] = low_q
        u[n][2 + 2 * i] = high_q
    out = metric_draws(c, simulate(c, u))
    keys = [k for k in out if k[0] == metric and k[2] == group]
    if not keys:
        known = sorted({k[0] for k in out})
        if metric not in known:
            raise ValueError(f"unknown metric {metric!r}; metrics: {', '.join(known)}")
        groups = sorted({k[2] for k in out if k[0] == metric})
        raise ValueError(f"metric {metric!r} has no group {group!r}; groups: {', '.join(groups)}")
    y = out[keys[0]][:, c.years.index(year)]
    rows = []
    for i, n in enumerate(names):
        spec = c.inputs[n]
        lo, hi = y[1 + 2 * i], y[2 + 2 * i]
        at_year = spec if isinstance(spec, Dist) else series_at(spec, year)
        rows.append(
            {
                "input": n,
                "low_value": _value(spec, low_q, c.years, year),
                "high_value": _value(spec, high_q, c.years, year),
                "output_at_low": lo,
                "output_at_high": hi,
                "swing": abs(hi - lo),
                "base_output": y[0],
                "source": at_year.source,
                "unverified": any(
                    d.unverified or cites_unverified(d.source)
                    for d in ([spec] if isinstance(spec, Dist) else spec.values())
                ),
            }
        )
    df = pd.DataFrame(
        rows,
        columns=[
            "input",
            "low_value",
            "high_value",
            "output_at_low",
            "output_at_high",
            "swing",
            "base_output",
            "source",
            "unverified",
        ],
    )
    df = df.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    df.attrs.update({"scenario": s.id, "metric": metric, "group": group, "year": year})
    return df
