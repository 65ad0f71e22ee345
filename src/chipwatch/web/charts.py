"""Plotly figures for the dashboard and the report, built from the library's own results.

Each function takes plain results (catalog chips, classifications, perf or market results) and
returns a ``plotly.graph_objects.Figure``; the pages embed its JSON and the report inlines it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from chipwatch.web.messages import policy_words

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


def log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Tick values for a log axis from ``lo`` to ``hi``: 1, 2, 5 per decade over three decades
    or fewer, else powers of ten only; labels without exponent noise (300, 1k, 20k)."""
    lo_e, hi_e = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    steps = (1, 2, 5) if hi_e - lo_e <= 3 else (1,)
    vals = [m * 10.0**e for e in range(lo_e, hi_e + 1) for m in steps]
    vals = [v for v in vals if lo * 0.999 <= v <= hi * 1.001]
    return vals, [_tick_label(v) for v in vals]


def _tick_label(v: float) -> str:
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= scale:
            return f"{v / scale:g}{suffix}"
    return f"{v:g}"


def clean_log_axes(fig: go.Figure) -> go.Figure:
    """Every log axis of ``fig`` with ticks every decade only (no crowded minor labels)."""
    fig.for_each_xaxis(
        lambda ax: ax.update(dtick=1) if ax.type == "log" and ax.dtick is None else None
    )
    fig.for_each_yaxis(
        lambda ax: ax.update(dtick=1) if ax.type == "log" and ax.dtick is None else None
    )
    return fig


def figure_json(fig: go.Figure) -> str:
    """Figure JSON safe to embed inside a ``<script type="application/json">`` block."""
    clean_log_axes(fig)
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


INTENSITY_FLOP_PER_BYTE = [10 ** (k / 10) for k in range(-10, 41)]  # 0.1 .. 10,000 FLOP/byte


def _roof(peak: float, bw_tbs: float) -> list[float]:
    """Attainable TFLOPS at each intensity: the lower of the compute and the memory roof."""
    return [min(peak, bw_tbs * a) for a in INTENSITY_FLOP_PER_BYTE]


