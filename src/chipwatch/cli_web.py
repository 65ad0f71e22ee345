"""CLI commands for the web domain (registered on the main app by ``chipwatch.cli``)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the main app. Keep module-level imports light."""
