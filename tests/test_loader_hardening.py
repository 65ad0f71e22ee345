"""Hostile and careless catalog files: each gives one clear line (file: field: reason) and is
skipped; every other file and command keeps working (issue 14 probes)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chipwatch.catalog import load_catalog
from chipwatch.catalog import loader as L
from chipwatch.cli import app

BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
)

CHIP = """id: {id}
name: Test chip
vendor: Testco
vendor_country: US
released: {{value: '2024-01', source: s}}
status: shipping
segment: datacenter
datacenter_marketed: {{value: true, source: s}}
compute: {{dense: {{bf16: {{value: {tflops}, source: s}}}}}}
memory: {{capacity_gb: {{value: 96, source: s}}, bandwidth_tbs: {{value: {tbs}, source: s}}}}
"""


@pytest.fixture()
def bad_folder(tmp_path: Path) -> Path:
    (tmp_path / "random.yaml").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "laughs.yaml").write_text(BILLION_LAUGHS)
    return tmp_path


def errors_by_file(cat) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[str]] = {}
    for e in cat.errors:
        out.setdefault(Path(e.file).name, []).append(f"{e.field}: {e.reason}")
    return out


def test_random_bytes_and_billion_laughs_give_one_line_each_and_load_fast(bad_folder) -> None:
    t0 = time.perf_counter()
    load_catalog([])
    clean = time.perf_counter() - t0
    t0 = time.perf_counter()
    cat = load_catalog([bad_folder])
    elapsed = time.perf_counter() - t0
    errs = errors_by_file(cat)
    assert set(errs) == {"random.yaml", "laughs.yaml"}
    assert all(len(v) == 1 for v in errs.values())
    assert "not UTF-8" in errs["random.yaml"][0]
    assert "aliases expand" in errs["laughs.yaml"][0]
    assert "h20" in cat and len(cat) > 40
    # under a second, or (on a loaded machine) not much slower than without the bad files
    assert elapsed < max(1.0, 3 * clean), f"{elapsed:.2f} s (clean {clean:.2f} s)"


def test_chips_show_still_answers_beside_bad_files(runner, bad_folder) -> None:
    r = runner.invoke(app, ["--catalog", str(bad_folder), "chips", "show", "h20", "--json"])
    assert r.exit_code == 0
    assert json.loads(r.stdout)["id"] == "h20"
    warnings = [ln for ln in r.output.splitlines() if ln.startswith("Warning: skipped:")]
    assert len(warnings) == 2 and "Traceback" not in r.output


def test_serve_app_starts_beside_bad_files(bad_folder) -> None:
    from fastapi.testclient import TestClient

    from chipwatch.api import create_app

    client = TestClient(create_app([bad_folder]))
    body = client.get("/api/chips").json()
    assert body["count"] > 40 and len(body["load_errors"]) == 2


def test_oversized_file_and_too_many_records_are_refused(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "big.yaml").write_text("# pad\n" * 200_000)
    many = [{"id": f"c{i}"} for i in range(L.MAX_RECORDS_PER_FILE + 1)]
    (tmp_path / "many.yaml").write_text(json.dumps(many))  # JSON is YAML
    errs = errors_by_file(load_catalog([tmp_path]))
    assert "over the 1,000,000-byte limit" in errs["big.yaml"][0]
    assert "2,001 records, over the 2,000 per file limit" in errs["many.yaml"][0]


@pytest.mark.parametrize(
    ("tflops", "tbs", "where", "reason"),
    [
        (".nan", 4, "compute.dense.bf16.value", "not a finite number"),
        (".inf", 4, "compute.dense.bf16.value", "not a finite number"),
        ("1e30", 4, "(record)", "above the physical bound of 1e+06 tflops"),
        (100, 4000, "(record)", "above the physical bound of 1000 TB/s"),
    ],
)
def test_non_finite_and_unphysical_values_are_rejected_with_file_and_field(
    tmp_path: Path, tflops, tbs, where, reason
) -> None:
    (tmp_path / "x.yaml").write_text(CHIP.format(id="x1", tflops=tflops, tbs=tbs))
    cat = load_catalog([tmp_path])
    assert "x1" not in cat
    [line] = [str(e) for e in cat.errors]
    assert line.startswith(f"{tmp_path / 'x.yaml'}: {where}: ") and reason in line


def test_duplicate_ids_across_user_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(CHIP.format(id="dup", tflops=100, tbs=2))
    (tmp_path / "b.yaml").write_text(CHIP.format(id="dup", tflops=200, tbs=2))
    cat = load_catalog([tmp_path])
    assert cat.chip("dup").dense("bf16") == 200
    [line] = [str(e) for e in cat.errors]
    assert "b.yaml: id: duplicate id 'dup', also in" in line and "a.yaml" in line


def test_the_parse_cache_stays_bounded(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CHIPWATCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(L, "MAX_CACHE_BYTES", 50_000)
    cache = L.ParseCache()
    for i in range(2000):
        cache.put(f"id: c{i}\n", {"id": f"c{i}", "pad": "x" * 100})
    cache.save()
    f = L.ParseCache.file()
    assert f is not None and f.stat().st_size <= 50_000
    kept = json.loads(f.read_text())
    assert cache.key("id: c1999\n") in kept  # the newest stay
    # an oversized cache from an older version is ignored and rewritten within bounds
    f.write_text(json.dumps({str(i): "x" * 1000 for i in range(200)}))
    again = L.ParseCache()
    again.put("id: z\n", {"id": "z"})
    again.save()
    assert f.stat().st_size < 1000


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)))
def test_fuzzed_file_bytes_never_raise(tmp_path_factory, data: bytes) -> None:
    f = tmp_path_factory.mktemp("fz") / "f.yaml"
    f.write_bytes(data)
    records, errors = L.read_yaml(f)
    assert all(isinstance(r, dict) and "id" in r for r in records)
    assert all(e.file == str(f) and e.reason for e in errors)


YAML_PIECES = st.sampled_from(
    ["id: a\n", "- ", "&x ", "*x ", "[", "]", "{", "}", ": ", "1e400", ".nan", "'", "\n", "  "]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(YAML_PIECES, max_size=30).map("".join))
def test_fuzzed_yaml_structure_never_raises(tmp_path_factory, text: str) -> None:
    f = tmp_path_factory.mktemp("fy") / "f.yaml"
    f.write_text(text)
    records, errors = L.read_yaml(f)
    assert all(L.first_non_finite(r) is None for r in records)
    assert os.path.exists(f)


def test_validate_rejects_nan_infinity_and_unphysical_values(runner, tmp_path: Path) -> None:
    (tmp_path / "nan.yaml").write_text(CHIP.format(id="n1", tflops=".nan", tbs=4))
    (tmp_path / "inf.yaml").write_text(CHIP.format(id="n2", tflops=100, tbs=".inf"))
    (tmp_path / "big.yaml").write_text(CHIP.format(id="n3", tflops="1e30", tbs=4))
    (tmp_path / "random.yaml").write_bytes(bytes(range(256)))
    (tmp_path / "laughs.yaml").write_text(BILLION_LAUGHS)
    r = runner.invoke(app, ["validate", str(tmp_path)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    lines = r.stdout.strip().splitlines()
    by_file = {Path(ln.split(":", 1)[0]).name: ln for ln in lines}
    assert set(by_file) == {"nan.yaml", "inf.yaml", "big.yaml", "random.yaml", "laughs.yaml"}
    assert len(lines) == 5  # one line each
    assert "not a finite number" in by_file["nan.yaml"]
    assert "memory.bandwidth_tbs.value: not a finite number" in by_file["inf.yaml"]
    assert "physical bound" in by_file["big.yaml"]
