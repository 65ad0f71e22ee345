"""The Chinese interface, Chinese chip names, the 404 page, compression, the API console, the
SQL store and the page caches, checked over HTTP (the browser tests check what is drawn)."""

from __future__ import annotations

import gzip
import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from chipwatch.api import create_app
from chipwatch.i18n import LOCALE_DIR, gettext, normalize
from chipwatch.i18n.names import DATA, chip_local, chip_name, vendor_name
from chipwatch.workspace import Workspace

SRC = Path(__file__).resolve().parent.parent / "src" / "chipwatch"
PAGES = ["/", "/chips", "/chips/h20", "/controls", "/compare", "/market", "/classify", "/docs"]


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(), headers={"accept": "text/html"})


def test_overview_in_chinese_names_the_ascend_chips(client: TestClient) -> None:
    page = client.get("/?lang=zh-CN")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert "昇腾 910B" in page.text and "昇腾 910C" in page.text
    assert "概览" in page.text  # the navigation is Chinese too


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_available_in_chinese(client: TestClient, path: str) -> None:
    page = client.get(path, params={"lang": "zh-CN"})
    assert page.status_code == 200
    nav = re.search(r"<nav>(.*?)</nav>", page.text, re.S)
    assert nav and "芯片" in nav.group(1) and "Overview" not in nav.group(1)
    assert "所有数字均注明来源" in page.text  # the footer


def test_the_language_is_remembered_and_switchable() -> None:
    c = TestClient(create_app())
    first = c.get("/chips?lang=zh-CN")
    assert first.cookies.get("lang") == "zh-CN"
    assert "芯片" in c.get("/controls").text  # no ?lang: the cookie
    assert 'hreflang="en"' in first.text and "lang=en" in first.text  # the header switch
    back = c.get("/controls?lang=en")
    assert "Control map" in back.text and c.get("/").text.count("概览") == 0


def test_the_chinese_catalog_translates_every_message() -> None:
    from babel.messages.pofile import read_po

    with (LOCALE_DIR / "messages.pot").open("rb") as f:
        template = read_po(f)
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        zh = read_po(f)
    missing = [m.id for m in template if m.id and not (zh.get(m.id) and zh.get(m.id).string)]
    assert missing == []
    assert gettext("Control map", "zh-CN") == "管制图"
    assert normalize("zh_CN") == normalize("zh") == "zh-CN" and normalize("fr") is None


