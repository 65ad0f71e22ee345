"""Market charts: vendors as small multiples (one panel and y-axis each), cited figures
labelled with source and vintage on the chart itself."""

from __future__ import annotations

from chipwatch.web import charts


def _rows(scale: float) -> list[dict[str, float]]:
    return [{"year": y, "p10": scale * 0.5, "p50": scale, "p90": scale * 2} for y in (2025, 2026)]


def test_each_vendor_gets_its_own_panel_and_axis() -> None:
    series = [("Huawei", _rows(1e6)), ("AMD", _rows(1e4)), ("Hygon", _rows(1e5))]
    fig = charts.band_panels(series, "Units shipped to China, by vendor", "accelerators")
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:3] == ["Huawei", "AMD", "Hygon"] and "accelerators" in titles
    medians = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in medians] == ["Huawei", "AMD", "Hygon"]
    assert len({t.yaxis for t in medians}) == 3  # AMD is not flattened under Huawei's scale
    assert fig.layout.height > 420  # two rows of panels


def test_cited_markers_carry_a_visible_source_and_vintage_label() -> None:
    fig = charts.bands([("by units", _rows(0.5))], "Domestic vendors' share", "share", True)
    points = [
        (2027, 0.55, "Bernstein via CNN, reported by cnyes 2025-08-18"),
        (2027, 0.56, "Bernstein 2025-12"),
        (2025, 0.40, "IDC via Reuters 2026-04-01"),
    ]
    charts.cited_points(fig, points, "cited (units)")
    cited = fig.data[-1]
    assert cited.mode == "markers+text"
    assert list(cited.text) == [
        "Bernstein via CNN 2025-08-18 · Bernstein 2025-12",  # two markers on one another
        "",
        "IDC via Reuters 2026-04-01",
    ]
    assert list(cited.customdata)[1] == "Bernstein 2025-12"  # full citation on hover
