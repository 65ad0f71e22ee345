"""Time `chipwatch chips show h20` as a whole process (what a user waits for).

Prints the median wall time over N runs, and the same for a bare `python -c pass` in the same
run, so the figure can be read as a ratio on a noisy machine.

    python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def wall_times(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    exe = shutil.which("chipwatch")
    cli = [exe] if exe else [sys.executable, "-m", "chipwatch"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "chipwatch --version": [*cli, "--version"],
        "chipwatch chips show h20": [*cli, "chips", "show", "h20"],
        "chipwatch chips show h20 --json": [*cli, "chips", "show", "h20", "--json"],
    }
    wall_times(commands["chipwatch chips show h20"], 2)  # warm the OS file cache
    base = None
    for name, cmd in commands.items():
        med = statistics.median(wall_times(cmd, args.runs))
        base = base or med
        print(f"{name:36s} median {med * 1000:7.1f} ms  ({med / base:4.1f}x bare python)")
    print(f"show_h20_ms: {med * 1000:.0f}")


if __name__ == "__main__":
    main()
