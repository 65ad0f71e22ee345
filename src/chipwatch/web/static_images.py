"""Static copies of charts (SVG) for places where Plotly's JavaScript does not run, such as a
code host's notebook viewer.

Plotly renders static images through Kaleido, which drives a headless Chromium; both must be
present (``pip install kaleido``; Chromium from the system, e.g. ``/usr/bin/chromium``). Where
they are not, notebooks keep only the interactive chart and say so.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")


@functools.lru_cache(maxsize=1)
def can_export() -> bool:
    """Whether Plotly can write a static image here (Kaleido importable, a browser found)."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return False
    if CHROMIUM.exists():
        os.environ.setdefault("BROWSER_PATH", str(CHROMIUM))
    try:
        import plotly.graph_objects as go

        go.Figure(go.Scatter(x=[0, 1], y=[0, 1])).to_image(format="svg")
    except Exception:  # no browser, or it cannot start: no static copies
        return False
    return True


def notebook_renderer() -> str:
    """Plotly's renderer for the notebooks: the interactive figure as JSON (no CDN), plus an SVG
    copy of it in the same output when static export works here."""
    return "plotly_mimetype+svg" if can_export() else "plotly_mimetype"
