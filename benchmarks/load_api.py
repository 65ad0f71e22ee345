"""Loopback load test of the REST API: classify and perf endpoints at 32 concurrent clients.

Starts ``uvicorn chipwatch.api:create_app`` on 127.0.0.1 (a free port, one worker) in a child
process, then sends a bounded number of requests from concurrent httpx async clients, stopping
early at a time limit. Prints, per endpoint and overall, requests/s, p50/p99 latency and the
error count (any non-2xx status or transport error is an error).

    python benchmarks/load_api.py [--requests 1000] [--concurrency 32] [--max-seconds 60]
    python benchmarks/load_api.py --url http://127.0.0.1:8000   # an already running server

Only loopback URLs are accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import statistics
import subprocess
import sys
import time
from urllib.parse import urlparse

import httpx

CLASSIFY = [
    ("classify", "/api/classify", {"chip": chip, "date": day, "destination": dest})
    for chip in ("h20", "a800-sxm", "h100-sxm", "l20", "rtx-4090d")
    for day in ("2023-06-01", "2024-06-01", "2025-05-01")
    for dest in ("CN", "AE")
]
PERF = [
    (
        "perf_infer",
        "/api/perf/infer",
        {
            "chip": chip,
            "model": model,
            "num_chips": n,
            "precision": "fp8",
            "input_len": 1024,
            "output_len": 256,
        },
    )
    for chip in ("h20", "h100-sxm")
    for model, n in (("llama-3.1-8b", 1), ("llama-3.1-70b", 8), ("deepseek-v3", 16))
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "chipwatch.api:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/chips/h20", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("server exited during start-up")
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("server did not start within 60 s")


async def worker(
    client: httpx.AsyncClient,
    jobs: itertools.cycle,
    budget: list[int],
    deadline: float,
    results: list[tuple[str, float, bool]],
) -> None:
    while budget[0] > 0 and time.monotonic() < deadline:
        budget[0] -= 1
        name, path, params = next(jobs)
        t0 = time.perf_counter()
        try:
            r = await client.get(path, params=params)
            ok = 200 <= r.status_code < 300
        except httpx.HTTPError:
            ok = False
        results.append((name, time.perf_counter() - t0, ok))


async def load(
    url: str, mix: list[tuple[str, str, dict]], requests: int, concurrency: int, max_seconds: float
) -> tuple[list[tuple[str, float, bool]], float]:
    jobs = itertools.cycle(mix)
    results: list[tuple[str, float, bool]] = []
    budget = [requests]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        for _, path, params in mix[:concurrency]:  # warm-up: imports and loaders, not timed
            await client.get(path, params=params)
        t0 = time.perf_counter()
        deadline = time.monotonic() + max_seconds
        await asyncio.gather(
            *(worker(client, jobs, budget, deadline, results) for _ in range(concurrency))
        )
        elapsed = time.perf_counter() - t0
    return results, elapsed


def quantile(xs: list[float], q: float) -> float:
    if len(xs) < 2:
        return xs[0] if xs else float("nan")
    return statistics.quantiles(xs, n=100, method="inclusive")[int(q * 100) - 1]


def report(name: str, results: list[tuple[str, float, bool]], elapsed: float) -> int:
    lat = [r[1] * 1e3 for r in results]
    errors = sum(1 for r in results if not r[2])
    print(
        f"{name:>11}: {len(results):6d} req in {elapsed:6.2f} s  "
        f"{len(results) / elapsed:8.1f} req/s  p50 {quantile(lat, 0.50):7.1f} ms  "
        f"p99 {quantile(lat, 0.99):7.1f} ms  errors {errors}"
    )
    return errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1000, help="requests per endpoint")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--max-seconds", type=float, default=60.0, help="stop sending after this")
    ap.add_argument("--url", help="an already running server on loopback")
    args = ap.parse_args()
    if not (0 < args.requests <= 1_000_000 and 0 < args.concurrency <= 1024):
        raise SystemExit("--requests must be 1..1e6 and --concurrency 1..1024")
    proc = None
    if args.url:
        host = urlparse(args.url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("only loopback URLs (127.0.0.1, localhost, ::1) are allowed")
        url = args.url.rstrip("/")
    else:
        proc, url = start_server()
    print(
        f"server {url}  concurrency {args.concurrency}  requests per endpoint <= "
        f"{args.requests}  time limit {args.max_seconds:g} s per endpoint"
    )
    errors = 0
    try:
        for name, mix in (("classify", CLASSIFY), ("perf_infer", PERF)):
            results, elapsed = asyncio.run(
                load(url, mix, args.requests, args.concurrency, args.max_seconds)
            )
            errors += report(name, results, elapsed)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"errors: {errors}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
