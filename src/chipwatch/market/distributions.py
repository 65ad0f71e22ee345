"""Uncertain inputs: a distribution with a source for its central value, and yearly series of them.

Every draw of the Monte Carlo is driven by one uniform number per input; a distribution maps it to
a value with its inverse CDF (``ppf``). A yearly series uses the *same* uniform for all its years
(perfect rank correlation: a high-demand world is high in every year), and years between two
anchors are linearly interpolated draw by draw.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.special import ndtri

from chipwatch.catalog.schema import SourceText

Kind = Literal["point", "uniform", "triangular", "lognormal"]

Z90 = 1.2815515655446004  # standard normal quantile at 0.9


class Dist(BaseModel):
    """One uncertain quantity.

    ``point``: value. ``uniform``: low, high. ``triangular``: low, mode, high.
    ``lognormal``: median and either sigma (of the log) or p90. ``source`` cites the central value.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dist: Kind = "point"
    value: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    median: float | None = None
    sigma: float | None = Field(default=None, gt=0)
    p90: float | None = None
    source: SourceText = Field(
        min_length=1, description="citation, estimates id (est:...) or 'derived: ...'"
    )
    unverified: bool = False
    note: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _infer_kind(cls, data: object) -> object:
        if isinstance(data, dict) and "dist" not in data:
            if "mode" in data:
                return {**data, "dist": "triangular"}
            if "median" in data:
                return {**data, "dist": "lognormal"}
            if "low" in data and "high" in data and "value" not in data:
                return {**data, "dist": "uniform"}
        return data

    @model_validator(mode="after")
    def _fields_for_kind(self) -> Dist:
        need = {
            "point": ("value",),
            "uniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
            "lognormal": ("median",),
        }[self.dist]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a {self.dist} distribution needs {', '.join(missing)}")
        v = self.value if self.value is not None else 0.0
        below = self.low is not None and self.low > v
        above = self.high is not None and self.high < v
        if self.dist == "point" and (below or above):
            raise ValueError("low/high must bracket value")
        if self.dist in ("uniform", "triangular") and self.low > self.high:  # type: ignore[operator]
            raise ValueError(f"low ({self.low}) is above high ({self.high})")
        if self.dist == "triangular" and not (
            self.low <= self.mode <= self.high  # type: ignore[operator]
        ):
            raise ValueError(f"mode ({self.mode}) must lie between low and high")
        if self.dist == "lognormal":
            if self.median <= 0:  # type: ignore[operator]
                raise ValueError(f"a lognormal median must be > 0, got {self.median}")
            if (self.sigma is None) == (self.p90 is None):
                raise ValueError("a lognormal distribution needs exactly one of sigma or p90")
            if self.p90 is not None and self.p90 <= self.median:  # type: ignore[operator]
                raise ValueError("lognormal p90 must be above the median")
        lo = self.lower()
        if lo < 0:
            raise ValueError(f"must not be negative (lowest value {lo})")
        return self

    # --- values ------------------------------------------------------------------------------
    def central(self) -> float:
        """The sourced central value: point value, uniform midpoint, triangular mode, median."""
        if self.dist == "point":
            return float(self.value)  # type: ignore[arg-type]
        if self.dist == "uniform":
            return (float(self.low) + float(self.high)) / 2  # type: ignore[arg-type]
        if self.dist == "triangular":
            return float(self.mode)  # type: ignore[arg-type]
        return float(self.median)  # type: ignore[arg-type]

    def lower(self) -> float:
        if self.dist == "point":
            return float(self.value)  # type: ignore[arg-type]
        if self.dist == "lognormal":
            return 0.0
        return float(self.low)  # type: ignore[arg-type]

    def upper(self) -> float:
        if self.dist == "point":
            return float(self.value)  # type: ignore[arg-type]
        if self.dist == "lognormal":
            return float("inf")
        return float(self.high)  # type: ignore[arg-type]

    @property
    def log_sigma(self) -> float:
        if self.sigma is not None:
            return float(self.sigma)
        return float(np.log(self.p90 / self.median) / Z90)  # type: ignore[operator]

    @property
    def uncertain(self) -> bool:
        return self.dist != "point"

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF: uniform numbers in [0, 1) to values of this distribution."""
        u = np.asarray(u, dtype=float)
        if self.dist == "point":
            return np.full(u.shape, float(self.value))  # type: ignore[arg-type]
        if self.dist == "uniform":
            lo, hi = float(self.low), float(self.high)  # type: ignore[arg-type]
            return lo + u * (hi - lo)
        if self.dist == "triangular":
            return triangular_ppf(u, float(self.low), float(self.mode), float(self.high))  # type: ignore[arg-type]
        z = ndtri(np.clip(u, 1e-12, 1 - 1e-12))
        return float(self.median) * np.exp(self.log_sigma * z)  # type: ignore[arg-type]

    def describe(self) -> str:
        if self.dist == "point":
            return f"{self.value:g}"
        if self.dist == "uniform":
            return f"uniform {self.low:g}-{self.high:g}"
        if self.dist == "triangular":
            return f"triangular {self.low:g} / {self.mode:g} / {self.high:g}"
        return f"lognormal median {self.median:g}, sigma {self.log_sigma:.2f}"


def triangular_ppf(u: np.ndarray, low: float, mode: float, high: float) -> np.ndarray:
    """Inverse CDF of the triangular distribution (closed form)."""
    span = high - low
    if span == 0:
        return np.full(u.shape, low)
    f_mode = (mode - low) / span
    left = low + np.sqrt(u * span * (mode - low))
    right = high - np.sqrt((1 - u) * span * (high - mode))
    return np.where(u < f_mode, left, right)


def check_fraction(d: Dist) -> Dist:
    """A share, yield or probability: every value in [0, 1] (i.e. at most 100%)."""
    if d.dist == "lognormal":
        raise ValueError(
            "a share cannot be lognormal (unbounded); use point, uniform or triangular"
        )
    if d.upper() > 1:
        raise ValueError(f"share over 100%: values must lie in [0, 1], got up to {d.upper():g}")
    return d


def series_ppf(series: dict[int, Dist], years: list[int], u: np.ndarray) -> np.ndarray:
    """Values of a yearly series for each draw: shape (draws, years).

    Anchor years are drawn with the same uniform ``u``; other years are linearly interpolated
    between the neighbouring anchors, and held flat before the first and after the last.
    """
    anchors = sorted(series)
    at = np.stack([series[y].ppf(u) for y in anchors], axis=1)  # (draws, anchors)
    out = np.empty((u.shape[0], len(years)))
    for j, y in enumerate(years):
        if y <= anchors[0]:
            out[:, j] = at[:, 0]
        elif y >= anchors[-1]:
            out[:, j] = at[:, -1]
        else:
            k = int(np.searchsorted(anchors, y))
            y0, y1 = anchors[k - 1], anchors[k]
            w = (y - y0) / (y1 - y0)
            out[:, j] = (1 - w) * at[:, k - 1] + w * at[:, k]
    return out


def series_at(series: dict[int, Dist], year: int) -> Dist:
    """The anchor that applies to a year (for reports): the latest anchor at or before it."""
    anchors = sorted(series)
    past = [y for y in anchors if y <= year]
    return series[past[-1] if past else anchors[0]]
