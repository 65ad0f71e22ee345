"""The catalog as tidy DuckDB tables: ``accelerators``, ``accelerator_values``, ``dies``.

In memory by default; ``db_path`` (``--db`` or ``CHIPWATCH_DB``) persists the tables to a file.
:func:`query` runs one read-only statement and refuses anything that writes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chipwatch.catalog import Catalog

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

TABLES = ("accelerators", "accelerator_values", "dies")
READ_ONLY_TYPES = {"SELECT", "EXPLAIN"}


class ReadOnlyError(ValueError):
    """A statement given to :func:`query` that would change the store."""


def default_db_path() -> str | None:
    return os.environ.get("CHIPWATCH_DB") or None


def frames(catalog: Catalog) -> dict[str, pd.DataFrame]:
    return {
        "accelerators": catalog.to_frame().reset_index(drop=True),
        "accelerator_values": catalog.values_frame(),
        "dies": catalog.dies_frame(),
    }


def connect(
    catalog: Catalog,
    db_path: str | Path | None = None,
    extra: dict[str, pd.DataFrame] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection holding the catalog tables (plus any ``extra`` frames)."""
    import duckdb

    try:
        con = duckdb.connect(str(db_path) if db_path else ":memory:")
    except duckdb.Error as e:
        raise ValueError(f"cannot open the store {db_path}: {e}") from None
    for name, df in {**frames(catalog), **(extra or {})}.items():
        con.register("_frame", df)
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _frame')
        con.unregister("_frame")
    return con


def statement_kinds(sql: str) -> list[str]:
    import duckdb

    return [s.type.name for s in duckdb.extract_statements(sql)]


def query(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """Run one read-only statement (SELECT or EXPLAIN) and return a DataFrame."""
    import duckdb

    try:
        kinds = statement_kinds(sql)
    except duckdb.Error as e:
        raise ValueError(f"SQL error: {e}") from None
    if len(kinds) != 1:
        raise ValueError(f"give exactly one SQL statement (got {len(kinds)})")
    if kinds[0] not in READ_ONLY_TYPES:
        raise ReadOnlyError(
            f"refused: 'sql' is read-only and this is a {kinds[0]} statement; "
            "use --catalog DIR to add or override chips instead"
        )
    try:
        result: Any = con.execute(sql).df()
    except duckdb.Error as e:
        raise ValueError(f"SQL error: {e}") from None
    return result
