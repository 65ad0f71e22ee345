"""The catalog as tidy DuckDB tables: ``accelerators``, ``accelerator_values``, ``dies``.

In memory by default; ``db_path`` (``--db`` or ``CHIPWATCH_DB``) persists the tables to a file.
:func:`open_readonly` and :func:`query` answer user SQL through DuckDB's own guards: the store is
attached read-only, file and network access, extension install/autoload are off and the
configuration is locked before the statement runs; the statement itself must be one SELECT (or
WITH/EXPLAIN of one). Nothing it does can write a file or change the store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chipwatch.sqlstore import (
    GUARDS,
    MAX_ROWS,
    MEMORY_LIMIT,
    READ_ONLY_TYPES,
    TIME_LIMIT_S,
    ReadOnlyError,
    _explained,
    _first_line,
    check_readonly,
    statement_kinds,
)

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from chipwatch.catalog import Catalog

TABLES = ("accelerators", "accelerator_values", "dies")
__all__ = [
    "GUARDS",
    "MAX_ROWS",
    "MEMORY_LIMIT",
    "READ_ONLY_TYPES",
    "TABLES",
    "TIME_LIMIT_S",
    "ReadOnlyError",
    "_explained",
    "check_readonly",
    "statement_kinds",
]


def default_db_path() -> str | None:
    return os.environ.get("CHIPWATCH_DB") or None


def frames(catalog: Catalog) -> dict[str, pd.DataFrame]:
    return {
        "accelerators": with_control_metrics(catalog.to_frame().reset_index(drop=True), catalog),
        "accelerator_values": catalog.values_frame(),
        "dies": catalog.dies_frame(),
    }


def with_control_metrics(df: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """The accelerators table with the export-control metrics: ``tpp`` and the precision it is
    computed at (``tpp_precision``), the applicable die area and ``performance_density``
    (3A090 Technical Note; null where an input is missing)."""
    from chipwatch.controls.metrics import applicable_die_area_mm2, performance_density, tpp

    tpps, precs, areas, pds = [], [], [], []
    for cid in df["id"]:
        chip = catalog.chip(cid)
        value, precision = tpp(chip)
        area = applicable_die_area_mm2(chip)
        tpps.append(value)
        precs.append(precision)
        areas.append(area)
        pds.append(performance_density(value, area))
    out = df.copy()
    out["tpp"] = tpps
    out["tpp_precision"] = precs
    out["applicable_die_area_mm2"] = areas
    out["performance_density"] = pds
    return out


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


def open_readonly(catalog: Catalog, db_path: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the catalog tables and, when ``db_path`` exists, every table
    of that store as a view over it attached READ_ONLY (so a store on a read-only filesystem can
    be queried); then the :data:`GUARDS` are set and the configuration locked. A store that does
    not exist yet is first created holding the catalog tables."""
    import duckdb

    con = duckdb.connect(":memory:")
    for name, df in frames(catalog).items():
        con.register("_frame", df)
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _frame')
        con.unregister("_frame")
    if db_path:
        if not Path(db_path).exists():  # a new store starts with the catalog tables
            try:
                connect(catalog, db_path).close()
            except ValueError:
                con.close()
                raise
        try:
            con.execute("ATTACH ? AS store (READ_ONLY)", [str(db_path)])
        except duckdb.Error as e:
            con.close()
            raise ValueError(f"cannot open the store {db_path}: {e}") from None
        stored = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'store'"
        ).fetchall()
        for (table,) in stored:
            if table not in TABLES:  # the catalog in use wins over a saved copy
                ident = str(table).replace('"', '""')
                con.execute(f'CREATE VIEW "{ident}" AS SELECT * FROM store.main."{ident}"')
    for setting, value in GUARDS:
        con.execute(f"SET {setting} = {value}")
    return con


def query(con: duckdb.DuckDBPyConnection, sql: str, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """Run one read-only statement (see :func:`check_readonly`) and return at most ``max_rows``
    rows; a statement running past :data:`TIME_LIMIT_S` is interrupted."""
    import threading

    import duckdb

    check_readonly(sql)
    timer = threading.Timer(TIME_LIMIT_S, con.interrupt)
    timer.start()
    try:
        result: Any = con.execute(sql).fetch_df_chunk(max(1, -(-(max_rows + 1) // 2048)))
    except duckdb.InterruptException:
        raise ValueError(f"SQL error: stopped after the {TIME_LIMIT_S:g} s limit") from None
    except duckdb.Error as e:
        raise ValueError(f"SQL error: {_first_line(e)}") from None
    finally:
        timer.cancel()
    truncated = len(result) > max_rows
    result = result.head(max_rows)
    result.attrs["truncated"] = truncated
    return result
