"""The serving rows added to published-measurements.csv (M301+) read with the calibration
loader's file and carry their conditions and a citation."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from chipwatch.catalog import load_catalog
from chipwatch.perf.calibration import points
from chipwatch.perf.calibration.conditions import parse_conditions, with_conditions
from chipwatch.perf.factors import measurements_dir
from chipwatch.perf.models import default_models

COLUMNS = [
    "id", "source_key", "benchmark", "hardware", "n_accel", "n_nodes", "model", "precision",
    "scenario_or_constraint", "input_len", "output_len", "batch_or_concurrency", "metric", "value",
    "value_per_accel", "software", "date", "notes", "confidence",
]  # fmt: skip
REQUIRED = [c for c in COLUMNS if c not in ("id", "n_nodes", "value_per_accel")]
PHASES = {"prefill", "decode", "both", "kernel"}
# Sources kept for the out-of-sample check (issue 10): none of the new rows may cite them.
RESERVED = [
    "2025-05-05-large-scale-ep",
    "2025-09-26-sglang-ant-group",
    "2506.12708",
    "open-infra-index",
    "inference_results_v5",
    "inferencemax",
    "inferencex",
    "rocm.docs.amd.com",
]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """As the calibration loader reads it (``n/a`` becomes NaN)."""
    return pd.read_csv(measurements_dir() / points.PUBLISHED_FILE)


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """The cells as written (``n/a`` kept: it states that a field does not apply)."""
    f = measurements_dir() / points.PUBLISHED_FILE
    return pd.read_csv(f, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def serving(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["id"].str[1:].astype(int) >= 301]


@pytest.fixture(scope="module")
def source_urls() -> dict[str, str]:
    text = (measurements_dir() / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^- ([A-Z0-9-]+): (https://\S+)", text, flags=re.M))


def test_columns_unchanged_and_ids_unique(table: pd.DataFrame) -> None:
    assert list(table.columns) == COLUMNS
    assert table["id"].is_unique


def test_serving_rows_have_fields_values_and_citations(
    serving: pd.DataFrame, raw: pd.DataFrame, source_urls: dict[str, str]
) -> None:
    assert len(serving) >= 100
    cells = raw.set_index("id")
    for r in serving.to_dict("records"):
        missing = [c for c in REQUIRED if not cells.loc[r["id"], c].strip()]
        assert not missing, (r["id"], missing)
        assert float(r["value"]) > 0, r["id"]
        url = source_urls.get(r["source_key"], "")
        assert url.startswith("https://"), (r["id"], r["source_key"])
        cited = " ".join(str(r[c]) for c in ("source_key", "benchmark")) + " " + url
        assert not any(k in cited.lower() for k in RESERVED), (r["id"], "reserved source")


def test_conditions_block_parses_and_names_known_chips_and_models(serving: pd.DataFrame) -> None:
    chips = set(load_catalog().ids)
    models = {m.lower() for m in default_models().ids}
    for r in serving.to_dict("records"):
        c = parse_conditions(r["notes"])
        assert c, (r["id"], "notes must open with a cond{...} block")
        assert c["phase"] in PHASES, (r["id"], c["phase"])
        assert c["verified"].split(" ")[0] in {"primary", "secondary"}, r["id"]
        if " " not in c["chip"]:  # a plain id must be a catalog chip
            assert c["chip"] in chips, (r["id"], c["chip"])
        if " " not in c["model"]:
            assert c["model"] in models, (r["id"], c["model"])
        if c["phase"] in ("decode", "both", "prefill") and "isl" in c:
            assert int(c["isl"]) > 0
        if c["verified"].startswith("secondary"):
            assert not str(r["confidence"]).startswith("high"), r["id"]


def test_example_row_reads_as_published() -> None:
    """M305: TensorRT-LLM's H200 DeepSeek-R1 max-throughput example, 1436.1584 tok/s/GPU."""
    d = pd.read_csv(measurements_dir() / points.PUBLISHED_FILE).set_index("id")
    r = d.loc["M305"]
    c = parse_conditions(r["notes"])
    layout = (c["chip"], c["model"], c["attn_dp"], c["moe_ep"])
    assert layout == ("h200-sxm", "deepseek-v3", "8", "8")
    assert float(r["value"]) / int(r["n_accel"]) == pytest.approx(float(r["value_per_accel"]), 1e-6)


def test_calibration_loader_still_builds_its_points() -> None:
    pts = points.build_points()
    assert {"silicon", "published", "mlperf"} <= set(pts["dataset"])


def test_conditions_parser_reads_blocks_and_rejects_malformed_ones() -> None:
    assert parse_conditions("cond{chip=h20; isl=4096} free text") == {"chip": "h20", "isl": "4096"}
    assert parse_conditions("no block here") == {}
    with pytest.raises(ValueError, match="bad cond entry"):
        parse_conditions("cond{chip=h20; isl} text")


def test_with_conditions_adds_columns_and_leaves_old_rows_empty(table: pd.DataFrame) -> None:
    wide = with_conditions(table).set_index("id")
    assert wide.loc["M305", "cond_moe_ep"] == "8"
    assert wide.loc["M001", "cond_chip"] == ""  # reference rows carry no block
