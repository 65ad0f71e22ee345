"""/api routes for the market domain (filled in as the domain lands)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["market"])
