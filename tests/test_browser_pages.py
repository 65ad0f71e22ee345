"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright.

Each page must load with no console errors and no failed requests, and each chart must render
with the number of points the server put in it. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from browser_helpers import (
    ARTIFACTS,
    CHROMIUM,
    PageProblems,
    assert_charts_drawn,
    open_page,
    submit,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium "
        "(apt-get install chromium); the README's test command installs it",
    ),
]


PAGES = [
    ("/", "overview", 4),
    ("/chips", "chips", 0),
    ("/chips/h20", "chip-h20", 1),
    ("/compare", "compare", 5),  # throughput, latency, memory, cost, decode vs batch
    ("/controls", "control-map", 1),
    ("/market", "market", 4),
    ("/classify", "classify-empty", 0),
    ("/chips/a800-sxm", "chip-a800", 2),
    ("/docs", "docs", 0),
]


@pytest.mark.parametrize(("path", "shot", "min_charts"), PAGES, ids=[p[1] for p in PAGES])
def test_page_loads_cleanly_with_its_charts(
    server: str, page: Any, path: str, shot: str, min_charts: int
) -> None:
    open_page(page, server + path, shot)
    assert_charts_drawn(page, min_charts)


def test_chips_table_sorts_and_filters(server: str, page: Any) -> None:
    open_page(page, server + "/chips", "chips-sorted")
    rows = page.locator("#chips-table tbody tr")
    total = rows.count()
    assert total >= 2
    page.click("#chips-table th[data-col='mem_bw_tbs']")
    page.click("#chips-table th[data-col='mem_bw_tbs']")  # second click: descending
    col = page.evaluate(
        "Array.from(document.querySelectorAll('#chips-table th')).findIndex("
        "th => th.dataset.col === 'mem_bw_tbs') + 1"
    )
    bw = page.eval_on_selector_all(
        f"#chips-table tbody tr td:nth-child({col})", "tds => tds.map(t => t.dataset.sort)"
    )
    numbers = [float(v) for v in bw if v is not None]
    assert numbers == sorted(numbers, reverse=True)
    page.fill("#chip-filter", "h20")
    visible = page.locator("#chips-table tbody tr:visible")
    assert visible.count() >= 1
    assert all("h20" in t.lower() for t in visible.all_inner_texts())


@pytest.mark.parametrize("path", ["/", "/controls", "/market"])
def test_pages_fit_a_phone(server: str, page: Any, path: str) -> None:
    name = "phone" + (path.replace("/", "-") if path != "/" else "-overview")
    open_page(page, server + path, name)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"{path} scrolls sideways on a phone: {width}px"


def test_compare_form_reruns_the_model(server: str, page: Any) -> None:
    open_page(page, server + "/compare", "compare-default")
    page.select_option("select[name=chips]", ["h20", "h100-sxm", "l20"])
    page.select_option("select[name=model]", "llama-3.1-70b")
    page.fill("input[name=num_chips]", "8")
    page.fill("input[name=max_tpot_ms]", "")
    submit(page, "#compare-form")
    open_page(page, page.url, "compare-llama70b")
    assert "model=llama-3.1-70b" in page.url
    rows = page.locator("#compare-table tbody tr")
    assert rows.count() == 3
    text = " ".join(rows.all_inner_texts())
    assert "h20" in text and "h100-sxm" in text and "l20" in text
    # each served chip has one throughput bar per phase, labelled with its binding resource
    served = page.locator("#compare-table tbody tr:not(:has(td.error))").count()
    drawn = page.evaluate("document.querySelectorAll('#cmp-throughput .barlayer .point').length")
    assert drawn == 2 * served
    labels = page.evaluate(
        "Array.from(document.querySelectorAll('#cmp-throughput .bartext')).map(t => t.textContent)"
    )
    assert labels and set(labels) <= {"compute", "memory", "interconnect", "capacity"}


