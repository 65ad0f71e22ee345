"""/api routes for the perf domain (filled in as the domain lands)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["perf"])
