"""The catalog as tidy DuckDB tables: ``accelerators``, ``accelerator_values``, ``dies``.

In memory by default; ``db_path`` (``--db`` or ``CHIPWATCH_DB``) persists the tables to a file.
:func:`query` runs one read-only statement and refuses anything that writes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from chipwatch.catalog import Catalog

TABLES = ("accelerators", "accelerator_values", "dies")
READ_ONLY_TYPES = {"SELECT", "EXPLAIN"}


class ReadOnlyError(ValueError):
    """A statement given to :func:`query` that would change the store."""


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


def data_hash(dirs: Iterable[Path]) -> str:
    """A hash of everything the catalog tables are built from: the packaged and user YAML
    files (names and contents) and the code that builds the tables."""
    import hashlib

    import chipwatch

    h = hashlib.blake2b(digest_size=16)
    h.update(chipwatch.__version__.encode())
    for code in (
        Path(__file__),
        Path(chipwatch.__file__).parent / "controls" / "metrics.py",
        Path(chipwatch.__file__).parent / "catalog" / "schema.py",
    ):
        h.update(code.read_bytes())
    roots = [Path(chipwatch.__file__).parent / "data" / "accelerators", *dirs]
    for root in roots:
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for f in files:
            if f.is_file() and f.suffix in (".yaml", ".yml", ".json", ".csv"):
                h.update(str(f).encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def cached_store(dirs: Iterable[Path], catalog: Callable[[], Catalog]) -> Path | None:
    """A DuckDB file holding the catalog tables, kept in the cache folder under the data's
    hash: built once (from ``catalog()``), then opened directly, so ``chipwatch sql`` need not
    load the catalog. None when caching is off (``CHIPWATCH_NO_CACHE``) or the folder is not
    writable."""
    if os.environ.get("CHIPWATCH_NO_CACHE"):
        return None
    # the parse cache's folder (catalog.loader.ParseCache), found without importing the loader
    root = os.environ.get("CHIPWATCH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "chipwatch",
    )
    path = Path(root) / f"store-{data_hash(dirs)}.duckdb"
    if path.is_file():
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        connect(catalog(), tmp).close()
        os.replace(tmp, path)
    except (OSError, ValueError):
        return None
    return path


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    import duckdb

    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as e:
        raise ValueError(f"cannot open the store {path}: {e}") from None


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


def query_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """Run one read-only statement and return its rows as dicts (no pandas: fast start-up)."""
    import duckdb

    check_read_only(sql)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    except duckdb.Error as e:
        raise ValueError(f"SQL error: {e}") from None


def check_read_only(sql: str) -> None:
    """Refuse anything but one SELECT or EXPLAIN statement."""
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


def query(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """Run one read-only statement (SELECT or EXPLAIN) and return a DataFrame."""
    import duckdb

    check_read_only(sql)
    try:
        result: Any = con.execute(sql).df()
    except duckdb.Error as e:
        raise ValueError(f"SQL error: {e}") from None
    return result