def _status(page: Any, chip: str) -> str:
    return str(page.get_attribute(f"#map-table tr[data-chip='{chip}']", "data-license"))


def _trace_of(page: Any, chip: str) -> str:
    """The legend name of the control-map trace that draws this chip."""
    return str(
        page.evaluate(
            """chip => { const gd = document.getElementById('control-map');
           const t = gd.data.find(t => t.mode === 'markers' && (t.customdata || []).some(
               c => String(c).split(',').includes(chip)));
           return t ? t.name : null; }""",
            chip,
        )
    )


def test_control_map_date_flips_a800_across_october_2023_rule(server: str, page: Any) -> None:
    open_page(page, server + "/controls?date=2023-11-16&destination=CN", "control-map-2023-11-16")
    assert _status(page, "a800-sxm") == "no"
    assert _trace_of(page, "a800-sxm") == "no license required"
    shaded_before = page.evaluate(
        "document.getElementById('control-map').data.filter(t => t.fill === 'toself').length"
    )
    page.fill("#map-date", "2023-11-17")
    submit(page, "#map-form")
    open_page(page, page.url, "control-map-2023-11-17")
    assert "date=2023-11-17" in page.url
    assert _status(page, "a800-sxm") == "yes"
    assert _trace_of(page, "a800-sxm") == "license required"
    shaded_after = page.evaluate(
        "document.getElementById('control-map').data.filter(t => t.fill === 'toself').length"
    )
    assert shaded_after > shaded_before  # the 2023 rule adds the density paragraphs


def test_clicking_a_chip_on_the_map_shows_its_classification(server: str, page: Any) -> None:
    # 2025-01-15: both H20 variants released (the 141 GB one in 2024-11), before the April letter
    open_page(page, server + "/controls?date=2025-01-15&destination=CN", "control-map-click")
    # find the drawn point for h20 and click it like a user would
    box = page.evaluate("""() => {
        const gd = document.getElementById('control-map');
        const has = c => String(c).split(',').includes('h20');
        const ti = gd.data.findIndex(t => t.mode === 'markers' && (t.customdata || []).some(has));
        const pi = gd.data[ti].customdata.findIndex(has);
        const traces = gd.querySelectorAll('.scatterlayer .trace');
        const pt = traces[ti].querySelectorAll('.point')[pi].getBoundingClientRect();
        return {x: pt.x + pt.width / 2, y: pt.y + pt.height / 2};
    }""")
    page.mouse.move(box["x"], box["y"])
    page.mouse.click(box["x"], box["y"])
    # the H20 and its 141 GB variant share a point: the click lists the group; pick the H20
    page.wait_for_selector("#group-list a[data-chip='h20']").click()
    page.wait_for_selector("#classification h2[data-chip='h20']")
    assert "chip=h20" in page.url
    text = page.inner_text("#classification")
    assert "TPP 2,368" in text
    assert "License required" in text
    page.screenshot(path=str(ARTIFACTS / "control-map-classified.png"), full_page=True)
    assert page.problems.problems == []


def test_classify_form_answers_for_a_hypothetical_chip(server: str, page: Any) -> None:
    open_page(page, server + "/classify", "classify-form")
    page.fill("input[name=name]", "design-x")
    page.fill("input[name=tpp]", "4000")
    page.fill("input[name=die_area_mm2]", "600")
    page.fill("input[name=date]", "2024-06-01")
    page.fill("input[name=destination]", "CN")
    submit(page, "#classify-form")
    open_page(page, page.url, "classify-result")
    # TPP 4000 on 600 mm2: PD 6.67 >= 5.92 and TPP >= 1600 -> 3A090.a.2
    assert page.inner_text("#result-eccn").startswith("3A090.a.2")
    assert page.inner_text("#result-license") == "yes"
    assert "TPP 4,000" in page.inner_text("#result-tests")
    with page.expect_download() as dl:
        page.click("#memo-md")
    memo = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "design-x" in memo and "3A090.a.2" in memo and "legal advice" in memo
    assert_charts_drawn(page, 1)


