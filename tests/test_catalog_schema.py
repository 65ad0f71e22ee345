"""Schema validation: bad values are rejected with a message naming the field and the problem."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from chipwatch.catalog.loader import validation_errors
from chipwatch.catalog.schema import Accelerator

GOOD: dict[str, Any] = {
    "id": "test-chip",
    "name": "Test Chip",
    "vendor": "Acme",
    "vendor_country": "US",
    "released": {"value": "2024-05", "source": "Acme datasheet"},
    "status": "announced",
    "segment": "datacenter",
    "datacenter_marketed": {"value": True, "source": "Acme datasheet"},
    "dies": [{"name": "A1", "processing": True, "area_mm2": {"value": 600, "source": "DS"}}],
    "compute": {"dense": {"bf16": {"value": 500, "source": "DS"}}},
    "memory": {
        "capacity_gb": {"value": 96, "source": "DS"},
        "bandwidth_tbs": {"value": 4.0, "source": "DS"},
    },
    "sources": {"DS": "Acme A1 datasheet, https://example.com/a1.pdf"},
}


def errors_for(doc: dict[str, Any]) -> list[str]:
    try:
        Accelerator.model_validate(doc)
    except ValidationError as e:
        return [f"{r.field}: {r.reason}" for r in validation_errors("x.yaml", e)]
    return []


def test_a_complete_record_validates():
    chip = Accelerator.model_validate(GOOD)
    assert chip.dense("bf16") == 500
    assert chip.dense("fp8") is None
    assert chip.processing_die_area_mm2 == 600
    assert chip.cite("DS").startswith("Acme A1 datasheet")


def test_negative_bandwidth_is_rejected():
    doc = copy.deepcopy(GOOD)
    doc["memory"]["bandwidth_tbs"]["value"] = -1.0
    errs = errors_for(doc)
    assert any(e.startswith("memory.bandwidth_tbs.value") and "> 0" in e for e in errs), errs


def test_unknown_precision_is_rejected():
    doc = copy.deepcopy(GOOD)
    doc["compute"]["dense"]["fp7"] = {"value": 1.0, "source": "DS"}
    errs = errors_for(doc)
    assert any("compute.dense.fp7" in e for e in errs), errs


def test_missing_source_is_rejected():
    doc = copy.deepcopy(GOOD)
    del doc["memory"]["capacity_gb"]["source"]
    assert "memory.capacity_gb.source: field required" in errors_for(doc)


def test_blank_source_is_rejected():
    doc = copy.deepcopy(GOOD)
    doc["memory"]["capacity_gb"]["source"] = "   "
    assert any(e.startswith("memory.capacity_gb.source") for e in errors_for(doc))


def test_undefined_source_key_is_rejected():
    doc = copy.deepcopy(GOOD)
    doc["compute"]["dense"]["bf16"]["source"] = "NOPE"
    errs = errors_for(doc)
    assert any("source key 'NOPE'" in e for e in errs), errs


def test_unknown_field_and_bad_id_are_rejected():
    doc = copy.deepcopy(GOOD)
    doc["id"] = "Bad Id"
    doc["colour"] = "green"
    errs = errors_for(doc)
    assert "colour: unknown field" in errs
    assert any(e.startswith("id:") and "slug" in e for e in errs)


def test_sparse_below_dense_is_rejected():
    doc = copy.deepcopy(GOOD)
    doc["compute"]["sparse"] = {"bf16": {"value": 100, "source": "DS"}}
    assert any("sparse bf16" in e for e in errors_for(doc))


def test_range_must_bracket_value():
    doc = copy.deepcopy(GOOD)
    doc["price_usd"] = {"value": 10000, "low": 12000, "source": "guess", "unverified": True}
    assert any("low (12000" in e for e in errors_for(doc))


def test_release_date_must_be_year_month():
    doc = copy.deepcopy(GOOD)
    doc["released"]["value"] = "May 2024"
    assert any(e.startswith("released.value") for e in errors_for(doc))


def test_unknown_die_area_leaves_density_area_undefined():
    doc = copy.deepcopy(GOOD)
    doc["dies"] = [
        {"name": "A1", "processing": True},
        {"name": "HBM", "processing": False, "memory_die": True},
    ]
    assert Accelerator.model_validate(doc).processing_die_area_mm2 is None


def test_memory_dies_never_count_towards_area():
    doc = copy.deepcopy(GOOD)
    doc["dies"].append(
        {
            "name": "HBM3",
            "count": 4,
            "processing": False,
            "memory_die": True,
            "area_mm2": {"value": 110, "source": "DS"},
        }
    )
    assert Accelerator.model_validate(doc).processing_die_area_mm2 == 600


def test_several_source_keys_resolve_and_plain_text_is_kept():
    doc = copy.deepcopy(GOOD)
    doc["sources"]["PR"] = "Acme press release, 2024-05-01"
    chip = Accelerator.model_validate(doc)
    assert chip.cite("DS; PR") == (
        "Acme A1 datasheet, https://example.com/a1.pdf; Acme press release, 2024-05-01"
    )
    assert chip.cite("https://example.com/a;b") == "https://example.com/a;b"
    assert chip.cite("derived: 2 x 1; see DS") == "derived: 2 x 1; see DS"
