"""The REST API and dashboard app: ``create_app()`` builds a FastAPI app over one workspace.

>>> from fastapi.testclient import TestClient
>>> TestClient(create_app()).get("/api/chips/h20").json()["mem_bw_tbs"]
4.0
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from chipwatch import __version__
from chipwatch.workspace import Workspace

__all__ = ["create_app"]

DESCRIPTION = (
    "AI accelerators and US export controls, with numbers and sources. Every error is a JSON "
    'body `{"error": code, "message": text}` with a 4xx status for bad input; request bodies '
    "are limited to 64 KiB."
)


def create_app(
    catalog_dirs: Iterable[str | Path] = (), ws: Workspace | None = None, warm: bool = False
) -> FastAPI:
    """The API under ``/api``, the dashboard pages, and offline docs at ``/docs``, over ``ws``
    (default: a new workspace of the packaged data, ``CHIPWATCH_PATH`` and ``catalog_dirs``).
    ``warm``: compute the default pages in a background thread once the server starts.
    Responses of 1 kB or more are gzip-compressed for clients that accept it."""
    from contextlib import asynccontextmanager

    from fastapi.middleware.gzip import GZipMiddleware

    from chipwatch.api import chips, controls, errors, limits, market, perf, rules
    from chipwatch.web import docs as web_docs
    from chipwatch.web import pages

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            import threading

            threading.Thread(
                target=pages.warm_up, args=(app.state.ws,), name="warm-up", daemon=True
            ).start()
        yield

    app = FastAPI(
        lifespan=lifespan,
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
    errors.install_error_handlers(app)
    app.add_middleware(limits.BodySizeLimit, max_bytes=limits.MAX_BODY_BYTES)
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=6)
    for module in (chips, controls, rules, perf, market):
        app.include_router(module.router)
    app.include_router(web_docs.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(pages.HERE / "static")), name="static")
    return app
