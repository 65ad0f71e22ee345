"""A user folder whose actions file requires a licence for the L20 changes every view of it:
``classify``, ``report``, the dashboard's chip and control-map pages (and the API), and the
market (the L20's China volume drops to zero from the action's date)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from chipwatch.api import create_app
from chipwatch.cli import app
from chipwatch.market import run
from chipwatch.workspace import Workspace

ACTION_ID = "2025-07-test-l20-letter"
ACTION = f"""
- id: {ACTION_ID}
  kind: is_informed_letter
  title: "Hypothetical letter: licence required for the L20 to China"
  date: 2025-07-01
  binds:
    ids: [l20]
  destination: {{codes: [CN, MO], groups: ["D:5"]}}
  license_required: true
  policy: presumption_of_denial
  source: "test: a hypothetical action"
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("user-rules")
    (root / "rules" / "actions").mkdir(parents=True)
    (root / "rules" / "actions" / "l20.yaml").write_text(ACTION, encoding="utf-8")
    return root


def test_classify_l20(runner, folder: Path) -> None:  # type: ignore[no-untyped-def]
    args = ["classify", "l20", "--date", "2025-08-01", "--json"]
    before = json.loads(runner.invoke(app, args).stdout)
    after = json.loads(runner.invoke(app, ["--catalog", str(folder), *args]).stdout)
    assert before["license_required"] is False
    assert after["license_required"] is True
    assert ACTION_ID in [a["id"] for a in after["actions"]]


def _report_l20_row(runner, tmp_path: Path, *catalog: str) -> str:  # type: ignore[no-untyped-def]
    out = tmp_path / f"briefing{len(catalog)}.html"
    cmd = [*catalog, "report", "--out", str(out), "--chips", "l20"]
    result = runner.invoke(app, cmd)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    section = html[html.index("Export-control status for China") :]
    row = re.search(r"<tr[^>]*>\s*<td[^>]*>\s*l20\s*</td>.*?</tr>", section, re.S)
    assert row, "no L20 row in the report's control table"
    return row.group(0)


def test_report(runner, folder: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plain = _report_l20_row(runner, tmp_path)
    mine = _report_l20_row(runner, tmp_path, "--catalog", str(folder))
    assert ACTION_ID not in plain and ">required<" not in plain.replace(" ", "")
    assert ACTION_ID in mine and ">required<" in mine.replace(" ", "")


def test_dashboard_chip_page_control_map_and_api(folder: Path) -> None:
    plain, mine = TestClient(create_app()), TestClient(create_app([folder]))
    # the chip page's control timeline
    assert ACTION_ID not in plain.get("/chips/l20").text
    page = mine.get("/chips/l20")
    assert page.status_code == 200 and ACTION_ID in page.text
    # the control-map page and its JSON
    params = {"date": "2025-08-01", "destination": "CN"}
    assert ACTION_ID not in plain.get("/controls", params=params).text
    assert ACTION_ID in mine.get("/controls", params=params).text

    def l20(client: TestClient) -> dict:
        rows = client.get("/api/controls/map", params=params).json()["chips"]
        return next(r for r in rows if r["chip"] == "l20")

    assert l20(plain)["license_required"] is False
    assert l20(mine)["license_required"] is True and ACTION_ID in l20(mine)["actions"]
    api = mine.get("/api/classify", params={"chip": "l20", "date": "2025-08-01"}).json()
    assert api["license_required"] is True


def _l20_units(summary: list[dict] | pd.DataFrame) -> pd.DataFrame:
    df = pd.DataFrame(summary)
    return df[(df.metric == "units") & (df.group == "l20")].set_index("year")


def test_market_run_baseline(runner, folder: Path) -> None:  # type: ignore[no-untyped-def]
    args = ["market", "run", "baseline", "--draws", "200", "--seed", "1", "--json"]
    plain = _l20_units(json.loads(runner.invoke(app, args).stdout)["summary"])
    res = runner.invoke(app, ["--catalog", str(folder), *args])
    assert res.exit_code == 0, res.output
    mine = _l20_units(json.loads(res.stdout)["summary"])
    assert plain.loc[2026, "p50"] > 0 and plain.loc[2027, "p50"] > 0
    for year in (2026, 2027, 2028):  # every month from the action's date on: zero
        assert mine.loc[year, "p90"] == 0
    assert 0 < mine.loc[2025, "p50"] < plain.loc[2025, "p50"]  # January to June only
    assert mine.loc[2024, "p50"] == pytest.approx(plain.loc[2024, "p50"])  # before: unchanged
    # the library gives the same answer for the same workspace
    lib = run("baseline", draws=200, seed=1, ws=Workspace.from_dirs([folder]))
    assert _l20_units(lib.summary).loc[2026, "p90"] == 0
