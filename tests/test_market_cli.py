"""`chipwatch market ...`: list, run, compare, sensitivity, check; JSON and clean errors."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from chipwatch.cli import app
from chipwatch.market import check, sensitivity


def invoke(runner: Any, *args: str) -> Any:
    return runner.invoke(app, ["market", *args])


def test_list_names_every_scenario_with_one_line(runner: Any) -> None:
    res = invoke(runner, "list", "--json")
    assert res.exit_code == 0
    rows = json.loads(res.stdout)
    assert {"baseline", "h20-banned", "h20-allowed"} <= {r["id"] for r in rows}
    assert all("\n" not in r["description"] for r in rows)


def test_run_json_has_yearly_units_revenue_shares_with_percentiles(runner: Any) -> None:
    res = invoke(runner, "run", "baseline", "--draws", "200", "--seed", "1", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    df = pd.DataFrame(out["summary"])
    assert set(df.year) == set(range(2023, 2031))
    for metric in (
        "units",
        "revenue_usd",
        "share_units",
        "share_revenue",
        "domestic_share",
        "stock_h100e",
        "stock_bf16_flops",
        "stock_mem_bw_tbs",
        "installed_units",
    ):
        assert metric in set(df.metric), metric
    row = df[(df.metric == "units") & (df.group == "total") & (df.year == 2025)].iloc[0]
    assert row.p10 <= row.p50 <= row.p90
    assert {r["limit"] for r in out["binding_by_year"]} <= {
        "capacity",
        "logic_dies",
        "hbm",
        "packaging",
        "demand",
    }
    again = json.loads(
        invoke(runner, "run", "baseline", "--draws", "200", "--seed", "1", "--json").stdout
    )
    assert again["summary"] == out["summary"]


def test_run_table_and_csv(runner: Any) -> None:
    res = invoke(runner, "run", "h20-banned", "--draws", "100")
    assert res.exit_code == 0 and "2027" in res.stdout
    csv = invoke(runner, "run", "h20-banned", "--draws", "100", "--csv")
    assert csv.stdout.splitlines()[0] == "year,metric,level,group,p10,p50,p90,mean"


def test_compare_shows_the_difference_per_year(runner: Any) -> None:
    res = invoke(
        runner,
        "compare",
        "h20-allowed",
        "h20-banned",
        "--metric",
        "domestic_share",
        "--draws",
        "200",
        "--json",
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    assert [r["year"] for r in rows] == list(range(2023, 2031))
    assert all("diff_p50" in r for r in rows)
    table = invoke(runner, "compare", "h20-allowed", "h20-banned", "--draws", "100")
    assert table.exit_code == 0 and "A - B" in table.stdout


def test_sensitivity_and_check_commands(runner: Any) -> None:
    res = invoke(
        runner, "sensitivity", "baseline", "--metric", "domestic_share", "--year", "2027", "--json"
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    swings = [r["swing"] for r in rows]
    assert swings == sorted(swings, reverse=True) and swings[0] > 0
    res = invoke(runner, "check", "baseline", "--draws", "200", "--json")
    assert res.exit_code == 0, res.output
    figures = {r["estimate_id"]: r for r in json.loads(res.stdout)["rows"]}
    assert "seed-domestic-share-2027" in figures
    assert invoke(runner, "check", "baseline", "--draws", "100").exit_code == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (("run", "baselin"), "unknown scenario 'baselin'. Did you mean: baseline"),
        (("compare", "baseline", "h20-banned", "--metric", "nope"), "unknown metric 'nope'"),
        (("sensitivity", "baseline", "--metric", "units", "--group", "ZZ"), "no group 'ZZ'"),
        (("sensitivity", "baseline", "--year", "1999"), "outside the scenario"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    runner: Any, args: tuple[str, ...], message: str
) -> None:
    res = (
        invoke(runner, *args, "--draws", "10")
        if args[0] in ("run", "compare")
        else invoke(runner, *args)
    )
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output


def test_a_scenario_file_can_extend_a_packaged_one(runner: Any, tmp_path: Any) -> None:
    f = tmp_path / "mine.yaml"
    f.write_text(
        "id: mine\nextends: baseline\ntitle: Mine\ndescription: no MI308X\n"
        "foreign:\n  mi308x: null\n"
    )
    res = invoke(runner, "run", str(f), "--draws", "50", "--json")
    assert res.exit_code == 0, res.output
    groups = {r["group"] for r in json.loads(res.stdout)["summary"]}
    assert "mi308x" not in groups and "h20" in groups


def test_inputs_lists_every_uncertain_input_with_its_source(runner: Any) -> None:
    res = invoke(runner, "inputs", "baseline", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["inputs"]
    assert {"demand_usd", "domestic.huawei-ascend.yield", "foreign.h20.price_usd"} <= {
        r["input"] for r in rows
    }
    assert all(r["source"] for r in rows)
    only = json.loads(invoke(runner, "inputs", "baseline", "--unverified", "--json").stdout)
    assert only["inputs"] and all(r["unverified"] for r in only["inputs"])


# --- library views -------------------------------------------------------------------------
def test_check_reports_distance_to_each_seed_figure() -> None:
    df = check("baseline", draws=200)
    seed = df[df.estimate_id.str.startswith("seed-")]
    assert len(seed) == 7
    assert set(seed.source.str.contains("Bernstein via CNN, reported by cnyes 2025-08-18")) == {
        True
    }
    row = seed[seed.estimate_id == "seed-huawei-2025-units"].iloc[0]
    assert row.relative_distance == pytest.approx((row.model_p50 - 700_000) / 700_000)
    cf = seed[seed.estimate_id == "seed-h20-2025-units"].iloc[0]
    assert cf.model_scenario == "h20-unrestricted" and cf.model_p50 > 0


def test_sensitivity_puts_inputs_that_do_not_matter_last() -> None:
    df = sensitivity("baseline", "units", year=2023, group="a800-sxm")
    # its own supply cap leads with what competes for 2023 demand (demand, the H800's cap)
    assert "foreign.a800-sxm.supply_cap_units" in set(df.input.iloc[:3])
    # later-year inputs cannot move 2023 shipments
    assert df[df.input == "domestic.huawei-ascend.hbm_stacks_per_year"].swing.iloc[0] == 0


def test_validate_checks_user_scenarios_after_inheritance(runner: Any, tmp_path: Any) -> None:
    folder = tmp_path / "market" / "scenarios"
    folder.mkdir(parents=True)
    (folder / "ok.yaml").write_text(
        "id: ok\nextends: baseline\ntitle: OK\ndescription: fine\n"
        "foreign:\n  h20:\n    licences: grant\n"
    )
    assert runner.invoke(app, ["validate", str(tmp_path)]).exit_code == 0
    (folder / "bad.yaml").write_text(
        "id: bad\nextends: baseline\ntitle: Bad\ndescription: typo\n"
        "foreign:\n  h20:\n    chip: h2o\n"
    )
    res = runner.invoke(app, ["validate", str(tmp_path)])
    assert res.exit_code == 1
    assert "bad.yaml" in res.output and "unknown chip 'h2o'" in res.output


def test_run_json_reports_the_demand_identity_for_every_year(runner: Any) -> None:
    out = json.loads(invoke(runner, "run", "baseline", "--draws", "200", "--json").stdout)
    rows = out["demand_identity"]
    assert [r["year"] for r in rows] == list(range(2023, 2031))
    for r in rows:
        assert {"demand_usd", "domestic_usd", "licensed_usd", "grey_usd", "offshore_usd"} <= set(r)
        assert {"deferred_usd", "domestic_share_of_sales", "domestic_share_of_demand"} <= set(r)
        assert r["identity_residual_usd"] == pytest.approx(0, abs=1e-3)
    assert any(e["gate"] == "PRC" for e in out["policy_events"])


def test_check_prints_inputs_backtests_and_forecasts_separately(runner: Any) -> None:
    res = invoke(runner, "check", "baseline", "--draws", "100")
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    first = [text.index(t) for t in ("inputs (", "backtests (", "forecast comparisons (")]
    assert first == sorted(first)
    rows = json.loads(invoke(runner, "check", "baseline", "--draws", "100", "--json").stdout)
    by_id = {r["estimate_id"]: r for r in rows["rows"]}
    assert by_id["huawei-2025-revenue-ft"]["check_group"] == "backtest"
    assert by_id["seed-domestic-share-2027"]["check_group"] == "forecast"
    assert all(r["basis"] and r["vintage"] for r in rows["rows"])


def test_share_differences_are_printed_in_percentage_points(runner: Any) -> None:
    res = invoke(
        runner, "compare", "both-open", "us-open-china-closed", "--metric",
        "domestic_share_of_demand", "--draws", "100",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert " pp" in res.output
