"""The classify / timeline / frontier commands, including the issue's done-when checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chipwatch.cli import app
from controls_helpers import CLASSIFICATION_KEYS


def run(runner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_h20_mid_2024_is_outside_3a090(runner) -> None:  # type: ignore[no-untyped-def]
    r = run(runner, "classify", "h20", "--date", "2024-06-01", "--destination", "CN", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    for key in CLASSIFICATION_KEYS:
        assert key in d
    assert d["eccn"] is None
    assert d["tpp"] == pytest.approx(2368, abs=5)
    assert d["performance_density"] == pytest.approx(2.9, abs=0.05)
    assert d["license_required"] is False
    nearest = {t["scope"]: t for t in d["nearest"]}
    assert nearest["3A090.b.1"]["threshold"] == 2400
    assert nearest["3A090.b.1"]["margin"] == pytest.approx(-32, abs=1)
    assert nearest["3A090.b.2"]["threshold"] == 3.2


def test_h20_after_april_2025_letter(runner) -> None:  # type: ignore[no-untyped-def]
    r = run(runner, "classify", "h20", "--date", "2025-05-01", "--destination", "CN", "--json")
    d = json.loads(r.stdout)
    assert d["license_required"] is True
    assert [a["id"] for a in d["actions"]] == ["2025-04-nvidia-h20-letter"]


def test_a800_timeline(runner) -> None:  # type: ignore[no-untyped-def]
    r = run(runner, "timeline", "a800-sxm", "--destination", "CN", "--json")
    assert r.exit_code == 0, r.output
    periods = json.loads(r.stdout)["periods"]
    # no ruling before its release (catalog: 2022-11)
    assert periods[0]["start"] == "2022-10-07" and periods[0]["status"] == "not_released"
    assert periods[0]["license_required"] is None and periods[0]["end"] == "2022-10-31"
    assert periods[1]["start"] == "2022-11-01"
    assert periods[1]["license_required"] is False
    assert periods[1]["end"] == "2023-11-16"
    assert "600" in periods[1]["reason"]
    assert periods[2]["start"] == "2023-11-17"
    assert periods[2]["license_required"] is True
    assert any("October 2023" in x for x in periods[2]["changed_by"])
    text = run(runner, "timeline", "a800-sxm", "--destination", "CN")
    assert text.exit_code == 0 and "2023-11-17" in text.stdout


def test_frontier_gh100(runner) -> None:  # type: ignore[no-untyped-def]
    r = run(runner, "frontier", "--die-area", "814", "--date", "2024-01-01", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["max_uncontrolled_tpp"] == 2400
    assert d["max_is_allowed"] is False  # "2400 or more": 2400 itself is controlled
    assert d["binding_paragraph"] == "3A090.b.1"
    assert d["tflops_bf16_dense_max"] == 150
    assert d["tflops_fp8_dense_max"] == 300
    assert run(runner, "frontier", "--die-area", "814", "--date", "2024-01-01").exit_code == 0


def test_hypothetical_chip_from_flags_and_spec(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run(
        runner, "classify", "--tpp", "3000", "--die-area", "600", "--date", "2024-06-01", "--json"
    )
    assert json.loads(r.stdout)["eccn"] == "3A090.b.1"  # PD 5.0
    spec = tmp_path / "asic.yaml"
    spec.write_text("name: my-asic\ndense_tops: {bf16: 150, fp8: 300}\ndie_area_mm2: 814\n")
    r = run(runner, "classify", "--spec", str(spec), "--date", "2024-06-01", "--json")
    d = json.loads(r.stdout)
    assert d["tpp"] == 2400 and d["eccn"] == "3A090.b.1"
    r = run(
        runner,
        "classify",
        "--tpp",
        "4000",
        "--die-area",
        "600",
        "--no-datacenter",
        "--date",
        "2024-06-01",
        "--json",
    )
    assert json.loads(r.stdout)["excluded_by"] == "Note 2 to 3A090"


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_memo(runner, tmp_path: Path, suffix: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / f"memo{suffix}"
    r = run(runner, "classify", "h20", "--date", "2024-06-01", "--memo", str(out))
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "not legal advice" in text.lower()
    assert "88 FR 73458" in text
    assert "3A090.b.1" in text and "2400" in text
    assert "rules data sha256:" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["classify", "h20", "--destination", "XX"], "unknown destination"),
        (["classify", "h20", "--destination", "CNN"], "did you mean"),
        (["classify", "h20", "--date", "2022-10-06"], "before 2022-10-07"),
        (["classify", "h20", "--date", "2024-13-01"], "invalid date"),
        (["classify", "--tpp", "-5", "--die-area", "100"], "must not be negative"),
        (["classify", "h2O"], "unknown chip"),
        (["classify"], "give exactly one"),
        (["classify", "h20", "--memo", "out.pdf"], ".md or .html"),
        (["timeline", "a800-sxm", "--destination", "ZZ"], "unknown destination"),
        (["frontier", "--die-area", "0"], "positive"),
        (["frontier", "--die-area", "814", "--date", "2020-01-01"], "before 2022-10-07"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(runner, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    r = run(runner, *args)
    assert r.exit_code == 2, r.output
    assert message.lower() in r.output.lower()
    assert "Traceback" not in r.output


def test_spec_file_errors_name_file_and_field(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: x\ntpp: 3000\ndie_area: 600\n")
    r = run(runner, "classify", "--spec", str(spec))
    assert r.exit_code == 2
    assert "bad.yaml" in r.output and "die_area" in r.output
