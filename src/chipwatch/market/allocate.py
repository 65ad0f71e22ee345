"""Allocation of a year's demand (US dollars) to the supply on offer, draw by draw.

The rule: buyers spend their budget on products in a stated order, each product selling as many
units as its supply cap allows or the remaining budget buys, whichever is fewer. Whatever budget
is left when every product is sold out is unmet demand. The order is set by the scenario's
``allocation``:

- ``domestic_first``: domestic products first (policy steers buyers to them and they are
  supply-limited), then foreign chips by price-performance (H100-equivalents per dollar);
- ``price_performance``: every product by H100-equivalents per dollar.

So no product sells more than its cap, and spending never exceeds demand (conservation).
"""

from __future__ import annotations

import numpy as np


def allocate(
    budget_usd: np.ndarray, cap_units: np.ndarray, price_usd: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Units sold per product (draws, products) in column order, and the budget left (draws,).

    ``budget_usd``: (draws,); ``cap_units`` and ``price_usd``: (draws, products), columns in
    the order buyers turn to them.
    """
    remaining = np.maximum(np.asarray(budget_usd, dtype=float), 0.0).copy()
    units = np.zeros(cap_units.shape)
    for k in range(cap_units.shape[1]):
        price = price_usd[:, k]
        affordable = np.divide(
            remaining, price, out=np.full_like(remaining, np.inf), where=price > 0
        )
        units[:, k] = np.minimum(np.maximum(cap_units[:, k], 0.0), affordable)
        remaining = np.maximum(remaining - units[:, k] * price, 0.0)
    return units, remaining


def price_performance_order(
    h100e_per_unit: dict[str, float], price_usd: dict[str, float], ids: list[str]
) -> list[str]:
    """Products by H100-equivalents per dollar, best first; unknown values go last (stable)."""

    def score(pid: str) -> float:
        h, p = h100e_per_unit.get(pid), price_usd.get(pid)
        if h is None or p is None or not np.isfinite(h) or p <= 0:
            return -np.inf
        return h / p

    return sorted(ids, key=lambda pid: -score(pid))
