"""CLI for the controls domain: ``classify``, ``timeline``, ``frontier``. Each command builds
its request model (``chipwatch.controls.requests``) from its options and calls the service the
API calls (``chipwatch.services.controls``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from chipwatch.cli.kit import (
    STATE,
    arg,
    build,
    console,
    default,
    emit_json,
    emit_table,
    fail,
    opt,
    translate,
)
from chipwatch.controls.requests import (
    ClassifyRequest,
    FrontierRequest,
    RulesDiffRequest,
    RulesProposeRequest,
    RulesStatusRequest,
    TimelineRequest,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
K, TL, F = ClassifyRequest, TimelineRequest, FrontierRequest
CLI_ONLY = {"as_json", "memo", "spec_file"}  # output options and the spec file (read into spec)


def _print_classification(c: Any) -> None:
    con = console()
    what = c.eccn or (f"excluded by {c.excluded_by}" if c.excluded_by else "no 3A090 paragraph")
    if not c.eccn and c.undetermined:
        what = f"not decided ({', '.join(c.undetermined)} open)"
    pd = f"{c.performance_density:.2f}" if c.performance_density is not None else "unknown"
    tpp = f"{c.tpp:,.0f} ({c.tpp_precision})" if c.tpp is not None else "unknown"
    con.print(
        f"[bold]{c.chip_name}[/bold] ({c.chip}) on {c.date} to {c.destination} "
        f"({c.destination_name})" + (f", headquarters {c.headquarters}" if c.headquarters else "")
    )
    con.print(f"TPP {tpp}; PD {pd}; datacenter {'yes' if c.datacenter else 'no'}")
    if c.jurisdiction is not None:
        sub = {True: "yes", False: "no", None: "undetermined"}[c.jurisdiction.subject_to_ear]
        con.print(
            f"Subject to the EAR: {sub} ({c.jurisdiction.basis}; confidence "
            f"{c.jurisdiction.confidence})",
            highlight=False,
        )
    if c.transaction != "export" or c.origin != "US":
        con.print(f"Transaction: {c.transaction} from {c.origin}")
    for h in c.screening:
        con.print(
            f"Screening: {c.end_user!r} ~ {h.name} (score {h.score}; {h.fr_citation}; "
            f"{'listed' if h.listed_on_date else 'not listed'} on {c.date})",
            highlight=False,
        )
    con.print(f"ECCN: [bold]{what}[/bold]")
    lic = {
        True: "[red]license required[/red]",
        False: "[green]no license required[/green]",
        None: "[yellow]undetermined[/yellow]",
    }[c.license_required]
    if c.status == "not_released":
        lic = "[yellow]not released on this date: no ruling[/yellow]"
    con.print(
        f"{lic}; policy: {c.licensing_policy}"
        + (f" (License Exception {c.license_exception})" if c.license_exception else "")
        + (f"; basis: {c.licensing_basis}" if c.licensing_basis else "")
    )
    con.print(
        "Rule sets in force: " + "; ".join(f"{r.short} ({r.fr_citation})" for r in c.rule_sets)
    )
    if c.tests:
        emit_table([{"scope": t.scope, "test": t.text} for t in c.tests], title="Threshold tests")
    for a in c.actions:
        con.print(
            f"Action {a.date} {a.title} [bound by {a.bound_by}; {a.legal_status}"
            f"{'' if a.applied else ', not applied'}]: "
            f"{'license required' if a.license_required else ''}"
            + (f", policy {a.policy}" if a.policy else ""),
            highlight=False,
        )
    for o in c.outcomes:
        con.print(
            f"If {o.assumption}: "
            f"{'license required' if o.license_required else 'no license required'} "
            f"({o.licensing_policy})",
            highlight=False,
        )
    for m in c.missing_inputs:
        con.print(f"Missing: {m}", highlight=False)
    for cond in c.conditions:
        con.print(f"Condition (to confirm): {cond}", highlight=False)
    for w in c.warnings:
        con.print(f"[yellow]Warning:[/yellow] {w}", highlight=False)
    for x in c.assumptions:
        con.print(f"Assumption: {x}", highlight=False)
    for x in c.context:
        con.print(f"Context: {x}", highlight=False)
    if c.market_access is not None:
        m = c.market_access
        state = {True: "open", False: "closed", None: "named buyers only"}[m.open]
        measures = "; ".join(f"{x.date} {x.title}" for x in m.measures) or "no measure recorded"
        con.print(
            f"{m.market} market access (not US law): {state} ({m.status}); {measures}",
            highlight=False,
        )
    for n in c.notes:
        con.print(f"Note: {n}", highlight=False)


def _ws() -> Any:
    """The workspace, after warning about rule data that could not be loaded."""
    ws = STATE.ws
    for e in ws.rulebook.errors:
        typer.echo(f"Warning: skipped rule data: {e}", err=True)
    return ws


def _run(fn: Any, req: Any) -> Any:
    """Call a service; bad input becomes one clear line and exit code 2."""
    from chipwatch.catalog import UnknownIdError

    try:
        return fn(req, ws=_ws())
    except UnknownIdError as e:
        fail(str(e))
    except ValueError as e:  # ControlsInputError, InvalidRequest
        fail(str(e))


def classify_cmd(
    chip: Annotated[
        str | None, typer.Argument(metavar="[ID]", help=K.model_fields["chip"].description)
    ] = None,
    date: Annotated[str | None, opt(K, "date", "--date")] = None,
    destination: Annotated[str, opt(K, "destination", "--destination", "-d")] = default(
        K, "destination"
    ),
    headquarters: Annotated[str | None, opt(K, "headquarters", "--hq", "--headquarters")] = None,
    as_json: JsonOpt = False,
    memo: Annotated[
        Path | None, typer.Option("--memo", help="Write a determination memo (.md or .html).")
    ] = None,
    spec_file: Annotated[
        Path | None, typer.Option("--spec", help="YAML spec of a hypothetical chip.")
    ] = None,
    tpp: Annotated[float | None, opt(K, "tpp", "--tpp")] = None,
    dense_tops: Annotated[
        list[str] | None,
        opt(K, "dense_tops", "--dense-tops", metavar="PRECISION=VALUE"),
    ] = None,
    die_area_mm2: Annotated[
        float | None, opt(K, "die_area_mm2", "--die-area", "--die-area-mm2")
    ] = None,
    datacenter: Annotated[bool, opt(K, "datacenter", "--datacenter/--no-datacenter")] = default(
        K, "datacenter"
    ),
    io_bidir_gbs: Annotated[
        float | None, opt(K, "io_bidir_gbs", "--io-gbs", "--io-bidir-gbs")
    ] = None,
    dram_bw_gbs: Annotated[float | None, opt(K, "dram_bw_gbs", "--dram-bw-gbs")] = None,
    name: Annotated[str, opt(K, "name", "--name")] = default(K, "name"),
    parent_headquarters: Annotated[
        str | None, opt(K, "parent_headquarters", "--parent-hq", "--parent-headquarters")
    ] = None,
    end_user: Annotated[str | None, opt(K, "end_user", "--end-user")] = None,
    owned_by_listed: Annotated[
        bool, opt(K, "owned_by_listed", "--owned-by-listed/--not-owned-by-listed")
    ] = default(K, "owned_by_listed"),
    transaction: Annotated[str | None, opt(K, "transaction", "--transaction")] = None,
    origin: Annotated[str | None, opt(K, "origin", "--from", "--origin")] = None,
    assume_pd: Annotated[float | None, opt(K, "assume_pd", "--assume-pd")] = None,
) -> None:
    """Classify a chip for a date, shipment and parties, under the US rules legally in force."""
    from chipwatch.controls import ControlsInputError
    from chipwatch.controls.spec import ChipSpec
    from chipwatch.services import controls as service

    values: dict[str, Any] = dict(locals())
    values["date"] = _date(date)
    values["dense_tops"] = _dense(dense_tops)
    if spec_file is not None:
        try:
            values["spec"] = ChipSpec.from_yaml(spec_file).model_dump(exclude_none=True)
        except ControlsInputError as e:
            fail(str(e))
    req = build(K, values, ("chip",))
    c = _run(service.classify_request, req)
    if memo is not None:
        from chipwatch.controls.memo import write_memo

        try:
            write_memo(c, memo, ws=STATE.ws, lang=STATE.lang)
        except ControlsInputError as e:
            fail(str(e))
    if as_json:
        emit_json(c)
    else:
        _print_classification(c)
    if memo is not None:
        typer.echo(translate("Memo written to {path}").format(path=memo), err=True)


def timeline_cmd(
    chip: Annotated[
        str | None, typer.Argument(metavar="ID", help=TL.model_fields["chip"].description)
    ] = None,
    destination: Annotated[str, opt(TL, "destination", "--destination", "-d")] = default(
        TL, "destination"
    ),
    headquarters: Annotated[str | None, opt(TL, "headquarters", "--hq", "--headquarters")] = None,
    start: Annotated[str | None, opt(TL, "start", "--start")] = None,
    end: Annotated[str | None, opt(TL, "end", "--end")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every period from October 2022 to today with the chip's status and what changed it."""
    from chipwatch.services import controls as service

    values: dict[str, Any] = {**locals(), "start": _date(start), "end": _date(end)}
    req = build(TL, values, ("chip",))
    out = _run(service.timeline, req)
    if as_json:
        emit_json(out)
        return
    chip_acc = STATE.ws.catalog.chip(out["chip"])
    periods = out["periods"]
    con = console(highlight=False)
    con.print(f"[bold]{chip_acc.name}[/bold] ({chip_acc.id}) to {out['destination']}")
    for p in periods:
        eccn = p.eccn or (f"excluded ({p.excluded_by})" if p.excluded_by else "no 3A090")
        lic = {True: "license required", False: "no license required", None: "undetermined"}[
            p.license_required
        ]
        if p.status == "not_released":
            lic = "not released yet"
        con.print(
            f"[bold]{p.start} to {p.end or 'today'}[/bold]: {eccn}; {lic} ({p.licensing_policy})"
        )
        con.print(f"  why: {p.reason}")
        for ch in p.changed_by:
            con.print(f"  changed by: {ch}")


