"""Response headers, a Host allow-list and a last-resort JSON 500, in one ASGI middleware.

- Every response carries a Content-Security-Policy allowing only this origin's scripts (the
  pages load ``/static/app.js`` and ``/vendor/plotly.min.js``; figures travel as JSON data
  blocks, never inline code), ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``
  and ``Referrer-Policy: no-referrer``.
- A request whose ``Host`` is not in the allow-list (by default the address the server is bound
  to, plus the loopback names) is refused with a JSON 400: a page on another site cannot reach
  a loopback server through DNS rebinding.
- An exception no handler answered becomes a JSON 500 (counted in ``internal_errors``) and is
  not re-raised, so the server keeps the connection open; tests assert the count stays 0.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("chipwatch.api")

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # plotly sets styles on the elements it draws
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
LOOPBACK = ("127.0.0.1", "localhost", "::1")
TEST_HOST = "testserver"  # the Host Starlette's TestClient sends


def default_hosts(bound: str | None = None) -> list[str]:
    """The bound address, and the loopback names when it is a loopback or wildcard address."""
    hosts = [bound] if bound else []
    if bound is None or bound in LOOPBACK or bound in ("0.0.0.0", "::"):
        hosts += [*LOOPBACK, TEST_HOST]
    return list(dict.fromkeys(hosts))


def _host_name(value: str) -> str:
    """``Host`` without its port: ``[::1]:8000`` -> ``::1``, ``a.b:80`` -> ``a.b``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class Guard:
    """Headers on every response, the Host allow-list, and the last-resort JSON 500."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str] = ("*",), state: Any = None):
        self.app = app
        self.allowed = {h.lower().strip("[]") for h in allowed_hosts}
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "*" not in self.allowed:
            headers = dict(scope.get("headers") or [])
            host = _host_name(headers.get(b"host", b"").decode("latin-1"))
            if host not in self.allowed:
                await self._json(send, 400, "bad_request", "this Host is not served here")
                return
        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception:  # noqa: BLE001 - the last resort: answer, log, keep serving
            log.exception("internal error on %s %s", scope.get("method"), scope.get("path"))
            if self.state is not None:
                self.state.internal_errors = getattr(self.state, "internal_errors", 0) + 1
            if not started:
                await self._json(
                    send, 500, "internal_error", "internal error; the server log has the details"
                )

    @staticmethod
    async def _json(send: Send, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": code, "message": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def http_protocol() -> Any:
    """uvicorn's HTTP protocol (httptools, else h11) answering a request it cannot parse (an
    over-long URL or header, a malformed request line) with a JSON 400 and these headers instead
    of plain text; ``"auto"`` when uvicorn's protocols cannot be imported."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as Base
    except ImportError:
        try:
            from uvicorn.protocols.http.h11_impl import H11Protocol as Base  # type: ignore[assignment]
        except ImportError:
            return "auto"

    class JsonErrors(Base):  # type: ignore[misc,valid-type]
        def send_400_response(self, msg: str) -> None:
            body = json.dumps(
                {
                    "error": "bad_request",
                    "message": f"{msg.rstrip('.')}: the request line or a header is malformed "
                    "or too long",
                }
            ).encode()
            head = [
                b"HTTP/1.1 400 Bad Request\r\n",
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(body)).encode() + b"\r\n",
                b"connection: close\r\n",
                *(k + b": " + v + b"\r\n" for k, v in HEADERS),
                b"\r\n",
            ]
            self.transport.write(b"".join(head) + body)
            self.transport.close()

    return JsonErrors
