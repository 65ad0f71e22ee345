"""Market endpoints: scenario list, a scenario's yearly ranges, two scenarios compared."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from chipwatch.api import create_app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def test_scenarios_include_the_policy_alternatives(client: TestClient) -> None:
    ids = [s["id"] for s in client.get("/api/market/scenarios").json()["scenarios"]]
    assert {"baseline", "h20-banned", "h20-allowed", "huawei-hbm-constrained", "h200-2026"} <= set(
        ids
    )


def test_run_gives_yearly_p10_p50_p90(client: TestClient) -> None:
    body = client.get(
        "/api/market/run/baseline",
        params={"draws": 200, "seed": 3, "metric": "domestic_share_units"},
    ).json()
    assert body["scenario"] == "baseline" and body["draws"] == 200 and body["seed"] == 3
    rows = body["summary"]
    assert [r["year"] for r in rows] == body["years"]
    for r in rows:
        assert r["metric"] == "domestic_share_units"
        assert 0 <= r["p10"] <= r["p50"] <= r["p90"] <= 1


def test_run_is_reproducible_with_a_seed(client: TestClient) -> None:
    params = {"draws": 200, "seed": 11, "metric": "units", "group": "total"}
    a = client.get("/api/market/run/h20-banned", params=params).json()["summary"]
    app2 = TestClient(create_app())  # a fresh app: nothing cached
    b = app2.get("/api/market/run/h20-banned", params=params).json()["summary"]
    assert a == b


def test_compare_has_a_row_per_year(client: TestClient) -> None:
    body = client.get(
        "/api/market/compare", params={"a": "h20-allowed", "b": "h20-banned", "draws": 200}
    ).json()
    assert body["metric"] == "domestic_share"
    assert len(body["rows"]) >= 5
    assert {"year", "a_p50", "b_p50", "diff_p50"} <= set(body["rows"][0])


@pytest.mark.parametrize(
    ("path", "params", "status", "fragment"),
    [
        ("/api/market/run/basline", {}, 404, "baseline"),
        ("/api/market/run/baseline", {"draws": 5}, 422, "draws"),
        ("/api/market/run/baseline", {"draws": 10**7}, 422, "draws"),
        ("/api/market/run/baseline", {"seed": -1}, 422, "seed"),
        ("/api/market/run/baseline", {"metric": "domestic_shares"}, 422, "domestic_share"),
        ("/api/market/compare", {"a": "h20-alowed"}, 404, "h20-allowed"),
        ("/api/market/compare", {"metric": "nope", "draws": 100}, 400, "metric"),
    ],
)
def test_bad_market_requests_are_4xx_json(
    client: TestClient, path: str, params: dict, status: int, fragment: str
) -> None:
    r = client.get(path, params=params)
    assert r.status_code == status, r.text
    body = r.json()
    assert fragment in body["message"] + " ".join(body.get("suggestions", []))
