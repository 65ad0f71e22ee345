"""The two gates a foreign chip passes, month by month, to reach a buyer in the market.

1. **US gate** (export controls): open in a month unless the export-control engine requires a
   licence that is not granted (:func:`chipwatch.market.policy.monthly_availability`), with the
   product's ``licences`` rule, the scenario's ``gates.us`` override from its date, and dated
   ``windows`` (``available``) on top.
2. **PRC gate** (Chinese measures: customs and CAC instructions, purchase guidance, the
   domestic-chip mandate for state-funded data centres): each measure in force multiplies the
   purchases of the products and buyer segments it names by an uncertain ``uptake`` (0 blocked,
   1 no effect); the scenario's ``gates.prc`` override (``open``/``closed``) applies from its
   date. Window ``uptake`` values (older scenario files) act on every segment.

The share of a year a product can be sold to a segment is the mean over its months of
US gate x PRC factor; US-side payments (revenue shares, tariffs) are weighted by the same
monthly sales, so a levy that starts in August applies only to the months from August.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from chipwatch.market.policy import month_dates, monthly_availability

if TYPE_CHECKING:
    from chipwatch.market.scenario import Scenario
    from chipwatch.workspace import Workspace


def _between(days: list[dt.date], start: dt.date, end: dt.date | None) -> np.ndarray:
    return np.array([start <= d and (end is None or d <= end) for d in days])


def us_gate(
    s: Scenario, pid: str, chip_id: str, years: list[int], *, ws: Workspace | None = None
) -> tuple[np.ndarray, list[str]]:
    """0/1 per month: whether the chip may be exported to the market (licence not required, or
    required and granted), with the workspace's rulebook."""
    fp = s.foreign[pid]
    days = month_dates(years)
    gate, notes = monthly_availability(chip_id, years, s.market, fp.licences, ws=ws)
    if s.gates is not None and s.gates.us != fp.licences:
        alt, more = monthly_availability(chip_id, years, s.market, s.gates.us, ws=ws)
        notes += [n for n in more if n not in notes]
        after = _between(days, s.gates.start, None)
        gate = np.where(after, alt, gate)
    for w in fp.windows:
        if w.available is not None:
            gate = np.where(_between(days, w.start, w.end), 1.0 if w.available else 0.0, gate)
    return gate.astype(float), notes


def prc_factor(
    s: Scenario, pid: str, segment: str, years: list[int], x: dict[str, np.ndarray], draws: int
) -> np.ndarray:
    """(draws, months): the share of would-be purchases of ``pid`` by ``segment`` that the
    Chinese measures in force let through."""
    days = month_dates(years)
    out = np.ones((draws, len(days)))
    for mid, m in s.prc_measures.items():
        if not ("*" in m.products or pid in m.products):
            continue
        if m.segments is not None and segment not in m.segments:
            continue
        mask = _between(days, m.start, m.end)
        out[:, mask] *= x[f"prc.{mid}.uptake"][:, None]
    for i, w in enumerate(s.foreign[pid].windows):
        if w.uptake is not None:
            mask = _between(days, w.start, w.end)
            out[:, mask] *= x[f"foreign.{pid}.windows[{i}].uptake"][:, None]
    if s.gates is not None and s.gates.prc != "measures":
        after = _between(days, s.gates.start, None)
        out[:, after] = 1.0 if s.gates.prc == "open" else 0.0
    return out


def terms_share(
    s: Scenario, pid: str, years: list[int], x: dict[str, np.ndarray], draws: int
) -> np.ndarray:
    """(draws, months): the share of revenue paid to the US government in each month."""
    days = month_dates(years)
    out = np.zeros((draws, len(days)))
    for i, t in enumerate(s.foreign[pid].terms):
        mask = _between(days, t.start, t.end)
        out[:, mask] += x[f"foreign.{pid}.terms[{i}].share"][:, None]
    return np.minimum(out, 1.0)


def yearly(monthly: np.ndarray, n_years: int) -> np.ndarray:
    """Mean over the months of each year: (draws, months) -> (draws, years)."""
    return monthly.reshape(monthly.shape[0], n_years, 12).mean(axis=2)


def weighted_yearly(value: np.ndarray, weight: np.ndarray, n_years: int) -> np.ndarray:
    """Each year's mean of ``value`` weighted by ``weight`` (monthly sales); 0 where no sales."""
    d = value.shape[0]
    num = (value * weight).reshape(d, n_years, 12).sum(axis=2)
    den = weight.reshape(d, n_years, 12).sum(axis=2)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def policy_events(s: Scenario, years: list[int], us: dict[str, np.ndarray]) -> list[dict[str, str]]:
    """Dated policy events of a run, for time-axis markers: the months the US gate opens or
    closes for each foreign product (from the export-control engine and the scenario), the start
    of each PRC measure and of each US payment term, and the scenario's gate overrides."""
    days = month_dates(years)
    out: list[dict[str, str]] = []
    for pid, gate in us.items():
        for i in range(1, len(gate)):
            if gate[i] != gate[i - 1]:
                state = "opens" if gate[i] else "closes"
                day = days[i].replace(day=1).isoformat()
                label = f"US gate {state}: {pid}"
                out.append({"date": day, "gate": "US", "label": label, "source": "engine/scenario"})
    for m in s.prc_measures.values():
        if days[0] <= m.start <= days[-1]:
            out.append(
                {"date": m.start.isoformat(), "gate": "PRC", "label": f"PRC: {m.title}",
                 "source": m.source}
            )  # fmt: skip
    for pid, fp in s.foreign.items():
        for t in fp.terms:
            out.append(
                {"date": t.start.isoformat(), "gate": "US",
                 "label": f"US {t.kind.replace('_', ' ')} {t.share.central():.0%}: {pid}",
                 "source": t.source}
            )  # fmt: skip
    if s.gates is not None:
        out.append(
            {"date": s.gates.start.isoformat(), "gate": "both",
             "label": f"scenario: US gate {s.gates.us}, PRC gate {s.gates.prc}",
             "source": s.gates.source}
        )  # fmt: skip
    return sorted(out, key=lambda e: (e["date"], e["label"]))
