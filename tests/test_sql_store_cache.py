"""``chipwatch sql`` answers from a store persisted under a hash of its data: the second run
does not load the catalog, and a changed user folder is a new hash (never a stale answer)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import chipwatch.cli.catalog as cli_catalog
from chipwatch.cli import app, kit
from chipwatch.sqlstore import data_hash

TDP = "SELECT tdp_w FROM accelerators WHERE id = 'h20'"


@pytest.fixture()
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CHIPWATCH_CACHE_DIR", str(folder))
    return folder


def stores(cache: Path) -> list[Path]:
    return sorted(cache.glob("sql-store-*.duckdb"))


def sql(runner, *args: str):
    r = runner.invoke(app, [*args[:-1], "sql", args[-1], "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_the_second_run_answers_from_the_store_without_loading_the_catalog(
    runner, cache: Path, monkeypatch: pytest.MonkeyPatch
):
    first = sql(runner, "SELECT count(*) AS n FROM accelerators")
    assert len(stores(cache)) == 1 and first[0]["n"] > 40

    def no_catalog():
        raise AssertionError("the catalog was loaded although the store exists")

    monkeypatch.setattr(cli_catalog, "catalog", no_catalog)
    assert sql(runner, "SELECT count(*) AS n FROM accelerators") == first
    assert len(stores(cache)) == 1
    r = runner.invoke(app, ["sql", "DROP TABLE accelerators"])  # the guards hold on the store
    assert r.exit_code != 0 and "read-only" in r.output
    r = runner.invoke(app, ["sql", "SELECT * FROM read_csv('/etc/passwd')"])
    assert r.exit_code != 0 and "disabled by configuration" in r.output


def test_a_changed_user_folder_is_a_new_hash_and_a_new_answer(runner, cache: Path, tmp_path: Path):
    user = tmp_path / "mine"
    user.mkdir()
    chip = user / "h20.yaml"
    chip.write_text("id: h20\ntdp_w: {value: 450, source: 'my lab'}\n")
    before = data_hash([user])
    assert sql(runner, "--catalog", str(user), TDP) == [{"tdp_w": 450}]
    chip.write_text("id: h20\ntdp_w: {value: 500, source: 'my lab'}\n")
    assert data_hash([user]) != before
    assert sql(runner, "--catalog", str(user), TDP) == [{"tdp_w": 500}]
    assert len(stores(cache)) == 2


def test_answers_match_the_in_memory_tables(runner, cache: Path, monkeypatch):
    q = "SELECT * FROM accelerators ORDER BY id"
    cached = sql(runner, q)
    monkeypatch.setenv("CHIPWATCH_NO_CACHE", "1")
    assert sql(runner, q) == cached


def test_no_store_is_kept_while_a_user_file_is_skipped(runner, cache: Path, tmp_path: Path):
    (tmp_path / "bad.yaml").write_text("id: bad\nname: [oops\n")
    for _ in range(2):  # the warning shows on every run (each a fresh process)
        kit._warned.clear()
        r = runner.invoke(app, ["--catalog", str(tmp_path), "sql", "SELECT 1 AS one"])
        assert r.exit_code == 0 and "skipped" in r.stderr
    assert stores(cache) == []


def test_old_stores_are_pruned_to_the_newest_few(tmp_path: Path) -> None:
    import os

    from chipwatch.sqlstore import prune_stores

    for i in range(6):
        f = tmp_path / f"sql-store-{i}.duckdb"
        f.write_bytes(b"x")
        os.utime(f, (1_000 + i, 1_000 + i))
    removed = prune_stores(tmp_path, keep=4)
    assert sorted(f.name for f in removed) == ["sql-store-0.duckdb", "sql-store-1.duckdb"]
    assert sorted(f.name for f in tmp_path.iterdir()) == [
        f"sql-store-{i}.duckdb" for i in range(2, 6)
    ]
