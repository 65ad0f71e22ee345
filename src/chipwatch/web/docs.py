"""``/docs``: API documentation rendered from the OpenAPI schema, with no external assets.

FastAPI's default Swagger UI loads its scripts from a CDN; this page works offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

router = APIRouter(include_in_schema=False)


def endpoints(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per path and method: summary, parameters and whether it takes a JSON body."""
    rows = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            params = [
                {
                    "name": p["name"],
                    "in": p["in"],
                    "required": p.get("required", False),
                    "description": p.get("description", ""),
                    "type": _type(p.get("schema", {})),
                }
                for p in op.get("parameters", [])
            ]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            rows.append(
                {
                    "path": path,
                    "method": method.upper(),
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "params": params,
                    "body": ref.rsplit("/", 1)[-1] if ref else None,
                    "body_fields": _fields(schema, ref),
                    "tag": (op.get("tags") or [""])[0],
                }
            )
    return rows


def _fields(schema: dict[str, Any], ref: str) -> list[dict[str, str]]:
    """The properties of a request-body schema: name, type, default and description."""
    if not ref:
        return []
    comp = schema.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
    return [
        {
            "name": name,
            "type": _type(p),
            "default": str(p.get("default", "")),
            "description": p.get("description", ""),
        }
        for name, p in comp.get("properties", {}).items()
    ]


def _type(s: dict[str, Any]) -> str:
    if "anyOf" in s:
        return " | ".join(_type(x) for x in s["anyOf"])
    if "enum" in s:
        return " | ".join(map(str, s["enum"]))
    return str(s.get("type", s.get("$ref", "").rsplit("/", 1)[-1] or "any"))


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    from chipwatch.web.pages import render

    schema = request.app.openapi()
    return render(
        request,
        "docs.html",
        "API",
        "/docs",
        heading="REST API",
        rows=endpoints(schema),
        info=schema.get("info", {}),
        schemas=sorted(schema.get("components", {}).get("schemas", {})),
    )


def swagger_dir() -> Path:
    """Swagger UI's files as shipped by the fastapi-offline package (no CDN)."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


SWAGGER_FILES = {
    "swagger-ui-bundle.js": "application/javascript",
    "swagger-ui.css": "text/css",
}


@router.get("/docs/try", response_class=HTMLResponse)
def try_it(request: Request) -> HTMLResponse:
    """The interactive API console (Swagger UI) over /openapi.json, every asset served here."""
    from chipwatch.web.pages import render

    return render(request, "swagger.html", "API console", "/docs", heading="API console")


@router.get("/docs/assets/{name}")
def swagger_asset(name: str) -> Response:
    if name not in SWAGGER_FILES:
        raise HTTPException(404, f"no such file: {name}")
    return FileResponse(
        swagger_dir() / name,
        media_type=SWAGGER_FILES[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )
