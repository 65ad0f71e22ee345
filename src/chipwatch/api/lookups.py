"""A response cache for the pure lookups: ``GET`` of chips, classify, timeline, frontier and the
control map, keyed on the exact path and query (and today's date, which answers without a date
depend on), within one app, whose workspace never changes.

A repeated lookup is answered before routing and parameter parsing, so lookups stay cheap on
the event loop while heavy work runs in the workers. Only complete 200 responses are kept, in a
least-recently-used cache bounded by bytes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chipwatch.services.work import ByteCache

PREFIXES = ("/api/chips", "/api/classify", "/api/timeline", "/api/frontier", "/api/controls/")
MAX_BYTES = 16_000_000


class LookupCache:
    """ASGI middleware: answer a repeated lookup from memory."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BYTES):
        self.app = app
        self.cache = ByteCache(max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope.get("method") != "GET"
            or not path.startswith(PREFIXES)
            or path.startswith("/api/classify/memo")
        ):
            await self.app(scope, receive, send)
            return
        key = (path, scope.get("query_string", b""), dt.date.today())
        hit = self.cache.peek(key)
        if hit is not None:
            headers, body = hit
            # a copy: middleware outside this one (gzip) edits the headers list in place
            await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
            await send({"type": "http.response.body", "body": body})
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body") and start.get("status") == 200:
                    body = b"".join(chunks)
                    self.cache.put(key, (list(start.get("headers", [])), body), size=len(body))
            await send(message)

        await self.app(scope, receive, keep)
