"""HTML pages: thin views that call the library, build figures and render Jinja templates."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from chipwatch import __version__, market
from chipwatch.i18n import N_
from chipwatch.perf.requests import CompareRequest
from chipwatch.services import market as market_service
from chipwatch.services.catalog import SEGMENTS, chip_detail, chip_rows
from chipwatch.services.errors import ChoiceError
from chipwatch.services.perf import compare, crossover
from chipwatch.services.work import job_key
from chipwatch.web.columns import HEADLINE_COLUMNS
from chipwatch.workspace import Workspace

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
URL = re.compile(r"https?://[^\s<>\"')]+")


def linkify(text: object) -> Markup:
    """Escape text and turn the URLs in it into links (sources cite their documents)."""
    parts, last = [], 0
    s = str(text)
    for m in URL.finditer(s):
        url = m.group(0).rstrip(".,;")
        parts += [
            escape(s[last : m.start()]),
            Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>').format(url),
        ]
        last = m.start() + len(url)
    parts.append(escape(s[last:]))
    return Markup("").join(parts)


templates.env.filters["linkify"] = linkify
router = APIRouter(include_in_schema=False)

NAV = [
    ("/", N_("Overview")),
    ("/chips", N_("Chips")),
    ("/controls", N_("Control map")),
    ("/compare", N_("Compare")),
    ("/market", N_("Market")),
    ("/classify", N_("Classify")),
    ("/docs", N_("API")),
]
PAGE_TITLES = [
    N_("Chips"),
    N_("Control map"),
    N_("Classify a chip"),
    N_("Compare on LLM work"),
    N_("Market scenarios"),
    N_("API documentation"),
]

# The /chips table: (field, header); headers carry units and go through the message catalog.
CHIP_COLUMNS = [
    ("id", N_("id")),
    ("name", N_("name")),
    ("vendor", N_("vendor")),
    ("segment", N_("segment")),
    ("released", N_("released")),
    ("tpp", "TPP"),
    ("performance_density", N_("perf. density")),
    ("license", N_("license")),
    *HEADLINE_COLUMNS,
]


def plotly_js_path() -> Path:
    """plotly.min.js from the installed plotly package (served locally, never from a CDN)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def ws_of(request: Request) -> Workspace:
    """The app's workspace (built once by ``create_app``)."""
    ws: Workspace = request.app.state.ws
    return ws


