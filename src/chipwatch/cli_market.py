"""CLI commands for the market domain: ``chipwatch market list|run|compare|sensitivity|check``.

A thin view over :mod:`chipwatch.market`; heavy imports happen inside the commands.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer

from chipwatch.clikit import (
    STATE,
    ColumnsOpt,
    WideOpt,
    emit,
    emit_json,
    emit_table,
    fail,
    split_columns,
)

market_app = typer.Typer(
    help="Market and compute-stock scenarios: shipments, revenue, domestic share, installed "
    "compute, with P10/P50/P90 ranges.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
DrawsOpt = Annotated[
    int, typer.Option("--draws", help="Monte Carlo draws (1-50,000).", min=1, max=50_000)
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (same seed, same numbers).")]
ScenarioArg = Annotated[
    str, typer.Argument(metavar="SCENARIO", help="Scenario id (see `market list`) or a YAML file.")
]

RUN_TABLES = [
    (
        "yearly flows",
        [
            ("units", "units", "total"),
            ("domestic units", "units", "CN"),
            ("revenue US$", "revenue_usd", "total"),
            ("domestic share (revenue)", "domestic_share_revenue", "total"),
            ("domestic share (units)", "domestic_share_units", "total"),
            ("unmet demand US$", "unmet_demand_usd", "total"),
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
        ],
    ),
]


def register(app: typer.Typer) -> None:
    """Add the ``market`` sub-command group to the main app."""
    app.add_typer(market_app, name="market")


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


@market_app.command("list")
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


@market_app.command("run")
def run_cmd(
    scenario: ScenarioArg,
    draws: DrawsOpt = 2000,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Yearly units, revenue, shares and installed compute with P10/P50/P90."""
    from chipwatch.market import run

    r = _guard(run, scenario, draws=draws, seed=seed, ws=STATE.ws)
    if as_json:
        emit_json(r.to_json())
        return
    if as_csv:
        emit(r.summary.to_dict(orient="records"), as_csv=True)
        return
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
    for n in r.notes:
        typer.echo(f"Note: {n}")


@market_app.command("compare")
def compare_cmd(
    a: Annotated[str, typer.Argument(metavar="A", help="First scenario.")],
    b: Annotated[str, typer.Argument(metavar="B", help="Second scenario.")],
    metric: Annotated[str, typer.Option("--metric", help="Metric to compare.")] = "domestic_share",
    group: Annotated[
        str | None, typer.Option("--group", help="Group (vendor, country, product); default total.")
    ] = None,
    draws: DrawsOpt = 2000,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Two scenarios per year on one metric, with the difference A - B over paired draws."""
    from chipwatch.market import compare

    df = _guard(compare, a, b, metric=metric, group=group, draws=draws, seed=seed, ws=STATE.ws)
    if as_json:
        emit_json(
            {
                "a": df.attrs["a"],
                "b": df.attrs["b"],
                "metric": metric,
                "draws": draws,
                "seed": seed,
                "rows": df.to_dict(orient="records"),
            }
        )
        return
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
    s = short(v, metric)
    return s if s.startswith("-") or s == "-" else f"+{s}"


@market_app.command("sensitivity")
def sensitivity_cmd(
    scenario: ScenarioArg,
    metric: Annotated[str, typer.Option("--metric", help="Output to explain.")] = "domestic_share",
    year: Annotated[int | None, typer.Option("--year", help="Year (default: last).")] = None,
    group: Annotated[str, typer.Option("--group", help="Group (default total).")] = "total",
    top: Annotated[int, typer.Option("--top", help="Rows to show in the table.", min=1)] = 15,
    as_json: JsonOpt = False,
) -> None:
    """Which inputs move an output most (one-at-a-time, P10 to P90)."""
    from chipwatch.market import sensitivity

    df = _guard(sensitivity, scenario, metric, year=year, group=group, ws=STATE.ws)
    if as_json:
        emit_json({**df.attrs, "rows": df.to_dict(orient="records")})
        return
    rows = [
        {
            "input": x.input,
            "P10 value": short(x.low_value),
            "P90 value": short(x.high_value),
            "output at P10": short(x.output_at_low, metric),
            "output at P90": short(x.output_at_high, metric),
            "swing": short(x.swing, metric),
            "unverified": "yes" if x.unverified else "",
        }
        for x in df.head(top).itertuples()
    ]
    base = short(df.base_output.iloc[0], metric) if len(df) else "-"
    emit_table(
        rows, title=f"{metric} ({group}) in {df.attrs['year']}, base {base}: inputs by swing"
    )


@market_app.command("check")
def check_cmd(
    scenario: ScenarioArg,
    draws: DrawsOpt = 2000,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
) -> None:
    """Distance from the model to each cited figure (model P50, P10-P90, relative distance)."""
    from chipwatch.market import check

    df = _guard(check, scenario, draws=draws, seed=seed, ws=STATE.ws)
    if as_json:
        emit_json({**df.attrs, "rows": df.to_dict(orient="records")})
        return
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
            "kind": x.kind,
            "scenario": x.model_scenario,
            "cited by": x.cited_by,
        }
        for x in df.itertuples()
    ]
    emit_table(
        rows,
        title=f"{df.attrs['scenario']}: model vs cited figures",
        selected=split_columns(columns),
        wide=wide,
    )
    typer.echo(
        "kind 'input': the figure feeds the model's inputs, so agreement is by construction. "
        "Full figures and sources: --json or data/market/estimates.yaml."
    )


@market_app.command("inputs")
def inputs_cmd(
    scenario: ScenarioArg,
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
