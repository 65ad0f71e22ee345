"""``chipwatch report``: one self-contained HTML briefing (plotly.js and the charts inlined).

The briefing holds the dashboard's charts and tables for chosen chips and a market scenario;
it is computed by the same functions as the pages and opens offline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chipwatch.web.columns import HEADLINE_COLUMNS
from chipwatch.workspace import Workspace, resolve

TABLE_FIELDS = [
    ("id", "id"),
    ("vendor", "vendor"),
    *HEADLINE_COLUMNS,
    ("unverified_fields", "unverified values"),
]


def build_report(
    chips: Sequence[str] = (),
    scenario: str | None = None,
    when: str | None = None,
    *,
    ws: Workspace | None = None,
    progress: Callable[[str], None] | None = None,
) -> str:
    """The briefing as one HTML string, from the workspace's data (user chips, rules, scenarios
    included). Unknown chip ids raise ``UnknownIdError``, unknown scenarios ``ChoiceError``.
    ``progress(step)`` is called as each of ``views.REPORT_STEPS`` steps starts."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from chipwatch import __version__
    from chipwatch.services.market import known_scenario
    from chipwatch.web import views
    from chipwatch.web.pages import HERE, plotly_js_path

    ws = resolve(ws)
    cat = ws.catalog
    chosen = [cat.chip(c) for c in chips] or [cat.chip(c) for c in views.story_chips(cat)]
    if scenario is not None:  # fail fast, before any chart is computed
        known_scenario(scenario, ws=ws)
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"])
    )
    macros: Any = env.get_template("_macros.html").module
    sections = views.report_sections(ws, [c.id for c in chosen], scenario, progress)
    if progress is not None:
        progress("writing the HTML")
    sections.append(
        {
            "title": "The chips in this briefing",
            "text": "Headline datasheet numbers; the dashboard and chipwatch chips show ID list "
            "every value with its source.",
            "charts": [],
            "table": {
                "columns": [label for _, label in TABLE_FIELDS],
                "rows": [
                    {
                        "cells": [c.flat()[f] for f, _ in TABLE_FIELDS],
                        "unverified": bool(c.flat()["unverified_fields"]),
                    }
                    for c in chosen
                ],
            },
        }
    )
    static = HERE / "static"
    return env.get_template("report.html").render(
        chart=macros.chart,
        fmt=macros.fmt,
        sections=sections,
        version=__version__,
        generated=when or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        n_chips=len(cat),
        scenario=scenario,
        css=(static / "style.css").read_text(encoding="utf-8"),
        app_js=(static / "app.js").read_text(encoding="utf-8").replace("</", "<\\/"),
        plotly_js=plotly_js_path().read_text(encoding="utf-8").replace("</script", "<\\/script"),
    )


def write_report(
    out: str | Path,
    chips: Sequence[str] = (),
    scenario: str | None = None,
    *,
    ws: Workspace | None = None,
) -> Path:
    path = Path(out)
    path.write_text(build_report(chips, scenario, ws=ws), encoding="utf-8")
    return path


def chart_count(html: str) -> int:
    """How many charts a briefing embeds (for tests and the CLI summary)."""
    return html.count('<script type="application/json" id="fig-')
