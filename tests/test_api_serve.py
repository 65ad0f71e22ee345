"""``chipwatch serve`` brings the dashboard up on loopback with nothing else to set up."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_command_answers_pages_and_api() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chipwatch", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(base + "/api/chips/h20", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline, "serve did not answer within 30 s"
                time.sleep(0.2)
        assert r.status_code == 200 and r.json()["id"] == "h20"
        page = httpx.get(base + "/chips", timeout=10)
        assert page.status_code == 200 and "chips-table" in page.text
        assert httpx.get(base + "/vendor/plotly.min.js", timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_rejects_a_bad_port(runner) -> None:  # type: ignore[no-untyped-def]
    from chipwatch.cli import app

    result = runner.invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code == 2
    try:
        text = result.output + result.stderr
    except ValueError:  # stderr not captured separately
        text = result.output
    assert "--port" in text


def test_serve_on_a_busy_port_is_one_clear_error(runner) -> None:  # type: ignore[no-untyped-def]
    from chipwatch.cli import app

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot serve on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


def test_serve_prints_its_url_once_it_answers() -> None:
    port = _free_port()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chipwatch", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the first thing serve prints
        started = time.monotonic() - t0
        assert f"http://127.0.0.1:{port}/" in line, line
        r = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)  # answering already
        assert r.status_code == 200 and r.headers.get("content-encoding") == "gzip"
        assert started < 30  # benchmarks/page_speed.py measures it (about 2.6 s here)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
