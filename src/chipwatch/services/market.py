"""Market operations, one per request model (what ``chipwatch market ...`` and
``/api/market/...`` both call), returning the JSON-shaped results both views print, and a run
computed once per workspace for the dashboard's charts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chipwatch.jsonable import to_jsonable
from chipwatch.market import MarketResult
from chipwatch.market import check as _check
from chipwatch.market import compare as _compare
from chipwatch.market import run as _run
from chipwatch.market import sensitivity as _sensitivity
from chipwatch.market.requests import (
    CheckRequest,
    MarketCompareRequest,
    MarketRunRequest,
    SensitivityRequest,
)
from chipwatch.services.errors import ChoiceError
from chipwatch.workspace import Workspace, resolve

DEFAULT_DRAWS = MarketRunRequest.model_fields["draws"].default


def scenario_ids(*, ws: Workspace | None = None) -> list[str]:
    return resolve(ws).scenarios.ids


def known_scenario(scenario: str, *, ws: Workspace | None = None) -> str:
    """The scenario id, or :class:`ChoiceError` naming the closest ones."""
    ids = scenario_ids(ws=ws)
    if scenario not in ids:
        raise ChoiceError(f"unknown scenario {scenario!r}", "scenario", scenario, ids)
    return scenario


# The (metric, group) pairs whose draws a kept run holds: the dashboard's headline numbers take
# their P10/P50/P90 for one year and the paired difference between two scenarios from them
# (``tests/test_api_bounded.py`` checks this covers ``web.views.HEADLINES``).
KEPT_DRAWS = frozenset(
    {
        ("demand_usd", "total"),
        ("domestic_share", "total"),
        ("domestic_share_of_demand", "total"),
        ("share_of_demand", "licensed"),
        ("share_of_demand", "grey"),
        ("share_of_demand", "offshore"),
        ("share_of_demand", "deferred"),
        ("effective_stock_h100e", "total"),
    }
)


def summary_only(result: MarketResult) -> MarketResult:
    """The run without most of its draw arrays: a 20,000-draw run holds ~370 MB of them; its
    summary, binding table and inputs, and the draws of :data:`KEPT_DRAWS` (about 1 MB at 2,000
    draws), are what views read."""
    import dataclasses

    kept = {k: v for k, v in result.samples.items() if (k[0], k[2]) in KEPT_DRAWS}
    return dataclasses.replace(result, samples=kept)


def market_run(
    scenario: str,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    *,
    ws: Workspace | None = None,
    compute: Callable[[], MarketResult] | None = None,
) -> MarketResult:
    """``market.run`` computed once per workspace, scenario, draws and seed (reproducible) and
    kept as a summary (:func:`summary_only`). ``compute`` computes it elsewhere (the server
    passes its worker pool)."""
    w = resolve(ws)
    key = (scenario, draws, seed)
    work = compute or (lambda: summary_only(_run(scenario, draws=draws, seed=seed, ws=w)))
    return w.memo("services.market_run", key, work, limit=16)


def rules_effect(base: MarketResult, new: MarketResult) -> list[dict[str, Any]]:
    """Products whose P50 units differ between two runs, by year (new minus base)."""
    a, b = base.summary, new.summary
    sel = (a.metric == "units") & (a.level == "product")
    keyed = b[(b.metric == "units") & (b.level == "product")].set_index(["group", "year"])
    rows: list[dict[str, Any]] = []
    for group, g in a[sel].groupby("group"):
        row: dict[str, Any] = {"product": group}
        changed = False
        for _, x in g.iterrows():
            y = keyed.loc[(group, x.year)].p50 if (group, x.year) in keyed.index else x.p50
            d = float(y - x.p50)
            changed = changed or abs(d) > 0.5
            row[str(x.year)] = round(d)
        if changed:
            rows.append(row)
    return rows


def under_proposed_rules(ws: Workspace, rules: list[dict[str, Any]]) -> Workspace:
    """A derived workspace: the rules in force plus the proposed rule sets."""
    from chipwatch.controls.changes import proposal_folder, proposal_sets

    return ws.overlay(proposal_folder(proposal_sets(rules)))


def run(req: MarketRunRequest, *, ws: Workspace | None = None) -> dict[str, Any]:
    """The run as JSON (``MarketResult.to_json``), its summary limited to ``metric``/``group``;
    with ``rules``, on a workspace overlaid with them, plus the effect against the rules in
    force (``effect_vs_rules_in_force``: P50 units by product and year)."""
    w = resolve(ws)
    effect = None
    if req.rules:
        base = market_run(req.scenario, req.draws, req.seed, ws=w)
        w = under_proposed_rules(w, req.rules)
        effect = rules_effect(base, market_run(req.scenario, req.draws, req.seed, ws=w))
    body = market_run(req.scenario, req.draws, req.seed, ws=w).to_json()
    if effect is not None:
        body["effect_vs_rules_in_force"] = effect
    rows = body["summary"]
    if req.metric is not None:
        metrics = sorted({r["metric"] for r in rows})
        if req.metric not in metrics:
            raise ChoiceError(
                f"unknown metric {req.metric!r}", "metric", req.metric, metrics, missing=False
            )
        rows = [r for r in rows if r["metric"] == req.metric]
    if req.group is not None:
        rows = [r for r in rows if r["group"] == req.group]
    body["summary"] = rows
    return body


def compare(req: MarketCompareRequest, *, ws: Workspace | None = None) -> dict[str, Any]:
    """Both scenarios per year on one metric, with the paired difference."""
    df = _compare(
        req.a, req.b, metric=req.metric, group=req.group, draws=req.draws, seed=req.seed, ws=ws
    )
    return {
        "a": df.attrs["a"],
        "b": df.attrs["b"],
        "metric": req.metric,
        "group": req.group,
        "draws": req.draws,
        "seed": req.seed,
        "rows": to_jsonable(df),
    }


def sensitivity(req: SensitivityRequest, *, ws: Workspace | None = None) -> dict[str, Any]:
    """The tornado table: inputs by swing, with the run's metric, group and year."""
    df = _sensitivity(req.scenario, req.metric, year=req.year, group=req.group, ws=ws)
    return {**{str(k): v for k, v in df.attrs.items()}, "rows": to_jsonable(df)}


def check(req: CheckRequest, *, ws: Workspace | None = None) -> dict[str, Any]:
    """The model against every cited figure."""
    df = _check(req.scenario, draws=req.draws, seed=req.seed, ws=ws)
    return {**{str(k): v for k, v in df.attrs.items()}, "rows": to_jsonable(df)}
