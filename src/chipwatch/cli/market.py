"""CLI for the market domain: ``chipwatch market list|run|compare|sensitivity|check|inputs``.
Each command builds its request model (``chipwatch.market.requests``) from its options and calls
the service the API calls (``chipwatch.services.market``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from chipwatch.cli.kit import (
    STATE,
    ColumnsOpt,
    WideOpt,
    arg,
    build,
    default,
    emit,
    emit_json,
    emit_table,
    fail,
    opt,
    split_columns,
)
from chipwatch.market.requests import (
    CheckRequest,
    MarketCompareRequest,
    MarketRunRequest,
    SensitivityRequest,
)

app = typer.Typer(
    help="Market and compute-stock scenarios: shipments, revenue, domestic share, installed "
    "compute, with P10/P50/P90 ranges.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
R, CMP, SENS, CHK = MarketRunRequest, MarketCompareRequest, SensitivityRequest, CheckRequest
CLI_ONLY = {"as_json", "as_csv", "top", "unverified"}  # output options: not part of a request
ScenarioArg = Annotated[
    str | None, arg(MarketRunRequest, "scenario", metavar="SCENARIO", show_default=False)
]

RUN_TABLES = [
    (
        "demand identity (demand = domestic + licensed + grey + offshore + deferred), US$",
        [
            ("demand", "demand_usd", "total"),
            ("domestic", "demand_met_usd", "domestic"),
            ("licensed", "demand_met_usd", "licensed"),
            ("grey", "demand_met_usd", "grey"),
            ("offshore", "demand_met_usd", "offshore"),
            ("deferred", "demand_met_usd", "deferred"),
            ("domestic share of sales", "domestic_share", "total"),
            ("domestic share of demand", "domestic_share_of_demand", "total"),
        ],
    ),
    (
        "yearly flows (legal sales)",
        [
            ("units", "units", "total"),
            ("domestic units", "units", "CN"),
            ("revenue US$", "revenue_usd", "total"),
            ("domestic share (revenue)", "domestic_share_revenue", "total"),
            ("domestic share (units)", "domestic_share_units", "total"),
            ("levy US$", "levy_usd", "total"),
        ],
    ),
    (
        "installed stock",
        [
            ("units", "installed_units", "total"),
            ("H100e", "stock_h100e", "total"),
            ("BF16 FLOP/s", "stock_bf16_flops", "total"),
            ("memory TB/s", "stock_mem_bw_tbs", "total"),
            ("tokens/s", "served_tokens_per_s", "total"),
            ("domestic share (H100e)", "domestic_share_stock_h100e", "total"),
            ("grey H100e", "stock_h100e", "grey"),
            ("offshore H100e (rented)", "rented_h100e", "offshore"),
            ("effective H100e", "effective_stock_h100e", "total"),
        ],
    ),
]


def _guard(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a library function; bad input becomes one clear line and exit code 2."""
    from chipwatch.market import ScenarioError

    try:
        return fn(*args, **kwargs)
    except ScenarioError as e:
        fail(str(e))
    except ValueError as e:
        fail(str(e))


