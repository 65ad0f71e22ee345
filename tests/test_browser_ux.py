"""What a reader sees, in headless Chromium at desktop (1440x900) and phone (390x844) widths: no
sideways scrolling, chart titles that do not overlap, the control map selecting the chip that is
drawn, downloads that hold the rows shown, and the Chinese interface.

Shares the session's server and browser (conftest.py) with test_browser_pages.py.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from browser_helpers import ARTIFACTS, CHROMIUM, open_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not at /usr/bin/chromium"),
]

PAGES = ["/", "/chips", "/chips/h20", "/controls", "/compare", "/market", "/classify", "/docs"]

OVERLAPS = """() => {
  // every chart's title and subplot titles: no two boxes may intersect
  const found = [];
  document.querySelectorAll('div.chart').forEach(el => {
    const boxes = Array.from(el.querySelectorAll('.gtitle, .annotation-text'))
      .filter(t => t.closest('.annotation') === null ||
                   !t.closest('.annotation').querySelector('path.annotation-arrow'))
      .map(t => ({text: t.textContent, r: t.getBoundingClientRect()}))
      .filter(b => b.r.width > 0);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].r, b = boxes[j].r;
        if (a.left < b.right - 1 && b.left < a.right - 1 &&
            a.top < b.bottom - 1 && b.top < a.bottom - 1)
          found.push([el.id, boxes[i].text, boxes[j].text]);
      }
  });
  return found;
}"""


@pytest.mark.parametrize("path", PAGES)
def test_desktop_page_fits_and_titles_do_not_overlap(server: str, page: Any, path: str) -> None:
    open_page(page, server + path, "desktop" + path.replace("/", "-"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    assert page.evaluate(OVERLAPS) == []


@pytest.mark.parametrize("path", PAGES)
def test_phone_page_fits_and_titles_do_not_overlap(server: str, page: Any, path: str) -> None:
    open_page(page, server + path, "phone" + path.replace("/", "-"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path} scrolls sideways on a phone: {width}px"
    assert page.evaluate(OVERLAPS) == []


def _shown_ids(page: Any) -> list[str]:
    return list(
        page.eval_on_selector_all(
            "#chips-table tbody tr:not([hidden]) td:first-child",
            "tds => tds.map(td => td.dataset.value)",
        )
    )


def _download(page: Any, selector: str) -> str:
    with page.expect_download() as dl:
        page.click(selector)
    return Path(dl.value.path()).read_text(encoding="utf-8")


def test_chips_downloads_hold_exactly_the_rows_shown(server: str, page: Any) -> None:
    open_page(page, server + "/chips?destination=CN&date=2025-06-01", "chips-download")
    page.fill("#chip-filter", "ascend")
    page.click("#chips-table th[data-col='tpp']")  # sorted by TPP, ascending
    shown = _shown_ids(page)
    assert len(shown) >= 5 and all(s.startswith("ascend") for s in shown)
    assert page.inner_text("#chip-count") == str(len(shown))  # the count follows the filter
    rows = list(csv.DictReader(io.StringIO(_download(page, "#download-csv"))))
    assert [r["id"] for r in rows] == shown
    assert {"tpp", "performance_density", "license", "mem_bw_tbs"} <= set(rows[0])
    tpps = [float(r["tpp"]) for r in rows if r["tpp"]]
    assert tpps == sorted(tpps)
    data = json.loads(_download(page, "#download-json"))
    assert [c["id"] for c in data["chips"]] == shown and data["count"] == len(shown)
    assert data["license_for"] == {"destination": "CN", "date": "2025-06-01"}
    page.select_option("#license-filter", "no")
    assert all(
        v == "no"
        for v in page.eval_on_selector_all(
            "#chips-table tbody tr:not([hidden])", "trs => trs.map(t => t.dataset.license)"
        )
    )


def test_chart_data_download_has_one_row_per_point(server: str, page: Any) -> None:
    open_page(page, server + "/chips/h20", "chart-csv")
    text = _download(page, ".chart-tools[data-chart='chip-roofline'] button[data-download='csv']")
    rows = list(csv.DictReader(io.StringIO(text)))
    traces = page.evaluate(
        "document.getElementById('chip-roofline').data.reduce((n, t) => n + (t.x || []).length, 0)"
    )
    assert len(rows) == traces > 0


def _point_of(page: Any, chip: str) -> dict[str, float]:
    """The screen position of the control-map point that draws ``chip``."""
    return dict(
        page.evaluate(
            """chip => {
        const gd = document.getElementById('control-map');
        const has = c => String(c).split(',').includes(chip);
        const ti = gd.data.findIndex(t => t.mode === 'markers' && (t.customdata || []).some(has));
        const pi = gd.data[ti].customdata.findIndex(has);
        const trace = gd.querySelectorAll('.scatterlayer .trace')[ti];
        const r = trace.querySelectorAll('.point')[pi].getBoundingClientRect();
        return {x: r.x + r.width / 2, y: r.y + r.height / 2};
    }""",
            chip,
        )
    )


def test_clicking_a_lone_chip_selects_it_and_keeps_it_in_the_url(server: str, page: Any) -> None:
    open_page(page, server + "/controls?date=2024-06-01&destination=CN", "map-select")
    box = _point_of(page, "mi308x")
    page.mouse.click(box["x"], box["y"])
    page.wait_for_selector("#classification h2[data-chip='mi308x']")
    assert "chip=mi308x" in page.url and "date=2024-06-01" in page.url
    page.reload(wait_until="load")  # the selection survives a reload (and a shared link)
    page.wait_for_selector("#classification h2[data-chip='mi308x']")
    listed = page.locator("#undetermined-list li").count()
    assert listed >= 1  # chips without a density, with what is missing
    assert "no applicable die area" in page.inner_text("#undetermined-list")


def test_chinese_page_renders_ascend_in_chinese(server: str, page: Any) -> None:
    open_page(page, server + "/?lang=zh-CN", "overview-zh")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    text = page.inner_text("body")
    assert "昇腾" in text and "管制图" in text
    drawn = page.evaluate(
        "Array.from(document.querySelectorAll('#ov-perf .xtick text')).map(t => t.textContent)"
    )
    assert any("昇腾" in t for t in drawn), drawn  # the chart's own labels
    page.click("#lang-switch a[hreflang='en']")
    page.wait_for_load_state("load")
    assert "Control map" in page.inner_text("nav")
    ARTIFACTS.mkdir(exist_ok=True)


def test_api_console_loads_from_this_server(server: str, page: Any) -> None:
    external: list[str] = []
    page.on(
        "request",
        lambda r: (
            not r.url.startswith(server)
            and not r.url.startswith("data:")
            and external.append(r.url)
        ),
    )
    page.goto(server + "/docs/try", wait_until="load")
    page.wait_for_selector("#swagger-ui .opblock", timeout=20_000)
    assert page.locator("#swagger-ui .opblock").count() >= 5
    assert external == []


def test_chips_table_fits_1440_with_numbers_right_aligned(server: str, page: Any) -> None:
    open_page(page, server + "/chips", "chips-1440")
    wrap = page.evaluate(
        "(() => { const w = document.querySelector('.table-wrap');"
        " return [w.scrollWidth, w.clientWidth]; })()"
    )
    assert wrap[0] <= wrap[1] + 1, f"the chips table scrolls sideways at 1440 px: {wrap}"
    aligns = page.eval_on_selector_all(
        "#chips-table td.num", "tds => [...new Set(tds.map(t => getComputedStyle(t).textAlign))]"
    )
    assert aligns == ["right"]
