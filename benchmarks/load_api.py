"""Loopback load test: lookups (chips, classify) at 32 and 128 clients while heavy requests (a
16-chip perf compare and 20,000-draw market runs) run beside them.

The lookups cycle through 34 URLs, which the server's response cache answers after their first
time; one lookup in ten (``classify_new``) is a classification never asked before, which it
must compute.

Starts ``chipwatch serve`` on 127.0.0.1 (a free port, ``--workers`` worker processes) in a
child process. For each client count, lookup clients send requests back to back for
``--seconds`` while two heavy clients loop (one big compare, one market run at a fresh seed each
time so no cache answers it). Prints p50/p95/p99 per endpoint, errors (any non-2xx or transport
error on a lookup; heavy requests answered 503 are counted apart as shed), and the resident
memory of the server and its workers. Then it completes ``--market-runs`` market runs in all
and prints the memory after them.

    python benchmarks/load_api.py [--clients 32 128] [--seconds 20] [--market-runs 20]
    python benchmarks/load_api.py --url http://127.0.0.1:8000   # an already running server

Only loopback URLs are accepted. Exit status 1 when any lookup failed.
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
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

import httpx

LOOKUPS = [
    ("chips", "/api/chips", {}),
    ("chips", "/api/chips", {"vendor": "NVIDIA"}),
    ("chip", "/api/chips/h20", {}),
    ("chip", "/api/chips/ascend-910b", {}),
] + [
    ("classify", "/api/classify", {"chip": chip, "date": day, "destination": dest})
    for chip in ("h20", "a800-sxm", "h100-sxm", "l20", "rtx-4090d")
    for day in ("2023-06-01", "2024-06-01", "2025-05-01")
    for dest in ("CN", "AE")
]
BIG_COMPARE_CHIPS = [
    "h20",
    "h100-sxm",
    "h200-sxm",
    "b200",
    "a100-sxm",
    "a800-sxm",
    "h800-sxm",
    "l20",
    "ascend-910b",
    "ascend-910c",
    "mi300x",
    "mi325x",
    "gaudi3",
    "mlu590",
    "rtx-4090d",
    "l40s",
]
DRAWS = 20_000
# one lookup in UNCACHED_EVERY is a classification never asked before (a new chip, date and
# destination), so that the response cache cannot answer it
UNCACHED_EVERY = 10
NEW_CHIPS = ["h20", "a800-sxm", "h100-sxm", "l20", "rtx-4090d", "ascend-910b", "mi308x", "b200"]


FRESH = itertools.count()  # shared by every phase: a classification is new only once


def new_classify(i: int) -> tuple[str, str]:
    import datetime as dt

    day = dt.date(2022, 10, 7) + dt.timedelta(days=(i // 16) % 1150)
    chip, dest = NEW_CHIPS[i % 8], ("CN", "AE")[(i // 8) % 2]
    return "classify_new", str(
        httpx.URL("/api/classify", params={"chip": chip, "date": str(day), "destination": dest})
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(workers: int | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "chipwatch", "serve", "--port", str(port)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
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
    raise SystemExit("server did not start within 90 s")


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc), MB."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children[ppid].append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Conn:
    """A minimal HTTP/1.1 keep-alive GET client: the load generator shares the CPUs with the
    server, so it should cost far less per request than a general-purpose client."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        if "content-length" in headers:
            await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = self.reader = None


class Heavy:
    """The heavy clients' state: market seeds used and counts."""

    def __init__(self) -> None:
        self.seed = itertools.count(1)
        self.market_runs = 0
        self.results: list[tuple[str, float, int]] = []


async def heavy_market(client: httpx.AsyncClient, heavy: Heavy, stop: asyncio.Event) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            r = await client.get(
                "/api/market/run/baseline", params={"draws": DRAWS, "seed": next(heavy.seed)}
            )
            status = r.status_code
        except httpx.HTTPError:
            status = 0
        heavy.market_runs += status == 200
        heavy.results.append(("market_run_20k", time.perf_counter() - t0, status))


async def heavy_compare(client: httpx.AsyncClient, heavy: Heavy, stop: asyncio.Event) -> None:
    for input_len in itertools.count(1024, 7):  # a new workload each time: no cache hit
        if stop.is_set():
            return
        params = {
            "chips": BIG_COMPARE_CHIPS,
            "model": "deepseek-v3",
            "num_chips": 64,
            "input_len": input_len,
        }
        t0 = time.perf_counter()
        try:
            status = (await client.get("/api/perf/compare", params=params)).status_code
        except httpx.HTTPError:
            status = 0
        heavy.results.append(("compare_16_chips", time.perf_counter() - t0, status))


async def lookup_client(
    url: str, jobs: itertools.cycle, fresh: itertools.count, deadline: float, out: list
) -> None:
    u = urlparse(url)
    conn = Conn(u.hostname or "127.0.0.1", u.port or 80)
    try:
        while time.monotonic() < deadline:
            i = next(fresh)
            name, target = new_classify(i) if i % UNCACHED_EVERY == 0 else next(jobs)
            t0 = time.perf_counter()
            try:
                ok = await conn.get(target) == 200
            except (OSError, ValueError, asyncio.IncompleteReadError):
                ok = False
                await conn.close()
            out.append((name, time.perf_counter() - t0, ok))
    finally:
        await conn.close()


