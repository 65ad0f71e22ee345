"""What a route reads from the app: its workspace."""

from __future__ import annotations

from fastapi import Request

from chipwatch.workspace import Workspace


def get_ws(request: Request) -> Workspace:
    """The app's workspace (``create_app`` builds it once from the catalog folders)."""
    ws: Workspace = request.app.state.ws
    return ws
