"""``chipwatch sql`` is read-only by DuckDB's own guards, not by reading the statement alone.

Regression tests for the probes in issue 14: EXPLAIN ANALYZE of a write, file and network reads,
extension installs, list/struct columns, a store that must not be touched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipwatch.catalog.store import ReadOnlyError, check_readonly, open_readonly, query
from chipwatch.cli import app


def run(runner, *args: str):
    return runner.invoke(app, list(args))


@pytest.mark.parametrize(
    "stmt",
    [
        "EXPLAIN ANALYZE COPY (SELECT 42) TO 'x.csv'",
        "EXPLAIN COPY (SELECT 42) TO 'x.csv'",
        "EXPLAIN /* hidden */ ANALYZE (FORMAT json) DELETE FROM accelerators",
        "EXPLAIN ANALYZE DROP TABLE accelerators",
        "EXPLAIN ANALYZE CREATE TABLE y AS SELECT 1",
        "COPY accelerators TO 'x.csv'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "ATTACH 'other.duckdb' AS o",
        "SET enable_external_access = true",
        "PRAGMA enable_profiling",
        "SELECT 1; SELECT 2",
    ],
)
def test_statements_other_than_one_select_are_refused_and_write_nothing(
    runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stmt: str
) -> None:
    monkeypatch.chdir(tmp_path)
    r = run(runner, "sql", stmt)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and r.output.startswith("Error: ")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "stmt",
    [
        "SELECT * FROM read_text('/proc/self/environ')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM glob('/root/**')",
        "SELECT * FROM read_parquet('https://example.com/x.parquet')",
        "SELECT * FROM 'pyproject.toml'",
    ],
)
def test_file_and_network_reads_are_refused_by_duckdb(runner, stmt: str) -> None:
    r = run(runner, "sql", stmt)
    assert r.exit_code == 2
    assert any(w in r.output for w in ("disabled by configuration", "does not exist")), r.output


def test_list_and_struct_columns_serialise_in_json_and_csv(runner) -> None:
    stmt = "SELECT [1, 2] AS x, {'a': 1, 'b': 'two'} AS s"
    r = run(runner, "sql", stmt, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == [{"x": [1, 2], "s": {"a": 1, "b": "two"}}]
    r = run(runner, "sql", stmt, "--csv")
    assert r.exit_code == 0, r.output
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(json.loads(row["x"]), json.loads(row["s"])) for row in rows] == [
        ([1, 2], {"a": 1, "b": "two"})
    ]


def test_with_explain_of_a_select_describe_and_show_still_answer(runner) -> None:
    for stmt in (
        "WITH a AS (SELECT id FROM accelerators) SELECT count(*) AS n FROM a",
        "EXPLAIN SELECT id FROM accelerators",
        "EXPLAIN ANALYZE SELECT id FROM accelerators",
        "DESCRIBE accelerators",
        "FROM dies LIMIT 1",
    ):
        assert run(runner, "sql", stmt, "--json").exit_code == 0, stmt


def test_a_saved_store_is_queried_without_being_changed(runner, tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "store.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE perf_sweep AS SELECT 'h20' AS chip, 1.5 AS x")
    before = (db.read_bytes(), sorted(os.listdir(tmp_path)))
    r = run(runner, "--db", str(db), "sql", "SELECT chip, x FROM perf_sweep", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == [{"chip": "h20", "x": 1.5}]
    for stmt in ("EXPLAIN ANALYZE DELETE FROM perf_sweep", "EXPLAIN ANALYZE DROP TABLE perf_sweep"):
        assert run(runner, "--db", str(db), "sql", stmt).exit_code == 2
    # read-only: no write-ahead log, no lock file, not a byte changed (a read-only filesystem
    # would refuse any of those)
    assert (db.read_bytes(), sorted(os.listdir(tmp_path))) == before


def test_results_are_capped_and_say_so(runner) -> None:
    r = runner.invoke(app, ["sql", "SELECT * FROM range(200000)", "--csv"])
    assert r.exit_code == 0
    assert len(r.stdout.splitlines()) == 100_001  # header + the cap
    assert "only the first 100,000 rows" in r.output


SQL_WORDS = st.sampled_from(
    [
        "SELECT",
        "EXPLAIN",
        "ANALYZE",
        "COPY",
        "TO",
        "FROM",
        "WITH",
        "AS",
        "INSERT",
        "INTO",
        "DELETE",
        "DROP",
        "CREATE",
        "TABLE",
        "ATTACH",
        "INSTALL",
        "LOAD",
        "SET",
        "PRAGMA",
        "CALL",
        "read_text",
        "read_csv",
        "glob",
        "(",
        ")",
        ";",
        ",",
        "*",
        "'x.csv'",
        "accelerators",
        "1",
        "--",
        "/*",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SQL_WORDS, min_size=1, max_size=10).map(" ".join))
def test_fuzzed_statements_never_write_and_fail_cleanly(catalog, tmp_path_factory, stmt) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        con = open_readonly(catalog)
        try:
            query(con, stmt)
        except ValueError as e:  # ReadOnlyError included: a clear refusal or SQL error
            assert str(e)
        finally:
            con.close()
    finally:
        os.chdir(cwd)
    assert os.listdir(folder) == []


def test_check_readonly_names_what_it_refused() -> None:
    with pytest.raises(ReadOnlyError, match="COPY"):
        check_readonly("EXPLAIN ANALYZE COPY (SELECT 42) TO 'x.csv'")


def test_a_store_on_a_read_only_filesystem_can_be_queried(tmp_path: Path) -> None:
    """A private read-only bind mount of the store's folder (needs ``unshare``; skipped where
    the machine does not allow one)."""
    import shutil
    import subprocess
    import sys

    import duckdb

    if shutil.which("unshare") is None:
        pytest.skip("no unshare")
    folder = tmp_path / "ro"
    folder.mkdir()
    with duckdb.connect(str(folder / "s.duckdb")) as con:
        con.execute("CREATE TABLE perf_sweep AS SELECT 'h20' AS chip")
    probe = subprocess.run(
        [
            "unshare",
            "-m",
            "sh",
            "-c",
            f"mount --bind {folder} {folder} && "
            f"mount -o remount,ro,bind {folder} && ! touch {folder}/x",
        ],
        capture_output=True,
    )
    if probe.returncode != 0:
        pytest.skip("cannot make a read-only mount here")
    query = "SELECT chip FROM perf_sweep"
    cmd = (
        f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && "
        f"{sys.executable} -m chipwatch --db {folder}/s.duckdb sql '{query}' --json"
    )
    r = subprocess.run(["unshare", "-m", "sh", "-c", cmd], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [{"chip": "h20"}]
