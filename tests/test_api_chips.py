"""The chips API, the page routes and the error contract, through FastAPI's test client."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from chipwatch.api import create_app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def test_list_chips_has_headline_numbers(client: TestClient) -> None:
    body = client.get("/api/chips").json()
    ids = [c["id"] for c in body["chips"]]
    assert body["count"] == len(ids) >= 2
    assert {"h20", "h100-sxm"} <= set(ids)
    h20 = next(c for c in body["chips"] if c["id"] == "h20")
    assert h20["mem_bw_tbs"] == 4.0
    assert h20["vendor"] == "NVIDIA"


def test_list_chips_filters_and_sorts(client: TestClient) -> None:
    rows = client.get(
        "/api/chips", params={"vendor": "nvidia", "sort": "mem_bw_tbs", "order": "desc"}
    ).json()["chips"]
    assert rows and all(r["vendor"] == "NVIDIA" for r in rows)
    bws = [r["mem_bw_tbs"] for r in rows]
    assert bws == sorted(bws, reverse=True)
    only = client.get("/api/chips", params={"q": "H20"}).json()["chips"]
    assert "h20" in [r["id"] for r in only]
    assert all("h20" in f"{r['id']} {r['name']}".lower() for r in only)
    dc = client.get("/api/chips", params={"segment": "datacenter"}).json()["chips"]
    assert all(r["segment"] == "datacenter" for r in dc)


def test_one_chip_lists_every_value_with_its_source(client: TestClient) -> None:
    d = client.get("/api/chips/h20").json()
    assert d["id"] == "h20"
    fields = {v["field"]: v for v in d["values"]}
    assert fields["memory.bandwidth_tbs"]["value"] == 4.0
    assert fields["memory.bandwidth_tbs"]["unit"] == "TB/s"
    assert all(v["source"] for v in d["values"])


def test_chip_alias_resolves(client: TestClient, catalog) -> None:  # type: ignore[no-untyped-def]
    alias = catalog.chip("h20").aliases[0]
    assert client.get(f"/api/chips/{alias}").json()["id"] == "h20"


def test_unknown_chip_is_404_json_with_suggestions(client: TestClient) -> None:
    r = client.get("/api/chips/h2o")
    assert r.status_code == 404
    body = r.json()
    assert body["error"] == "not_found"
    assert "h20" in body["suggestions"]
    assert "h2o" in body["message"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"segment": "mainframe"}, "segment"),
        ({"sort": "mem_bandwith"}, "sort"),
        ({"order": "sideways"}, "order"),
    ],
)
def test_bad_query_parameters_are_422_json(client: TestClient, params: dict, fragment: str) -> None:
    r = client.get("/api/chips", params=params)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/json")
    assert fragment in r.json()["message"]


def test_unknown_vendor_suggests_vendors(client: TestClient) -> None:
    r = client.get("/api/chips", params={"vendor": "nvidai"})
    assert r.status_code == 404
    assert "NVIDIA" in r.json()["suggestions"]


def test_unknown_api_path_is_json_404(client: TestClient) -> None:
    r = client.get("/api/no-such-thing")
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "message": "no such path: /api/no-such-thing"}


def test_wrong_method_is_json_405(client: TestClient) -> None:
    r = client.delete("/api/chips")
    assert r.status_code == 405
    assert r.json()["error"] == "method_not_allowed"


def test_oversized_body_is_413_json(client: TestClient) -> None:
    r = client.post(
        "/api/chips",
        content=b"{" + b" " * (70 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"


def test_oversized_chunked_body_is_413_json(client: TestClient) -> None:
    def chunks():  # no Content-Length: the limit applies to what is read
        for _ in range(20):
            yield b" " * 8192

    r = client.post("/api/chips", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_internal_errors_never_leak_a_traceback() -> None:
    app = create_app()

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    r = TestClient(app, raise_server_exceptions=False).get("/api/boom")
    assert r.status_code == 500
    assert r.json()["error"] == "internal_error"
    assert "secret" not in r.text and "Traceback" not in r.text
    assert app.state.internal_errors == 1  # counted, so other tests can assert none happened


def test_openapi_schema_and_offline_docs(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/api/chips/{chip_id}" in schema["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/api/chips/{chip_id}" in docs.text
    assert "cdn" not in docs.text.lower()


@pytest.mark.parametrize(
    "path", ["/", "/chips", "/chips/h20", "/controls", "/compare", "/market", "/classify", "/docs"]
)
def test_pages_render_without_external_assets(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert "/vendor/plotly.min.js" in r.text
    for external in ("http://cdn", "https://cdn", "unpkg.com", "jsdelivr", "cdn.plot.ly"):
        assert external not in r.text


def test_plotly_js_is_served_from_the_installed_package(client: TestClient) -> None:
    r = client.get("/vendor/plotly.min.js")
    assert r.status_code == 200
    assert "plotly.js" in r.text[:300]


def test_unknown_chip_page_is_a_404_page_for_browsers(client: TestClient) -> None:
    r = client.get("/chips/h2o", headers={"accept": "text/html"})
    assert r.status_code == 404
    assert "Did you mean" in r.text and "<html" in r.text


def test_sources_become_links_and_text_stays_escaped() -> None:
    from chipwatch.web.pages import linkify

    html = str(linkify("Datasheet <v2> https://example.com/a?b=1&c=2. See also (https://x.org/p)"))
    assert "&lt;v2&gt;" in html
    assert '<a href="https://example.com/a?b=1&amp;c=2"' in html
    assert html.endswith(
        '(<a href="https://x.org/p" rel="noopener noreferrer">https://x.org/p</a>)'
    )


def test_user_catalog_chips_are_served_and_classified(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from chipwatch import load_catalog

    base = load_catalog().chip("h20").model_dump(mode="json", exclude_none=True)
    mine = {**base, "id": "h20-plus", "name": "Hypothetical H20 plus", "aliases": []}
    (tmp_path / "h20-plus.yaml").write_text(yaml.safe_dump(mine), encoding="utf-8")
    client = TestClient(create_app([tmp_path]))
    assert client.get("/api/chips/h20-plus").json()["name"] == "Hypothetical H20 plus"
    assert "h20-plus" in [c["id"] for c in client.get("/api/chips").json()["chips"]]
    c = client.get("/api/classify", params={"chip": "h20-plus", "date": "2024-06-01"}).json()
    assert c["tpp"] == pytest.approx(2368, rel=0.01)
    assert client.get("/chips/h20-plus").status_code == 200
