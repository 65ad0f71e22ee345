"""JSON error bodies for every failure: bad input is 4xx naming the problem; nothing else leaks.

Every error body has the same shape: ``{"error": CODE, "message": TEXT, ...extra}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic_core import PydanticSerializationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from chipwatch.catalog import UnknownIdError, suggest
from chipwatch.services.errors import ChoiceError, InvalidRequest
from chipwatch.services.work import Overloaded

log = logging.getLogger("chipwatch.api")

HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    422: "invalid_request",
    500: "internal_error",
    503: "not_available",
}


class SafeJSONResponse(JSONResponse):
    """JSON with NaN and infinities as null (plain ``json`` would write invalid ``NaN``)."""

    def render(self, content: Any) -> bytes:
        import json

        from chipwatch.jsonable import to_jsonable

        return json.dumps(
            to_jsonable(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")


def model_response(model: Any) -> Response:
    """A pydantic result as JSON, serialized in one pass (NaN and infinities become null)."""
    return Response(model.model_dump_json(), media_type="application/json")


class ApiError(Exception):
    """An error the API answers as JSON with this status and message."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def unknown_choice(
    status: int,
    message: str,
    kind: str,
    wanted: str,
    choices: list[str],
    *,
    list_all: bool = True,
) -> ApiError:
    """An error naming what was asked for and the closest ``choices`` (all of them when none is
    close, unless ``list_all`` is False)."""
    close = suggest(wanted, choices)
    return ApiError(
        status,
        message,
        kind=kind,
        wanted=wanted,
        suggestions=(close or choices) if list_all else close,
    )


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": HTTP_CODES.get(status, "error"), "message": message, **extra}


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(error_body(status, message, **extra), status_code=status)


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api") or path in ("/openapi.json",):
        return False
    return "text/html" in request.headers.get("accept", "")


def _page(
    status: int, message: str, request: Request | None = None, suggestions: Any = None
) -> HTMLResponse:
    """The error as a page: the dashboard's (navigation, linked suggestions) when the app has
    one (``app.state.error_page``), else a minimal page."""
    from html import escape

    page = getattr(request.app.state, "error_page", None) if request is not None else None
    if page is not None:
        try:
            out: HTMLResponse = page(request, status, message, suggestions or [])
            return out
        except Exception:  # the error page must never fail; fall back to the plain one
            log.exception("error page failed")
    body = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{status}</title>"
        "<link rel='stylesheet' href='/static/style.css'></head><body><main class='page'>"
        f"<h1>{status}</h1><p class='error'>{escape(message)}</p>"
        "<p><a href='/'>Back to the overview</a></p></main></body></html>"
    )
    return HTMLResponse(body, status_code=status)


def _problems(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for e in exc.errors():
        if e.get("type") == "json_invalid":
            reason = (e.get("ctx") or {}).get("error", "cannot parse")
            out.append({"where": "body", "problem": f"invalid JSON ({reason})"})
            continue
        parts = [
            str(p)
            for p in e.get("loc", ())
            if (p != "body" or len(e["loc"]) == 1)
            and not str(p).startswith(("constrained-", "literal[", "function-"))
        ]
        loc = ".".join(parts)
        msg = str(e.get("msg", "invalid value")).removeprefix("Value error, ")
        out.append({"where": loc or "body", "problem": msg})
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception to a JSON (or, for browsers on pages, a small HTML) error."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Any:
        if _wants_html(request):
            return _page(exc.status, exc.message, request, exc.extra.get("suggestions"))
        return error_response(exc.status, exc.message, **exc.extra)

    @app.exception_handler(ChoiceError)
    async def _choice(request: Request, exc: ChoiceError) -> Any:
        status = 404 if exc.missing else 422
        if _wants_html(request):
            links = {"scenario": "/market?scenario={}", "vendor": "/chips?vendor={}"}
            pattern = links.get(exc.kind)
            hrefs = [pattern.format(x) for x in exc.suggestions] if pattern else []
            return _page(status, exc.message, request, hrefs)
        return error_response(
            status, exc.message, kind=exc.kind, wanted=exc.wanted, suggestions=exc.suggestions
        )

    @app.exception_handler(InvalidRequest)
    async def _unprocessable(request: Request, exc: InvalidRequest) -> Any:
        if _wants_html(request):
            return _page(422, str(exc))
        return error_response(422, str(exc))

    @app.exception_handler(UnknownIdError)
    async def _unknown_id(request: Request, exc: UnknownIdError) -> Any:
        if _wants_html(request):
            return _page(404, str(exc), request, [f"/chips/{s}" for s in exc.suggestions])
        return error_response(
            404, str(exc), kind=exc.kind, wanted=exc.wanted, suggestions=exc.suggestions
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Any:
        problems = _problems(exc)
        message = "; ".join(f"{p['where']}: {p['problem']}" for p in problems)
        if _wants_html(request):
            return _page(422, message, request)
        return error_response(422, message, problems=problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Any:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such path: {request.url.path}"
        if _wants_html(request):
            return _page(exc.status_code, message, request)
        return error_response(exc.status_code, message)

    @app.exception_handler(Overloaded)
    async def _overloaded(request: Request, exc: Overloaded) -> Any:
        headers = {"Retry-After": str(exc.retry_after_s)}
        if _wants_html(request):
            page = _page(503, exc.message)
            page.headers.update(headers)
            return page
        response = error_response(503, exc.message, retry_after_s=exc.retry_after_s)
        response.headers.update(headers)
        return response

    @app.exception_handler(ValueError)
    async def _value(request: Request, exc: ValueError) -> Any:
        # Domain input errors (PerfInputError, rule/date/destination errors) are ValueErrors;
        # a serialization failure is ours, not the client's.
        if isinstance(exc, PydanticSerializationError):
            return await _internal(request, exc)
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if _wants_html(request):
            return _page(400, message, request)
        return error_response(400, message)


async def _internal(request: Request, exc: Exception) -> Any:
    """A failure of ours (not the client's): logged, counted, answered JSON 500. Anything no
    handler catches reaches :class:`chipwatch.api.security.Guard` and is answered the same."""
    log.exception("internal error on %s %s", request.method, request.url.path)
    state = request.app.state
    state.internal_errors = getattr(state, "internal_errors", 0) + 1
    message = "internal error; the server log has the details"
    if _wants_html(request):
        return _page(500, message)
    return error_response(500, message)