def render(
    request: Request,
    template: str,
    title: str,
    active: str,
    status_code: int = 200,
    **ctx: Any,
) -> HTMLResponse:
    """A page in the reader's language (``?lang=`` is remembered in a cookie)."""
    from chipwatch.i18n import LANGUAGES, gettext
    from chipwatch.i18n.names import chip_name, vendor_name
    from chipwatch.web import localize

    lang, asked = localize.request_lang(request)
    ws = ws_of(request)
    labels = ws.memo("web.chip_labels", lang, lambda: localize.chip_labels(ws.catalog, lang))
    if "charts" in ctx:
        ctx["charts"] = [localize.chart_card(c, lang, labels) for c in ctx["charts"]]

    def _(message: str) -> str:
        return gettext(message, lang)

    switch = [
        (code, label, str(request.url.include_query_params(lang=code)))
        for code, label in LANGUAGES.items()
    ]
    response = templates.TemplateResponse(
        request,
        template,
        {
            "title": _(title),
            "nav": [(href, _(label)) for href, label in NAV],
            "active": active,
            "version": __version__,
            "lang": lang,
            "languages": switch,
            "_": _,
            "chip_label": lambda cid: labels.get(cid, cid),
            "chip_name": lambda cid, name, vendor: chip_name(cid, name, vendor, lang),
            "vendor_name": lambda v: vendor_name(v, lang),
            "policy_words": lambda p: localize.policy_words(p, lang),
            **ctx,
        },
        status_code=status_code,
    )
    if asked:
        response.set_cookie(localize.COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def market_runs_in_workers(request: Request, scenarios: list[str]) -> None:
    """Compute the dashboard's runs of these scenarios in the app's worker pool, into the
    workspace's memo the views read (unknown ids are left for the views to report)."""
    ws, pool = ws_of(request), request.app.state.pool
    draws = market_service.DEFAULT_DRAWS

    def in_worker(sid: str) -> Any:
        return lambda: pool.call(market_service.market_run, sid, draws, 0)

    known = market_service.scenario_ids(ws=ws)
    for sid in dict.fromkeys(s for s in scenarios if s in known):
        market_service.market_run(sid, draws, 0, ws=ws, compute=in_worker(sid))


def story_chips(cat: Any) -> list[str]:
    from chipwatch.web import views

    return views.story_chips(cat)


def _overview_charts(request: Request) -> Any:
    from chipwatch.web import views

    market_runs_in_workers(request, list(views.SHARE_SCENARIOS))  # the heavy part, off here
    return views.overview_charts(ws_of(request))


@router.get("/vendor/plotly.min.js")
def plotly_js(request: Request) -> Response:
    """plotly.js, gzip-compressed once and kept in memory (4.8 MB -> about 1.4 MB on the wire)."""
    headers = {"Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            _plotly_gzip(),
            media_type="application/javascript",
            headers={**headers, "Content-Encoding": "gzip"},
        )
    return FileResponse(plotly_js_path(), media_type="application/javascript", headers=headers)


@functools.lru_cache(maxsize=1)
def _plotly_gzip() -> bytes:
    import gzip

    return gzip.compress(plotly_js_path().read_bytes(), compresslevel=6, mtime=0)


@router.get("/favicon.ico")
def favicon() -> HTMLResponse:
    return HTMLResponse(b"", status_code=204)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> HTMLResponse:

    return render(
        request,
        "overview.html",
        "Overview",
        "/",
        charts=_overview_charts(request),
        story=story_chips(ws_of(request).catalog),
    )


@router.get("/chips", response_class=HTMLResponse)
def chips_page(request: Request, destination: str = "CN", date: str | None = None) -> HTMLResponse:
    from chipwatch.web import views

    cat = ws_of(request).catalog
    destination = (destination or "CN").strip().upper()[:3]
    error = None
    try:
        on = _parse_date(date)
        rows = views.chip_table_rows(ws_of(request), on, destination)
    except ValueError as e:  # a bad date or destination: the table without license status
        error = str(e).splitlines()[0]
        on = dt.date.today()
        rows = chip_rows(cat)
    return render(
        request,
        "chips.html",
        "Chips",
        "/chips",
        rows=rows,
        columns=CHIP_COLUMNS,
        vendors=sorted({r["vendor"] for r in rows}),
        segments=SEGMENTS,
        destination=destination,
        date=on.isoformat(),
        error=error,
        load_errors=[str(e) for e in cat.errors],
    )


@router.get("/chips/{chip_id}", response_class=HTMLResponse)
def chip_page(request: Request, chip_id: str, destination: str = "CN") -> HTMLResponse:
    from chipwatch.i18n.names import chip_local
    from chipwatch.web import views

    ws = ws_of(request)
    d = chip_detail(ws.catalog, chip_id)
    chip = ws.catalog.chip(chip_id)
    chart_list, periods = ws.memo(
        "web.chip_charts",
        (chip.id, destination.upper()[:3], dt.date.today()),
        lambda: views.chip_charts(chip, destination.upper()[:3], ws),
    )
    return render(
        request,
        "chip.html",
        d["name"],
        "/chips",
        d=d,
        local_name=chip_local(chip.id),
        charts=chart_list,
        periods=periods,
        destination=destination.upper(),
    )


FIRST_RULE = dt.date(2022, 10, 7)  # the first advanced-computing rule (87 FR 62186)


def _parse_date(text: str | None) -> Any:
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"date {text!r} is not a date: use YYYY-MM-DD") from None


@router.get("/controls", response_class=HTMLResponse)
def controls_page(
    request: Request, date: str | None = None, destination: str = "CN", chip: str | None = None
) -> HTMLResponse:
    from chipwatch.web import views

    destination = (destination or "CN").strip().upper()[:3]
    today = dt.date.today()
    ctx: dict[str, Any] = {
        "today": today.isoformat(),
        "slider_max": (today - FIRST_RULE).days,
        "slider_value": (today - FIRST_RULE).days,
        "date": date or "",
        "destination": destination,
        "rows": [],
        "charts": [],
        "hidden": [],
        "rule_sets": [],
        "error": None,
        "selected": ws_of(request).catalog.resolve(chip) if chip else None,
    }
    try:
        on = _parse_date(date)
        ctx.update(views.control_map_context(ws_of(request), on, destination))
        ctx["date"] = on.isoformat()
        ctx["slider_value"] = (on - FIRST_RULE).days
    except ValueError as e:
        ctx["error"] = str(e).splitlines()[0]
    return render(request, "controls.html", "Control map", "/controls", **ctx)


