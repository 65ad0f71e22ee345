"""The catalog as tidy DuckDB tables: ``accelerators``, ``accelerator_values``, ``dies``.

In memory by default; ``db_path`` (``--db`` or ``CHIPWATCH_DB``) persists the tables to a file.
:func:`query` runs one read-only statement and refuses anything that writes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chipwatch.sqlstore import (  # noqa: F401  (re-exported: the read-only rules live there)
    READ_ONLY_TYPES,
    ReadOnlyError,
    check_read_only,
    query_rows,
    statement_kinds,
)

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from chipwatch.catalog import Catalog

TABLES = ("accelerators", "accelerator_values", "dies")


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


def query(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """Run one read-only statement (SELECT or EXPLAIN) and return a DataFrame."""
    import duckdb

    check_read_only(sql)
    try:
        result: Any = con.execute(sql).df()
    except duckdb.Error as e:
        raise ValueError(f"SQL error: {e}") from None
    return result
