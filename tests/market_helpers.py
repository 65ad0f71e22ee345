"""Scenario builders shared by the market tests (plain helpers, not fixtures)."""

from __future__ import annotations

from typing import Any

from chipwatch.market.scenario import merge


def src(**kw: Any) -> dict[str, Any]:
    return {**kw, "source": "test"}


def tiny(**over: Any) -> dict[str, Any]:
    """One year small enough to work out by hand: US$10B of demand, 100k domestic chips at
    US$20k, 1M H20 at US$10k."""
    d: dict[str, Any] = {
        "id": "tiny",
        "title": "Tiny",
        "description": "hand-worked example",
        "first_year": 2024,
        "last_year": 2024,
        "demand_usd": {2024: src(value=10e9)},
        "retirement_years": src(value=5),
        "domestic": {
            "ascend": {
                "mix": {
                    2024: {
                        "chip": "ascend-910b",
                        "dies_per_package": src(value=1),
                        "hbm_stacks_per_package": src(value=4),
                    }
                },
                "price_usd": {2024: src(value=20_000)},
                "capacity_units": {2024: src(value=100_000)},
            }
        },
        "foreign": {
            "h20": {
                "supply_cap_units": {2024: src(value=1_000_000)},
                "price_usd": {2024: src(value=10_000)},
            }
        },
    }
    return merge(d, over)