def test_market_scenario_picker_and_comparison(server: str, page: Any) -> None:
    open_page(page, server + "/market", "market-baseline")
    page.select_option("#scenario", "h20-banned")
    page.select_option("#compare", "h20-allowed")
    submit(page, "#market-form")
    open_page(page, page.url, "market-h20-banned-vs-allowed")
    assert "scenario=h20-banned" in page.url
    found = {c["id"]: c for c in assert_charts_drawn(page, 5)}
    years = page.evaluate(
        "document.getElementById('mkt-compare').data.filter(t => t.mode === 'lines+markers')"
        ".map(t => t.x.length)"
    )
    assert len(years) == 2 and years[0] == years[1] >= 5  # one point per year per scenario
    assert found["mkt-compare"]["drawn"] == sum(years)


def test_market_page_shows_the_demand_identity_events_and_pp_differences(
    server: str, page: Any
) -> None:
    url = server + "/market?scenario=us-open-china-closed&compare=baseline&year=2027"
    open_page(page, url, "market-two-gates")
    assert_charts_drawn(page, 5)
    chart = "document.getElementById('mkt-identity')"
    names = page.evaluate(f"{chart}.data.map(t => t.name)")
    assert names[:5] == ["domestic", "licensed", "grey", "offshore", "deferred"]
    assert names[5] == "policy event"
    assert page.evaluate(f"{chart}.layout.shapes.length") >= 3  # policy events on the time axis
    assert "2027" in page.inner_text("#market-headlines h2")
    diffs = page.eval_on_selector_all(
        "#headline-table tbody tr td:nth-child(4)", "tds => tds.map(t => t.innerText)"
    )
    assert any(d.endswith(" pp") for d in diffs)
    assert page.locator("#events-table tbody tr").count() >= 5


def test_report_renders_offline_with_its_charts(browser: Any, tmp_path: Path) -> None:
    """The briefing opens from disk with every network request refused, charts drawn."""
    from chipwatch.report import chart_count, write_report

    out = write_report(tmp_path / "briefing.html", ["h20", "h100-sxm"])
    expected = chart_count(out.read_text(encoding="utf-8"))
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    page = context.new_page()
    problems = PageProblems(page)
    external: list[str] = []
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("file:")
            else (external.append(route.request.url), route.abort())
        ),
    )
    page.goto(out.as_uri(), wait_until="load")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('div.chart[data-figure]'))"
        ".every(el => el.dataset.rendered === '1')",
        timeout=30_000,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-offline.png"), full_page=True)
    assert external == []
    assert problems.problems == []
    assert page.locator("div.chart[data-rendered='1']").count() == expected >= 4
    assert_charts_drawn(page, expected)
    context.close()


def test_control_map_slider_moves_through_time(server: str, page: Any) -> None:
    open_page(page, server + "/controls?date=2023-06-01&destination=CN", "control-map-slider")
    assert _status(page, "a800-sxm") == "no"
    days = (dt.date(2024, 1, 2) - dt.date(2022, 10, 7)).days
    with page.expect_navigation(wait_until="load"):
        page.eval_on_selector(
            "#map-slider",
            """(el, v) => { el.value = v;
            el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change')); }""",
            days,
        )
    open_page(page, page.url, "control-map-slider-2024")
    assert "date=2024-01-02" in page.url
    assert _status(page, "a800-sxm") == "yes"


def test_control_map_shows_undetermined_not_green(server: str, page: Any) -> None:
    open_page(page, server + "/controls?date=2024-06-01&destination=CN", "control-map-undetermined")
    assert _status(page, "metax-c500") == "unknown"  # die area unpublished: never "no"
    cell = page.locator("tr[data-chip='metax-c500'] td.status-unknown")
    assert cell.inner_text() == "undetermined"
    assert _status(page, "h20") == "no"
