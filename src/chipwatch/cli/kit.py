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
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from chipwatch.jsonable import to_jsonable
from chipwatch.workspace import Workspace, default_workspace

if TYPE_CHECKING:
    from chipwatch.catalog import Catalog

EXIT_USAGE = 2
M = TypeVar("M", bound=BaseModel)


@dataclass
class State:
    """Options given on the command line before the command: the workspace (``--catalog``
    folders over the packaged data and ``CHIPWATCH_PATH``) and ``--db``."""

    db: str | None = None
    catalog_dirs: tuple[Path, ...] = ()
    _ws: Workspace | None = None

    def configure(self, catalog_dirs: list[Path], db: str | None) -> None:
        self.catalog_dirs, self.db, self._ws = tuple(catalog_dirs), db, None

    @property
    def ws(self) -> Workspace:
        """The workspace every command works on (built once per invocation)."""
        if self._ws is None:
            self._ws = (
                Workspace.from_dirs(self.catalog_dirs) if self.catalog_dirs else default_workspace()
            )
        return self._ws


STATE = State()


_warned: set[str] = set()


def ws() -> Workspace:
    return STATE.ws


def catalog() -> Catalog:
    cat = STATE.ws.catalog
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


# --- options from request models -----------------------------------------------------------
def opt(model: type[BaseModel], field: str, *decls: str, **kw: Any) -> Any:
    """A ``typer.Option`` for a request-model field: its help text is the field's description."""
    return typer.Option(*decls, help=model.model_fields[field].description, **kw)


def arg(model: type[BaseModel], field: str, **kw: Any) -> Any:
    """A ``typer.Argument`` for a request-model field (help from its description)."""
    return typer.Argument(help=model.model_fields[field].description, **kw)


def default(model: type[BaseModel], field: str) -> Any:
    """The field's default (the option's default)."""
    return model.model_fields[field].get_default(call_default_factory=True)


def csv_default(model: type[BaseModel], field: str) -> str:
    """A list field's default written as the comma-separated option value."""
    return ",".join(str(x) for x in default(model, field))


def csv_list(text: str | None) -> list[str] | None:
    """A comma-separated option value as a list (None when not given)."""
    if text is None:
        return None
    return [x.strip() for x in text.split(",") if x.strip()]


def build(model: type[M], values: dict[str, Any], positional: tuple[str, ...] = ()) -> M:
    """The request from the command's option values (None: the model's default); a bad value
    exits with code 2 and one line naming its option (``--field-name``, an alias every option
    has) or its argument (``positional``)."""
    given = {k: v for k, v in values.items() if v is not None and k in model.model_fields}
    try:
        return model.model_validate(given)
    except ValidationError as e:
        err = e.errors()[0]
        field = str(err["loc"][0]) if err.get("loc") else ""
        where = field if field in positional or not field else "--" + field.replace("_", "-")
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        fail(f"{where}: {msg}" if where else msg)
