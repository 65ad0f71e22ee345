"""Bounded heavy work: CPU-heavy operations (perf, crossover, compare, sweep, market) run in a
pool of worker processes, never on a server's event loop, each under a time limit.

A job is a module-level function called as ``fn(*args, ws=ws)`` (a service function) with a
:class:`~chipwatch.workspace.Workspace` (in a worker, a copy built from the same folders once).
When every worker is busy a request waits at most ``wait_s`` for one (and at most
``max_waiting`` requests wait); past that, or past ``time_limit_s`` of work (the worker is then
killed and replaced), the pool raises :class:`Overloaded`, which the API answers 503 with
``Retry-After``.

``workers=0`` runs jobs in the calling thread (tests and embedding): still off the event loop
and still admission-limited, but a job cannot be stopped once started, so the time limit only
applies with worker processes (``chipwatch serve`` uses one per core).
"""

from __future__ import annotations

import os
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

DEFAULT_TIME_LIMIT_S = 60.0
DEFAULT_WAIT_S = 15.0
RETRY_AFTER_S = 5


class Overloaded(Exception):
    """No worker could take or finish the job in time: the API answers 503 with Retry-After."""

    def __init__(self, message: str, retry_after_s: int = RETRY_AFTER_S):
        super().__init__(message)
        self.message, self.retry_after_s = message, retry_after_s


START_TIMEOUT_S = 120.0  # a worker loading the catalog on a busy machine


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _workspace(dirs: tuple[Path, ...]) -> Any:
    """A worker's own copy of the app's workspace (the same folders, so the same answers)."""
    from chipwatch.workspace import Workspace

    ws = Workspace(dirs)
    ws.catalog  # noqa: B018 - loaded before any job is timed
    return ws


# --- errors across the process boundary ------------------------------------------------------
def _portable(e: BaseException) -> tuple[Any, ...]:
    """An exception as plain data (domain exceptions carry arguments pickle cannot rebuild)."""
    from chipwatch.catalog import UnknownIdError
    from chipwatch.services.errors import ChoiceError, InvalidRequest

    if isinstance(e, ChoiceError):
        return ("choice", e.message, e.kind, e.wanted, e.suggestions, e.missing)
    if isinstance(e, UnknownIdError):
        return ("unknown", e.kind, e.wanted, e.suggestions)
    if isinstance(e, InvalidRequest):
        return ("invalid", str(e))
    if isinstance(e, ValueError):
        return ("value", str(e))
    return ("internal", f"{type(e).__name__}: {e}")


def _rebuild(data: tuple[Any, ...]) -> BaseException:
    from chipwatch.catalog import UnknownIdError
    from chipwatch.services.errors import ChoiceError, InvalidRequest

    kind = data[0]
    if kind == "choice":
        err = ChoiceError(data[1], data[2], data[3], list(data[4]), missing=data[5])
        err.suggestions = list(data[4])
        return err
    if kind == "unknown":
        return UnknownIdError(data[1], data[2], data[3])
    if kind == "invalid":
        return InvalidRequest(data[1])
    if kind == "value":
        return ValueError(data[1])
    return RuntimeError(data[1])


def _worker_main(
    conn: Any, dirs: tuple[Path, ...], niceness: int, warm: tuple[str, ...] = ()
) -> None:
    """A worker process: load the catalog once, then answer jobs until the pipe closes."""
    import contextlib
    import gc
    import time

    with contextlib.suppress(OSError, AttributeError):
        os.nice(niceness)  # lookups in the server process come first
    libc = _libc()
    if libc is not None:  # a fixed mmap threshold: big arrays go back to the OS when freed
        libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    state = _workspace(dirs)
    import importlib

    for name in warm:  # the jobs' modules, imported before any job is timed
        importlib.import_module(name)

    conn.send(("ready", None))  # start-up is not counted against any job's time limit
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        t0 = time.perf_counter()
        try:
            reply: tuple[str, Any] = ("ok", fn(*args, ws=state))
        except BaseException as e:  # noqa: BLE001 - every failure goes back as data
            reply = ("err", _portable(e))
        try:
            conn.send(reply)
        except Exception as e:  # noqa: BLE001 - a result that cannot be pickled
            conn.send(("err", ("internal", f"cannot return the result: {e}")))
        del reply
        if time.perf_counter() - t0 > 0.2:  # a big job: hand its memory back to the OS
            gc.collect()
            if libc is not None:
                libc.malloc_trim(0)


