"""Assemble each page's charts from library results (shared by the dashboard and the report)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chipwatch.api.domains import available, domain_module
from chipwatch.api.errors import ApiError
from chipwatch.web import charts

if TYPE_CHECKING:
    from chipwatch.catalog import Catalog
    from chipwatch.catalog.schema import Accelerator

STORY_CHIPS = ("h20", "ascend-910b", "ascend-910c", "h100-sxm")


def chart(chart_id: str, fig_or_missing: Any, question: str = "", explain: str = "") -> dict:
    """What the chart macro needs: the figure JSON and its point count, or why it is missing."""
    if isinstance(fig_or_missing, dict) and "unavailable" in fig_or_missing:
        return {
            "id": chart_id,
            "question": question,
            "explain": explain,
            "unavailable": fig_or_missing["unavailable"],
        }
    return {
        "id": chart_id,
        "question": question,
        "explain": explain,
        "figure": charts.figure_json(fig_or_missing),
        "points": charts.points_in(fig_or_missing),
    }


def _missing(domain: str) -> dict[str, str]:
    try:
        domain_module(domain)
    except ApiError as e:
        return charts.not_available(e.message)
    return charts.not_available(f"{domain} is not available")


def overview_charts(
    cat: Catalog, cache: dict[str, Any], highlight: Sequence[str] = (), scenario: str | None = None
) -> list[dict[str, Any]]:
    """The article's four questions, each answered by one chart (or why it cannot be yet)."""
    story = list(highlight) or [c for c in STORY_CHIPS if c in cat]
    out = [
        chart(
            "ov-controls",
            _missing("controls"),
            "Which chips are controlled, and why?",
            "Export controls test total processing performance (TPP) and performance density.",
        ),
        chart(
            "ov-compute-bw",
            charts.compute_vs_bandwidth(cat, highlight=story),
            "H20 vs Ascend: compute or memory bandwidth?",
            "Each point is a chip's datasheet dense BF16 peak against its memory bandwidth: "
            "the H20 gives up compute but keeps HBM bandwidth, which decode speed depends on.",
        ),
        chart(
            "ov-perf",
            _missing("perf"),
            "And on real LLM work?",
            "Prefill is compute-bound and decode memory-bound, so the ranking can flip.",
        ),
        chart(
            "ov-market",
            _missing("market"),
            "Where does China's AI-chip market go?",
            "Domestic share of China's AI-chip market under each scenario, P10–P90.",
        ),
    ]
    return out


def chip_charts(chip: Accelerator, destination: str) -> tuple[list[dict[str, Any]], list[Any]]:
    out = [
        chart(
            "chip-roofline",
            charts.roofline(chip),
            "Roofline",
            "Attainable throughput is the lower of the compute peak and memory bandwidth "
            "times arithmetic intensity; the dot marks the ridge point.",
        )
    ]
    periods: list[Any] = []
    if available("controls"):
        pass
    else:
        out.append(chart("chip-timeline", _missing("controls"), "Control timeline"))
    return out, periods


def report_sections(cat: Catalog, chip_ids: list[str], scenario: str | None) -> list[dict]:
    """The briefing's sections: the overview's questions, then the chosen chips in detail."""
    chosen = [cat.chip(c) for c in chip_ids]
    ov = overview_charts(cat, {}, highlight=chip_ids, scenario=scenario)
    return [
        {"title": "The story in four charts", "charts": ov, "text": ""},
        {
            "title": "Compute and memory roofs of the chosen chips",
            "text": "Below its ridge point a chip is limited by memory bandwidth, above it by "
            "compute. "
            "LLM decode sits far left (a few FLOP per byte); prefill and training far right.",
            "charts": [chart("rep-rooflines", charts.rooflines(chosen))],
        },
    ]
