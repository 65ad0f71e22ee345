"""A longer property-based fuzz of the whole API from its OpenAPI schema (schemathesis).

Runs the checks of ``tests/test_api_fuzz.py`` (no 500, JSON errors, no server paths, no
internal error reached) over every operation, the slow market and grid ones included, with
more examples per operation and worker processes under a time limit (so 503 is allowed).

    python benchmarks/fuzz_api.py [--examples 100] [--workers 2]

Prints the pytest summary and the wall time; exit status is pytest's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=100, help="examples per operation")
    ap.add_argument("--workers", type=int, default=2, help="server worker processes")
    args = ap.parse_args()
    if not (1 <= args.examples <= 10_000 and 0 <= args.workers <= 64):
        raise SystemExit("--examples must be 1..10000 and --workers 0..64")
    env = {
        **os.environ,
        "CHIPWATCH_FUZZ_EXAMPLES": str(args.examples),
        "CHIPWATCH_FUZZ_ALL": "1",
        "CHIPWATCH_FUZZ_WORKERS": str(args.workers),
    }
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    rc = subprocess.call([*cmd, str(ROOT / "tests" / "test_api_fuzz.py")], env=env, cwd=ROOT)
    print(
        f"fuzzed every operation, {args.examples} examples each, in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    sys.exit(rc)


if __name__ == "__main__":
    main()