def short(v: Any, metric: str = "") -> str:
    """Compact numbers for tables: shares as %, others with k/M/B/T/P/E/Z suffixes."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if "share" in metric:
        return f"{100 * v:.0f}%"
    a = abs(v)
    for div, suf in (
        (1e21, "Z"),
        (1e18, "E"),
        (1e15, "P"),
        (1e12, "T"),
        (1e9, "B"),
        (1e6, "M"),
        (1e3, "k"),
    ):
        if a >= div:
            return f"{v / div:.3g}{suf}"
    return f"{v:.3g}"


@app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """Name the scenarios, one line each."""
    from chipwatch.market import list_scenarios

    rows = [
        {"id": i.id, "title": i.title, "extends": i.extends, "description": i.description}
        for i in list_scenarios(ws=STATE.ws)
    ]
    if as_json:
        emit_json(rows)
    else:
        emit_table(
            [{"id": r["id"], "title": r["title"], "extends": r["extends"]} for r in rows],
            title=f"{len(rows)} market scenarios",
        )


@app.command("run")
def run_cmd(
    scenario: ScenarioArg = None,
    draws: Annotated[int, opt(R, "draws", "--draws")] = default(R, "draws"),
    seed: Annotated[int, opt(R, "seed", "--seed")] = default(R, "seed"),
    metric: Annotated[str | None, opt(R, "metric", "--metric")] = None,
    group: Annotated[str | None, opt(R, "group", "--group")] = None,
    rules_file: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            help="YAML file of proposed rule sets (packaged rules schema), read into 'rules'.",
        ),
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Yearly units, revenue, shares and installed compute with P10/P50/P90."""
    from chipwatch.services import market as service

    values: dict[str, Any] = dict(locals())
    if rules_file is not None:
        from chipwatch.controls import ControlsInputError
        from chipwatch.controls.changes import read_proposal

        try:
            values["rules"] = [
                r.model_dump(mode="json", by_alias=True, exclude_none=True)
                for r in read_proposal(rules_file)
            ]
        except ControlsInputError as e:
            fail(str(e))
    req = build(R, values, ("scenario",))
    body = _guard(service.run, req, ws=STATE.ws)
    if as_json:
        emit_json(body)
        return
    if req.rules:
        emit_table(
            [
                {k: (f"{v:+,}" if isinstance(v, int) else v) for k, v in row.items()}
                for row in body["effect_vs_rules_in_force"]
            ]
            or [{"note": "no product's P50 units changed under the proposed rules"}],
            title=f"Effect of {rules_file}: P50 units, proposed minus rules in force",
        )
    if as_csv:
        emit(body["summary"], as_csv=True)
        return
    ws = service.under_proposed_rules(STATE.ws, req.rules) if req.rules else STATE.ws
    r = service.market_run(req.scenario, req.draws, req.seed, ws=ws)
    draws, seed = req.draws, req.seed
    df = r.summary
    for title, cols in RUN_TABLES:
        rows = []
        for year in r.years:
            row: dict[str, Any] = {"year": year}
            for label, metric, group in cols:
                sel = df[(df.metric == metric) & (df.group == group) & (df.year == year)]
                if not sel.empty:
                    x = sel.iloc[0]
                    row[label] = (
                        f"{short(x.p50, metric)}\n({short(x.p10, metric)}-{short(x.p90, metric)})"
                    )
            rows.append(row)
        emit_table(
            rows, title=f"{r.scenario.title}: {title}, P50 (P10-P90), {draws} draws, seed {seed}"
        )
    bind = r.binding_by_year()
    if not bind.empty:
        piv = bind.pivot(index="product", columns="year", values="limit")
        emit_table(
            [{"product": p, **{str(y): piv.loc[p, y] for y in piv.columns}} for p in piv.index],
            title="Binding domestic supply limit (most draws)",
        )
    if r.events:
        emit_table(
            [{"date": e["date"], "gate": e["gate"], "event": e["label"]} for e in r.events],
            title="Policy events in this run (US and PRC gates, levies, tariffs)",
        )
    for n in r.notes:
        typer.echo(f"Note: {n}")


@app.command("compare")
def compare_cmd(
    a: Annotated[str | None, arg(CMP, "a", metavar="A", show_default=False)] = None,
    b: Annotated[str | None, arg(CMP, "b", metavar="B", show_default=False)] = None,
    metric: Annotated[str, opt(CMP, "metric", "--metric")] = default(CMP, "metric"),
    group: Annotated[str | None, opt(CMP, "group", "--group")] = None,
    draws: Annotated[int, opt(CMP, "draws", "--draws")] = default(CMP, "draws"),
    seed: Annotated[int, opt(CMP, "seed", "--seed")] = default(CMP, "seed"),
    as_json: JsonOpt = False,
) -> None:
    """Two scenarios per year on one metric, with the difference A - B over paired draws."""
    import pandas as pd

    from chipwatch.services import market as service

    req = build(CMP, locals(), ("a", "b"))
    out = _guard(service.compare, req, ws=STATE.ws)
    if as_json:
        emit_json(out)
        return
    metric = req.metric
    df: Any = pd.DataFrame(out["rows"])
    df.attrs.update({"a": out["a"], "b": out["b"]})
    rows = [
        {
            "year": x.year,
            "group": x.group,
            df.attrs["a"]: f"{short(x.a_p50, metric)} ({short(x.a_p10, metric)}-"
            f"{short(x.a_p90, metric)})",
            df.attrs["b"]: f"{short(x.b_p50, metric)} ({short(x.b_p10, metric)}-"
            f"{short(x.b_p90, metric)})",
            "A - B": f"{_signed(x.diff_p50, metric)} ({_signed(x.diff_p10, metric)} to "
            f"{_signed(x.diff_p90, metric)})",
        }
        for x in df.itertuples()
    ]
    emit_table(rows, title=f"{metric}: {df.attrs['a']} vs {df.attrs['b']}, P50 (P10-P90)")


def _signed(v: float, metric: str) -> str:
    """A difference: shares in percentage points ("pp"), others as numbers."""
    if "share" in metric and v is not None and not math.isnan(v):
        return f"{100 * v:+.1f} pp"
    s = short(v, metric)
    return s if s.startswith("-") or s == "-" else f"+{s}"