def test_every_message_in_the_code_has_a_chinese_translation() -> None:
    """Extract the messages from the code now (as babel.cfg says): a new ``_()`` / ``N_()``
    string without a translation in the zh-CN catalog fails here, not silently in the page."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    from babel.messages.pofile import read_po

    root = SRC.parent.parent
    with (root / "babel.cfg").open(encoding="utf-8") as f:
        methods, options = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "N_": None, "translate": None}
    found = {
        m[2] if isinstance(m[2], str) else m[2][0]
        for m in extract_from_dir(str(root), methods, options, keywords=keywords)
    }
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        zh = read_po(f)
    untranslated = sorted(m for m in found if m and not (zh.get(m) and zh.get(m).string))
    assert untranslated == []


def test_market_page_text_is_listed_and_translated() -> None:
    """The market page's chart text (web/messages.py MARKET_TEXT) still appears on the English
    page, and the Chinese page shows its translation instead."""
    from fastapi.testclient import TestClient

    from chipwatch.api import create_app
    from chipwatch.i18n import gettext
    from chipwatch.web.messages import MARKET_TEXT

    client = TestClient(create_app())
    both = {"compare": "h20-banned"}
    english = html.unescape(client.get("/market", params=both).text).replace("\\u0027", "'")
    chinese = html.unescape(client.get("/market", params={**both, "lang": "zh-CN"}).text)
    for text in MARKET_TEXT:
        assert text in english, text
        assert gettext(text, "zh-CN") != text, text
    for text in (
        "China's AI-chip demand and how it is met",
        "Accelerator packages delivered per year.",
    ):
        assert gettext(text, "zh-CN") in chinese, text


def test_chart_messages_still_occur_in_the_chart_code() -> None:
    """Chart text is listed for extraction in web/messages.py; a title that changes in the chart
    code must change there too (else it would silently stay English)."""
    from chipwatch.web.messages import CHART_PATTERNS, CHART_TEXT

    code = (SRC / "web" / "charts.py").read_text(encoding="utf-8")
    code += (SRC / "web" / "views.py").read_text(encoding="utf-8")  # titles built in views
    for text in CHART_TEXT:
        assert f'"{text}"' in code, text
    for pattern in CHART_PATTERNS:
        head = pattern.split("{0}")[0]
        assert head in code, pattern


def test_chinese_names_are_sourced_and_name_catalog_chips(catalog) -> None:  # type: ignore[no-untyped-def]
    import yaml

    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    for cid, entry in raw["chips"].items():
        assert cid in catalog.ids, cid
        assert entry["source"] in raw["sources"], cid
    for vendor, entry in raw["vendors"].items():
        assert entry["source"] in raw["sources"], vendor
    assert chip_local("ascend-910b2").text == "华为昇腾 910B2"  # type: ignore[union-attr]
    assert vendor_name("Cambricon", "zh-CN") == "寒武纪"
    assert vendor_name("Moore Threads", "zh-CN") == "摩尔线程"
    assert chip_name("h20", "NVIDIA H20 (HGX, 96 GB)", "NVIDIA", "zh-CN").startswith("英伟达 H20")


def test_404_page_has_navigation_and_linked_suggestions(client: TestClient) -> None:
    page = client.get("/chips/h2O")
    assert page.status_code == 404
    assert '<a href="/chips/h20">' in page.text
    assert '<a href="/controls">' in page.text  # the navigation
    lost = client.get("/contorls")
    assert lost.status_code == 404 and 'id="suggestions"' in lost.text and "/controls" in lost.text
    api = TestClient(create_app()).get("/api/chips/h2O")  # the API still answers JSON
    assert api.status_code == 404 and api.json()["error"] == "not_found"


@pytest.mark.parametrize(
    "path",
    ["/", "/chips", "/static/app.js", "/vendor/plotly.min.js", "/static/style.css", "/api/chips"],
)
def test_html_and_js_are_gzipped(client: TestClient, path: str) -> None:
    r = client.get(path, headers={"accept-encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers.get("content-encoding") == "gzip", path


def test_a_cached_lookup_replays_the_same_json_compressed_or_not() -> None:
    """The lookup cache replays stored replies; gzip outside it must not leak into them."""
    app_client = TestClient(create_app())
    first = app_client.get("/api/chips/h20", headers={"accept-encoding": "gzip"})
    again = app_client.get("/api/chips/h20", headers={"accept-encoding": "gzip"})
    plain = app_client.get("/api/chips/h20", headers={"accept-encoding": "identity"})
    assert first.headers.get("content-encoding") == "gzip"
    assert again.headers.get("content-encoding") == "gzip"
    assert "content-encoding" not in plain.headers
    assert first.json() == again.json() == plain.json()


def test_plotly_js_is_sent_compressed_and_unchanged(client: TestClient) -> None:
    from chipwatch.web.pages import _plotly_gzip, plotly_js_path

    raw = plotly_js_path().read_bytes()
    assert gzip.decompress(_plotly_gzip()) == raw
    assert len(_plotly_gzip()) < len(raw) / 2


def test_api_console_is_served_locally(client: TestClient) -> None:
    page = client.get("/docs/try")
    assert page.status_code == 200
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page.text)
    assert "/docs/assets/swagger-ui-bundle.js" in scripts
    assert all(s.startswith("/") for s in scripts), scripts  # no CDN
    assert not re.search(r"<script(?![^>]*src=)[^>]*>\s*\S", page.text)  # no inline script
    js = client.get("/docs/assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and "SwaggerUIBundle" in js.text
    assert client.get("/docs/assets/../../etc/passwd").status_code == 404


def test_pages_have_no_inline_scripts_or_handlers(client: TestClient) -> None:
    for path in PAGES:
        html = client.get(path).text
        inline = re.findall(r"<script(?![^>]*src=)(?![^>]*application/json)[^>]*>", html)
        assert inline == [], path
        assert not re.search(r"\son(click|load|change|input|submit)=", html), path


def test_chips_page_offers_downloads_and_license_status(client: TestClient) -> None:
    page = client.get("/chips?destination=CN&date=2025-06-01")
    assert 'id="download-csv"' in page.text and 'id="download-json"' in page.text
    row = re.search(r'<tr data-vendor="NVIDIA"[^>]*data-license="(\w+)"[^>]*h20 ', page.text)
    assert row and row.group(1) == "required"  # the H20 needed a license from April 2025
    assert 'data-col="tpp"' in page.text and 'data-col="performance_density"' in page.text
    bad = client.get("/chips?date=yesterday")
    assert bad.status_code == 200 and "is not a date" in bad.text


def test_sql_accelerators_carry_tpp_density_and_precision(runner) -> None:  # type: ignore[no-untyped-def]
    from chipwatch.cli import app

    out = runner.invoke(
        app,
        [
            "sql",
            "SELECT id, tpp, tpp_precision, performance_density FROM accelerators WHERE id = 'h20'",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    import json

    (row,) = json.loads(out.stdout)
    assert row["tpp"] == pytest.approx(2368) and row["tpp_precision"] == "fp8"
    assert row["performance_density"] == pytest.approx(2368 / 814, rel=1e-3)


def test_page_views_are_cached_per_workspace_and_inputs() -> None:
    import datetime as dt

    from chipwatch.web import views

    ws, other = Workspace.from_dirs([]), Workspace.from_dirs([])
    on = dt.date(2024, 6, 1)
    a = views.control_map_context(ws, on, "CN")
    assert views.control_map_context(ws, on, "CN") is a  # warm: answered from the cache
    assert views.control_map_context(ws, on, "AE") is not a  # other inputs
    assert views.control_map_context(other, on, "CN") is not a  # other workspace


def test_control_map_groups_points_that_coincide() -> None:
    from chipwatch.web.charts import map_labels, overlap_groups

    rows = [
        {"chip": "h20", "tpp": 2368.0, "performance_density": 2.909},
        {"chip": "h20-141g", "tpp": 2368.0, "performance_density": 2.909},
        {"chip": "l20", "tpp": 1912.0, "performance_density": 3.1},
    ]
    groups = overlap_groups(rows)
    assert sorted(len(g) for g in groups) == [1, 2]
    labels = map_labels(groups, {"h20": "H20"})
    assert {a["text"] for a in labels} <= {"H20/h20-141g", "l20"}
    boxes = len(labels)
    assert boxes == 2  # room for both


def test_log_ticks_are_clean() -> None:
    from chipwatch.web.charts import log_ticks

    vals, text = log_ticks(300, 100_000)
    assert text == ["500", "1k", "2k", "5k", "10k", "20k", "50k", "100k"]
    assert vals[0] == 500
    vals, text = log_ticks(1, 1e6)
    assert text == ["1", "10", "100", "1k", "10k", "100k", "1M"]


def test_report_shows_progress_steps() -> None:
    from chipwatch.report import build_report
    from chipwatch.web.views import REPORT_STEPS

    steps: list[str] = []
    html = build_report(["h20", "ascend-910b"], progress=steps.append)
    assert len(steps) == REPORT_STEPS and steps[-1] == "writing the HTML"
    assert "<html" in html


def test_memo_in_chinese() -> None:
    api = TestClient(create_app())
    r = api.get(
        "/api/classify/memo",
        params={"chip": "ascend-910b", "date": "2025-05-01", "destination": "CN", "lang": "zh-CN"},
    )
    assert r.status_code == 200
    assert r.text.startswith("# 出口管制判定：华为昇腾 910B")
    assert "不构成法律意见" in r.text
    h20 = api.get(
        "/api/classify/memo",
        params={"chip": "h20", "date": "2025-05-01", "destination": "CN", "lang": "zh-CN"},
    )
    assert "推定拒绝" in h20.text  # the April 2025 letter: presumption of denial, in words
    english = api.get("/api/classify/memo", params={"chip": "ascend-910b", "date": "2025-05-01"})
    assert english.text.startswith("# Export-control determination")


def test_chinese_names_in_the_json_of_the_api_and_the_cli(runner) -> None:  # type: ignore[no-untyped-def]
    import json

    from chipwatch.cli import app

    api = TestClient(create_app()).get("/api/chips/ascend-910b").json()
    cli = json.loads(runner.invoke(app, ["chips", "show", "ascend-910b", "--json"]).stdout)
    assert api["local_names"] == cli["local_names"]
    zh = api["local_names"]["zh-CN"]
    assert zh["name"].startswith("华为昇腾 910B") and zh["vendor"] == "华为"
    assert "gitee" in zh["name_source"] and "huawei.com" in zh["vendor_source"]
    assert (
        TestClient(create_app()).get("/api/chips/h20").json()["local_names"]["zh-CN"]["vendor"]
        == "英伟达"
    )
