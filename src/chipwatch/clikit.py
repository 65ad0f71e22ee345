"""Shared plumbing for the CLI views: global options, output formats, clean failures.

Heavy libraries (pandas, DuckDB, Plotly) are imported inside the functions that need them so
that ``chipwatch --help`` and ``chipwatch chips show`` start fast.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from chipwatch import session
from chipwatch.jsonable import to_jsonable

if TYPE_CHECKING:
    from chipwatch.catalog import Catalog

EXIT_USAGE = 2


@dataclass
class State:
    """Options given on the command line before the command (``--catalog``, ``--db``)."""

    db: str | None = None

    @property
    def catalog_dirs(self) -> list[Path]:
        return session.catalog_dirs()

    @catalog_dirs.setter
    def catalog_dirs(self, dirs: list[Path]) -> None:
        session.configure(dirs)

    def catalog(self) -> Catalog:
        return session.catalog()


STATE = State()


_warned: set[str] = set()


def catalog() -> Catalog:
    cat = STATE.catalog()
    warn_load_errors(cat)
    return cat


def warn_load_errors(cat: Catalog) -> None:
    """One line on stderr per file the catalog skipped, once per process."""
    for err in cat.errors:
        line = str(err)
        if line not in _warned:
            _warned.add(line)
            typer.echo(f"Warning: skipped: {line}", err=True)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one clear error line to stderr and exit (2 = bad input)."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def chip_or_fail(chip_id: str):  # type: ignore[no-untyped-def]
    from chipwatch.catalog import UnknownIdError

    cat = catalog()
    try:
        return cat.chip(chip_id)
    except UnknownIdError as e:
        fail(str(e))  # catalog() has already warned of any file it skipped


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False) + "\n")


def emit_csv(rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: _csv_cell(to_jsonable(v)) for k, v in r.items()})
    sys.stdout.write(buf.getvalue())


def _csv_cell(v: Any) -> Any:
    """Lists and mappings (SQL list/struct columns) go into one CSV cell as JSON."""
    return json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v


def fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isnan(v):
            return "-"
        if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
            return f"{v:.3g}"
        return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, Enum):
        return str(v.value)
    return str(v)


def console(**kwargs: Any) -> Any:
    """A Rich console; when output is not a terminal, wide (``COLUMNS`` or 160) so that tables
    piped to a file or a pager stay readable instead of folding at 80 columns."""
    import os

    from rich.console import Console

    width = None
    if not sys.stdout.isatty():
        width = int(os.environ.get("COLUMNS", "0") or 0) or 160
    return Console(width=width, **kwargs)


def emit_table(
    rows: list[dict[str, Any]], title: str | None = None, columns: list[str] | None = None
) -> None:
    from rich.table import Table

    cols = columns or (list(rows[0]) if rows else [])
    t = Table(title=title, show_lines=False)
    for i, c in enumerate(cols):
        t.add_column(c, overflow="fold", no_wrap=i == 0)
    for r in rows:
        t.add_row(*(fmt(r.get(c)) for c in cols))
    console().print(t)


def emit(
    rows: list[dict[str, Any]],
    as_json: bool = False,
    as_csv: bool = False,
    title: str | None = None,
    columns: list[str] | None = None,
) -> None:
    if as_json:
        emit_json(rows)
    elif as_csv:
        emit_csv(rows)
    else:
        emit_table(rows, title=title, columns=columns)
