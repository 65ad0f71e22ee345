"""Bounded work, caches by bytes, headers and the Host allow-list (issue 14 probes)."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from chipwatch.api import create_app
from chipwatch.services.work import ByteCache, Overloaded, WorkPool


def sleep_job(seconds: float, *, ws) -> str:  # type: ignore[no-untyped-def]
    time.sleep(seconds)
    return f"slept {seconds}"


def catalog_size_job(*, ws) -> int:  # type: ignore[no-untyped-def]
    return len(ws.catalog)


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


# --- the worker pool ---------------------------------------------------------------------------
def test_a_job_past_its_time_limit_is_stopped_and_the_worker_replaced() -> None:
    pool = WorkPool(workers=1, time_limit_s=3.0)
    try:
        assert pool.call(catalog_size_job) > 40  # the worker loads the catalog once
        t0 = time.perf_counter()
        with pytest.raises(Overloaded, match="3 s limit"):
            pool.call(sleep_job, 60)
        assert time.perf_counter() - t0 < 20
        assert pool.call(sleep_job, 0) == "slept 0"  # a fresh worker answers
        assert pool.stats["timed_out"] == 1
    finally:
        pool.close()


def test_a_full_pool_refuses_at_once_instead_of_queueing_without_end() -> None:
    pool = WorkPool(workers=0, max_waiting=0, wait_s=0.1)
    release = threading.Event()

    def blocker(*, ws) -> None:  # type: ignore[no-untyped-def]
        release.wait(10)

    t = threading.Thread(target=pool.call, args=(blocker,))
    t.start()
    time.sleep(0.2)
    try:
        with pytest.raises(Overloaded, match="busy"):
            pool.call(sleep_job, 0)
    finally:
        release.set()
        t.join()
    assert pool.call(sleep_job, 0) == "slept 0"


def test_domain_errors_cross_the_process_boundary_as_4xx() -> None:
    app = create_app(workers=1)
    try:
        c = TestClient(app)
        r = c.get("/api/perf/infer", params={"chip": "h2O"})
        assert r.status_code == 404 and "h20" in r.json()["suggestions"]
        r = c.get(
            "/api/perf/infer", params={"chip": "l2", "model": "llama-3.1-405b", "num_chips": 1}
        )
        assert r.status_code == 400 and "does not fit" in r.json()["message"]
        r = c.get(
            "/api/perf/infer", params={"chip": "h20", "model": "llama-3.1-8b", "num_chips": 1}
        )
        assert r.status_code == 200 and r.json()["chip"] == "h20"
    finally:
        app.state.pool.close()


def test_a_heavy_request_past_the_limit_is_503_json_with_retry_after() -> None:
    app = create_app(workers=1, time_limit_s=0.2)
    try:
        c = TestClient(app)
        r = c.get("/api/market/run/baseline", params={"draws": 20000, "seed": 7})
        assert r.status_code == 503
        assert r.headers["retry-after"].isdigit()
        assert r.json()["error"] == "not_available" and "limit" in r.json()["message"]
        assert c.get("/api/chips/h20").status_code == 200  # lookups unaffected
    finally:
        app.state.pool.close()


# --- request caps --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "params", "fragment"),
    [
        (
            "/api/perf/infer",
            {"model": "deepseek-v3", "num_chips": 50400},
            "less than or equal to 4096",
        ),
        ("/api/perf/compare", {"chips": ["h20"] * 17}, "at most 16"),
        (
            "/api/perf/crossover",
            {
                "chips": ["h20", "h100-sxm", "b200", "l20", "a800-sxm"],
                "batches": list(range(1, 21)),
            },
            "over the limit of 96",
        ),
        ("/api/perf/crossover", {"num_chips": 5000}, "less than or equal to 1024"),
        ("/api/market/run/baseline", {"draws": 20001}, "between 100 and 20,000"),
        ("/api/perf/crossover", {"precision": "-1"}, "unknown precision '-1'"),
        ("/api/perf/compare", {"batch": -1}, "greater than or equal to 1"),
        ("/api/perf/infer", {"max_tpot_ms": "inf"}, "finite number"),
        ("/api/perf/train", {"tokens": "nan"}, "finite number"),
        ("/api/frontier", {"die_area_mm2": "NaN"}, "finite number"),
        ("/api/classify", {"tpp": "nan", "die_area_mm2": 800}, "finite number"),
    ],
)
def test_what_one_request_may_ask_is_capped_with_the_limit_in_the_422(
    client: TestClient, path: str, params: dict, fragment: str
) -> None:
    r = client.get(path, params=params)
    assert r.status_code == 422, r.text
    assert fragment in r.json()["message"]


@pytest.mark.parametrize(
    "spec",
    [
        '{"spec": {"tpp": NaN, "die_area_mm2": 800}}',
        '{"spec": {"dense_tops": {"bf16": NaN}, "die_area_mm2": 800}}',
        '{"spec": {"tpp": Infinity, "die_area_mm2": 800}}',
        '{"spec": {"tpp": 1000, "die_area_mm2": -Infinity}}',
    ],
)
def test_nan_in_a_posted_spec_is_422_not_an_answer(client: TestClient, spec: str) -> None:
    r = client.post("/api/classify", content=spec, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert "finite" in r.json()["message"]
    assert client.app.state.internal_errors == 0  # type: ignore[attr-defined]


# --- caches by bytes -----------------------------------------------------------------------------
def test_market_runs_are_cached_as_summaries_within_a_byte_bound(client: TestClient) -> None:
    a = client.get("/api/market/run/h20-banned", params={"draws": 200, "seed": 3})
    b = client.get("/api/market/run/h20-banned", params={"draws": 200, "seed": 3})
    assert a.status_code == b.status_code == 200 and a.json() == b.json()
    cache = client.app.state.results  # type: ignore[attr-defined]
    runs = [v for k, (v, _) in cache._items.items() if k[0] == "chipwatch.services.market.run"]
    assert runs and all(isinstance(r["summary"], list) for r in runs)  # JSON, no draw arrays
    assert cache.bytes <= cache.max_bytes
    ws = client.app.state.ws  # type: ignore[attr-defined]
    from chipwatch.services.market import KEPT_DRAWS

    kept = ws.cache("services.market_run").values()  # summaries, with only the headline draws
    assert kept and all({(k[0], k[2]) for k in r.samples} <= KEPT_DRAWS for r in kept)
    assert all(sum(a.nbytes for a in r.samples.values()) < 2_000_000 for r in kept)


def test_kept_draws_cover_the_dashboards_headlines() -> None:
    from chipwatch.services.market import KEPT_DRAWS, market_run
    from chipwatch.web.views import HEADLINES

    assert {(metric, group) for _, metric, group, _ in HEADLINES} <= KEPT_DRAWS
    r = market_run("baseline", 200, 0)
    assert {(k[0], k[2]) for k in r.samples} == KEPT_DRAWS  # every one is there to keep


def test_market_compares_are_cached(client: TestClient) -> None:
    params = {"a": "h20-allowed", "b": "h20-banned", "draws": 200}
    first = client.get("/api/market/compare", params=params)
    t0 = time.perf_counter()
    again = client.get("/api/market/compare", params=params)
    assert first.json() == again.json() and time.perf_counter() - t0 < 0.5


def test_the_byte_cache_evicts_least_recently_used() -> None:
    cache = ByteCache(max_bytes=3000)
    for i in range(10):
        cache.put(i, "x" * 1000)
    assert cache.bytes <= 3000 and len(cache) <= 3
    assert cache.peek(9) is not None and cache.peek(0) is None
    assert cache.get_or_compute("big", lambda: "y" * 5000) == "y" * 5000  # too big to keep
    assert cache.peek("big") is None


# --- headers, hosts, leaks -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/", "/chips", "/api/chips/h20", "/api/nope", "/static/app.js", "/openapi.json"]
)
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    r = client.get(path)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_pages_hold_no_inline_scripts_or_handlers(client: TestClient) -> None:
    import re

    for path in ("/", "/chips", "/chips/h20", "/controls", "/classify", "/compare", "/market"):
        html = client.get(path).text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "javascript:" not in html, path


def test_a_foreign_host_is_refused(client: TestClient) -> None:
    r = client.get("/api/chips/h20", headers={"host": "evil.example"})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    ok = client.get("/api/chips/h20", headers={"host": "127.0.0.1:8000"})
    assert ok.status_code == 200


def test_the_host_list_defaults_to_the_bound_address() -> None:
    from chipwatch.api.security import default_hosts

    assert "10.0.0.5" in default_hosts("10.0.0.5") and "localhost" not in default_hosts("10.0.0.5")
    assert {"127.0.0.1", "localhost", "::1"} <= set(default_hosts("127.0.0.1"))


def test_no_absolute_server_paths_in_a_chip(client: TestClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import chipwatch

    here = str(__import__("pathlib").Path(chipwatch.__file__).parent)
    body = client.get("/api/chips/h20").text
    assert here not in body and "/root" not in body
    assert client.get("/api/chips/h20").json()["origin"] == ["packaged:accelerators/h20.yaml"]
    (tmp_path / "bad.yaml").write_text("id: [")
    user = TestClient(create_app([tmp_path]))
    assert str(tmp_path) not in user.get("/api/chips").text


def test_repeated_lookups_are_answered_from_the_lookup_cache(client: TestClient) -> None:
    from chipwatch.api.lookups import LookupCache

    params = {"chip": "a800-sxm", "date": "2023-12-01", "destination": "CN"}
    first = client.get("/api/classify", params=params)
    again = client.get("/api/classify", params=params)
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert again.headers["x-frame-options"] == "DENY"  # headers still added outside the cache
    stack = client.app.middleware_stack  # type: ignore[attr-defined]
    while stack is not None and not isinstance(stack, LookupCache):
        stack = getattr(stack, "app", None)
    assert stack is not None and len(stack.cache) >= 1
    assert client.get("/api/classify", params={**params, "chip": "h2O"}).status_code == 404
    assert all(k[1] != b"chip=h2O" for k in stack.cache._items)  # errors are not kept


def test_the_market_page_runs_its_work_in_the_pool_too() -> None:
    """The dashboard's market runs go through the same workers and time limit as the API."""
    app = create_app(workers=1, time_limit_s=0.05)
    try:
        c = TestClient(app)
        r = c.get("/market?scenario=h20-banned", headers={"accept": "text/html"})
        assert r.status_code == 503 and "limit" in r.text
        assert r.headers["retry-after"].isdigit()
        assert app.state.pool.stats["timed_out"] == 1
    finally:
        app.state.pool.close()