@app.command("sensitivity")
def sensitivity_cmd(
    scenario: ScenarioArg = None,
    metric: Annotated[str, opt(SENS, "metric", "--metric")] = default(SENS, "metric"),
    year: Annotated[int | None, opt(SENS, "year", "--year")] = None,
    group: Annotated[str, opt(SENS, "group", "--group")] = default(SENS, "group"),
    top: Annotated[int, typer.Option("--top", help="Rows to show in the table.", min=1)] = 15,
    as_json: JsonOpt = False,
) -> None:
    """Which inputs move an output most (one-at-a-time, P10 to P90)."""
    import pandas as pd

    from chipwatch.services import market as service

    req = build(SENS, locals(), ("scenario",))
    out = _guard(service.sensitivity, req, ws=STATE.ws)
    if as_json:
        emit_json(out)
        return
    metric, group = req.metric, req.group
    df: Any = pd.DataFrame(out["rows"])
    df.attrs.update({k: v for k, v in out.items() if k != "rows"})
    rows = [
        {
            "input": x.input,
            "P10 value": short(x.low_value),
            "P90 value": short(x.high_value),
            "output at P10": short(x.output_at_low, metric),
            "output at P90": short(x.output_at_high, metric),
            "swing": f"{100 * x.swing:.1f} pp" if "share" in metric else short(x.swing, metric),
            "unverified": "yes" if x.unverified else "",
        }
        for x in df.head(top).itertuples()
    ]
    base = short(df.base_output.iloc[0], metric) if len(df) else "-"
    emit_table(
        rows, title=f"{metric} ({group}) in {df.attrs['year']}, base {base}: inputs by swing"
    )


@app.command("check")
def check_cmd(
    scenario: ScenarioArg = None,
    draws: Annotated[int, opt(CHK, "draws", "--draws")] = default(CHK, "draws"),
    seed: Annotated[int, opt(CHK, "seed", "--seed")] = default(CHK, "seed"),
    as_json: JsonOpt = False,
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
) -> None:
    """Distance from the model to each cited figure (model P50, P10-P90, relative distance)."""
    import pandas as pd

    from chipwatch.services import market as service

    req = build(CHK, locals(), ("scenario",))
    out = _guard(service.check, req, ws=STATE.ws)
    df: Any = pd.DataFrame(out["rows"])
    df.attrs.update({k: v for k, v in out.items() if k != "rows"})
    if as_json:
        emit_json(out)
        return
    titles = {
        "input": "inputs (the figure feeds the model: agreement by construction)",
        "backtest": "backtests (reported actuals kept out of the inputs)",
        "forecast": "forecast comparisons (other forecasters, as of their vintage)",
    }
    for group, title in titles.items():
        rows = [
            {
                "figure (estimate id)": x.estimate_id,
                "year": x.year,
                "cited": short(x.cited_value, x.metric),
                "model P50": short(x.model_p50, x.metric),
                "P10-P90": f"{short(x.model_p10, x.metric)}-{short(x.model_p90, x.metric)}",
                "distance": "-"
                if x.relative_distance is None or math.isnan(x.relative_distance)
                else f"{100 * x.relative_distance:+.0f}%",
                "in range": {True: "yes", False: "no"}.get(x.within_p10_p90, "-"),
                "basis": x.basis,
                "vintage": x.vintage,
                "scenario": x.model_scenario,
                "cited by": x.cited_by,
            }
            for x in df.itertuples()
            if x.check_group == group
        ]
        if rows:
            emit_table(
                rows,
                title=f"{df.attrs['scenario']}: {title}",
                selected=split_columns(columns),
                wide=wide,
            )
    typer.echo("Full figures and sources: --json or data/market/estimates.yaml.")


@app.command("inputs")
def inputs_cmd(
    scenario: Annotated[
        str, typer.Argument(metavar="SCENARIO", help=R.model_fields["scenario"].description)
    ],
    unverified: Annotated[
        bool, typer.Option("--unverified", help="Only inputs marked unverified.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Every uncertain input of a scenario: its distribution by year and its source."""
    from chipwatch.market import load_scenario
    from chipwatch.market.simulate import compile_scenario, describe_inputs

    s = _guard(load_scenario, scenario, ws=STATE.ws)
    rows = describe_inputs(_guard(compile_scenario, s, ws=STATE.ws))
    if unverified:
        rows = [r for r in rows if r["unverified"]]
    if as_json:
        emit_json({"scenario": s.id, "inputs": rows})
        return
    emit_table(
        [{**r, "unverified": "yes" if r["unverified"] else ""} for r in rows],
        title=f"{s.id}: {len(rows)} inputs",
        columns=["input", "year", "distribution", "source", "unverified"],
    )


# the commands this module adds to ``chipwatch`` (see chipwatch.cli.LazyGroup)
commands = typer.Typer()
commands.add_typer(app, name="market")
