"""The ``chipwatch`` command line: thin shims over the library, one module per domain.

``catalog`` (chips, sql, validate), ``controls`` (classify, timeline, frontier, rules), ``perf``,
``market`` and ``web`` (serve, report). Each command builds its domain's request model from its
options (their defaults and help text come from the model), calls the service the API calls
too, and prints the result. A domain's module is imported only when one of its commands runs
(``LazyGroup``), so ``chipwatch chips show`` does not load the performance or market models.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from chipwatch import __version__
from chipwatch.cli.kit import STATE, fail

# command -> the module of chipwatch.cli whose ``commands`` app defines it (in help order)
COMMANDS = {
    "chips": "catalog",
    "sql": "catalog",
    "validate": "catalog",
    "classify": "controls",
    "timeline": "controls",
    "frontier": "controls",
    "rules": "controls",
    "perf": "perf",
    "market": "market",
    "serve": "web",
    "report": "web",
}


def domain_commands(module: str) -> Any:
    """The click group of one CLI module's commands (the module is imported here)."""
    if module == "catalog":
        from chipwatch.cli import catalog

        return typer.main.get_group(catalog.commands)
    if module == "controls":
        from chipwatch.cli import controls

        return typer.main.get_group(controls.commands)
    if module == "perf":
        from chipwatch.cli import perf

        return typer.main.get_group(perf.commands)
    if module == "market":
        from chipwatch.cli import market

        return typer.main.get_group(market.commands)
    from chipwatch.cli import web

    return typer.main.get_group(web.commands)


class LazyGroup(TyperGroup):
    """The root group: each command comes from its domain's module, imported on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        return domain_commands(module).get_command(ctx, cmd_name)


app = typer.Typer(
    name="chipwatch",
    cls=LazyGroup,
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


def main() -> None:
    app()


__all__ = ["app", "main"]
