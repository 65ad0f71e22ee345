"""The workspace: everything an answer depends on, built once from the catalog folders.

A :class:`Workspace` is the packaged data plus user folders (``CHIPWATCH_PATH``, then
``--catalog DIR`` / explicit folders, later ones overriding earlier ones). It holds the
accelerator catalog, the rulebook (rule sets, actions, country groups and countries), the model
catalog, the market scenarios and the fitted efficiency factors, and the caches of results
computed from them. Each part is loaded on first use (start-up stays fast) and never changes
afterwards: a workspace is logically immutable, so a cache that lives on it can never answer
from stale data. A different set of folders is a different workspace (:meth:`overlay`).

Every domain entry point takes it as the keyword ``ws`` (None: :func:`default_workspace`)::

    >>> from chipwatch.workspace import default_workspace
    >>> ws = default_workspace()
    >>> ws.catalog.chip("h20").memory.bandwidth_tbs.value
    4.0
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable, Iterable
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from chipwatch.catalog import Catalog
    from chipwatch.controls.rules import RuleBook
    from chipwatch.market.scenario import ScenarioLibrary
    from chipwatch.perf.models import ModelCatalog

__all__ = ["Workspace", "default_workspace", "resolve"]

T = TypeVar("T")


class Workspace:
    """Packaged data plus user folders: catalog, rulebook, models, scenarios, factors, caches."""

    def __init__(self, dirs: Iterable[str | Path] = ()) -> None:
        self._dirs: tuple[Path, ...] = tuple(Path(d) for d in dirs)
        self._lock = threading.RLock()
        self._caches: dict[str, dict[Any, Any]] = {}

    # --- construction -------------------------------------------------------------------
    @classmethod
    def from_dirs(cls, dirs: Iterable[str | Path] = (), env: bool = True) -> Workspace:
        """The packaged data, ``CHIPWATCH_PATH`` (unless ``env`` is False), then ``dirs``."""
        from chipwatch.catalog.loader import user_dirs

        return cls(user_dirs(list(dirs), env=env))

    def overlay(self, *dirs: str | Path) -> Workspace:
        """A new workspace with these user folders layered on top (e.g. a folder holding a
        proposed ``rules/actions/*.yaml``). This one is unchanged."""
        extra = [Path(d) for d in dirs]
        if not extra:
            return self
        return Workspace((*self._dirs, *extra))

    # --- identity -----------------------------------------------------------------------
    @property
    def dirs(self) -> tuple[Path, ...]:
        """The user folders in order (``CHIPWATCH_PATH`` ones first)."""
        return self._dirs

    @property
    def key(self) -> tuple[str, ...]:
        """What this workspace's data depends on (hashable; equal keys, equal answers)."""
        return tuple(str(d) for d in self._dirs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and other.key == self.key

    def __hash__(self) -> int:
        return hash(("Workspace", self.key))

    def __repr__(self) -> str:
        return f"Workspace(dirs={[str(d) for d in self._dirs]!r})"

    # --- parts (loaded on first use) ----------------------------------------------------
    @cached_property
    def catalog(self) -> Catalog:
        """The accelerator catalog (packaged plus user chips)."""
        from chipwatch.catalog import load_catalog

        return load_catalog(self._dirs, env=False)

    @cached_property
    def rulebook(self) -> RuleBook:
        """Rule sets, actions, country groups and countries (packaged plus user rules files)."""
        from chipwatch.controls.rules import load_rulebook

        return load_rulebook(self._dirs, env=False)

    @cached_property
    def models(self) -> ModelCatalog:
        """LLM architectures (packaged plus ``DIR/models``)."""
        from chipwatch.perf.models import load_models

        return load_models(self._dirs, env=False)

    @cached_property
    def scenarios(self) -> ScenarioLibrary:
        """Market scenarios (packaged plus ``DIR/market/scenarios``), checked against this
        workspace's catalog."""
        from chipwatch.market.scenario import ScenarioLibrary

        return ScenarioLibrary(self._dirs, lambda: self.catalog)

    @cached_property
    def factors(self) -> dict[str, Any]:
        """The fitted efficiency factors (``data/measurements/fitted-factors.json``)."""
        from chipwatch.perf.factors import load_factors

        return load_factors()

    # --- caches -------------------------------------------------------------------------
    def cache(self, name: str) -> dict[Any, Any]:
        """A named cache that lives (and dies) with this workspace."""
        with self._lock:
            return self._caches.setdefault(name, {})

    def memo(self, name: str, key: Hashable, compute: Callable[[], T], limit: int = 256) -> T:
        """``compute()`` once per ``key`` in the named cache (the oldest entries go past
        ``limit``). Safe under threads: two racing callers may both compute; results are
        equal because every input is in this workspace or the key."""
        store = self.cache(name)
        with self._lock:
            if key in store:
                return store[key]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            while len(store) >= limit:
                store.pop(next(iter(store)))
            store[key] = value
        return value


@lru_cache(maxsize=8)
def _default_for(chipwatch_path: str) -> Workspace:
    return Workspace.from_dirs((), env=True)


def default_workspace() -> Workspace:
    """The packaged data plus ``CHIPWATCH_PATH`` (one workspace per value of the variable)."""
    return _default_for(os.environ.get("CHIPWATCH_PATH", ""))


def resolve(ws: Workspace | None) -> Workspace:
    """``ws``, or the default workspace when None."""
    return ws if ws is not None else default_workspace()
