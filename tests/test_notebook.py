"""docs/tour.ipynb runs top to bottom in a fresh python3 kernel, charts included."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "tour.ipynb"


def test_tour_notebook_executes_with_charts(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any failure
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) >= 4
    for f in figures:
        assert f["data"]["application/vnd.plotly.v1+json"]["data"]  # traces, not an empty chart
    from chipwatch.web.static_images import can_export

    if can_export():  # a static SVG copy beside each interactive chart, for viewers without JS
        for f in figures:
            assert f["data"]["image/svg+xml"].lstrip().startswith("<svg")
    text = "".join(
        str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", "")) for o in outputs
    )
    assert "h20" in text and "3A090" in text
