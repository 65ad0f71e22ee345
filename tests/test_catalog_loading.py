"""Loading the packaged catalog, layering user folders over it, and surviving bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

import chipwatch
from chipwatch.catalog import UnknownIdError


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text(text)
    return p


NEW_CHIP = """
id: acme-x1
name: Acme X1
vendor: Acme
vendor_country: US
released: {value: "2026-03", source: "Acme press release"}
status: announced
segment: datacenter
datacenter_marketed: {value: true, source: "Acme press release"}
compute:
  dense:
    bf16: {value: 1200, source: "Acme press release"}
memory:
  capacity_gb: {value: 144, source: "Acme press release"}
  bandwidth_tbs: {value: 6.0, source: "Acme press release"}
"""


def test_packaged_catalog_loads_without_errors(catalog):
    assert catalog.errors == []
    assert "h20" in catalog
    assert catalog.chip("h20").memory.bandwidth_tbs.value == 4.0


def test_lookup_by_alias_and_case(catalog):
    assert catalog.chip("H100").id == "h100-sxm"


def test_unknown_id_suggests_close_matches(catalog):
    with pytest.raises(UnknownIdError) as e:
        catalog.chip("h2O")
    assert "h20" in e.value.suggestions
    assert "Did you mean" in str(e.value)


def test_user_folder_adds_a_chip(tmp_path):
    write(tmp_path, "acme.yaml", NEW_CHIP)
    cat = chipwatch.load_catalog(tmp_path)
    assert cat.chip("acme-x1").dense("bf16") == 1200
    assert "h20" in cat


def test_user_folder_overrides_one_value(tmp_path):
    write(
        tmp_path, "h20.yaml", "id: h20\nmemory:\n  bandwidth_tbs: {value: 4.8, source: 'my test'}\n"
    )
    cat = chipwatch.load_catalog(tmp_path)
    h20 = cat.chip("h20")
    assert h20.memory.bandwidth_tbs.value == 4.8
    assert h20.memory.capacity_gb.value == 96  # untouched values survive the merge
    assert cat.origins["h20"][-1].endswith("h20.yaml")


def test_env_path_is_read(tmp_path, monkeypatch):
    write(tmp_path, "acme.yaml", NEW_CHIP)
    monkeypatch.setenv("CHIPWATCH_PATH", str(tmp_path))
    assert "acme-x1" in chipwatch.load_catalog()


def test_a_bad_file_is_reported_and_the_rest_still_loads(tmp_path):
    write(tmp_path, "broken.yaml", "id: broken\nname: [unclosed\n")
    write(tmp_path, "neg.yaml", NEW_CHIP.replace("acme-x1", "acme-neg").replace("6.0", "-6.0"))
    write(tmp_path, "acme.yaml", NEW_CHIP)
    cat = chipwatch.load_catalog(tmp_path)
    assert "acme-x1" in cat and "h20" in cat and "acme-neg" not in cat
    messages = [str(e) for e in cat.errors]
    assert any("broken.yaml: line" in m and "invalid YAML" in m for m in messages), messages
    assert any("neg.yaml: memory.bandwidth_tbs.value" in m for m in messages), messages


def test_frames_have_units_in_column_names(catalog):
    df = catalog.to_frame()
    assert {"tflops_bf16_dense", "mem_bw_tbs", "die_area_mm2", "tops_int8_dense"} <= set(df.columns)
    assert df.loc["h20", "tops_int8_dense"] == 296
    values = catalog.values_frame()
    row = values[(values.chip_id == "h20") & (values.field == "memory.bandwidth_tbs")].iloc[0]
    assert row.value == 4.0 and row.unit == "TB/s" and "tomshardware" in row.source


def test_parse_cache_gives_the_same_records_and_follows_edits(tmp_path, monkeypatch):
    from chipwatch.catalog.loader import ParseCache, read_yaml

    cache = ParseCache()
    monkeypatch.setattr("chipwatch.catalog.loader.PARSE_CACHE", cache)
    monkeypatch.setenv("CHIPWATCH_CACHE_DIR", str(tmp_path / "cache"))
    f = write(tmp_path / "chips", "acme.yaml", NEW_CHIP)
    first, _ = read_yaml(f)
    cache.save()
    assert (tmp_path / "cache" / "yaml-parse-cache.json").is_file()

    fresh = ParseCache()  # a new process: reads the saved cache, never the YAML parser
    monkeypatch.setattr("chipwatch.catalog.loader.PARSE_CACHE", fresh)
    monkeypatch.setattr("yaml.load", lambda *a, **k: pytest.fail("YAML parsed again"))
    assert read_yaml(f)[0] == first

    f.write_text(NEW_CHIP.replace("1200", "1300"))  # an edit changes the key
    monkeypatch.undo()
    monkeypatch.setattr("chipwatch.catalog.loader.PARSE_CACHE", fresh)
    monkeypatch.setenv("CHIPWATCH_CACHE_DIR", str(tmp_path / "cache"))
    assert read_yaml(f)[0][0]["compute"]["dense"]["bf16"]["value"] == 1300


def test_a_corrupt_or_disabled_cache_is_ignored(tmp_path, monkeypatch):
    from chipwatch.catalog.loader import ParseCache, read_yaml

    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "yaml-parse-cache.json").write_text("{not json")
    monkeypatch.setenv("CHIPWATCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("chipwatch.catalog.loader.PARSE_CACHE", ParseCache())
    f = write(tmp_path / "chips", "acme.yaml", NEW_CHIP)
    assert read_yaml(f)[0][0]["id"] == "acme-x1"
    monkeypatch.setenv("CHIPWATCH_NO_CACHE", "1")
    assert ParseCache.file() is None