M_MMAP_THRESHOLD = -3  # glibc mallopt parameter


def _libc() -> Any:
    """glibc, for ``mallopt``/``malloc_trim`` (None elsewhere)."""
    import ctypes
    import ctypes.util

    try:
        lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        lib.malloc_trim, lib.mallopt  # noqa: B018 - both present (glibc)
    except (OSError, AttributeError):
        return None
    return lib


class _Worker:
    def __init__(self, ctx: Any, dirs: tuple[Path, ...], niceness: int, warm: tuple[str, ...]):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_worker_main, args=(child, dirs, niceness, warm), daemon=True
        )
        self.proc.start()
        child.close()
        self.ready = False

    def wait_ready(self, timeout_s: float) -> None:
        """Wait for the worker to finish loading (its first message)."""
        if self.ready:
            return
        if not self.conn.poll(timeout_s):
            raise EOFError("worker did not start in time")
        self.conn.recv()
        self.ready = True

    def stop(self) -> None:
        try:
            self.conn.close()
        finally:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join(timeout=5)


class WorkPool:
    """``workers`` processes (0: the calling thread) running jobs under a time limit."""

    def __init__(
        self,
        ws: Any = None,
        workers: int = 0,
        time_limit_s: float = DEFAULT_TIME_LIMIT_S,
        wait_s: float = DEFAULT_WAIT_S,
        max_waiting: int | None = None,
        niceness: int = 10,
        warm: tuple[str, ...] = (),
    ):
        from chipwatch.workspace import resolve

        self.ws = resolve(ws)
        self.workers, self.time_limit_s, self.wait_s = workers, time_limit_s, wait_s
        slots = max(1, workers)
        self.max_waiting = 2 * slots if max_waiting is None else max_waiting
        self.niceness, self.warm = niceness, warm
        self._admit = threading.BoundedSemaphore(slots + self.max_waiting)
        self._slots = threading.BoundedSemaphore(slots)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        # waiting for workers happens in these threads, not in the server's shared thread pool
        self._waiters = ThreadPoolExecutor(slots + self.max_waiting, thread_name_prefix="work")
        self.stats = {"done": 0, "timed_out": 0, "refused": 0}

    def _ctx(self) -> Any:
        import multiprocessing

        return multiprocessing.get_context("spawn")  # no fork of a threaded server

    def start(self) -> None:
        """Start the worker processes now (otherwise: on the first job)."""
        with self._lock:
            if self._started or self.workers == 0:
                return
            self._started, self._closed = True, False
            for _ in range(self.workers):
                w = _Worker(self._ctx(), self.ws.dirs, self.niceness, self.warm)
                self._all.append(w)
                self._idle.put(w)

    def close(self) -> None:
        """Stop the worker processes (at server shutdown); a later job starts them again."""
        with self._lock:
            self._closed = True
            self._started = False
            workers, self._all = self._all, []
            while not self._idle.empty():
                self._idle.get_nowait()
        for w in workers:
            w.stop()

    # --- running jobs ----------------------------------------------------------------------------
    def _admitted(self) -> Any:
        """Hold one of the ``workers + max_waiting`` places, or raise :class:`Overloaded`."""
        import contextlib

        if not self._admit.acquire(blocking=False):
            self.stats["refused"] += 1
            raise Overloaded(
                f"the server is busy: {max(1, self.workers)} heavy request(s) running and "
                f"{self.max_waiting} waiting; try again shortly"
            )

        @contextlib.contextmanager
        def held() -> Any:
            try:
                yield
            finally:
                self._admit.release()

        return held()

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args, ws=ws)`` and return its result; blocks the calling thread."""
        with self._admitted():
            return self._call(fn, args)

    def call_cached(
        self, cache: ByteCache, key: Hashable, fn: Callable[..., Any], *args: Any
    ) -> Any:
        """``call`` through ``cache``: a hit costs nothing, a miss is computed once."""
        hit = cache.peek(key)
        if hit is not None:
            return hit
        with self._admitted():
            return cache.get_or_compute(key, lambda: self._call(fn, args))

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``call`` from the event loop; the waiting happens in the pool's own threads."""
        import asyncio

        with self._admitted():
            return await asyncio.wrap_future(self._waiters.submit(self._call, fn, args))

    async def run_cached(
        self, cache: ByteCache, key: Hashable, fn: Callable[..., Any], *args: Any
    ) -> Any:
        """``call_cached`` from the event loop."""
        import asyncio

        hit = cache.peek(key)
        if hit is not None:
            return hit
        with self._admitted():
            fut = self._waiters.submit(cache.get_or_compute, key, lambda: self._call(fn, args))
            return await asyncio.wrap_future(fut)

    def _call(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        if not self._slots.acquire(timeout=self.wait_s):
            self.stats["refused"] += 1
            raise Overloaded(f"no worker free within {self.wait_s:g} s; try again shortly")
        try:
            result = fn(*args, ws=self.ws) if self.workers == 0 else self._in_worker(fn, args)
            self.stats["done"] += 1
            return result
        finally:
            self._slots.release()

    def _in_worker(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        self.start()
        w = self._idle.get()
        healthy = False
        try:
            w.wait_ready(START_TIMEOUT_S)
            w.conn.send((fn, args))
            if not w.conn.poll(self.time_limit_s):
                self.stats["timed_out"] += 1
                raise Overloaded(
                    f"stopped after the {self.time_limit_s:g} s limit for one request; "
                    "ask for less work (fewer chips, batches or draws)"
                )
            status, payload = w.conn.recv()
            healthy = True
        except (EOFError, OSError) as e:
            raise Overloaded("a worker stopped while answering (out of memory?); try again") from e
        finally:
            self._return(w, healthy)
        if status == "err":
            raise _rebuild(payload)
        return payload

    def _return(self, w: _Worker, healthy: bool) -> None:
        if healthy:
            self._idle.put(w)
            return
        w.stop()  # killed: past its time, or dead
        with self._lock:
            if self._closed:
                return
            self._all = [x for x in self._all if x is not w]
            fresh = _Worker(self._ctx(), self.ws.dirs, self.niceness, self.warm)
            self._all.append(fresh)
        self._idle.put(fresh)


def job_key(fn: Callable[..., Any], ws: Any, *args: Any) -> tuple[Any, ...]:
    """A cache key for ``fn(*args, ws=ws)``: the function, the workspace's folders and the
    arguments (request models by their JSON)."""
    parts = [a.model_dump_json() if hasattr(a, "model_dump_json") else a for a in args]
    return (f"{fn.__module__}.{fn.__qualname__}", tuple(ws.key), *parts)


# --- results cached by bytes -----------------------------------------------------------------
def approx_bytes(obj: Any) -> int:
    """Rough memory held by a cached result (frames counted deep, the rest by its JSON)."""
    import json

    if hasattr(obj, "memory_usage") and hasattr(obj, "columns"):
        return int(obj.memory_usage(deep=True).sum())
    if hasattr(obj, "__dataclass_fields__"):
        return sum(approx_bytes(getattr(obj, k)) for k in obj.__dataclass_fields__)
    if hasattr(obj, "nbytes"):
        return int(obj.nbytes)
    try:
        return len(json.dumps(obj, default=str))
    except (TypeError, ValueError):
        return 1024


class ByteCache:
    """Least-recently-used results whose total size stays under ``max_bytes``; concurrent
    requests for the same key compute it once."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._pending: dict[Hashable, Future[Any]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def peek(self, key: Hashable) -> Any:
        """The cached value (marked recently used), or None."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        return None

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
            fut = self._pending.get(key)
            owner = fut is None
            if fut is None:
                fut = self._pending[key] = Future()
        if not owner:
            return fut.result()
        try:
            value = compute()
        except BaseException as e:
            with self._lock:
                self._pending.pop(key, None)
            fut.set_exception(e)
            raise
        self.put(key, value)
        with self._lock:
            self._pending.pop(key, None)
        fut.set_result(value)
        return value

    def put(self, key: Hashable, value: Any, size: int | None = None) -> None:
        """Keep ``value`` (of ``size`` bytes, estimated when not given)."""
        size = approx_bytes(value) if size is None else size
        with self._lock:
            if key in self._items:
                self.bytes -= self._items.pop(key)[1]
            if size > self.max_bytes:
                return
            self._items[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes and self._items:
                _, (_, dropped) = self._items.popitem(last=False)
                self.bytes -= dropped
