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
    build,
    console,
    default,
    emit_json,
    emit_table,
    fail,
    opt,
    translate,
)
from chipwatch.controls.requests import ClassifyRequest, FrontierRequest, TimelineRequest

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
K, TL, F = ClassifyRequest, TimelineRequest, FrontierRequest
CLI_ONLY = {"as_json", "memo", "spec_file"}  # output options and the spec file (read into spec)


def _print_classification(c: Any) -> None:

    con = console()
    what = c.eccn or (f"excluded by {c.excluded_by}" if c.excluded_by else "no 3A090 paragraph")
    pd = f"{c.performance_density:.2f}" if c.performance_density is not None else "unknown"
    tpp = f"{c.tpp:,.0f} ({c.tpp_precision})" if c.tpp is not None else "unknown"
    con.print(
        f"[bold]{c.chip_name}[/bold] ({c.chip}) on {c.date} to {c.destination} "
        f"({c.destination_name})" + (f", headquarters {c.headquarters}" if c.headquarters else "")
    )
    con.print(f"TPP {tpp}; PD {pd}; datacenter {'yes' if c.datacenter else 'no'}")
    con.print(f"ECCN: [bold]{what}[/bold]")
    lic = (
        "[red]license required[/red]"
        if c.license_required
        else "[green]no license required[/green]"
    )
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
            f"Action {a.date} {a.title} [bound by {a.bound_by}]: "
            f"{'license required' if a.license_required else ''}"
            + (f", policy {a.policy}" if a.policy else "")
        )
    for cond in c.conditions:
        con.print(f"Condition: {cond}")
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
) -> None:
    """Classify a chip under the US rules in force on a date, for a destination."""
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
        lic = "license required" if p.license_required else "no license required"
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


# the commands this module adds to ``chipwatch`` (see chipwatch.cli.LazyGroup)
commands = typer.Typer()
commands.command("classify")(classify_cmd)
commands.command("timeline")(timeline_cmd)
commands.command("frontier")(frontier_cmd)