@router.get("/classify", response_class=HTMLResponse)
def classify_page(request: Request) -> HTMLResponse:
    from chipwatch.web import views

    return render(
        request,
        "classify.html",
        "Classify a chip",
        "/classify",
        **views.classify_context(ws_of(request), _form_dict(request)),
    )


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request) -> HTMLResponse:
    from pydantic import ValidationError

    from chipwatch.web import views

    ws = ws_of(request)
    cat = ws.catalog
    raw = _form_dict(request, multi=("chips",))
    if not raw:  # first visit: the seed article's comparison
        raw = {"chips": views.story_chips(cat), **views.STORY_WORKLOAD}
    raw.setdefault("chips", views.story_chips(cat))
    error, rows, chart_list = None, [], []
    try:
        form = CompareRequest.model_validate(raw)
    except ValidationError as e:
        error = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        form = CompareRequest.model_construct(**{**CompareRequest().model_dump(), **raw})
    state = request.app.state
    if error is None:
        try:  # in a worker process, cached by bytes like /api/perf/compare
            key = job_key(compare, ws, form)
            rows = state.pool.call_cached(state.results, key, compare, form)
            chart_list = views.compare_charts(rows)
        except (ValueError, KeyError) as e:
            error = str(e)
    cross = views.crossover_request(form, rows) if error is None else None
    if cross is not None:
        try:
            key = job_key(crossover, ws, cross)
            result = state.pool.call_cached(state.results, key, crossover, cross)
            chart_list.append(views.crossover_chart(result))
        except (ValueError, KeyError) as e:
            error = f"batch sweep: {e}"
    from urllib.parse import urlencode

    api_url = (
        ""
        if error
        else "/api/perf/compare?"
        + urlencode({k: v for k, v in form.model_dump().items() if v is not None}, doseq=True)
    )
    return render(
        request,
        "compare.html",
        "Compare on LLM work",
        "/compare",
        form=form,
        rows=rows,
        charts=chart_list,
        error=error,
        api_url=api_url,
        all_chips=cat.ids,
        models=views.model_ids(ws),
    )


@router.get("/market", response_class=HTMLResponse)
def market_page(
    request: Request, scenario: str = "baseline", compare: str | None = None, year: int = 2027
) -> HTMLResponse:
    from chipwatch.web import views

    ws = ws_of(request)
    scenarios = market.list_scenarios(ws=ws)
    ctx: dict[str, Any] = {
        "scenarios": scenarios,
        "scenario": scenario,
        "compare": compare or "",
        "charts": [],
        "error": None,
        "api_url": "",
        "draws": 0,
        "seed": 0,
    }
    try:
        market_runs_in_workers(request, [scenario, *([compare] if compare else [])])
        ctx.update(views.market_context(ws, scenario, compare or None, year))
        ctx["api_url"] = f"/api/market/run/{scenario}"
    except ChoiceError as e:
        ctx["error"] = e.message + (f" (try: {', '.join(e.suggestions)})" if e.suggestions else "")
    except ValueError as e:
        ctx["error"] = str(e).splitlines()[0]
    return render(request, "market.html", "Market scenarios", "/market", **ctx)


PAGE_PARAMS = {"lang"}  # query parameters of every page, not of its form


def _form_dict(request: Request, multi: tuple[str, ...] = ()) -> dict[str, Any]:
    """Query parameters as a dict; empty fields dropped; ``multi`` names keep every value."""
    q = request.query_params
    out: dict[str, Any] = {}
    for key in q:
        if key in PAGE_PARAMS:
            continue
        if key in multi:
            vals = [v for item in q.getlist(key) for v in item.split(",") if v.strip()]
            if vals:
                out[key] = vals
        elif q[key].strip() != "":
            out[key] = q[key].strip()
    return out


def error_page(request: Request, status: int, message: str, suggestions: list[str]) -> HTMLResponse:
    """An error as a dashboard page: the navigation, the message, and links to what the reader
    may have meant (close chip ids or pages)."""
    import difflib

    from chipwatch.i18n import gettext
    from chipwatch.web import localize

    lang, _asked = localize.request_lang(request)
    links: list[tuple[str, str]] = []
    for s in suggestions:
        href = s if str(s).startswith("/") else f"/chips/{s}"
        links.append((href, href.rsplit("/", 1)[-1].rsplit("=", 1)[-1] or href))
    path = request.url.path.rstrip("/") or "/"
    if status == 404 and not links:
        cat = ws_of(request).catalog
        tail = path.rsplit("/", 1)[-1].lower()
        for cid in difflib.get_close_matches(tail, cat.ids, n=3, cutoff=0.6):
            links.append((f"/chips/{cid}", cid))
        pages = {href: label for href, label in NAV}
        for href in difflib.get_close_matches(path, list(pages), n=2, cutoff=0.5):
            links.append((href, gettext(pages[href], lang)))
    return render(
        request,
        "error.html",
        f"{status}",
        "",
        status_code=status,
        heading=f"{status} · {gettext('Page not found', lang) if status == 404 else message}",
        message=message,
        suggestions=links,
    )


def warm_up(ws: Workspace) -> None:
    """Compute the default views once (overview, chips table, control map, compare, market,
    plotly.js compressed) so that first visits are answered from the workspace's caches. Runs in
    a background thread at start-up; a failure here only means a slower first visit."""
    import logging

    from chipwatch.web import views

    today = dt.date.today()
    steps: list[Callable[[], object]] = [
        _plotly_gzip,
        lambda: views.overview_charts(ws),
        lambda: views.chip_table_rows(ws, today, "CN"),
        lambda: views.control_map_context(ws, today, "CN"),
        lambda: views.market_context(ws, "baseline", None),
    ]
    for step in steps:
        try:
            step()
        except Exception:  # never let warming take the server down
            logging.getLogger("chipwatch.web").exception("warm-up step failed")
