"""One request model per operation: the CLI's options are the model's fields (same names,
defaults and help text), and the same inputs through ``chipwatch ... --json`` and the API give
the same result, for every perf, controls and market command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer.main
from fastapi.testclient import TestClient
from pydantic import BaseModel

from chipwatch.api import create_app
from chipwatch.cli import app
from chipwatch.controls.changes import read_proposal
from chipwatch.controls.requests import (
    ClassifyRequest,
    FrontierRequest,
    RulesDiffRequest,
    RulesProposeRequest,
    RulesStatusRequest,
    TimelineRequest,
)
from chipwatch.market.requests import (
    CheckRequest,
    MarketCompareRequest,
    MarketRunRequest,
    SensitivityRequest,
)
from chipwatch.perf.requests import (
    CompareRequest,
    CrossoverRequest,
    ServingRequest,
    SweepRequest,
    TrainingRequest,
)

OUTPUT_OPTIONS = {"as_json", "as_csv", "out", "memo", "top", "columns", "wide"}  # presentation
# command path -> (request model, CLI-only inputs that fill a model field, model-only fields)
COMMANDS: dict[tuple[str, ...], tuple[type[BaseModel], set[str], set[str]]] = {
    ("perf", "infer"): (ServingRequest, set(), set()),
    ("perf", "compare"): (CompareRequest, set(), set()),
    ("perf", "crossover"): (CrossoverRequest, set(), set()),
    ("perf", "train"): (TrainingRequest, set(), set()),
    ("perf", "sweep"): (SweepRequest, set(), set()),
    ("classify",): (ClassifyRequest, {"spec_file"}, {"spec"}),  # --spec FILE is read into spec
    ("timeline",): (TimelineRequest, set(), set()),
    ("frontier",): (FrontierRequest, set(), set()),
    ("rules", "status"): (RulesStatusRequest, set(), set()),
    ("rules", "diff"): (RulesDiffRequest, set(), set()),
    ("rules", "propose"): (RulesProposeRequest, {"file"}, {"rule_sets"}),  # FILE -> rule_sets
    ("market", "run"): (MarketRunRequest, {"rules_file"}, {"rules"}),  # --rules FILE -> rules
    ("market", "compare"): (MarketCompareRequest, set(), set()),
    ("market", "sensitivity"): (SensitivityRequest, set(), set()),
    ("market", "check"): (CheckRequest, set(), set()),
}


def _command(path: tuple[str, ...]) -> Any:
    cmd: Any = typer.main.get_command(app)
    for name in path:
        cmd = cmd.get_command(typer.Context(cmd), name)
    return cmd


def _cli_default(param: Any, field_default: Any) -> Any:
    """The option's default in the model's terms (lists are written comma-separated)."""
    if isinstance(field_default, list) and isinstance(param.default, str):
        return [type(field_default[0])(x) for x in param.default.split(",")]
    return param.default


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_cli_options_are_the_request_model(path: tuple[str, ...]) -> None:
    model, cli_inputs, model_only = COMMANDS[path]
    params = {p.name: p for p in _command(path).params}
    inputs = set(params) - OUTPUT_OPTIONS - cli_inputs
    assert inputs == set(model.model_fields) - model_only, "options and fields differ"
    for name in inputs:
        field, p = model.model_fields[name], params[name]
        assert p.help == field.description, f"{name}: help text differs"
        if field.is_required():
            assert p.required, f"{name}: required in the model, optional in the CLI"
            continue
        default = field.get_default(call_default_factory=True)
        if p.param_type_name == "argument" and p.default is None:
            continue  # left out: the model's default applies
        if p.multiple and p.default is None and default in ({}, []):
            continue  # a repeatable option given no times: empty
        assert _cli_default(p, default) == default, f"{name}: default differs"


# --- same inputs, same result ------------------------------------------------------------
@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def cli_json(runner: Any, *args: str) -> Any:
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def api_json(client: TestClient, method: str, url: str, data: dict[str, Any]) -> Any:
    r = client.get(url, params=data) if method == "GET" else client.post(url, json=data)
    assert r.status_code == 200, r.text
    return r.json()


PROPOSAL = Path(__file__).parents[1] / "docs" / "examples" / "proposal-tpp-1500.yaml"
PROPOSAL_SETS = [
    r.model_dump(mode="json", by_alias=True, exclude_none=True) for r in read_proposal(PROPOSAL)
]
CASES: list[tuple[str, list[str], str, str, dict[str, Any]]] = [
    # (id, CLI arguments, method, API path, the same inputs as API parameters)
    ("perf infer defaults", ["perf", "infer"], "GET", "/api/perf/infer", {}),
    (
        "perf infer speculative disaggregated",
        [
            "perf",
            "infer",
            "-c",
            "h20",
            "-m",
            "deepseek-v3",
            "-n",
            "16",
            "-p",
            "fp8",
            "--spec-tokens",
            "1",
            "--acceptance",
            "1.8",
            "--disaggregated",
            "--batch",
            "256",
        ],
        "POST",
        "/api/perf/infer",
        {
            "chip": "h20",
            "model": "deepseek-v3",
            "num_chips": 16,
            "precision": "fp8",
            "spec_tokens": 1,
            "accepted_per_step": 1.8,
            "disaggregated": True,
            "batch": 256,
        },
    ),
    (
        "perf compare",
        ["perf", "compare", "h20", "l2", "-m", "llama-3.1-8b", "--max-tpot-ms", "40"],
        "POST",
        "/api/perf/compare",
        {"chips": ["h20", "l2"], "model": "llama-3.1-8b", "max_tpot_ms": 40},
    ),
    (
        "perf crossover",
        ["perf", "crossover", "h20", "ascend-910b", "--batches", "1,64", "--tp", "8"],
        "POST",
        "/api/perf/crossover",
        {"chips": ["h20", "ascend-910b"], "batches": [1, 64], "tp": 8},
    ),
    (
        "perf train",
        ["perf", "train", "-c", "h100-sxm", "-m", "llama-3.1-8b", "-n", "64", "--tokens", "1e11"],
        "GET",
        "/api/perf/train",
        {"chip": "h100-sxm", "model": "llama-3.1-8b", "num_chips": 64, "tokens": 1e11},
    ),
    (
        "perf sweep",
        [
            "perf",
            "sweep",
            "h20",
            "h100-sxm",
            "-m",
            "llama-3.1-8b",
            "-n",
            "1,2",
            "--batches",
            "8,64",
        ],
        "POST",
        "/api/perf/sweep",
        {
            "chips": ["h20", "h100-sxm"],
            "models": ["llama-3.1-8b"],
            "num_chips": [1, 2],
            "batches": [8, 64],
        },
    ),
    (
        "classify chip",
        ["classify", "h20", "--date", "2025-05-01", "--hq", "CN"],
        "GET",
        "/api/classify",
        {"chip": "h20", "date": "2025-05-01", "headquarters": "CN"},
    ),
    (
        "classify spec fields",
        ["classify", "--tpp", "4000", "--die-area", "600", "--date", "2024-06-01"],
        "GET",
        "/api/classify",
        {"tpp": 4000, "die_area_mm2": 600, "date": "2024-06-01"},
    ),
    (
        "timeline",
        ["timeline", "h20", "-d", "CN", "--end", "2025-12-31"],
        "GET",
        "/api/timeline",
        {"chip": "h20", "destination": "CN", "end": "2025-12-31"},
    ),
    (
        "frontier",
        ["frontier", "--die-area", "814", "--date", "2025-01-15", "--io-gbs", "600"],
        "GET",
        "/api/frontier",
        {"die_area_mm2": 814, "date": "2025-01-15", "io_bidir_gbs": 600},
    ),
    (
        "rules status",
        ["rules", "status", "--date", "2026-06-01"],
        "GET",
        "/api/rules/status",
        {"date": "2026-06-01"},
    ),
    (
        "rules diff",
        ["rules", "diff", "2023-11-16", "2023-11-17", "-d", "CN"],
        "GET",
        "/api/rules/diff",
        {"date_a": "2023-11-16", "date_b": "2023-11-17", "destination": "CN"},
    ),
    (
        "rules propose",
        ["rules", "propose", str(PROPOSAL), "-d", "CN"],
        "POST",
        "/api/rules/propose",
        {"rule_sets": PROPOSAL_SETS, "destination": "CN"},
    ),
    (
        "market run",
        ["market", "run", "h20-banned", "--draws", "200", "--seed", "3", "--metric", "units"],
        "GET",
        "/api/market/run",
        {"scenario": "h20-banned", "draws": 200, "seed": 3, "metric": "units"},
    ),
    (
        "market compare",
        ["market", "compare", "h20-allowed", "h20-banned", "--draws", "200"],
        "GET",
        "/api/market/compare",
        {"a": "h20-allowed", "b": "h20-banned", "draws": 200},
    ),
    (
        "market sensitivity",
        ["market", "sensitivity", "baseline", "--year", "2026"],
        "GET",
        "/api/market/sensitivity",
        {"scenario": "baseline", "year": 2026},
    ),
    (
        "market check",
        ["market", "check", "baseline", "--draws", "200"],
        "GET",
        "/api/market/check",
        {"scenario": "baseline", "draws": 200},
    ),
]


@pytest.mark.parametrize(("name", "cli", "method", "url", "data"), CASES, ids=[c[0] for c in CASES])
def test_cli_json_equals_the_api(  # type: ignore[no-untyped-def]
    runner, client: TestClient, name: str, cli: list[str], method: str, url: str, data: dict
) -> None:
    assert cli_json(runner, *cli) == api_json(client, method, url, data)


def test_every_command_has_a_parity_case() -> None:
    covered = {
        tuple(c[1][:2]) if c[1][0] in ("perf", "market", "rules") else (c[1][0],) for c in CASES
    }
    assert set(COMMANDS) <= covered
