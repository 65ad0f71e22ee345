"""The catalog commands as a user types them: chips list/show/compare, sql, validate, --version."""

from __future__ import annotations

import json
from pathlib import Path

from chipwatch import __version__
from chipwatch.cli import app


def run(runner, *args: str):
    return runner.invoke(app, list(args))


def test_version(runner):
    r = run(runner, "--version")
    assert r.exit_code == 0 and __version__ in r.stdout


def test_chips_list_json(runner):
    r = run(runner, "chips", "list", "--json")
    assert r.exit_code == 0, r.output
    ids = {row["id"] for row in json.loads(r.stdout)}
    assert {"h20", "h100-sxm"} <= ids


def test_chips_list_filters_and_csv(runner):
    r = run(runner, "chips", "list", "--vendor", "nvidia", "--csv")
    assert r.exit_code == 0
    header, *rows = r.stdout.strip().splitlines()
    assert header.startswith("id,name,vendor")
    assert rows and all(",NVIDIA," in row for row in rows)


def test_chips_list_unknown_vendor_is_a_clear_error(runner):
    r = run(runner, "chips", "list", "--vendor", "nvidai")
    assert r.exit_code == 2
    assert "NVIDIA" in r.output


def test_chips_show_json_gives_every_value_with_its_source(runner):
    r = run(runner, "chips", "show", "h20", "--json")
    assert r.exit_code == 0
    d = json.loads(r.stdout)
    assert d["id"] == "h20"
    assert all(v["source"] for v in d["values"])
    bw = next(v for v in d["values"] if v["field"] == "memory.bandwidth_tbs")
    assert bw["value"] == 4.0 and bw["unit"] == "TB/s"


def test_chips_show_table(runner):
    r = run(runner, "chips", "show", "h20")
    assert r.exit_code == 0
    assert "memory.bandwidth_tbs" in r.stdout and "TH-H20L20L2: Tom's Hardware" in r.stdout


def test_unknown_chip_exits_2_with_suggestions(runner):
    r = run(runner, "chips", "show", "h2o")
    assert r.exit_code == 2
    assert "Did you mean: h20" in r.output


def test_compare_gives_ratios_to_the_first(runner):
    r = run(runner, "chips", "compare", "h100-sxm", "h20", "--json")
    assert r.exit_code == 0
    rows = {row["field"]: row for row in json.loads(r.stdout)["rows"]}
    assert rows["tflops_bf16_dense"]["h20/h100-sxm"] == round(148 / 989.4, 3)
    assert rows["mem_bw_tbs"]["h20/h100-sxm"] == round(4.0 / 3.35, 3)


def test_compare_needs_two_chips(runner):
    assert run(runner, "chips", "compare", "h20").exit_code == 2


def test_sql_select(runner):
    r = run(
        runner,
        "sql",
        "SELECT id, mem_bw_tbs FROM accelerators ORDER BY mem_bw_tbs DESC LIMIT 5",
        "--json",
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    bws = [row["mem_bw_tbs"] for row in rows]
    assert bws == sorted(bws, reverse=True)


def test_sql_tidy_values_and_dies_tables(runner):
    r = run(
        runner,
        "sql",
        "SELECT source FROM accelerator_values WHERE chip_id='h20' AND field='tops_int8_dense'",
        "--csv",
    )
    assert r.exit_code == 0 and "tomshardware" in r.stdout
    r = run(runner, "sql", "SELECT area_mm2 FROM dies WHERE chip_id='h100-sxm'", "--json")
    assert json.loads(r.stdout) == [{"area_mm2": 814.0}]


def test_sql_refuses_writes(runner):
    for stmt in (
        "DROP TABLE accelerators",
        "INSERT INTO dies VALUES (1)",
        "UPDATE accelerators SET tdp_w = 0",
        "CREATE TABLE x AS SELECT 1",
    ):
        r = run(runner, "sql", stmt)
        assert r.exit_code == 2, stmt
        assert "read-only" in r.output


def test_sql_error_is_one_clear_line(runner):
    r = run(runner, "sql", "SELECT nope FROM accelerators")
    assert r.exit_code == 2 and "SQL error" in r.output and "Traceback" not in r.output


def test_sql_persists_to_db_file(runner, tmp_path: Path):
    db = tmp_path / "cw.duckdb"
    r = run(runner, "--db", str(db), "sql", "SELECT count(*) AS n FROM accelerators", "--json")
    assert r.exit_code == 0 and db.exists()
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM dies").fetchone()[0] >= 1


def test_validate_reports_every_problem_with_file_and_field(runner, tmp_path: Path):
    (tmp_path / "a.yaml").write_text(
        "id: a\nname: A\nvendor: X\nvendor_country: US\nreleased: {value: '2024-01', source: s}\n"
        "status: shipping\nsegment: datacenter\ndatacenter_marketed: {value: true, source: s}\n"
        "compute: {dense: {bf16: {value: -3, source: s}, fp7: {value: 1, source: s}}}\n"
        "memory: {capacity_gb: {value: 1}, bandwidth_tbs: {value: 1, source: s}}\n"
    )
    (tmp_path / "b.yaml").write_text("id: b\nname: [oops\n")
    r = run(runner, "validate", str(tmp_path))
    assert r.exit_code == 1
    lines = r.stdout.strip().splitlines()
    assert any("a.yaml: compute.dense.bf16.value" in ln for ln in lines)
    assert any("a.yaml: compute.dense.fp7" in ln for ln in lines)
    assert any("a.yaml: memory.capacity_gb.source: field required" in ln for ln in lines)
    assert any("b.yaml: line" in ln and "invalid YAML" in ln for ln in lines)


def test_validate_ok_folder(runner, tmp_path: Path):
    (tmp_path / "h20.yaml").write_text("id: h20\ntdp_w: {value: 450, source: 'my lab'}\n")
    r = run(runner, "validate", str(tmp_path))
    assert r.exit_code == 0 and "OK" in r.stdout


def test_a_bad_user_file_does_not_break_other_commands(runner, tmp_path: Path):
    (tmp_path / "bad.yaml").write_text("id: bad\nname: [oops\n")
    r = run(runner, "--catalog", str(tmp_path), "chips", "show", "h20", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["id"] == "h20"


def test_sql_on_a_file_that_is_not_a_store_is_a_clear_error(runner, tmp_path: Path):
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("chip,value\nh20,1\n")
    r = run(runner, "--db", str(bogus), "sql", "SELECT 1")
    assert r.exit_code == 2 and "cannot open the store" in r.output
