"""Shared plumbing for the CLI views: global options, output formats, clean failures.

Heavy libraries (pandas, DuckDB, Plotly) are imported inside the functions that need them so
that ``chipwatch --help`` and ``chipwatch chips show`` start fast.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

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
    lang: str | None = None
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
    prefix = translate("Error")
    typer.echo(f"{prefix}: {message}", err=True)
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
    from chipwatch.tables import cell

    return cell(v)


def console(**kwargs: Any) -> Any:
    """A Rich console; when output is not a terminal, wide (``COLUMNS`` or 160) so that tables
    piped to a file or a pager stay readable instead of folding at 80 columns."""
    import os

    from rich.console import Console

    if "width" not in kwargs and not sys.stdout.isatty():
        kwargs["width"] = int(os.environ.get("COLUMNS", "0") or 0) or 160
    return Console(**kwargs)


def width() -> int:
    """The terminal's width (``COLUMNS`` wins; 160 when output is not a terminal)."""
    return int(console().width)


def emit_table(
    rows: list[dict[str, Any]],
    title: str | None = None,
    columns: list[str] | None = None,
    selected: list[str] | None = None,
    wide: bool = False,
    transpose: str | None = None,
) -> None:
    """Print ``rows`` as a table that fits the terminal: ``columns`` is the command's default
    set, in order of priority; ``selected`` (``--columns``) and ``wide`` (``--wide``) override
    it; ``transpose`` (the new key column's name) flips a table too wide to fit."""
    from chipwatch.tables import choose_fields, natural_width, table

    try:
        fields = choose_fields(rows, columns, selected, wide)
    except ValueError as e:
        fail(str(e))
    w = width()
    out = console()
    if wide or selected:  # every asked-for column at full width, however wide
        w = max(w, natural_width(rows, fields, STATE.lang))
        out = console(width=w)
    out.print(
        table(
            rows,
            fields,
            w,
            title=translate(title) if title else None,
            lang=STATE.lang,
            transpose_if_needed=transpose,
            drop_columns=not (wide or selected),
        )
    )


def translate(text: str) -> str:
    """A message in the language chosen with ``--lang`` (English when no translation)."""
    if STATE.lang in (None, "en"):
        return text
    from chipwatch.i18n import gettext

    return gettext(text, STATE.lang)


def emit(
    rows: list[dict[str, Any]],
    as_json: bool = False,
    as_csv: bool = False,
    title: str | None = None,
    columns: list[str] | None = None,
    selected: list[str] | None = None,
    wide: bool = False,
    transpose: str | None = None,
) -> None:
    if as_json:
        emit_json(rows)
    elif as_csv:
        emit_csv(rows)
    else:
        emit_table(rows, title, columns, selected, wide, transpose)


def split_columns(text: str | None) -> list[str] | None:
    """``--columns a,b,c`` as a list (None when not given)."""
    if not text:
        return None
    return [c.strip() for c in text.split(",") if c.strip()]


ColumnsOpt = Annotated[
    str | None,
    typer.Option("--columns", help="Comma-separated columns to show (see --wide for all)."),
]
WideOpt = Annotated[bool, typer.Option("--wide", help="Show every column, however wide.")]


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
