"""Writing a result to a user's ``--out`` path without losing it.

The file is written beside its target under a temporary name and renamed over it, so a reader
never sees half a file and a failed write leaves any earlier file as it was. When the target
cannot be written (a read-only folder, a locked file, a full disk), the result goes to a file in
the temporary folder instead and the command says where.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def write_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """``write(tmp)`` to a temporary file in ``path``'s folder, then rename it to ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def rescue_path(path: str | Path) -> Path:
    """Where to keep a result whose ``--out`` failed: the temporary folder, a unique name."""
    p = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(tempfile.gettempdir()) / f"chipwatch-{p.stem}-{stamp}-{os.getpid()}{p.suffix}"


def reason(e: BaseException) -> str:
    """One line saying why a write failed."""
    if isinstance(e, OSError):
        return e.strerror or str(e)
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def save_or_rescue(
    path: str | Path, write: Callable[[Path], object]
) -> tuple[Path | None, str | None]:
    """Write to ``path`` (atomically); on failure to :func:`rescue_path`. Returns where the
    result is (None if nowhere) and why ``path`` failed (None if it did not)."""
    try:
        return write_atomically(path, write), None
    except Exception as e:  # noqa: BLE001 - any failure: keep the result elsewhere
        why = reason(e)
    spare = rescue_path(path)
    try:
        write(spare)
    except Exception:  # noqa: BLE001
        return None, why
    return spare, why
