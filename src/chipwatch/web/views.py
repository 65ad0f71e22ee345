"""Assemble each page's charts from library results (shared by the dashboard and the report)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from chipwatch import controls, market, perf
from chipwatch.i18n import N_
from chipwatch.perf.inference import flat_row
from chipwatch.services import controls as controls_service
from chipwatch.services.market import DEFAULT_DRAWS, known_scenario, market_run, scenario_ids
from chipwatch.web import charts
from chipwatch.workspace import Workspace

if TYPE_CHECKING:
    from chipwatch.catalog import Catalog
    from chipwatch.catalog.schema import Accelerator

STORY_CHIPS = ("h20", "ascend-910b", "ascend-910c", "h100-sxm")
T = TypeVar("T")


def page_cache(name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Cache a view's result in the workspace (so keyed on it), per inputs and per day (views
    that default to today change at midnight). Views take the workspace first."""

    def deco(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def cached(ws: Workspace, *args: Any, **kwargs: Any) -> T:
            key = json.dumps([dt.date.today(), args, kwargs], sort_keys=True, default=str)
            return ws.memo(f"web.{name}", key, lambda: fn(ws, *args, **kwargs), limit=128)

        return cached

    return deco


def chart(chart_id: str, fig_or_missing: Any, question: str = "", explain: str = "") -> dict:
    """What the chart macro needs: the figure JSON and its point count, or why it is missing."""
    if isinstance(fig_or_missing, dict) and "unavailable" in fig_or_missing:
        return {
            "id": chart_id,
            "question": question,
            "explain": explain,
            "unavailable": fig_or_missing["unavailable"],
        }
    return {
        "id": chart_id,
        "question": question,
        "explain": explain,
        "figure": charts.figure_json(fig_or_missing),
        "points": charts.points_in(fig_or_missing),
    }


STORY_WORKLOAD: dict[str, Any] = {
    "model": "deepseek-v3",
    "num_chips": 16,
    "precision": "fp8",
    "max_tpot_ms": 50.0,
}
STORY_WORKLOAD_TEXT = (
    "DeepSeek-V3 on 16 chips, FP8 (INT8 where a chip lacks FP8), at most 50 ms/token"
)


def _story_perf(ws: Workspace, story: Sequence[str]) -> Any:
    """The article's chips serving DeepSeek-V3 (the performance model), relative to the H20."""
    cat = ws.catalog

    def compute() -> list[dict[str, Any]]:
        rows = []
        for cid in story:
            try:
                rows.append(flat_row(perf.infer(cat.chip(cid), ws=ws, **STORY_WORKLOAD)))
            except perf.PerfInputError as e:
                rows.append({"chip": cid, "error": str(e)})
        return rows

    rows = ws.memo("web.story_perf", tuple(story), compute, limit=1000)
    base = "h20" if any(r["chip"] == "h20" and not r.get("error") for r in rows) else None
    if base is None:
        return charts.not_available("the H20 could not be modelled for this workload")
    return charts.relative_to(rows, base)


def _story_controls(ws: Workspace, story: Sequence[str]) -> Any:
    """Today's control map for China, with the article's chips named."""
    import datetime as dt

    on = dt.date.today()
    rows = controls_service.control_map(on, "CN", ws=ws)
    regions = controls.thresholds_in_force(on, ws=ws)
    return charts.control_map(rows, regions, on, "CN")


@page_cache("overview")
def overview_charts(
    ws: Workspace, highlight: Sequence[str] = (), scenario: str | None = None
) -> list[dict[str, Any]]:
    """The article's four questions, each answered by one chart (or why it cannot be yet)."""
    cat = ws.catalog
    story = list(highlight) or story_chips(cat)
    return [
        chart(
            "ov-controls",
            _story_controls(ws, story),
            N_("Which chips are controlled, and why?"),
            N_(
                "US rules test total processing performance (TPP) and its density per mm² of "
                "die; the H20 sits just under the 3A090 lines, yet needed a license from April "
                "2025 through a chip-specific action. Colour: license needed for China today."
            ),
        ),
        chart(
            "ov-compute-bw",
            charts.compute_vs_bandwidth(cat, highlight=story),
            N_("H20 vs Ascend: compute or memory bandwidth?"),
            N_(
                "Each point is a chip's datasheet dense BF16 peak against its memory bandwidth: "
                "the H20 gives up compute but keeps HBM bandwidth, which decode speed depends on."
            ),
        ),
        chart(
            "ov-perf",
            _story_perf(ws, story),
            N_("And on real LLM work?"),
            N_(
                "DeepSeek-V3 on 16 chips, FP8 (INT8 where a chip lacks FP8), at most 50 ms/token, "
                "relative to the H20; labels name the binding resource. Prefill leans on compute "
                "and decode on memory bandwidth, so rankings can differ."
            ),
        ),
        chart(
            "ov-market",
            _story_market(ws, scenario),
            N_("Where does China's AI-chip market go?"),
            "Domestic vendors' share of China's AI-chip market by revenue under three policy "
            "scenarios (median, P10–P90 band); diamonds are published forecasts (Bernstein).",
        ),
    ]


def chip_charts(
    chip: Accelerator, destination: str, ws: Workspace
) -> tuple[list[dict[str, Any]], list[Any]]:
    """A chip page's charts: its roofline and its control timeline (the workspace's rules)."""
    out = [
        chart(
            "chip-roofline",
            charts.roofline(chip),
            N_("Roofline"),
            N_(
                "Attainable throughput is the lower of the compute peak and memory bandwidth "
                "times arithmetic intensity; the dot marks the ridge point."
            ),
        )
    ]
    periods = controls.timeline(chip, destination, ws=ws)
    out.append(
        chart(
            "chip-timeline",
            charts.control_timeline(periods, chip.id),
            f"Control timeline (destination {destination})",
            N_("Each bar is a period with the same determination; hover for why."),
        )
    )
    return out, periods


REPORT_STEPS = 6  # calls of ``progress`` in a report: five sections, then the HTML


def report_sections(
    ws: Workspace,
    chip_ids: list[str],
    scenario: str | None,
    progress: Callable[[str], None] | None = None,
) -> list[dict]:
    """The briefing's sections: the overview's questions, then the chosen chips and scenario.
    ``progress(step)`` is called as each section starts (for a progress bar)."""
    from chipwatch.perf.requests import CompareRequest
    from chipwatch.services.perf import compare

    step = progress or (lambda _name: None)
    step("overview charts")

    cat = ws.catalog
    chosen = [cat.chip(c) for c in chip_ids]
    ids = [c.id for c in chosen]
    sections: list[dict[str, Any]] = [
        {
            "title": "The story in four charts",
            "text": "",
            "charts": overview_charts(ws, highlight=ids, scenario=scenario),
        },
    ]
    today = dt.date.today()
    step("export-control status")
    rows = {r["chip"]: r for r in controls_service.control_map(today, "CN", ws=ws)}
    sections.append(
        {
            "title": f"Export-control status for China on {today}",
            "text": "TPP and performance density as the rules define them; the paragraph "
            "met and whether a license is needed (thresholds or chip-specific actions).",
            "charts": [],
            "table": {
                "columns": ["chip", "TPP", "PD", "ECCN", "license", "policy", "actions"],
                "rows": [
                    {
                        "cells": [
                            i,
                            rows[i]["tpp"],
                            rows[i]["performance_density"],
                            rows[i]["eccn"] or "none",
                            {True: "required", False: "no", None: "undetermined"}[
                                rows[i]["license_required"]
                            ],
                            rows[i]["licensing_policy"],
                            ", ".join(rows[i]["actions"]) or "none",
                        ]
                    }
                    for i in ids
                    if i in rows
                ],
            },
        }
    )
    step("LLM serving model")
    rows_perf = compare(CompareRequest(chips=ids, **STORY_WORKLOAD), ws=ws)
    sections.append(
        {
            "title": f"LLM serving: {STORY_WORKLOAD_TEXT}",
            "text": "From the performance model; every assumption is in "
            "chipwatch perf infer --json.",
            "charts": compare_charts(rows_perf),
        }
    )
    step("rooflines")
    sections.append(
        {
            "title": "Compute and memory roofs of the chosen chips",
            "text": "Below its ridge point a chip is limited by memory bandwidth, above it by "
            "compute. LLM decode sits far left (a few FLOP per byte); prefill and training "
            "far right.",
            "charts": [chart("rep-rooflines", charts.rooflines(chosen))],
        }
    )
    step("market scenario")
    sid = known_scenario(scenario or "baseline", ws=ws)
    m = market_context(ws, sid, None)
    sections.append(
        {
            "title": f"Market scenario: {sid}",
            "text": m["description"] + f" ({m['draws']} draws, seed {m['seed']}.)",
            "charts": m["charts"],
        }
    )
    return sections


def story_chips(cat: Catalog) -> list[str]:
    """The chips the seed article names, as catalog ids (those present in this catalog)."""
    out = []
    for c in STORY_CHIPS:
        key = cat.resolve(c)
        if key and key not in out:
            out.append(key)
    return out


def model_ids(ws: Workspace) -> list[str]:
    return list(ws.models.ids)


def crossover_chart(result: Any) -> dict[str, Any]:
    return chart(
        "cmp-crossover",
        charts.crossover(result),
        "",
        result.summary + " Small batches read every weight for few tokens (bandwidth); large "
        "batches reuse each weight read (compute).",
    )


def crossover_request(req: Any, rows: list[dict[str, Any]]) -> Any:
    """Where the served chips of a compare trade places as the batch grows (pure decode): the
    ``CrossoverRequest`` for the compare form ``req``, or None with fewer than two served."""
    from chipwatch.perf.requests import CrossoverRequest

    served = [r["chip"] for r in rows if not r.get("error")]
    if len(served) < 2:
        return None
    return CrossoverRequest(
        chips=served[:8],
        model=req.model,
        num_chips=req.num_chips,
        precision=req.precision,
        input_len=req.input_len,
        output_len=req.output_len,
        calibration=req.calibration,
    )


@page_cache("compare")
def compare_context(ws: Workspace, form: dict[str, Any]) -> dict[str, Any]:
    """The compare page's results for a validated form (``CompareRequest`` as a dict): rows,
    charts (with the batch crossover when two or more chips are served) or the error."""
    from chipwatch.perf.requests import CompareRequest
    from chipwatch.services.perf import compare, crossover

    req = CompareRequest.model_validate(form)
    rows: list[dict[str, Any]] = []
    chart_list: list[dict[str, Any]] = []
    try:
        rows = compare(req, ws=ws)
        chart_list = compare_charts(rows)
    except (ValueError, KeyError) as e:
        return {"rows": [], "charts": [], "error": str(e)}
    cross = crossover_request(req, rows)
    if cross is not None:
        try:
            chart_list.append(crossover_chart(crossover(cross, ws=ws)))
        except (ValueError, KeyError) as e:
            return {"rows": rows, "charts": chart_list, "error": f"batch sweep: {e}"}
    return {"rows": rows, "charts": chart_list, "error": None}


def compare_charts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not [r for r in rows if not r.get("error")]:
        return []
    return [
        chart(
            "cmp-throughput",
            charts.throughput(rows),
            "",
            N_(
                "Prefill processes whole prompts at once and is usually compute-bound; decode "
                "reads all weights and KV cache for each token and is usually bandwidth-bound."
            ),
        ),
        chart(
            "cmp-latency",
            charts.latency(rows),
            "",
            N_(
                "TTFT: one prompt's prefill plus half a decode step; TPOT includes interleaved "
                "prefills (continuous batching)."
            ),
        ),
        chart(
            "cmp-memory",
            charts.memory(rows),
            "",
            N_("Weights, KV cache and working memory per chip, against HBM capacity."),
        ),
        chart(
            "cmp-cost",
            charts.cost(rows),
            "",
            N_("Chip price amortised over its life plus power, at the stated utilisation."),
        ),
    ]


@page_cache("chip_table")
def chip_table_rows(ws: Workspace, on: Any, destination: str) -> list[dict[str, Any]]:
    """The /chips rows: every chip's headline numbers with its TPP, performance density and
    license status for ``destination`` on ``on`` (undetermined where it cannot be decided)."""
    from chipwatch.services.catalog import chip_rows

    status = {r["chip"]: r for r in controls_service.control_map(on, destination, ws=ws)}
    out = []
    for row in chip_rows(ws.catalog):
        st = status.get(row["id"], {})
        needed = st.get("license_required")
        out.append(
            {
                **row,
                "tpp": st.get("tpp"),
                "performance_density": st.get("performance_density"),
                "eccn": st.get("eccn"),
                "license": "undetermined" if needed is None else ("required" if needed else "no"),
                "licensing_policy": st.get("licensing_policy"),
            }
        )
    return out


def _proposed_flips(
    ws: Workspace, on: Any, destination: str, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Chips whose license answer flips under proposed rule sets in user folders
    (DIR/rules/proposed): drawn as an overlay, never applied."""
    if not ws.rulebook.proposed:
        return []
    from chipwatch.controls.changes import propose

    by_id = {r["chip"]: r for r in rows}
    d = propose(ws.catalog.chips(), list(ws.rulebook.proposed), ws.rulebook, on, destination)
    return [
        {**by_id[c.chip], "after": c.after}
        for c in d.changes
        if c.chip in by_id and c.license_before != c.license_after
    ]


@page_cache("control_map")
def control_map_context(
    ws: Workspace, on: Any, destination: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Rows, regions and the chart of the control map for a date and destination."""
    rows = controls_service.control_map(on, destination, ws=ws)
    regions = controls.thresholds_in_force(on, ws=ws)
    rule_sets = controls_service.rule_sets_in_force(on, destination, ws=ws)
    proposed = _proposed_flips(ws, on, destination, rows)
    fig = charts.control_map(rows, regions, on, destination, extra, proposed=proposed)
    hidden = [
        {"chip": r["chip"], "missing": _missing_input(r)}
        for r in rows
        if r.get("tpp") is None or r.get("performance_density") is None
    ]
    return {
        "rows": rows,
        "rule_sets": rule_sets,
        "hidden": hidden,
        "charts": [
            chart(
                "control-map",
                fig,
                "",
                N_(
                    "Shaded: the paragraphs in force (red 3A090.a, orange 3A090.b). "
                    "A chip can need a license outside them through a chip-specific "
                    "action, or be inside one yet excluded (Note 2)."
                ),
            )
        ],
    }


def _missing_input(row: dict[str, Any]) -> str:
    """Why a chip cannot be placed on the map: the input the rules need that it lacks."""
    if row.get("error"):
        return N_("cannot classify")
    if row.get("tpp") is None:
        return N_("no dense throughput, so no TPP")
    return N_("no applicable die area, so no performance density")


CLASSIFY_FIELDS = ("name", "tpp", "die_area_mm2", "io_bidir_gbs", "dram_bw_gbs")


def classify_context(ws: Workspace, raw: dict[str, Any]) -> dict[str, Any]:
    """The classify form's values, and the result (or the error) when it was submitted."""
    import datetime as dt
    from urllib.parse import urlencode

    from chipwatch.controls.requests import ClassifyRequest

    defaults = ClassifyRequest.model_fields  # the form's defaults are the request model's
    form: dict[str, Any] = {
        "name": raw.get("name", defaults["name"].default),
        "tpp": raw.get("tpp"),
        "dense_value": raw.get("dense_value"),
        "dense_precision": raw.get("dense_precision", "fp8"),
        "die_area_mm2": raw.get("die_area_mm2"),
        "io_bidir_gbs": raw.get("io_bidir_gbs"),
        "dram_bw_gbs": raw.get("dram_bw_gbs"),
        "datacenter": raw.get("datacenter") == "true"
        if "submitted" in raw
        else defaults["datacenter"].default,
        "date": raw.get("date", dt.date.today().isoformat()),
        "destination": str(raw.get("destination", defaults["destination"].default)).upper()[:3],
    }
    ctx: dict[str, Any] = {"form": form, "result": None, "error": None, "charts": []}
    if "submitted" not in raw:
        return ctx
    spec: dict[str, Any] = {"name": form["name"], "datacenter": form["datacenter"]}
    try:
        for k in ("tpp", "die_area_mm2", "io_bidir_gbs", "dram_bw_gbs"):
            if form[k] not in (None, ""):
                spec[k] = _number(k, form[k])
        if form["dense_value"] not in (None, "") and "tpp" not in spec:
            spec["dense_tops"] = {
                form["dense_precision"]: _number("dense value", form["dense_value"])
            }
        on = dt.date.fromisoformat(form["date"]) if form["date"] else dt.date.today()
        result = controls.classify(
            controls_service.subject(None, spec, ws=ws), on, form["destination"], ws=ws
        )
    except ValueError as e:
        ctx["error"] = str(e).splitlines()[0]
        return ctx
    # the same chip for the API links: TPP as computed (from dense throughput x bits if given)
    query = {
        "date": on.isoformat(),
        "destination": form["destination"],
        **{k: v for k, v in spec.items() if k not in ("dense_tops", "tpp")},
        "tpp": result.tpp,
    }
    qs = urlencode({k: str(v).lower() if isinstance(v, bool) else v for k, v in query.items()})
    ctx.update(result=result, api_url=f"/api/classify?{qs}", memo_url=f"/api/classify/memo?{qs}")
    extra = {
        "chip": result.chip,
        "tpp": result.tpp,
        "performance_density": result.performance_density,
    }
    ctx["charts"] = control_map_context(ws, on, form["destination"], extra)["charts"]
    return ctx


def _number(name: str, text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {text!r} is not a number") from None


def _series(
    result: Any, metric: str, level: str | None = None, groups: Sequence[str] | None = None
) -> list[tuple[str, list[dict[str, Any]]]]:
    df = result.summary
    df = df[df.metric == metric]
    if level is not None:
        df = df[df.level == level]
    names = list(groups) if groups else list(dict.fromkeys(df.group))
    return [
        (g, df[df.group == g][["year", "p10", "p50", "p90"]].to_dict(orient="records"))
        for g in names
        if (df.group == g).any()
    ]


def cited(metric: str, scenario_id: str) -> list[tuple[int, float, str]]:
    """Published figures for a metric that the market check compares with this scenario."""
    out = []
    for e in market.load_estimates().values():
        if (
            e.check
            and e.value is not None
            and e.check.metric == metric
            and e.check.group == "total"
            and (e.check.scenario in (None, scenario_id))
        ):
            out.append((int(e.check.year), float(e.value), e.short_cite))
    return out


SHARE_SCENARIOS = ("baseline", "h20-banned", "h20-allowed")


def _story_market(ws: Workspace, scenario: str | None) -> Any:
    """Domestic share by revenue under the main scenarios, against the cited forecasts."""
    ids = scenario_ids(ws=ws)
    wanted = [s for s in ([scenario] if scenario else []) + list(SHARE_SCENARIOS) if s in ids]
    series = []
    for sid in dict.fromkeys(wanted):
        rows = _series(market_run(sid, ws=ws), "domestic_share_revenue")
        if rows:
            series.append((sid, rows[0][1]))
    fig = charts.bands(
        series, "Domestic vendors' share of China's AI-chip market (revenue)", "share", percent=True
    )
    charts.cited_points(fig, cited("domestic_share_revenue", "baseline"), "cited forecasts")
    return fig


HEADLINES = [
    ("demand", "demand_usd", "total", "usd"),
    ("domestic share of sales", "domestic_share", "total", "share"),
    ("domestic share of demand", "domestic_share_of_demand", "total", "share"),
    ("met by licensed imports", "share_of_demand", "licensed", "share"),
    ("met by grey imports", "share_of_demand", "grey", "share"),
    ("met by offshore rental", "share_of_demand", "offshore", "share"),
    ("deferred", "share_of_demand", "deferred", "share"),
    ("effective compute stock (H100e)", "effective_stock_h100e", "total", "count"),
]


def _fmt_value(v: float, kind: str) -> str:
    if v != v:  # nan
        return "-"
    if kind == "share":
        return f"{100 * v:.0f}%"
    if kind == "usd":
        return f"US${v / 1e9:,.1f}B"
    return f"{v / 1e6:,.2f}M" if abs(v) >= 1e6 else f"{v:,.0f}"


def _fmt_diff(v: float, kind: str) -> str:
    """A difference between scenarios: shares in percentage points, labelled "pp"."""
    if v != v:
        return "-"
    if kind == "share":
        return f"{100 * v:+.1f} pp"
    if kind == "usd":
        return f"{v / 1e9:+,.1f}B"
    return f"{v / 1e6:+,.2f}M" if abs(v) >= 1e6 else f"{v:+,.0f}"


def market_headlines(r: Any, year: int, other: Any | None = None) -> list[dict[str, str]]:
    """Headline numbers of a run for one year (P50, P10-P90), and the paired difference to
    another run (same seed) where given."""
    import numpy as np

    j = r.years.index(year)
    rows = []
    for label, metric, group, kind in HEADLINES:
        key = next((k for k in r.samples if k[0] == metric and k[2] == group), None)
        if key is None:
            continue
        x = r.samples[key][:, j]
        p10, p50, p90 = (float(v) for v in np.nanpercentile(x, [10, 50, 90]))
        row = {
            "label": label,
            "value": _fmt_value(p50, kind),
            "range": f"{_fmt_value(p10, kind)}-{_fmt_value(p90, kind)}",
            "diff": "",
        }
        if other is not None and key in other.samples and year in other.years:
            d = x - other.samples[key][:, other.years.index(year)]
            row["diff"] = _fmt_diff(float(np.nanpercentile(d, 50)), kind)
        rows.append(row)
    return rows


@page_cache("market")
def market_context(
    ws: Workspace, scenario: str, compare: str | None, year: int | None = None
) -> dict[str, Any]:
    r = market_run(known_scenario(scenario, ws=ws), ws=ws)
    year = year if year in r.years else (2027 if 2027 in r.years else r.years[-1])
    other = (
        market_run(known_scenario(compare, ws=ws), ws=ws)
        if compare and compare != scenario
        else None
    )
    bn = 1e-9
    events = [(e["date"], e["label"]) for e in r.events if not e["label"].startswith("US gate")]
    events += [
        (e["date"], e["label"])
        for e in r.events
        if e["label"].startswith("US gate") and e["date"] >= "2025"
    ]
    out = [
        chart(
            "mkt-identity",
            charts.demand_identity(
                [
                    {str(k): v for k, v in row.items()}
                    for row in r.identity_table().to_dict("records")
                ],
                sorted(events),
                "China's AI-chip demand and how it is met",
            ),
            "",
            "Each year's demand (new plus deferred demand carried over) is met by domestic chips, "
            "licensed imports, grey-market imports or offshore rental; the rest is deferred. "
            "Bars are P50s of each part; dotted lines mark policy events (US and PRC gates).",
        ),
        chart(
            "mkt-units",
            charts.band_panels(
                _series(r, "units", "vendor"), "Units shipped to China, by vendor", "accelerators"
            ),
            "",
            "Accelerator packages delivered per year.",
        ),
        chart(
            "mkt-revenue",
            charts.band_panels(
                _series(r, "revenue_usd", "vendor"), "Revenue by vendor", "US$ billion", scale=bn
            ),
            "",
            "Units times each product's price draw.",
        ),
        chart(
            "mkt-share",
            _share_chart(r, scenario),
            "",
            "By units and by revenue (they differ: domestic chips are cheaper). Diamonds: "
            "published estimates the market check compares with.",
        ),
        chart(
            "mkt-stock",
            charts.bands(
                _series(r, "stock_h100e", "vendor_country"),
                "Installed compute stock by vendor country",
                "H100-equivalents",
            ),
            "",
            "Installed units after retirement, in H100-equivalents of dense compute.",
        ),
    ]
    if other is not None:
        series = [
            (scenario, _series(r, "domestic_share_of_demand")[0][1]),
            (str(compare), _series(other, "domestic_share_of_demand")[0][1]),
        ]
        out.append(
            chart(
                "mkt-compare",
                charts.bands(
                    series,
                    f"Domestic share of demand: {scenario} vs {compare}",
                    "share",
                    percent=True,
                ),
                "",
                "The same seed for both, so differences are the scenario's.",
            )
        )
    return {
        "year": year,
        "years": r.years,
        "headlines": market_headlines(r, year, other),
        "events": r.events,
        "charts": out,
        "binding": r.binding_by_year().to_dict(orient="records"),
        "notes": r.notes,
        "draws": DEFAULT_DRAWS,
        "seed": 0,
        "description": r.scenario.description if hasattr(r.scenario, "description") else "",
    }


def _share_chart(r: Any, scenario: str) -> Any:
    series = [
        ("by units", _series(r, "domestic_share_units")[0][1]),
        ("by revenue", _series(r, "domestic_share_revenue")[0][1]),
    ]
    fig = charts.bands(series, "Domestic vendors' share", "share", percent=True)
    charts.cited_points(fig, cited("domestic_share_revenue", scenario), "cited (revenue)")
    charts.cited_points(fig, cited("domestic_share_units", scenario), "cited (units)")
    return fig
