"""Shared fixtures: the packaged catalog and a CLI runner."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import chipwatch
from browser_helpers import browser, desktop, page, phone, server  # noqa: F401  (fixtures)
from chipwatch.catalog import Catalog


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return chipwatch.load_catalog()


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.delenv("CHIPWATCH_PATH", raising=False)
    monkeypatch.delenv("CHIPWATCH_DB", raising=False)
    monkeypatch.delenv("CHIPWATCH_NO_CACHE", raising=False)
    monkeypatch.setenv("CHIPWATCH_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
