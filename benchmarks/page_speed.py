"""Dashboard and CLI speed: start-up of ``chipwatch serve`` (until it prints its URL, which it
does once the dashboard answers), the warm load time of every page, and the start-up of
``chipwatch sql`` and ``chipwatch chips show``.

    python benchmarks/page_speed.py            # prints a table; --json for machine output

Warm = the page has been requested once since the server started (the server also precomputes
the default views in the background at start-up). A load is the HTTP request with
``Accept-Encoding: gzip`` until the last byte, plus, where Chromium is installed
(/usr/bin/chromium), the browser's ``load`` event with plotly.js cached and every chart drawn.
CLI start-ups are wall-clock and CPU (user+sys) seconds of a fresh process, each the median of
a few runs; the interpreter's own start-up (``python -c pass``) is printed beside them, since on
a busy shared machine wall-clock times stretch with the load.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

PAGES = [
    "/",
    "/chips",
    "/chips/h20",
    "/controls",
    "/compare",
    "/market",
    "/classify",
    "/docs",
    "/docs/try",
    "/?lang=zh-CN",
    "/chips?lang=zh-CN",
    "/no-such-page",
]
CHROMIUM = Path("/usr/bin/chromium")
RUNS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_timed(args: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def median_run(args: list[str], runs: int = RUNS) -> tuple[float, float]:
    results = [run_timed(args) for _ in range(runs)]
    return statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)


def start_server() -> tuple[subprocess.Popen[str], str, float]:
    """Start ``chipwatch serve``; return it, its URL and the seconds until it printed the URL."""
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chipwatch", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    startup = time.perf_counter() - t0
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"serve did not print its URL: {line!r}")
    return proc, f"http://127.0.0.1:{port}", startup


def http_times(base: str) -> dict[str, dict[str, float]]:
    out = {}
    with httpx.Client(headers={"Accept-Encoding": "gzip"}, timeout=60) as client:
        for path in PAGES:
            t0 = time.perf_counter()
            first = client.get(base + path)
            cold = time.perf_counter() - t0
            warm = []
            for _ in range(RUNS):
                t0 = time.perf_counter()
                r = client.get(base + path)
                warm.append(time.perf_counter() - t0)
            out[path] = {
                "status": r.status_code,
                "first_s": cold,
                "warm_s": statistics.median(warm),
                "gzip": r.headers.get("content-encoding") == "gzip",
            }
            assert first.status_code == r.status_code
    return out


def browser_times(base: str) -> dict[str, float]:
    """Seconds from navigation to the ``load`` event with every chart drawn (warm cache)."""
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        for path in PAGES:
            page.goto(base + path, wait_until="load")  # warms the cache (plotly.js)
            times = []
            for _ in range(RUNS):
                t0 = time.perf_counter()
                page.goto(base + path, wait_until="load")
                page.wait_for_function(
                    "Array.from(document.querySelectorAll('div.chart[data-figure]'))"
                    ".every(el => el.dataset.rendered === '1')"
                )
                times.append(time.perf_counter() - t0)
            out[path] = statistics.median(times)
        browser.close()
    return out


def main() -> None:
    env_python = [sys.executable]
    results: dict[str, object] = {"load_average": os.getloadavg()[0]}
    results["python_startup_s"] = median_run([*env_python, "-c", "pass"])
    subprocess.run(  # build the persisted SQL store once (as a first `sql` call would)
        [*env_python, "-m", "chipwatch", "sql", "SELECT 1"], check=True, capture_output=True
    )
    results["sql_startup_s"] = median_run(
        [*env_python, "-m", "chipwatch", "sql", "SELECT count(*) FROM accelerators"]
    )
    results["chips_show_startup_s"] = median_run(
        [*env_python, "-m", "chipwatch", "chips", "show", "h20"]
    )
    proc, base, startup = start_server()
    results["serve_startup_s"] = startup
    try:
        time.sleep(0.5)  # let the background warm-up of the default views get going
        results["pages"] = http_times(base)
        if CHROMIUM.exists():
            results["browser"] = browser_times(base)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2))
        return
    print(f"load average {results['load_average']:.1f} (2 cores shared)")
    py_wall, py_cpu = results["python_startup_s"]  # type: ignore[misc]
    print(f"{'start-up':34} {'wall s':>8} {'CPU s':>8}")
    print(f"{'python -c pass (baseline)':34} {py_wall:8.2f} {py_cpu:8.2f}")
    for name, key in (("chipwatch sql 'SELECT count(*)...'", "sql_startup_s"),
                      ("chipwatch chips show h20", "chips_show_startup_s")):  # fmt: skip
        wall, cpu = results[key]  # type: ignore[misc]
        print(f"{name:34} {wall:8.2f} {cpu:8.2f}")
    print(f"{'chipwatch serve (URL printed)':34} {results['serve_startup_s']:8.2f}")
    print()
    browser = results.get("browser", {})
    print(f"{'page':22} {'status':>6} {'first s':>8} {'warm s':>8} {'browser s':>10} {'gzip':>5}")
    pages: dict[str, dict[str, float]] = results["pages"]  # type: ignore[assignment]
    for path, r in pages.items():
        b = browser.get(path) if isinstance(browser, dict) else None
        print(
            f"{path:22} {r['status']:6.0f} {r['first_s']:8.3f} {r['warm_s']:8.3f} "
            f"{(f'{b:10.3f}' if b is not None else '         -')} {'yes' if r['gzip'] else 'no':>5}"
        )
    slowest = max(r["warm_s"] for r in pages.values())
    print(f"\nslowest warm page: {slowest:.3f} s (HTTP)")
    if browser:
        print(f"slowest warm page in Chromium, charts drawn: {max(browser.values()):.3f} s")


if __name__ == "__main__":
    main()
