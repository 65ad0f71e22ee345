"""The catalog a session works on: packaged data plus the user folders chosen at the edge.

The CLI (``--catalog DIR``), the API at start-up and ``CHIPWATCH_PATH`` set the folders once;
domain code that needs "the catalog in use" (e.g. a market scenario naming chips by id) reads it
here instead of reaching into a view.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chipwatch.catalog import Catalog

_dirs: list[Path] = []
_catalog: Catalog | None = None


def configure(catalog_dirs: Iterable[str | Path] = ()) -> None:
    """Use these user folders (on top of the packaged data) from now on."""
    global _dirs, _catalog
    _dirs = [Path(p) for p in catalog_dirs]
    _catalog = None


def catalog_dirs() -> list[Path]:
    return list(_dirs)


def key() -> tuple[tuple[str, ...], str]:
    """What the catalog in use depends on (user folders and ``CHIPWATCH_PATH``), for caches."""
    import os

    return tuple(str(p) for p in _dirs), os.environ.get("CHIPWATCH_PATH", "")


def catalog() -> Catalog:
    """The catalog in use, loaded once per configuration."""
    global _catalog
    if _catalog is None:
        from chipwatch.catalog import load_catalog

        _catalog = load_catalog(_dirs)
    return _catalog
