"""chipwatch: AI accelerators and US export controls, with numbers and sources."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from chipwatch.catalog import Catalog

__all__ = ["__version__", "load_catalog"]


def load_catalog(*catalog_dirs: Any) -> Catalog:
    """The packaged accelerator catalog plus user folders (and ``CHIPWATCH_PATH``).

    >>> cat = load_catalog(); cat.chip("h20").memory.bandwidth_tbs.value
    4.0
    """
    from chipwatch.catalog import load_catalog as _load

    dirs: list[Any] = []
    for d in catalog_dirs:
        dirs.extend(d if isinstance(d, list | tuple) else [d])
    return _load(dirs)
