"""The REST API and dashboard app: ``create_app()`` builds a FastAPI app over one workspace.

>>> from fastapi.testclient import TestClient
>>> TestClient(create_app()).get("/api/chips/h20").json()["mem_bw_tbs"]
4.0
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from chipwatch import __version__
from chipwatch.workspace import Workspace

__all__ = ["create_app"]

RESULT_CACHE_BYTES = 64_000_000  # market summaries, compares and crossovers kept per app

DESCRIPTION = (
    "AI accelerators and US export controls, with numbers and sources. Every error is a JSON "
    'body `{"error": code, "message": text}` with a 4xx status for bad input; request bodies '
    "are limited to 64 KiB. CPU-heavy requests (perf, compare, crossover, sweep, market) run in "
    "worker processes under a time limit and are answered 503 with Retry-After when it is "
    "exceeded or every worker is busy; each request model states the most one request may ask."
)


class GZipAll:
    """gzip for every response of 1 kB or more (pages, JavaScript, CSS and ``/api`` JSON) when
    the client accepts it; the lookup cache replays a copy of its stored headers, so the
    compression never leaks into a stored reply."""

    def __init__(self, app: ASGIApp, minimum_size: int = 1000, compresslevel: int = 6) -> None:
        from fastapi.middleware.gzip import GZipMiddleware

        self.app = app  # the next layer, as every middleware here exposes it
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.gzip(scope, receive, send)


def create_app(
    catalog_dirs: Iterable[str | Path] = (),
    ws: Workspace | None = None,
    *,
    workers: int = 0,
    time_limit_s: float | None = None,
    allowed_hosts: Iterable[str] | None = None,
    warm: bool = False,
) -> FastAPI:
    """The API under ``/api``, the dashboard pages, and offline docs at ``/docs``, over ``ws``
    (default: a new workspace of the packaged data, ``CHIPWATCH_PATH`` and ``catalog_dirs``).

    ``workers``: processes for CPU-heavy requests (0: threads of this process, for tests and
    embedding; ``chipwatch serve`` uses one per core). ``allowed_hosts``: the ``Host`` values
    served (default: the loopback names). ``warm``: compute the default pages in a background
    thread once the server starts. Responses of 1 kB or more are gzip-compressed.
    """
    from chipwatch.api import (
        chips,
        controls,
        errors,
        limits,
        lookups,
        market,
        perf,
        rules,
        security,
    )
    from chipwatch.services import work
    from chipwatch.web import docs as web_docs
    from chipwatch.web import pages

    app = FastAPI(
        default_response_class=errors.SafeJSONResponse,
        title="chipwatch",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    dirs = list(catalog_dirs)
    # a fresh workspace per app unless one is given: its caches live as long as the app
    ws = Workspace.from_dirs(dirs) if ws is None else ws.overlay(*dirs)
    app.state.ws = ws
    app.state.error_page = pages.error_page
    app.state.internal_errors = 0
    app.state.pool = work.WorkPool(
        ws,
        workers=workers,
        time_limit_s=time_limit_s or work.DEFAULT_TIME_LIMIT_S,
        warm=("chipwatch.services.perf", "chipwatch.services.market"),
    )
    app.state.results = work.ByteCache(RESULT_CACHE_BYTES)
    errors.install_error_handlers(app)
    app.add_middleware(limits.BodySizeLimit, max_bytes=limits.MAX_BODY_BYTES)
    app.add_middleware(lookups.LookupCache)
    app.add_middleware(GZipAll, minimum_size=1000, compresslevel=6)
    hosts = list(allowed_hosts) if allowed_hosts is not None else security.default_hosts()
    app.add_middleware(security.Guard, allowed_hosts=hosts, state=app.state)
    app.router.add_event_handler("shutdown", app.state.pool.close)
    if warm:

        def start_warm_up() -> None:
            import threading

            threading.Thread(
                target=pages.warm_up, args=(app.state.ws,), name="warm-up", daemon=True
            ).start()

        app.router.add_event_handler("startup", start_warm_up)
    for module in (chips, controls, rules, perf, market):
        app.include_router(module.router)
    app.include_router(web_docs.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(pages.HERE / "static")), name="static")
    return app
