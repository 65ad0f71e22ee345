"""Two scenarios side by side on one metric, with the difference taken draw by draw.

Both runs use the same seed, and an input's uniform numbers depend only on the seed and the
input's name, so inputs the scenarios share take the same values in each draw: the interval of
the difference is that of paired draws, narrower than the gap between two independent intervals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from chipwatch.market.simulate import PERCENTILES, MarketResult, run
from chipwatch.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

    from chipwatch.market.scenario import Scenario


def metric_names(result: MarketResult) -> list[str]:
    return sorted({k[0] for k in result.samples})


def _series(r: MarketResult, metric: str, group: str) -> np.ndarray:
    for (m, _level, g), arr in r.samples.items():
        if m == metric and g == group:
            return arr
    return np.zeros((r.draws, len(r.years)))  # a product absent from a scenario ships nothing


def compare(
    a: str | Scenario,
    b: str | Scenario,
    metric: str = "domestic_share",
    draws: int = 2000,
    seed: int = 0,
    group: str | None = None,
    *,
    ws: Workspace | None = None,
) -> pd.DataFrame:
    """Per year (and group): P10/P50/P90 of ``metric`` in a and b, and of the paired a - b."""
    import pandas as pd

    ra, rb = run(a, draws=draws, seed=seed, ws=ws), run(b, draws=draws, seed=seed, ws=ws)
    known = set(metric_names(ra)) | set(metric_names(rb))
    if metric not in known:
        from chipwatch.catalog import suggest

        hint = suggest(metric, known)
        tip = f" Did you mean: {', '.join(hint)}?" if hint else ""
        raise ValueError(f"unknown metric {metric!r}.{tip} Metrics: {', '.join(sorted(known))}")
    groups_a = {g for (m, _l, g) in ra.samples if m == metric}
    groups_b = {g for (m, _l, g) in rb.samples if m == metric}
    if group is not None:
        if group not in groups_a | groups_b:
            raise ValueError(
                f"metric {metric!r} has no group {group!r}; groups: "
                f"{', '.join(sorted(groups_a | groups_b))}"
            )
        groups = [group]
    elif "total" in groups_a | groups_b:
        groups = ["total"]
    else:
        groups = sorted(groups_a | groups_b)
    years = ra.years if ra.years == rb.years else sorted(set(ra.years) & set(rb.years))
    rows = []
    for g in groups:
        xa, xb = _series(ra, metric, g), _series(rb, metric, g)
        ia = [ra.years.index(y) for y in years]
        ib = [rb.years.index(y) for y in years]
        xa, xb = xa[:, ia], xb[:, ib]
        with np.errstate(invalid="ignore"):
            pa, pb = np.percentile(xa, PERCENTILES, axis=0), np.percentile(xb, PERCENTILES, axis=0)
            pd_ = np.percentile(xa - xb, PERCENTILES, axis=0)
        for j, y in enumerate(years):
            rows.append(
                {
                    "year": y,
                    "metric": metric,
                    "group": g,
                    "a_p10": pa[0, j],
                    "a_p50": pa[1, j],
                    "a_p90": pa[2, j],
                    "b_p10": pb[0, j],
                    "b_p50": pb[1, j],
                    "b_p90": pb[2, j],
                    "diff_p10": pd_[0, j],
                    "diff_p50": pd_[1, j],
                    "diff_p90": pd_[2, j],
                    "diff_mean": float(np.mean(xa[:, j] - xb[:, j])),
                    "share_of_draws_a_above_b": float(np.mean(xa[:, j] > xb[:, j])),
                }
            )
    df = pd.DataFrame(rows)
    df.attrs.update({"a": ra.scenario.id, "b": rb.scenario.id, "draws": draws, "seed": seed})
    return df