def frontier_cmd(
    die_area_mm2: Annotated[float, opt(F, "die_area_mm2", "--die-area", "--die-area-mm2")],
    date: Annotated[str | None, opt(F, "date", "--date")] = None,
    datacenter: Annotated[bool, opt(F, "datacenter", "--datacenter/--no-datacenter")] = default(
        F, "datacenter"
    ),
    io_bidir_gbs: Annotated[
        float | None, opt(F, "io_bidir_gbs", "--io-gbs", "--io-bidir-gbs")
    ] = None,
    dram_bw_gbs: Annotated[float | None, opt(F, "dram_bw_gbs", "--dram-bw-gbs")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The largest TPP (and dense BF16/FP8 TFLOPS) that stays outside each 3A090 paragraph."""
    from chipwatch.services import controls as service

    req = build(F, {**locals(), "date": _date(date)})
    f = _run(service.frontier, req)
    if as_json:
        emit_json(f)
        return
    die_area = req.die_area_mm2
    rows = [
        {
            "paragraph": p.paragraph,
            "max uncontrolled TPP": (
                None
                if p.max_uncontrolled_tpp is None
                else ("<= " if p.max_is_allowed else "< ") + f"{p.max_uncontrolled_tpp:,.1f}"
            ),
            "BF16 TFLOPS": None
            if p.max_uncontrolled_tpp is None
            else round(p.max_uncontrolled_tpp / 16, 1),
            "FP8 TFLOPS": None
            if p.max_uncontrolled_tpp is None
            else round(p.max_uncontrolled_tpp / 8, 1),
            "binding threshold": p.binding or "; ".join(p.notes),
        }
        for p in f.paragraphs
    ]
    emit_table(rows, title=f"Control frontier, {die_area:g} mm2, {f.date}")
    typer.echo(f.summary)
    for n in f.notes:
        typer.echo(f"Note: {n}")


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"invalid date {text!r}: use YYYY-MM-DD")


def _dense(items: list[str] | None) -> dict[str, float] | None:
    """``--dense-tops fp8=148`` (repeatable) as {precision: value}."""
    if not items:
        return None
    out: dict[str, float] = {}
    for item in items:
        prec, _, value = item.partition("=")
        try:
            out[prec.strip().lower()] = float(value)
        except ValueError:
            fail(f"--dense-tops: expected PRECISION=VALUE (e.g. fp8=148), got {item!r}")
    return out


rules_app = typer.Typer(
    help="The rulebook: legal status by date, what changed between dates, proposed rules.",
    no_args_is_help=True,
)


def _print_diff(d: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(d)
        return
    con = console(highlight=False)
    con.print(
        f"[bold]{d['label_a']} -> {d['label_b']}[/bold], destination {d['destination']}: "
        f"{len(d['changes'])} chips changed, {d['unchanged']} unchanged"
    )
    for e in d["events"]:
        con.print(f"  event: {e}")
    if d["newly_controlled"]:
        con.print("Newly controlled: " + ", ".join(d["newly_controlled"]))
    emit_table(
        [
            {"chip": c["chip"], "before": c["before"], "after": c["after"], "reason": c["reason"]}
            for c in d["changes"]
        ],
        title="Chips whose answer changed",
    )


RS, RD, RP = RulesStatusRequest, RulesDiffRequest, RulesProposeRequest


@rules_app.command("status")
def rules_status(
    date: Annotated[str | None, opt(RS, "date", "--date")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every rule set, action, guidance and foreign measure known on a date, with legal status."""
    from chipwatch.services import controls as service

    req = build(RS, {"date": _date(date)})
    out = _run(service.rules_status, req)
    if as_json:
        emit_json(out)
        return
    emit_table(
        [
            {
                "date": i.date,
                "kind": i.kind,
                "item": i.title,
                "status": i.legal_status + (f" since {i.since}" if i.since != i.date else ""),
                "confidence": i.confidence or "",
                "citation": i.citation,
            }
            for i in out["items"]
        ],
        title=f"Rulebook as of {out['date']}",
    )


@rules_app.command("diff")
def rules_diff(
    date_a: Annotated[str, arg(RD, "date_a", metavar="DATE_A")],
    date_b: Annotated[str, arg(RD, "date_b", metavar="DATE_B")],
    destination: Annotated[str, opt(RD, "destination", "--destination", "-d")] = default(
        RD, "destination"
    ),
    as_json: JsonOpt = False,
) -> None:
    """Every catalog chip whose classification, license or policy changed between two dates."""
    from chipwatch.services import controls as service

    values = {"date_a": _date(date_a), "date_b": _date(date_b), "destination": destination}
    req = build(RD, values, ("date_a", "date_b"))
    _print_diff(_run(service.rules_diff, req), as_json)


@rules_app.command("propose")
def rules_propose(
    file: Annotated[
        Path, typer.Argument(metavar="FILE.yaml", help="Proposed rule set(s), packaged schema.")
    ],
    date: Annotated[str | None, opt(RP, "date", "--date")] = None,
    destination: Annotated[str, opt(RP, "destination", "--destination", "-d")] = default(
        RP, "destination"
    ),
    as_json: JsonOpt = False,
) -> None:
    """Which catalog chips flip under a proposed rule set (e.g. a moved TPP line)."""
    from chipwatch.controls import ControlsInputError
    from chipwatch.controls.changes import read_proposal
    from chipwatch.services import controls as service

    try:
        sets = [
            r.model_dump(mode="json", by_alias=True, exclude_none=True) for r in read_proposal(file)
        ]
    except ControlsInputError as e:
        fail(str(e))
    req = build(RP, {"rule_sets": sets, "date": _date(date), "destination": destination})
    _print_diff(_run(service.rules_propose, req), as_json)


# the commands this module adds to ``chipwatch`` (see chipwatch.cli.LazyGroup)
commands = typer.Typer()
commands.command("classify")(classify_cmd)
commands.command("timeline")(timeline_cmd)
commands.command("frontier")(frontier_cmd)
commands.add_typer(rules_app, name="rules")
