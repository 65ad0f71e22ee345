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
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from chipwatch.catalog import Catalog

EXIT_USAGE = 2


@dataclass
class State:
    catalog_dirs: list[Path] = field(default_factory=list)
    db: str | None = None
    _catalog: Catalog | None = None

    def catalog(self) -> Catalog:
        if self._catalog is None:
            from chipwatch.catalog import load_catalog

            self._catalog = load_catalog(self.catalog_dirs)
        return self._catalog


STATE = State()


def catalog() -> Catalog:
    return STATE.catalog()


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
        _warn_load_errors_for(chip_id)
        fail(str(e))


def _warn_load_errors_for(chip_id: str) -> None:
    for err in catalog().errors:
        if chip_id in err.file:
            typer.echo(f"Note: {err}", err=True)


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types from pydantic models, dataclasses, numpy and pandas values."""
    if obj is None or isinstance(obj, str | bool | int):
        return obj
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, date | datetime):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "model_dump"):
        return to_jsonable(obj.model_dump(mode="json"))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "__dataclass_fields__"):
        return {k: to_jsonable(getattr(obj, k)) for k in obj.__dataclass_fields__}
    if hasattr(obj, "to_dict") and hasattr(obj, "columns"):  # DataFrame
        return to_jsonable(obj.to_dict(orient="records"))
    if hasattr(obj, "item"):  # numpy scalar
        return to_jsonable(obj.item())
    if hasattr(obj, "tolist"):
        return to_jsonable(obj.tolist())
    return str(obj)


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False) + "\n")


def emit_csv(rows: list[dict[str, Any]]) -> None:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: to_jsonable(v) for k, v in r.items()})
    sys.stdout.write(buf.getvalue())


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


def emit_table(
    rows: list[dict[str, Any]], title: str | None = None, columns: list[str] | None = None
) -> None:
    from rich.console import Console
    from rich.table import Table

    cols = columns or (list(rows[0]) if rows else [])
    t = Table(title=title, show_lines=False)
    for i, c in enumerate(cols):
        t.add_column(c, overflow="fold", no_wrap=i == 0)
    for r in rows:
        t.add_row(*(fmt(r.get(c)) for c in cols))
    Console().print(t)


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
