"""The ``chipwatch`` command line: thin shims over the library, one module per domain.

``catalog`` (chips, sql, validate), ``controls`` (classify, timeline, frontier), ``perf``,
``market`` and ``web`` (serve, report). Each command builds its domain's request model from its
options (their defaults and help text come from the model), calls the service the API calls
too, and prints the result. Heavy libraries are imported inside commands.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from chipwatch import __version__
from chipwatch.cli import catalog, controls, market, perf, web
from chipwatch.cli.kit import STATE, fail

app = typer.Typer(
    name="chipwatch",
    help="AI accelerators and US export controls, with numbers and sources.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chipwatch {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    catalog_dirs: Annotated[
        list[Path] | None,
        typer.Option(
            "--catalog",
            help="Folder of user YAML (chips, models, rules, scenarios) to add or override. "
            "Repeatable; CHIPWATCH_PATH works too.",
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Persist the DuckDB store to this file (or CHIPWATCH_DB)."),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="Language of table headers and messages: en or zh-CN (or CHIPWATCH_LANG).",
        ),
    ] = None,
) -> None:
    from chipwatch.i18n import LANGUAGES, normalize

    chosen = lang or os.environ.get("CHIPWATCH_LANG")
    STATE.lang = normalize(chosen)
    if chosen and STATE.lang is None:
        fail(f"unknown language {chosen!r}: use {' or '.join(LANGUAGES)}")
    STATE.configure(list(catalog_dirs or []), db or os.environ.get("CHIPWATCH_DB") or None)


app.add_typer(catalog.app, name="chips")
app.command("sql")(catalog.sql_cmd)
app.command("validate")(catalog.validate_cmd)
app.command("classify")(controls.classify_cmd)
app.command("timeline")(controls.timeline_cmd)
app.command("frontier")(controls.frontier_cmd)
app.add_typer(perf.app, name="perf")
app.add_typer(market.app, name="market")
app.command("serve")(web.serve)
app.command("report")(web.report)


def main() -> None:
    app()


__all__ = ["app", "main"]