async def phase(url: str, clients: int, seconds: float, heavy: Heavy | None) -> list:
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        for _, path, params in LOOKUPS:  # warm-up, not timed
            await client.get(path, params=params)
        stop = asyncio.Event()
        heavies = []
        if heavy is not None:
            heavies = [
                asyncio.create_task(heavy_market(client, heavy, stop)),
                asyncio.create_task(heavy_compare(client, heavy, stop)),
            ]
            await asyncio.sleep(1.0)  # the heavy work is under way before lookups are timed
        results: list = []
        jobs = itertools.cycle(
            [(name, str(httpx.URL(path, params=params))) for name, path, params in LOOKUPS]
        )
        deadline = time.monotonic() + seconds
        fresh = FRESH
        await asyncio.gather(
            *(lookup_client(url, jobs, fresh, deadline, results) for _ in range(clients))
        )
        stop.set()
        await asyncio.gather(*heavies)
    return results


async def finish_market_runs(url: str, heavy: Heavy, total: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=300) as client:
        while heavy.market_runs < total:
            stop = asyncio.Event()
            stop.set()  # one request each: heavy_market checks the flag before the next
            r = await client.get(
                "/api/market/run/baseline", params={"draws": DRAWS, "seed": next(heavy.seed)}
            )
            heavy.market_runs += r.status_code == 200
            heavy.results.append(("market_run_20k", 0.0, r.status_code))
            if r.status_code != 200:
                await asyncio.sleep(1)


def pct(xs: list[float], q: float) -> float:
    if len(xs) < 2:
        return xs[0] if xs else float("nan")
    return statistics.quantiles(xs, n=100, method="inclusive")[int(q * 100) - 1]


def report(results: list, seconds: float) -> int:
    by: dict[str, list] = defaultdict(list)
    for name, dt, ok in results:
        by[name].append((dt * 1e3, ok))
    errors = 0
    for name, rows in sorted(by.items()):
        lat = [r[0] for r in rows]
        bad = sum(1 for r in rows if not r[1])
        errors += bad
        print(
            f"  {name:>12}: {len(rows):6d} req {len(rows) / seconds:7.1f}/s  "
            f"p50 {pct(lat, 0.5):6.1f}  p95 {pct(lat, 0.95):6.1f}  "
            f"p99 {pct(lat, 0.99):6.1f} ms  errors {bad}"
        )
    return errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, nargs="+", default=[32, 128])
    ap.add_argument("--seconds", type=float, default=20.0, help="lookup time per client count")
    ap.add_argument("--market-runs", type=int, default=20, help="20,000-draw runs in all")
    ap.add_argument("--workers", type=int, help="server worker processes (default: cores)")
    ap.add_argument("--url", help="an already running server on loopback")
    args = ap.parse_args()
    if not all(0 < c <= 1024 for c in args.clients) or not 0 < args.seconds <= 600:
        raise SystemExit("--clients must be 1..1024 and --seconds 1..600")
    proc = None
    if args.url:
        if urlparse(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("only loopback URLs (127.0.0.1, localhost, ::1) are allowed")
        url = args.url.rstrip("/")
    else:
        proc, url = start_server(args.workers)
    pid = proc.pid if proc else None
    print(f"server {url}  workers {args.workers or 'one per core'}  cores {os.cpu_count()}")
    if pid:
        print(f"server RSS at start (with workers): {tree_rss_mb(pid):.0f} MB")
    heavy = Heavy()
    errors = 0
    try:
        for clients in args.clients:
            print(f"lookups alone at {clients} clients for {args.seconds:g} s (reference):")
            errors += report(asyncio.run(phase(url, clients, args.seconds, None)), args.seconds)
            print(
                f"lookups at {clients} clients for {args.seconds:g} s, beside a 16-chip compare "
                f"and {DRAWS:,}-draw market runs:"
            )
            results = asyncio.run(phase(url, clients, args.seconds, heavy))
            errors += report(results, args.seconds)
            if pid:
                print(f"  server RSS: {tree_rss_mb(pid):.0f} MB")
        asyncio.run(finish_market_runs(url, heavy, args.market_runs))
        by: dict[str, list] = defaultdict(list)
        for name, dt, status in heavy.results:
            by[name].append((dt, status))
        for name, rows in sorted(by.items()):
            done = [dt for dt, s in rows if s == 200 and dt > 0]
            shed = sum(1 for _, s in rows if s == 503)
            other = sum(1 for _, s in rows if s not in (200, 503))
            med = f"{statistics.median(done):.1f} s" if done else "-"
            print(
                f"heavy {name}: {len(rows)} requests, median {med}, 503 shed {shed}, other {other}"
            )
        if pid:
            print(
                f"server RSS after {heavy.market_runs} market runs at {DRAWS:,} draws: "
                f"{tree_rss_mb(pid):.0f} MB"
            )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
    print(f"lookup errors: {errors}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
