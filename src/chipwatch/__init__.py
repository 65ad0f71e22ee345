"""chipwatch: AI accelerators and US export controls, with numbers and sources.

``chipwatch.load_catalog()`` gives the accelerator catalog; ``chipwatch.default_workspace()``
(or ``chipwatch.Workspace.from_dirs([...])`` with user folders) everything else: its catalog,
rulebook, models, scenarios and fitted factors, handed to any domain function as ``ws=``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chipwatch.workspace import Workspace, default_workspace

__version__ = "0.1.0"

if TYPE_CHECKING:
    from chipwatch.catalog import Catalog

__all__ = ["Workspace", "__version__", "default_workspace", "load_catalog"]


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
