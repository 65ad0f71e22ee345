"""``chipwatch sql``'s fast path: the catalog tables persisted as a DuckDB file in the cache
folder under a hash of the data (and of the code that builds them), opened read-only.

This module sits outside the ``catalog`` package on purpose: opening a persisted store must not
import the catalog (pydantic schemas) or pandas, so that ``chipwatch sql`` starts quickly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb


READ_ONLY_TYPES = {"SELECT", "EXPLAIN"}


class ReadOnlyError(ValueError):
    """A statement given to :func:`query` that would change the store."""


def user_dirs(extra: Iterable[str | Path] = ()) -> list[Path]:
    """The user folders a workspace would read: ``CHIPWATCH_PATH`` then ``extra`` (as
    ``catalog.loader.user_dirs``, without importing the catalog)."""
    path = os.environ.get("CHIPWATCH_PATH", "")
    return [Path(p) for p in path.split(os.pathsep) if p.strip()] + [Path(p) for p in extra]


def data_hash(dirs: Iterable[Path]) -> str:
    """A hash of everything the catalog tables are built from: the packaged and user YAML
    files (names and contents) and the code that builds the tables."""
    import hashlib

    import chipwatch

    h = hashlib.blake2b(digest_size=16)
    h.update(chipwatch.__version__.encode())
    for code in (
        Path(__file__),
        Path(chipwatch.__file__).parent / "catalog" / "store.py",
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


def cached_store(dirs: Iterable[Path], build: Callable[[Path], None]) -> Path | None:
    """A DuckDB file holding the catalog tables, kept in the cache folder under the data's
    hash: built once (by ``build(path)``), then opened directly, so ``chipwatch sql`` need not
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
        build(tmp)
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
