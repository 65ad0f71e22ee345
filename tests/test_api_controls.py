"""Export-control endpoints: classify (catalog chip or spec), memo, timeline, frontier, map."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from chipwatch.api import create_app
from controls_helpers import CLASSIFICATION_KEYS


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def test_classify_h20_in_mid_2024_is_outside_3a090(client: TestClient) -> None:
    c = client.get(
        "/api/classify", params={"chip": "h20", "date": "2024-06-01", "destination": "CN"}
    ).json()
    for key in CLASSIFICATION_KEYS:
        assert key in c
    assert c["eccn"] is None
    assert c["tpp"] == pytest.approx(2368, rel=0.01)
    assert c["license_required"] is False


def test_classify_h20_after_april_2025_needs_a_license(client: TestClient) -> None:
    c = client.get("/api/classify", params={"chip": "h20", "date": "2025-05-01"}).json()
    assert c["license_required"] is True
    assert c["actions"]


def test_classify_is_the_same_by_get_and_post(client: TestClient) -> None:
    by_get = client.get("/api/classify", params={"chip": "a800-sxm", "date": "2024-01-01"})
    by_post = client.post("/api/classify", json={"chip": "a800-sxm", "date": "2024-01-01"})
    assert by_get.status_code == by_post.status_code == 200
    assert by_get.json() == by_post.json()


def test_classify_a_posted_hypothetical_spec(client: TestClient) -> None:
    # TPP 4000 on 600 mm2: PD 6.67 >= 5.92 with TPP >= 1600 meets 3A090.a.2 (Oct 2023 rule)
    r = client.post(
        "/api/classify",
        json={
            "spec": {"name": "design-x", "tpp": 4000, "die_area_mm2": 600, "datacenter": True},
            "date": "2024-06-01",
            "destination": "CN",
        },
    )
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["chip"] == "design-x"
    assert c["eccn"] == "3A090.a.2"
    assert c["performance_density"] == pytest.approx(4000 / 600)
    assert c["license_required"] is True


def test_classify_spec_fields_by_query(client: TestClient) -> None:
    c = client.get(
        "/api/classify", params={"tpp": 4000, "die_area_mm2": 600, "date": "2024-06-01"}
    ).json()
    assert c["eccn"] == "3A090.a.2"


def test_classify_dense_throughput_spec(client: TestClient) -> None:
    r = client.post(
        "/api/classify",
        json={"spec": {"dense_tops": {"fp8": 296}, "die_area_mm2": 814}, "date": "2024-06-01"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["tpp"] == pytest.approx(296 * 8)


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"chip": "h2o"}, 404, "Did you mean"),
        ({"chip": "h20", "date": "2024-02-30"}, 422, "date"),
        ({"chip": "h20", "date": "yesterday"}, 422, "date"),
        ({"chip": "h20", "date": "2021-06-01"}, 400, "2022-10-07"),
        ({"chip": "h20", "destination": "ZZ"}, 400, "destination"),
        ({}, 422, "chip"),
        ({"chip": "h20", "color": "red"}, 422, "color"),
    ],
)
def test_bad_classify_queries_are_4xx_json(
    client: TestClient, params: dict, status: int, fragment: str
) -> None:
    r = client.get("/api/classify", params=params)
    assert r.status_code == status, r.text
    body = r.json()
    assert fragment in body["message"]
    assert set(body) >= {"error", "message"}


@pytest.mark.parametrize(
    "body",
    [
        {"spec": {"tpp": -1, "die_area_mm2": 100}},
        {"spec": {"tpp": "lots", "die_area_mm2": 100}},
        {"spec": {"tpp": 1, "die_area_mm2": 100, "colour": "red"}},
        {"chip": "h20", "spec": {"tpp": 1, "die_area_mm2": 1}},
        {"spec": "not an object"},
        [1, 2, 3],
    ],
)
def test_malformed_specs_are_422_json(client: TestClient, body: object) -> None:
    r = client.post("/api/classify", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_request"


def test_invalid_json_body_is_422(client: TestClient) -> None:
    r = client.post(
        "/api/classify", content=b'{"chip": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert "invalid JSON" in r.json()["message"]


def test_oversized_classify_body_is_413(client: TestClient) -> None:
    r = client.post("/api/classify", json={"spec": {"name": "x" * 70_000}})
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"


def test_memo_downloads_as_markdown_and_html(client: TestClient) -> None:
    md = client.get("/api/classify/memo", params={"chip": "h20", "date": "2024-06-01"})
    assert md.status_code == 200
    assert md.headers["content-type"].startswith("text/markdown")
    assert 'filename="determination-h20-2024-06-01-CN.md"' in md.headers["content-disposition"]
    assert "legal advice" in md.text
    html = client.post(
        "/api/classify/memo",
        params={"format": "html"},
        json={"spec": {"name": "my chip", "tpp": 2000, "die_area_mm2": 900}, "date": "2024-06-01"},
    )
    assert html.status_code == 200
    assert html.text.lstrip().lower().startswith("<!doctype html")
    assert "my chip" in html.text
    bad = client.get("/api/classify/memo", params={"chip": "h20", "format": "pdf"})
    assert bad.status_code == 422


def test_timeline_a800_changes_on_17_november_2023(client: TestClient) -> None:
    body = client.get("/api/timeline/a800-sxm", params={"destination": "cn"}).json()
    assert body["destination"] == "CN"
    periods = body["periods"]
    first_controlled = next(p for p in periods if p["license_required"])
    assert first_controlled["start"] == "2023-11-17"
    assert all(not p["license_required"] for p in periods if p["start"] < "2023-11-17")
    assert all(p["reason"] for p in periods)


def test_timeline_unknown_chip_is_404(client: TestClient) -> None:
    assert client.get("/api/timeline/a8000").status_code == 404


def test_frontier_for_a_gh100_sized_die(client: TestClient) -> None:
    f = client.get("/api/frontier", params={"die_area_mm2": 814, "date": "2024-01-01"}).json()
    # 3A090.b.1 starts at TPP 2400 (PD 2.95 at 814 mm2 is above 1.6): that binds first
    assert f["max_uncontrolled_tpp"] == pytest.approx(2400)
    assert f["tflops_fp8_dense_max"] == pytest.approx(300)


@pytest.mark.parametrize(
    "params", [{"die_area_mm2": 0}, {"die_area_mm2": -5}, {}, {"die_area_mm2": "big"}]
)
def test_frontier_bad_die_area_is_422(client: TestClient, params: dict) -> None:
    r = client.get("/api/frontier", params=params)
    assert r.status_code == 422
    assert "die_area_mm2" in r.json()["message"]


def test_thresholds_change_with_the_october_2023_rule(client: TestClient) -> None:
    before = client.get("/api/controls/thresholds", params={"date": "2023-11-16"}).json()
    after = client.get("/api/controls/thresholds", params={"date": "2023-11-17"}).json()
    ids_before = {r["id"] for r in before["regions"] if r["kind"] == "paragraph"}
    ids_after = {r["id"] for r in after["regions"] if r["kind"] == "paragraph"}
    assert "3A090.a.2" not in ids_before
    assert {"3A090.a.1", "3A090.a.2", "3A090.b.1", "3A090.b.2"} <= ids_after


def test_control_map_lists_every_catalog_chip(client: TestClient, catalog) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/controls/map", params={"date": "2023-11-17"}).json()
    rows = {r["chip"]: r for r in body["chips"]}
    assert set(rows) == set(catalog.ids)
    assert rows["a800-sxm"]["license_required"] is True


def test_control_map_reports_a_chip_the_engine_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    import chipwatch.controls as controls
    from chipwatch.services import controls as service

    real = controls.classify

    def refuse_h20(chip, *args, **kwargs):  # type: ignore[no-untyped-def]
        if getattr(chip, "id", None) == "h20":
            raise controls.ControlsInputError("h20: inconsistent inputs (test)")
        return real(chip, *args, **kwargs)

    monkeypatch.setattr(service, "classify", refuse_h20)
    client = TestClient(create_app())
    rows = {
        r["chip"]: r
        for r in client.get("/api/controls/map", params={"date": "2024-06-01"}).json()["chips"]
    }
    assert rows["h20"]["error"] == "h20: inconsistent inputs (test)"
    assert rows["h20"]["license_required"] is None
    assert rows["a800-sxm"]["license_required"] is True
    page = client.get("/controls", params={"date": "2024-06-01"})
    assert page.status_code == 200 and "cannot classify: h20: inconsistent inputs" in page.text


def test_spec_without_die_area_is_undetermined_not_false(client: TestClient) -> None:
    r = client.post("/api/classify", json={"spec": {"tpp": 3000}, "date": "2024-06-01"})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["license_required"] is None and d["status"] == "undetermined"
    assert any("die area" in m for m in d["missing_inputs"])


def test_rules_endpoints(client: TestClient) -> None:
    s = client.get("/api/rules/status", params={"date": "2026-06-01"}).json()
    assert any(
        i["id"] == "2025-01-ai-diffusion" and i["legal_status"] == "not_enforced"
        for i in s["items"]
    )
    d = client.get(
        "/api/rules/diff", params={"date_a": "2023-11-16", "date_b": "2023-11-17"}
    ).json()
    assert {"a800-sxm", "h800-sxm", "rtx-4090"} <= set(d["newly_controlled"])
    bad = client.post("/api/rules/propose", json={"rule_sets": [{"id": "x"}]})
    assert bad.status_code == 400 and "rule_sets" in bad.json()["message"]
    m = client.get("/api/market-access", params={"chip": "h200-sxm", "date": "2026-01-20"}).json()
    assert m["open"] is False and m["measures"]
    assert client.get("/api/market-access", params={"chip": "nope"}).status_code == 404


@pytest.mark.parametrize("tpp", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_spec_value_written_as_text_is_refused(client: TestClient, tpp: str) -> None:
    """ "NaN" as a JSON string reached the spec model, which read it as a float: 200 with
    license_required false. It must be a 422 like the bare NaN token."""
    r = client.post("/api/classify", json={"spec": {"tpp": tpp, "die_area_mm2": 100}})
    assert r.status_code == 422, r.text
    assert "tpp" in r.json()["message"]
