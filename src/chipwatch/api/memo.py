"""Per-app memo of pure results (rule book, model catalog, market runs, control maps).

Requests run concurrently in the thread pool, so reads and writes take a lock; the value is
computed outside it (two racing requests may both compute it, and the results are equal).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
_LOCK = threading.Lock()


def memo(cache: dict[Any, Any], key: Hashable, compute: Callable[[], T], limit: int = 64) -> T:
    """``cache[key]``, computed and stored first if missing; the oldest go past ``limit``."""
    with _LOCK:
        if key in cache:
            return cache[key]  # type: ignore[no-any-return]
    value = compute()
    with _LOCK:
        while len(cache) >= limit:
            cache.pop(next(iter(cache)))
        cache[key] = value
    return value


def state_of(request: Any) -> Any:
    """The app's state from a request, or the state itself (a worker's ``JobState``)."""
    app = getattr(request, "app", None)
    return app.state if app is not None else request


def catalog_data(request: Any, key: Hashable, load: Callable[[Any], T]) -> T:
    """``load(catalog_dirs)`` for the app's catalog folders, computed once per app."""
    state = state_of(request)
    return memo(state.cache, key, lambda: load(state.catalog_dirs), limit=1000)
