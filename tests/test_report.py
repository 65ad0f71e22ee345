"""``chipwatch report``: one self-contained HTML file with its charts and plotly.js inlined."""

from __future__ import annotations

import re
from pathlib import Path

from chipwatch.cli import app


def test_report_is_self_contained(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "briefing.html"
    result = runner.invoke(app, ["report", "--out", str(out), "--chips", "h20,h100-sxm"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "plotly.js v" in html[:200_000] or "plotly.js v" in html  # the library is inlined
    # nothing is fetched from elsewhere: no script or stylesheet with a src/href
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+stylesheet", html)
    figures = re.findall(r'<script type="application/json" id="fig-([\w-]+)">', html)
    assert "ov-compute-bw" in figures and "rep-rooflines" in figures
    assert "h20" in html and "h100-sxm" in html


def test_report_json_summary(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    out = tmp_path / "b.html"
    result = runner.invoke(app, ["report", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["out"] == str(out)
    assert summary["charts"] >= 2
    assert summary["bytes"] == out.stat().st_size


def test_report_unknown_chip_is_a_clear_error(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["report", "--out", str(tmp_path / "b.html"), "--chips", "h2o"])
    assert result.exit_code == 2
    assert "unknown chip 'h2o'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "b.html").exists()


def test_report_into_missing_folder_fails_cleanly(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["report", "--out", str(tmp_path / "nope" / "b.html")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_report_unknown_scenario_is_a_clear_error(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        app, ["report", "--out", str(tmp_path / "b.html"), "--scenario", "basline"]
    )
    assert result.exit_code == 2
    assert "unknown scenario 'basline'" in result.output and "baseline" in result.output


def test_report_holds_the_chosen_scenario_and_chips(tmp_path: Path) -> None:
    from chipwatch.report import build_report

    html = build_report(["h20", "h100-sxm"], "h20-banned", when="2026-01-01")
    assert "Market scenario: h20-banned" in html
    for fig in (
        "mkt-units",
        "mkt-revenue",
        "mkt-share",
        "mkt-stock",
        "cmp-throughput",
        "ov-controls",
        "ov-perf",
        "ov-market",
    ):
        assert f'id="fig-{fig}"' in html
    assert "Generated 2026-01-01" in html
