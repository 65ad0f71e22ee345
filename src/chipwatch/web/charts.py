"""Plotly figures for the dashboard and the report, built from the library's own results.

Each function takes plain results (catalog chips, classifications, perf or market results) and
returns a ``plotly.graph_objects.Figure``; the pages embed its JSON and the report inlines it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

if TYPE_CHECKING:
    from chipwatch.catalog.schema import Accelerator

COUNTRY_COLORS = {"US": "#2b6cb0", "CN": "#c53030"}
OTHER_COLOR = "#718096"
STATUS_COLORS = {
    "controlled": "#c53030",
    "license required": "#dd6b20",
    "not controlled": "#2f855a",
    "unknown": "#a0aec0",
}
BAND = "rgba(66, 153, 225, 0.18)"
SERIES = ["#2b6cb0", "#c53030", "#2f855a", "#805ad5", "#dd6b20", "#319795", "#d53f8c", "#718096"]


def base_layout(title: str, x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        "xaxis": {"title": {"text": x_title}, "zeroline": False, "automargin": True},
        "yaxis": {"title": {"text": y_title}, "zeroline": False, "automargin": True},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 55},
        "template": "plotly_white",
        "legend": {"orientation": "h", "y": -0.22},
        "hovermode": "closest",
        "autosize": True,
        "height": 420,
    }
    layout.update(extra)
    return layout


def figure_json(fig: go.Figure) -> str:
    """Figure JSON safe to embed inside a ``<script type="application/json">`` block."""
    return json.dumps(fig.to_plotly_json(), default=_plain, separators=(",", ":")).replace(
        "</", "<\\/"
    )


def _plain(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return str(obj)


def points_in(fig: go.Figure) -> int:
    """Number of data points across the figure's marker traces (what the browser tests count)."""
    n = 0
    for tr in fig.data:
        kind = getattr(tr, "type", None)
        if tr.x is not None and (
            kind == "bar" or (kind == "scatter" and "markers" in (tr.mode or ""))
        ):
            n += len(tr.x)
    return n


def _color_for(country: str) -> str:
    return COUNTRY_COLORS.get(country, OTHER_COLOR)


# --- catalog charts ------------------------------------------------------------------------


def compute_vs_bandwidth(
    chips: Iterable[Accelerator], highlight: Sequence[str] = (), precision: str = "bf16"
) -> go.Figure:
    """Dense peak compute (x) against memory bandwidth (y), one point per chip."""
    by_country: dict[str, list[Accelerator]] = {}
    for c in chips:
        if c.dense(precision) is not None:
            by_country.setdefault(c.vendor_country, []).append(c)
    total = sum(len(g) for g in by_country.values())
    fig = go.Figure()
    for country, group in sorted(by_country.items()):
        fig.add_trace(
            go.Scatter(
                x=[c.dense(precision) for c in group],
                y=[c.memory.bandwidth_tbs.value for c in group],
                text=[c.id if (c.id in highlight or total <= 12) else "" for c in group],
                customdata=[c.id for c in group],
                mode="markers+text",
                textposition="top center",
                marker={
                    "size": [13 if c.id in highlight else 8 for c in group],
                    "color": _color_for(country),
                    "line": {"width": 1, "color": "white"},
                },
                name=f"vendor in {country}",
                hovertemplate="%{customdata}<br>%{x:,.0f} TFLOPS, %{y:.2f} TB/s<extra></extra>",
            )
        )
    fig.update_layout(
        **base_layout(
            f"Dense {precision.upper()} compute vs memory bandwidth",
            f"Dense {precision.upper()} TFLOPS (datasheet peak)",
            "Memory bandwidth, TB/s",
        )
    )
    fig.update_xaxes(rangemode="tozero")
    fig.update_yaxes(rangemode="tozero")
    return fig


def roofline(
    chip: Accelerator, precisions: Sequence[str] = ("fp8", "bf16", "tf32", "fp64")
) -> go.Figure:
    """Attainable throughput = min(peak, bandwidth x arithmetic intensity) (Williams et al. 2009).

    TB/s x FLOP/byte = TFLOP/s, so the memory roof is ``mem_bw_tbs * intensity``.
    """
    bw_tbs = chip.memory.bandwidth_tbs.value
    intensity = [10 ** (k / 10) for k in range(-10, 41)]  # 0.1 .. 10,000 FLOP/byte
    fig = go.Figure()
    for i, p in enumerate(precisions):
        peak = chip.dense(p)
        if peak is None:
            continue
        unit = "TOPS" if p.startswith("int") else "TFLOPS"
        fig.add_trace(
            go.Scatter(
                x=intensity,
                y=[min(peak, bw_tbs * a) for a in intensity],
                mode="lines",
                name=f"{p} (peak {peak:,.0f} {unit})",
                line={"color": SERIES[i % len(SERIES)]},
                hovertemplate="%{x:.3g} FLOP/B → %{y:,.1f} " + unit + "<extra>" + p + "</extra>",
            )
        )
        ridge = peak / bw_tbs
        fig.add_trace(
            go.Scatter(
                x=[ridge],
                y=[peak],
                mode="markers",
                showlegend=False,
                marker={"size": 9, "color": SERIES[i % len(SERIES)]},
                hovertemplate=f"{p} ridge point: {ridge:,.0f} FLOP/byte<extra></extra>",
            )
        )
    fig.update_layout(
        **base_layout(
            f"Roofline: {chip.name} ({bw_tbs:g} TB/s)",
            "Arithmetic intensity, FLOP per byte",
            "Attainable TFLOPS (dense peak)",
        )
    )
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    return fig


def not_available(message: str) -> dict[str, str]:
    """A placeholder for a chart whose domain has not landed: the page says so, no numbers."""
    return {"unavailable": message}


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v)


def rooflines(chips: Sequence[Accelerator], precision: str = "bf16") -> go.Figure:
    """Several chips' rooflines at one precision, to compare compute and bandwidth roofs."""
    intensity = [10 ** (k / 10) for k in range(-10, 41)]
    fig = go.Figure()
    for i, chip in enumerate(chips):
        peak = chip.dense(precision)
        if peak is None:
            continue
        bw_tbs = chip.memory.bandwidth_tbs.value
        fig.add_trace(
            go.Scatter(
                x=intensity,
                y=[min(peak, bw_tbs * a) for a in intensity],
                mode="lines",
                name=f"{chip.id} ({peak:,.0f} TFLOPS, {bw_tbs:g} TB/s)",
                line={"color": SERIES[i % len(SERIES)]},
            )
        )
    fig.update_layout(
        **base_layout(
            f"Rooflines, dense {precision.upper()}",
            "Arithmetic intensity, FLOP per byte",
            "Attainable TFLOPS",
        )
    )
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    return fig
