"""The SQL guards, and ``chipwatch sql``'s persisted store.

The guards (:data:`GUARDS`, :func:`check_readonly`) are re-exported by
:mod:`chipwatch.catalog.store`, which builds the tables. The persisted store is those tables
written once to a DuckDB file in the cache folder, named by a hash of the data they are built
from (packaged chips, user folders, the code that builds them), and then opened read-only with
the same guards, so that a later ``chipwatch sql`` need not load the catalog. This module sits
outside the ``catalog`` package on purpose: finding and opening a persisted store imports
neither the catalog (pydantic schemas) nor pandas.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

READ_ONLY_TYPES = {"SELECT", "EXPLAIN"}
MAX_ROWS = 100_000  # rows one query may return
TIME_LIMIT_S = 30.0  # a query still running after this is interrupted
MEMORY_LIMIT = "1GB"
# DuckDB settings applied before user SQL runs, the last one locking the rest
GUARDS = (
    ("enable_external_access", "false"),  # no file reads/writes, no network, no ATTACH
    ("autoinstall_known_extensions", "false"),
    ("autoload_known_extensions", "false"),
    ("memory_limit", f"'{MEMORY_LIMIT}'"),
    ("lock_configuration", "true"),
)
# what the persisted store's tables are built by: a change to any of these is a new store
BUILD_CODE = (
    "sqlstore.py",
    "catalog/store.py",
    "catalog/loader.py",
    "catalog/schema.py",
    "catalog/__init__.py",
    "controls/metrics.py",
)
DATA_SUFFIXES = (".yaml", ".yml", ".json", ".csv")


class ReadOnlyError(ValueError):
    """A statement given to :func:`query` that would change the store."""


# --- the statement check ------------------------------------------------------------------
def statement_kinds(sql: str) -> list[str]:
    import duckdb

    return [s.type.name for s in duckdb.extract_statements(sql)]


def _explained(sql: str) -> str:
    """The statement an ``EXPLAIN [ANALYZE] [(options)]`` wraps (its text after those words)."""
    import duckdb

    raw = duckdb.tokenize(sql)
    ends = [pos for pos, _ in raw[1:]] + [len(sql)]
    tokens = [
        (pos, sql[pos:end].strip())
        for (pos, kind), end in zip(raw, ends, strict=True)
        if kind.name.upper() != "COMMENT"
    ]
    i = 0
    if i < len(tokens) and tokens[i][1].upper() == "EXPLAIN":
        i += 1
    if i < len(tokens) and tokens[i][1].upper() == "ANALYZE":
        i += 1
    if i < len(tokens) and tokens[i][1].startswith("("):
        depth = 0
        for j in range(i, len(tokens)):
            text = tokens[j][1]
            depth += text.count("(") - text.count(")")
            if depth <= 0:
                i = j + 1
                break
    return sql[tokens[i][0] :] if i < len(tokens) else ""


def check_readonly(sql: str) -> None:
    """Refuse anything but one SELECT (WITH, FROM, DESCRIBE and SHOW parse as SELECT) or an
    EXPLAIN of one; :class:`ReadOnlyError` names what was given."""
    import duckdb

    try:
        kinds = statement_kinds(sql)
    except duckdb.Error as e:
        raise ValueError(f"SQL error: {e}") from None
    if len(kinds) != 1:
        raise ValueError(f"give exactly one SQL statement (got {len(kinds)})")
    kind = kinds[0]
    if kind == "EXPLAIN":
        try:
            inner = statement_kinds(_explained(sql))
        except duckdb.Error:
            inner = []
        if inner != ["SELECT"]:
            what = inner[0] if len(inner) == 1 else "unparsed"
            raise ReadOnlyError(
                f"refused: 'sql' is read-only and EXPLAIN may only wrap a SELECT (got {what})"
            )
    elif kind not in READ_ONLY_TYPES:
        raise ReadOnlyError(
            f"refused: 'sql' is read-only and this is a {kind} statement; "
            "use --catalog DIR to add or override chips instead"
        )


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


# --- the persisted store ------------------------------------------------------------------
def user_dirs(extra: Iterable[str | Path] = ()) -> list[Path]:
    """The user folders a workspace reads: ``CHIPWATCH_PATH`` then ``extra`` (as
    ``catalog.loader.user_dirs``, without importing the catalog)."""
    path = os.environ.get("CHIPWATCH_PATH", "")
    return [Path(p) for p in path.split(os.pathsep) if p.strip()] + [Path(p) for p in extra]


def data_hash(dirs: Iterable[Path]) -> str:
    """A hash of everything the tables are built from: the version and build code, the packaged
    chip files and every data file in the user folders (paths and contents, in order)."""
    import hashlib

    import chipwatch

    pkg = Path(chipwatch.__file__).parent
    h = hashlib.blake2b(digest_size=16)
    h.update(chipwatch.__version__.encode())
    for code in BUILD_CODE:
        h.update((pkg / code).read_bytes())
    for i, root in enumerate([pkg / "data" / "accelerators", *dirs]):
        h.update(f"\0root {i} {root}\0".encode())
        files = sorted(root.rglob("*")) if root.is_dir() else [root] if root.exists() else []
        for f in files:
            if f.suffix in DATA_SUFFIXES and f.is_file():
                h.update(f"\0{f}\0".encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def cache_dir() -> Path | None:
    """The parse cache's folder (``catalog.loader.ParseCache``); None under
    ``CHIPWATCH_NO_CACHE``."""
    if os.environ.get("CHIPWATCH_NO_CACHE"):
        return None
    root = os.environ.get("CHIPWATCH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "chipwatch",
    )
    return Path(root)


def store_path(dirs: Iterable[Path]) -> Path | None:
    """Where the persisted store for these user folders lives (None when caching is off)."""
    root = cache_dir()
    return None if root is None else root / f"sql-store-{data_hash(dirs)}.duckdb"


def cached_store(dirs: Iterable[Path], build: Callable[[Path], bool]) -> Path | None:
    """The persisted store for ``dirs``: opened as it is when it exists, else built by
    ``build(tmp)`` into a temporary file renamed into place (a reader never sees half a store).
    ``build`` returns False to keep nothing (e.g. the catalog skipped a bad file, whose warning
    must show on every run). None when caching is off or the folder is not writable."""
    path = store_path(list(dirs))
    if path is None:
        return None
    if path.is_file():
        return path
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        if not build(tmp):
            tmp.unlink(missing_ok=True)
            return None
        os.replace(tmp, path)
    except (OSError, ValueError):
        tmp.unlink(missing_ok=True)
        return None
    prune_stores(path.parent, keep=KEEP_STORES)
    return path


KEEP_STORES = 4  # one store per data hash; older ones are removed so the cache stays bounded


def prune_stores(root: Path, keep: int) -> list[Path]:
    """Remove all but the ``keep`` newest stores in ``root``; returns those removed."""
    stores = sorted(root.glob("sql-store-*.duckdb"), key=lambda f: f.stat().st_mtime, reverse=True)
    removed = []
    for old in stores[keep:]:
        try:
            old.unlink()
            removed.append(old)
        except OSError:
            pass
    return removed


def open_store(path: Path) -> duckdb.DuckDBPyConnection:
    """The persisted store opened read-only, the :data:`GUARDS` set and the configuration
    locked (as :func:`chipwatch.catalog.store.open_readonly` does)."""
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as e:
        raise ValueError(f"cannot open the store {path}: {e}") from None
    for setting, value in GUARDS:
        con.execute(f"SET {setting} = {value}")
    return con


def query_rows(
    con: duckdb.DuckDBPyConnection, sql: str, max_rows: int = MAX_ROWS
) -> tuple[list[dict[str, Any]], bool]:
    """One read-only statement's rows as dicts (at most ``max_rows``; no pandas) and whether
    more were left out; interrupted after :data:`TIME_LIMIT_S`, like ``store.query``."""
    import threading

    import duckdb

    check_readonly(sql)
    timer = threading.Timer(TIME_LIMIT_S, con.interrupt)
    timer.start()
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description or []]
        fetched = cur.fetchmany(max_rows + 1)
    except duckdb.InterruptException:
        raise ValueError(f"SQL error: stopped after the {TIME_LIMIT_S:g} s limit") from None
    except duckdb.Error as e:
        raise ValueError(f"SQL error: {_first_line(e)}") from None
    finally:
        timer.cancel()
    rows = [dict(zip(names, row, strict=True)) for row in fetched[:max_rows]]
    return rows, len(fetched) > max_rows