def roofline(
    chip: Accelerator, precisions: Sequence[str] = ("fp8", "bf16", "tf32", "fp64")
) -> go.Figure:
    """Attainable throughput = min(peak, bandwidth x arithmetic intensity) (Williams et al. 2009).

    TB/s x FLOP/byte = TFLOP/s, so the memory roof is ``mem_bw_tbs * intensity``.
    """
    bw_tbs = chip.memory.bandwidth_tbs.value
    fig = go.Figure()
    for i, p in enumerate(precisions):
        peak = chip.dense(p)
        if peak is None:
            continue
        unit = "TOPS" if p.startswith("int") else "TFLOPS"
        fig.add_trace(
            go.Scatter(
                x=INTENSITY_FLOP_PER_BYTE,
                y=_roof(peak, bw_tbs),
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
    fig = go.Figure()
    for i, chip in enumerate(chips):
        peak = chip.dense(precision)
        if peak is None:
            continue
        bw_tbs = chip.memory.bandwidth_tbs.value
        fig.add_trace(
            go.Scatter(
                x=INTENSITY_FLOP_PER_BYTE,
                y=_roof(peak, bw_tbs),
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


# --- performance charts ----------------------------------------------------------------------


def _ok(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r.get("error")]


def _bars_by_phase(
    rows: list[dict[str, Any]], title: str, specs: Sequence[tuple[str, str, str]], y_title: str
) -> go.Figure:
    """Side-by-side panels, one per metric, one bar per chip labelled with its binding resource."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1, cols=len(specs), subplot_titles=[s[1] for s in specs], horizontal_spacing=0.12
    )
    for i, (key, label, bound_key) in enumerate(specs, start=1):
        fig.add_trace(
            go.Bar(
                x=[r["chip"] for r in rows],
                y=[r[key] for r in rows],
                text=[r.get(bound_key) or "" for r in rows] if bound_key else None,
                textposition="outside",
                cliponaxis=False,
                name=label,
                marker={"color": SERIES[i - 1]},
                hovertemplate="%{x}: %{y:,.4g}"
                + (" (%{text}-bound)" if bound_key else "")
                + "<extra>"
                + label
                + "</extra>",
            ),
            row=1,
            col=i,
        )
    fig.update_layout(**base_layout(title, "", y_title, showlegend=False))
    fig.update_layout(margin={"t": 80})
    return fig


def throughput(rows: Sequence[dict[str, Any]]) -> go.Figure:
    """Prefill vs decode throughput per chip; each bar names the resource that binds it."""
    return _bars_by_phase(
        _ok(rows),
        "Throughput (label: binding resource)",
        [
            ("prefill_tokens_per_s", "Prefill tokens/s", "prefill_bound"),
            ("output_tokens_per_s", "Decode output tokens/s", "decode_bound"),
        ],
        "tokens per second (all chips)",
    )


def crossover(result: Any) -> go.Figure:
    """Decode tokens/s per chip against batch size, one line per chip; hover names the bound."""
    fig = go.Figure()
    for i, chip in enumerate(result.chips):
        pts = [p for p in result.points if p.decode_tokens_per_s_per_chip.get(chip) is not None]
        fig.add_trace(
            go.Scatter(
                x=[p.batch for p in pts],
                y=[p.decode_tokens_per_s_per_chip[chip] for p in pts],
                customdata=[p.decode_bound[chip] for p in pts],
                mode="lines+markers",
                name=chip,
                line={"color": SERIES[i % len(SERIES)]},
                hovertemplate=f"{chip}<br>batch %{{x}}: %{{y:,.0f}} tokens/s per chip"
                "<br>bound by %{customdata}<extra></extra>",
            )
        )
    for f in result.flips:
        fig.add_vline(x=f.at_batch, line={"dash": "dot", "color": OTHER_COLOR})
    mode = "pure decode" if result.disaggregated else "decode with interleaved prefill"
    fig.update_layout(
        base_layout(
            f"Decode throughput against batch ({mode}); dotted: the lead changes",
            "sequences in the batch (log)",
            "tokens/s per chip",
            xaxis={"type": "log", "title": {"text": "sequences in the batch (log)"}},
        )
    )
    return fig


def latency(rows: Sequence[dict[str, Any]]) -> go.Figure:
    return _bars_by_phase(
        _ok(rows),
        "Latency",
        [
            ("ttft_ms", "Time to first token, ms", "prefill_bound"),
            ("tpot_ms", "Time per output token, ms", "decode_bound"),
        ],
        "milliseconds",
    )


def memory(rows: Sequence[dict[str, Any]]) -> go.Figure:
    """Memory per chip by use, stacked, against each chip's capacity."""
    ok = _ok(rows)
    chips = [r["chip"] for r in ok]
    fig = go.Figure()
    parts = [
        ("mem_weights_gb", "weights"),
        ("mem_kv_gb", "KV cache"),
        ("mem_other_gb", "activations + reserved"),
    ]
    for i, (key, label) in enumerate(parts):
        vals = [
            r[key] if key in r else r["mem_total_gb"] - r["mem_weights_gb"] - r["mem_kv_gb"]
            for r in ok
        ]
        fig.add_trace(
            go.Bar(
                x=chips,
                y=vals,
                name=label,
                marker={"color": SERIES[i]},
                hovertemplate="%{x}: %{y:,.1f} GB<extra>" + label + "</extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=chips,
            y=[r["mem_capacity_gb"] for r in ok],
            mode="markers",
            name="capacity",
            marker={"symbol": "line-ew-open", "size": 30, "color": "#1a202c", "line": {"width": 3}},
            hovertemplate="%{x}: capacity %{y:,.0f} GB<extra></extra>",
        )
    )
    fig.update_layout(**base_layout("Memory per chip", "", "GB", barmode="stack"))
    return fig


def cost(rows: Sequence[dict[str, Any]]) -> go.Figure:
    ok = [r for r in _ok(rows) if r.get("usd_per_million_tokens") is not None]
    fig = go.Figure(
        go.Bar(
            x=[r["chip"] for r in ok],
            y=[r["usd_per_million_tokens"] for r in ok],
            text=[f"${r['usd_per_million_tokens']:.3g}" for r in ok],
            textposition="outside",
            cliponaxis=False,
            marker={"color": SERIES[3]},
            hovertemplate="%{x}: $%{y:.3g} per million output tokens<extra></extra>",
        )
    )
    fig.update_layout(
        **base_layout(
            "Cost per million output tokens (chip capex + power)",
            "",
            "US$ per million tokens",
            showlegend=False,
        )
    )
    unpriced = [r["chip"] for r in _ok(rows) if r.get("usd_per_million_tokens") is None]
    if unpriced:  # say so rather than draw a zero
        fig.add_annotation(
            xref="paper",
            yref="paper",
            x=0.99,
            y=1.0,
            xanchor="right",
            showarrow=False,
            font={"size": 11, "color": "#744210"},
            text="no price in the catalog: " + ", ".join(unpriced),
        )
    return fig


def relative_to(rows: Sequence[dict[str, Any]], base: str) -> go.Figure:
    """Prefill and decode throughput per chip as multiples of one chip's (the article's H20)."""
    ok = _ok(rows)
    ref = next((r for r in ok if r["chip"] == base), None)
    fig = go.Figure()
    if ref is None:
        return fig
    for i, (key, bound, label) in enumerate(
        [
            ("prefill_tokens_per_s", "prefill_bound", "prefill (compute-heavy)"),
            ("output_tokens_per_s", "decode_bound", "decode (bandwidth-heavy)"),
        ]
    ):
        fig.add_trace(
            go.Bar(
                x=[r["chip"] for r in ok],
                y=[r[key] / ref[key] for r in ok],
                name=label,
                text=[r[bound] for r in ok],
                textposition="outside",
                cliponaxis=False,
                marker={"color": SERIES[i]},
                hovertemplate="%{x}: %{y:.2f}× "
                + base
                + " (%{text}-bound)<extra>"
                + label
                + "</extra>",
            )
        )
    fig.add_hline(y=1, line={"dash": "dot", "color": "#718096"})
    fig.update_layout(
        **base_layout(
            f"Throughput relative to {base} (label: binding resource)",
            "",
            f"× {base}",
            barmode="group",
        )
    )
    return fig


# --- export-control charts ---------------------------------------------------------------------

TPP_RANGE = (300.0, 100_000.0)
PD_RANGE = (0.3, 40.0)
REGION_COLORS = {
    "a": "rgba(197, 48, 48, 0.13)",
    "b": "rgba(221, 107, 32, 0.13)",
    "other": "rgba(128, 90, 213, 0.10)",
}


def _region_color(paragraph: str) -> str:
    part = paragraph.split(".")[1:2]
    return REGION_COLORS.get(part[0] if part else "other", REGION_COLORS["other"])


def _status_key(license_required: bool | None) -> str:
    """Colour key: red required, green not required, grey undetermined (never green)."""
    if license_required is None:
        return "unknown"
    return "controlled" if license_required else "not controlled"


def control_map(
    rows: Sequence[dict[str, Any]],
    regions: Sequence[Any],
    on: Any,
    destination: str,
    extra: dict[str, Any] | None = None,
    proposed: Sequence[dict[str, Any]] | None = None,
    labels: dict[str, str] | None = None,
) -> go.Figure:
    """TPP (x) vs performance density (y): the paragraphs in force as shaded regions, chips as
    points coloured by whether shipping them to ``destination`` on ``on`` needs a license
    (grey: undetermined). Chips drawn at the same place form one point that names them all;
    labels are placed so they do not collide (``labels`` maps ids to display names)."""
    fig = go.Figure()
    x_hi, y_hi = TPP_RANGE[1] * 10, PD_RANGE[1] * 10
    for r in regions:
        if r.kind != "paragraph":
            continue
        x0, x1 = r.tpp_min or TPP_RANGE[0] / 10, r.tpp_max or x_hi
        y0, y1 = r.pd_min or PD_RANGE[0] / 10, r.pd_max or y_hi
        label = r.id + (f" (and {'; '.join(r.other)})" if r.other else "")
        fig.add_trace(
            go.Scatter(
                x=[x0, x1, x1, x0, x0],
                y=[y0, y0, y1, y1, y0],
                mode="lines",
                fill="toself",
                fillcolor=_region_color(r.id),
                line={"width": 1, "color": "rgba(0,0,0,0.25)"},
                name=label,
                legendgroup="regions",
                hoverinfo="skip",
            )
        )
    for r in regions:
        if r.kind == "exclusion":
            fig.add_annotation(
                xref="paper",
                yref="paper",
                x=0.01,
                y=0.02,
                showarrow=False,
                align="left",
                font={"size": 10, "color": "#4a5568"},
                text=f"{r.id}: non-datacenter chips below TPP {r.tpp_max:,.0f} are excluded"
                if r.tpp_max
                else r.id,
            )
    drawable = _drawable(rows)
    for label, status in MAP_STATUSES:
        g = [grp for grp in overlap_groups([r for r in drawable if _status(r) == status])]
        if not g and status == "undetermined":
            continue
        fig.add_trace(
            go.Scatter(
                x=[grp[0]["tpp"] for grp in g],
                y=[grp[0]["performance_density"] for grp in g],
                customdata=[",".join(r["chip"] for r in grp) for grp in g],
                text=["<br>".join(_point_text(r) for r in grp) for grp in g],
                mode="markers",
                name=label,
                marker={
                    "size": [10 + 3 * min(len(grp) - 1, 3) for grp in g],
                    "color": STATUS_COLORS[MAP_COLOR[status]],
                    "symbol": [
                        "circle" if any(r["datacenter"] for r in grp) else "diamond" for grp in g
                    ],
                    "line": {"width": 1, "color": "white"},
                },
                hovertemplate="%{text}<br>TPP %{x:,.0f}, PD %{y:.2f}<extra></extra>",
            )
        )
    for ann in map_labels(overlap_groups(drawable), labels or {}):
        fig.add_annotation(**ann)
    flips = [
        r
        for r in (proposed or [])
        if _finite(r.get("tpp")) and _finite(r.get("performance_density"))
    ]
    if flips:
        fig.add_trace(
            go.Scatter(
                x=[r["tpp"] for r in flips],
                y=[r["performance_density"] for r in flips],
                customdata=[r["chip"] for r in flips],
                text=[f"{r['chip']}: under the proposed rule {r['after']}" for r in flips],
                mode="markers",
                name="flips under the proposed rule",
                marker={
                    "size": 18,
                    "symbol": "circle-open",
                    "color": "#805ad5",
                    "line": {"width": 2, "color": "#805ad5"},
                },
                hovertemplate="%{text}<extra></extra>",
            )
        )
    if extra and _finite(extra.get("tpp")) and _finite(extra.get("performance_density")):
        fig.add_trace(
            go.Scatter(
                x=[extra["tpp"]],
                y=[extra["performance_density"]],
                customdata=[extra["chip"]],
                mode="markers",
                name=extra["chip"],
                marker={
                    "size": 18,
                    "symbol": "star",
                    "color": "#d69e2e",
                    "line": {"width": 1, "color": "#1a202c"},
                },
                hovertemplate="%{customdata}: TPP %{x:,.0f}, PD %{y:.2f}<extra></extra>",
            )
        )
    fig.update_layout(
        **base_layout(
            f"Control map on {on} for destination {destination}",
            "Total processing performance (TPP, log)",
            "Performance density (TPP per mm², log)",
            height=520,
        )
    )
    xt, xl = log_ticks(*TPP_RANGE)
    yt, yl = log_ticks(*PD_RANGE)
    fig.update_xaxes(
        type="log",
        range=[math.log10(TPP_RANGE[0]), math.log10(TPP_RANGE[1])],
        tickvals=xt,
        ticktext=xl,
    )
    fig.update_yaxes(
        type="log",
        range=[math.log10(PD_RANGE[0]), math.log10(PD_RANGE[1])],
        tickvals=yt,
        ticktext=yl,
    )
    return fig


# Map status of a chip: (legend label, status); "undetermined" is a first-class state (an input
# the rules need is missing, or a proposed rule leaves it open).
MAP_STATUSES = [
    ("license required", "required"),
    ("no license required", "free"),
    ("undetermined", "undetermined"),
]
MAP_COLOR = {"required": "controlled", "free": "not controlled", "undetermined": "unknown"}
# How close (in decades, on both log axes) two chips must be to be drawn as one point.
OVERLAP_DECADES = 0.025


def _status(row: dict[str, Any]) -> str:
    needed = row.get("license_required")
    if needed is None:
        return "undetermined"
    return "required" if needed else "free"


def _point_text(r: dict[str, Any]) -> str:
    return f"{r['chip']}: {r.get('eccn') or 'no 3A090 paragraph'}; " + str(
        r.get("licensing_policy") or ""
    ).replace("_", " ")


def overlap_groups(rows: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Chips whose points would coincide on the log-log map (within ``OVERLAP_DECADES``),
    grouped; each group is drawn as one point and a click lists its chips."""
    groups: list[list[dict[str, Any]]] = []
    for r in sorted(rows, key=lambda r: (r["tpp"], r["performance_density"], r["chip"])):
        x, y = math.log10(r["tpp"]), math.log10(r["performance_density"])
        for g in groups:
            gx, gy = math.log10(g[0]["tpp"]), math.log10(g[0]["performance_density"])
            if abs(gx - x) <= OVERLAP_DECADES and abs(gy - y) <= OVERLAP_DECADES:
                g.append(r)
                break
        else:
            groups.append([r])
    return groups


# Label placement: the map's size in pixels per decade at its usual width, and a label's size.
# (measured on the desktop page: ~310 px per TPP decade, ~145 px per density decade)
PX_PER_DECADE_X, PX_PER_DECADE_Y, CHAR_PX, LINE_PX = 300.0, 140.0, 6.2, 13.0
# Where a label may go, relative to its point: above, below, right, left, then the corners;
# "w" stands for half the label's width plus a gap.
OFFSETS: list[tuple[str | float, float]] = [
    (0, -16), (0, 16), ("w", 0), ("-w", 0), ("w", -14), ("-w", -14), ("w", 14), ("-w", 14)
]  # fmt: skip


def map_labels(
    groups: Sequence[Sequence[dict[str, Any]]], names: dict[str, str]
) -> list[dict[str, Any]]:
    """Annotations naming each point, placed greedily (largest TPP first) at the first offset
    whose box overlaps neither a placed label nor a point; a label that fits nowhere is left out
    (hover and click still name the chip)."""

    def px(r: dict[str, Any]) -> tuple[float, float]:
        return (
            math.log10(r["tpp"]) * PX_PER_DECADE_X,
            -math.log10(r["performance_density"]) * PX_PER_DECADE_Y,
        )

    points = [px(g[0]) for g in groups]
    boxes: list[tuple[float, float, float, float]] = [
        (x - 6, y - 6, x + 6, y + 6) for x, y in points
    ]
    out = []
    order = sorted(range(len(groups)), key=lambda i: -groups[i][0]["tpp"])
    for i in order:
        g = groups[i]
        text = "/".join(names.get(r["chip"], r["chip"]) for r in g[:3]) + (
            f" +{len(g) - 3}" if len(g) > 3 else ""
        )
        w, h = len(text) * CHAR_PX, LINE_PX
        x, y = points[i]
        for ox, dy in OFFSETS:
            dx = (w / 2 + 8) * (-1 if ox == "-w" else 1) if isinstance(ox, str) else float(ox)
            cx, cy = x + dx, y + dy
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            if not any(_overlaps(box, b) for b in boxes):
                boxes.append(box)
                out.append(
                    {
                        "x": math.log10(g[0]["tpp"]),
                        "y": math.log10(g[0]["performance_density"]),
                        "text": text,
                        "showarrow": True,
                        "arrowwidth": 0.6,
                        "arrowcolor": "#a0aec0",
                        "ax": round(dx),
                        "ay": dy,
                        "font": {"size": 10, "color": "#2d3748"},
                        "name": "chip-label",
                    }
                )
                break
    return out


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _drawable(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with a positive, finite TPP and performance density (the log axes need both)."""
    return [
        r
        for r in rows
        if _finite(r.get("tpp"))
        and _finite(r.get("performance_density"))
        and r["tpp"] > 0
        and r["performance_density"] > 0
    ]


def drawable_count(rows: Sequence[dict[str, Any]]) -> int:
    return len(_drawable(rows))


def control_timeline(periods: Sequence[Any], chip_id: str) -> go.Figure:
    """A chip's control periods as bars along time, coloured by whether a license is needed."""
    import datetime as dt

    fig = go.Figure()
    today = dt.date.today()
    for needed, label in (
        (True, "license required"),
        (False, "no license required"),
        (None, "undetermined / not released"),
    ):
        ps = [p for p in periods if p.license_required is needed]
        if not ps:
            continue
        ends = [(p.end or today) + dt.timedelta(days=1) for p in ps]
        fig.add_trace(
            go.Bar(
                base=[p.start.isoformat() for p in ps],
                x=[(e - p.start).days * 86_400_000 for p, e in zip(ps, ends, strict=True)],
                y=[policy_words(p.licensing_policy) for p in ps],
                orientation="h",
                name=label,
                marker={"color": STATUS_COLORS[_status_key(needed)]},
                text=[
                    p.eccn
                    or {True: "license: chip-specific rule", None: "undetermined"}.get(
                        needed, "outside 3A090"
                    )
                    for p in ps
                ],
                textposition="inside",
                insidetextanchor="middle",
                customdata=[[p.start.isoformat(), (p.end or "today"), p.reason] for p in ps],
                hovertemplate="%{customdata[0]} to %{customdata[1]}<br>%{customdata[2]}"
                "<extra></extra>",
            )
        )
    fig.update_layout(
        **base_layout(
            f"Control status of {chip_id} over time",
            "",
            "policy",
            barmode="overlay",
            height=300,
            uniformtext={"minsize": 9, "mode": "hide"},  # a bar too short for its label: hover
        )
    )
    fig.update_xaxes(type="date")
    return fig


# --- market charts -------------------------------------------------------------------------


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _band_edge(x: list[Any], y: list[float], group: str, **fill: Any) -> go.Scatter:
    """An invisible line bounding a band (no legend, no hover); ``fill`` shades to the previous."""
    return go.Scatter(
        x=x,
        y=y,
        mode="lines",
        line={"width": 0},
        showlegend=False,
        hoverinfo="skip",
        legendgroup=group,
        **fill,
    )


def band_traces(
    rows: Sequence[dict[str, Any]], name: str, color: str, scale: float, fmt: str, **line: Any
) -> list[go.Scatter]:
    """A P10-P90 band (two invisible edges, shaded between) and the P50 line through it, for
    rows of year, p10, p50, p90 sorted by year; ``line`` adjusts the median trace."""
    years = [r["year"] for r in rows]
    median = go.Scatter(
        x=years,
        y=[r["p50"] * scale for r in rows],
        mode="lines+markers",
        name=name,
        legendgroup=name,
        line={"color": color, "width": 2},
        marker={"size": 6},
        customdata=[[r["p10"] * scale, r["p90"] * scale] for r in rows],
        hovertemplate=f"{name} %{{x}}: %{{y:{fmt}}} (P10 %{{customdata[0]:{fmt}}}, "
        f"P90 %{{customdata[1]:{fmt}}})<extra></extra>",
    )
    median.update(**line)
    return [
        _band_edge(years, [r["p90"] * scale for r in rows], name),
        _band_edge(
            years,
            [r["p10"] * scale for r in rows],
            name,
            fill="tonexty",
            fillcolor=_rgba(color, 0.18),
        ),
        median,
    ]


def bands(
    series: Sequence[tuple[str, Sequence[dict[str, Any]]]],
    title: str,
    y_title: str,
    scale: float = 1.0,
    percent: bool = False,
) -> go.Figure:
    """One median line per series with its P10-P90 band; each point is one year.

    ``series`` holds (name, rows) with rows of year, p10, p50, p90 (the market summary's shape).
    """
    fig = go.Figure()
    fmt = ".0%" if percent else ",.3s"
    for i, (name, rows) in enumerate(series):
        rows = sorted(rows, key=lambda r: r["year"])
        if not rows:
            continue
        for trace in band_traces(rows, name, SERIES[i % len(SERIES)], scale, fmt):
            fig.add_trace(trace)
    fig.update_layout(**base_layout(title, "", y_title))
    fig.update_xaxes(dtick=1)
    if percent:
        fig.update_yaxes(tickformat=".0%", range=[0, 1.05])
    return fig


def band_panels(
    series: Sequence[tuple[str, Sequence[dict[str, Any]]]],
    title: str,
    y_title: str,
    scale: float = 1.0,
    cols: int = 2,
) -> go.Figure:
    """Small multiples: one panel per series (its P50 line and P10-P90 band), each with its own
    y-axis, so a small vendor is not flattened under a large one."""
    from plotly.subplots import make_subplots

    series = [(name, sorted(rows, key=lambda r: r["year"])) for name, rows in series if rows]
    rows_n = max(1, math.ceil(len(series) / cols))
    fig = make_subplots(
        rows=rows_n,
        cols=cols,
        subplot_titles=[name for name, _ in series],
        vertical_spacing=0.5 / rows_n,
        horizontal_spacing=0.12,
    )
    for i, (name, rows) in enumerate(series):
        color = SERIES[i % len(SERIES)]
        for trace in band_traces(
            rows, name, color, scale, ",.3s", showlegend=False, marker={"size": 4}
        ):
            fig.add_trace(trace, i // cols + 1, i % cols + 1)
    fig.update_layout(
        **base_layout(title, "", "", height=140 + 170 * rows_n, showlegend=False),
    )
    fig.update_layout(margin={"l": 50, "r": 15, "t": 90, "b": 40})
    fig.update_xaxes(dtick=2, tickfont={"size": 10})
    fig.update_yaxes(tickformat=",.2s", tickfont={"size": 10}, rangemode="tozero")
    fig.update_annotations(font={"size": 12})
    fig.add_annotation(
        text=y_title,
        xref="paper",
        yref="paper",
        x=0,
        y=1.0,
        yshift=40,
        showarrow=False,
        xanchor="left",
        font={"size": 11, "color": "#4a5568"},
    )
    return fig


def cited_points(fig: go.Figure, points: Sequence[tuple[int, float, str]], name: str) -> None:
    """Overlay cited figures (e.g. Bernstein's shares) as hollow markers labelled with their
    source and vintage; a label stands once for markers that sit on one another."""
    if not points:
        return
    # "Bernstein via CNN, reported by cnyes 2025-08-18" -> "Bernstein via CNN 2025-08-18"
    labels = [re.sub(r",.*?(\d{4}-\d{2}(?:-\d{2})?)$", r" \1", p[2]) for p in points]
    for i, (x, y, _) in enumerate(points):
        for j in range(i):
            if labels[j] and points[j][0] == x and abs(points[j][1] - y) < 0.04:
                labels[j] = f"{labels[j]} · {labels[i]}"
                labels[i] = ""
                break
    fig.add_trace(
        go.Scatter(
            x=[p[0] for p in points],
            y=[p[1] for p in points],
            mode="markers+text",
            name=name,
            text=labels,
            customdata=[p[2] for p in points],
            textposition="middle right",
            textfont={"size": 9, "color": "#4a5568"},
            cliponaxis=False,
            marker={"symbol": "diamond-open", "size": 12, "color": "#1a202c", "line": {"width": 2}},
            hovertemplate="%{customdata}: %{y:.0%} in %{x}<extra></extra>",
        )
    )


CHANNEL_COLORS = {
    "domestic": "#c53030",
    "licensed": "#2b6cb0",
    "grey": "#718096",
    "offshore": "#805ad5",
    "deferred": "#e2e8f0",
}


def demand_identity(
    rows: Sequence[dict[str, Any]],
    events: Sequence[tuple[str, str]],
    title: str,
    scale: float = 1e-9,
) -> go.Figure:
    """Stacked bars: each year's demand (P50s of the parts) met by domestic, licensed, grey and
    offshore supply, the rest deferred; policy events as dashed markers on the time axis.

    ``rows``: year and ``<channel>_usd`` (the market result's identity table); ``events``:
    (ISO date, label). Dates become fractional years so markers fall inside their year."""
    fig = go.Figure()
    years = [r["year"] for r in rows]
    for ch, color in CHANNEL_COLORS.items():
        fig.add_trace(
            go.Bar(
                x=years,
                y=[(r.get(f"{ch}_usd") or 0.0) * scale for r in rows],
                name=ch,
                marker={"color": color, "line": {"color": "#a0aec0", "width": 0.5}},
                hovertemplate=f"{ch} %{{x}}: US$%{{y:,.1f}}B<extra></extra>",
            )
        )
    fig.update_layout(**base_layout(title, "", "US$ billion (P50 of each part)"), barmode="stack")
    fig.update_xaxes(dtick=1)
    top = max(
        (sum((r.get(f"{c}_usd") or 0.0) for c in CHANNEL_COLORS) * scale for r in rows), default=1
    )
    xs = []
    for day, _label in events:
        y, m, d = (int(p) for p in day.split("-"))
        xs.append(y + (m - 1) / 12 + (d - 1) / 365 - 0.5)  # bars are centred on the year
    for x in xs:
        fig.add_shape(
            type="line", x0=x, x1=x, y0=0, y1=top * 1.04, line={"dash": "dot", "width": 1},
            layer="below",
        )  # fmt: skip
    if events:
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[top * 1.06] * len(xs),
                mode="markers",
                name="policy event",
                text=[f"{day}: {label}" for day, label in events],
                marker={"symbol": "triangle-down", "size": 9, "color": "#1a202c"},
                hovertemplate="%{text}<extra></extra>",
            )
        )
    return fig
