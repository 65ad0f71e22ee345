"""Shared browser-test plumbing: one uvicorn server and one headless Chromium per test session
(fixtures registered in conftest.py), page problem tracking, and chart checks."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """The dashboard served by uvicorn on a free loopback port, in a background thread."""
    import uvicorn

    from chipwatch.api import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield b
        b.close()


class PageProblems:
    """Console errors, page errors, failed requests and 4xx/5xx responses seen by a page."""

    def __init__(self, page: Any):
        self.problems: list[str] = []
        page.on(
            "console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}")
        )
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on(
            "requestfailed",
            lambda r: self.problems.append(f"failed request: {r.url} ({r.failure})"),
        )
        page.on(
            "response",
            lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"),
        )


@pytest.fixture(scope="session")
def desktop(browser: Any) -> Iterator[Any]:
    """One desktop browser context for the session: plotly.js is fetched and compiled once."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    yield context
    context.close()


@pytest.fixture(scope="session")
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    yield context
    context.close()


@pytest.fixture()
def page(desktop: Any, phone: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = phone if "phone" in request.node.name else desktop
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.problems = PageProblems(pg)
    yield pg
    pg.close()


def open_page(page: Any, url: str, shot: str) -> None:
    """Load a page, wait for every chart to render, check for problems, save a screenshot."""
    page.goto(url, wait_until="load")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('div.chart[data-figure]'))"
        ".every(el => el.dataset.rendered === '1')"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    assert page.problems.problems == [], page.problems.problems


def submit(page: Any, form: str) -> None:
    """Submit a form and wait for the page it leads to."""
    with page.expect_navigation(wait_until="load"):
        page.click(f"{form} button[type=submit]")


def rendered_charts(page: Any) -> list[dict[str, Any]]:
    """For each chart: its id, the points the server embedded, and what Plotly drew."""
    return list(
        page.evaluate("""() => Array.from(
          document.querySelectorAll('div.chart')).map(el => ({
        id: el.id,
        expected: Number(el.dataset.points),
        svg: el.querySelectorAll('.main-svg').length,
        drawn: el.querySelectorAll('.scatterlayer .point, .barlayer .point').length,
        traces: (el.data || []).length,
    }))""")
    )


def assert_charts_drawn(page: Any, minimum: int) -> list[dict[str, Any]]:
    found = rendered_charts(page)
    assert len(found) >= minimum, found
    for c in found:
        assert c["svg"] > 0 and c["traces"] > 0, c
        assert c["drawn"] == c["expected"], c
    return found
