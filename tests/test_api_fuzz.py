"""Property-based fuzzing of the API from its OpenAPI schema (schemathesis): whatever a client
sends, the answer is never a 500, errors are JSON, and no absolute server path leaks.

A short bounded run for CI; ``benchmarks/fuzz_api.py`` runs the same checks longer, over every
operation (the market and grid operations included, which are slow per request).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import chipwatch
from chipwatch.api import create_app

schemathesis = pytest.importorskip("schemathesis")

# benchmarks/fuzz_api.py sets these for its longer run over every operation
EXAMPLES = int(os.environ.get("CHIPWATCH_FUZZ_EXAMPLES", "8"))
EVERY_OPERATION = os.environ.get("CHIPWATCH_FUZZ_ALL") == "1"
WORKERS = int(os.environ.get("CHIPWATCH_FUZZ_WORKERS", "0"))

APP = create_app(workers=WORKERS, time_limit_s=10)
# slow per request (Monte Carlo runs, grids): fuzzed in benchmarks/fuzz_api.py instead
SLOW = r"^/api/(market/(run|compare|sensitivity|check)|perf/(sweep|crossover|compare|train))"
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
if not EVERY_OPERATION:
    SCHEMA = SCHEMA.exclude(path_regex=SLOW)
PACKAGE = str(Path(chipwatch.__file__).parent)


def check_response(case, response) -> None:  # type: ignore[no-untyped-def]
    """The properties every answer must have (shared with the longer benchmark run)."""
    status = response.status_code
    label = f"{case.method} {case.formatted_path} {case.query or ''} -> {status}"
    assert status < 500 or status == 503, label
    text = response.text
    assert PACKAGE not in text and "Traceback" not in text, label
    if status >= 400 and case.path.startswith("/api"):
        body = response.json()
        assert body["error"] and body["message"], label


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_fuzzed_requests_never_fail_the_server(case) -> None:  # type: ignore[no-untyped-def]
    response = case.call()
    check_response(case, response)
    assert APP.state.internal_errors == 0
