"""CLI commands for the controls domain: ``classify``, ``timeline``, ``frontier``.

Module-level imports stay light; the engine is imported inside each command.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from chipwatch.clikit import STATE, chip_or_fail, console, emit_json, emit_table, fail

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
DestOpt = Annotated[str, typer.Option("--destination", "-d", help="ISO 3166 code, e.g. CN, AE.")]


def _date(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"invalid date {text!r}: use YYYY-MM-DD")


def _ws() -> Any:
    """The workspace, after warning about rule data that could not be loaded."""
    ws = STATE.ws
    for e in ws.rulebook.errors:
        typer.echo(f"Warning: skipped rule data: {e}", err=True)
    return ws


def _chip(
    chip_id: str | None,
    spec: Path | None,
    tpp: float | None,
    die_area: float | None,
    datacenter: bool,
    io_gbs: float | None,
    dram_bw_gbs: float | None,
    name: str | None,
) -> Any:
    from chipwatch.controls.spec import ChipSpec

    flags = tpp is not None or die_area is not None or io_gbs is not None or dram_bw_gbs is not None
    given = sum(x for x in (chip_id is not None, spec is not None, flags))
    if given != 1:
        fail("give exactly one of: a chip ID, --spec FILE.yaml, or --tpp/--die-area flags")
    if chip_id is not None:
        return chip_or_fail(chip_id)
    if spec is not None:
        return ChipSpec.from_yaml(spec)
    if tpp is None:
        fail("--tpp is required with --die-area (or give a chip ID or --spec)")
    return ChipSpec.build(
        name=name or "hypothetical chip",
        tpp=tpp,
        die_area_mm2=die_area,
        datacenter=datacenter,
        io_bidir_gbs=io_gbs,
        dram_bw_gbs=dram_bw_gbs,
        source="command-line flags",
    )


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


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the main app. Keep module-level imports light."""

    @app.command("classify")
    def classify_cmd(
        chip_id: Annotated[
            str | None, typer.Argument(metavar="[ID]", help="Catalog chip id.")
        ] = None,
        date: Annotated[
            str | None, typer.Option("--date", help="YYYY-MM-DD (default today).")
        ] = None,
        destination: DestOpt = "CN",
        hq: Annotated[
            str | None,
            typer.Option(
                "--hq",
                help="Where the buyer/end user is headquartered (ISO code), for the HQ rule.",
            ),
        ] = None,
        as_json: JsonOpt = False,
        memo: Annotated[
            Path | None, typer.Option("--memo", help="Write a determination memo (.md or .html).")
        ] = None,
        spec: Annotated[
            Path | None, typer.Option("--spec", help="YAML spec of a hypothetical chip.")
        ] = None,
        tpp: Annotated[float | None, typer.Option("--tpp", help="Hypothetical chip: TPP.")] = None,
        die_area: Annotated[
            float | None,
            typer.Option("--die-area", help="Hypothetical chip: applicable die area, mm2."),
        ] = None,
        datacenter: Annotated[
            bool,
            typer.Option(
                "--datacenter/--no-datacenter", help="Designed or marketed for datacenters."
            ),
        ] = True,
        io_gbs: Annotated[
            float | None,
            typer.Option("--io-gbs", help="Aggregate bidirectional I/O, GB/s (2022 rule)."),
        ] = None,
        dram_bw_gbs: Annotated[
            float | None,
            typer.Option("--dram-bw-gbs", help="Total DRAM bandwidth, GB/s (2026 band)."),
        ] = None,
        name: Annotated[
            str | None, typer.Option("--name", help="Name of a flag-built chip.")
        ] = None,
    ) -> None:
        """Classify a chip under the US rules in force on a date, for a destination."""
        from chipwatch.controls import ControlsInputError, classify

        on = _date(date)
        try:
            chip = _chip(chip_id, spec, tpp, die_area, datacenter, io_gbs, dram_bw_gbs, name)
            c = classify(chip, on, destination, headquarters=hq, ws=_ws())
            if memo is not None:
                from chipwatch.controls.memo import write_memo

                write_memo(c, memo, ws=STATE.ws, lang=STATE.lang)
        except ControlsInputError as e:
            fail(str(e))
        if as_json:
            emit_json(c)
        else:
            _print_classification(c)
        if memo is not None:
            typer.echo(f"Memo written to {memo}", err=True)

    @app.command("timeline")
    def timeline_cmd(
        chip_id: Annotated[str, typer.Argument(metavar="ID", help="Catalog chip id.")],
        destination: DestOpt = "CN",
        hq: Annotated[
            str | None, typer.Option("--hq", help="Headquarters of the party (ISO code).")
        ] = None,
        start: Annotated[str | None, typer.Option("--start", help="YYYY-MM-DD.")] = None,
        end: Annotated[
            str | None, typer.Option("--end", help="YYYY-MM-DD (default today).")
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Every period from October 2022 to today with the chip's status and what changed it."""
        from chipwatch.controls import ControlsInputError
        from chipwatch.controls.timeline import timeline

        chip = chip_or_fail(chip_id)
        try:
            periods = timeline(
                chip,
                destination,
                start=_date(start) if start else None,
                end=_date(end) if end else None,
                headquarters=hq,
                ws=_ws(),
            )
        except ControlsInputError as e:
            fail(str(e))
        if as_json:
            emit_json({"chip": chip.id, "destination": destination.upper(), "periods": periods})
            return

        con = console(highlight=False)
        con.print(f"[bold]{chip.name}[/bold] ({chip.id}) to {destination.upper()}")
        for p in periods:
            eccn = p.eccn or (f"excluded ({p.excluded_by})" if p.excluded_by else "no 3A090")
            lic = "license required" if p.license_required else "no license required"
            con.print(
                f"[bold]{p.start} to {p.end or 'today'}[/bold]: {eccn}; {lic} "
                f"({p.licensing_policy})"
            )
            con.print(f"  why: {p.reason}")
            for ch in p.changed_by:
                con.print(f"  changed by: {ch}")

    @app.command("frontier")
    def frontier_cmd(
        die_area: Annotated[
            float, typer.Option("--die-area", help="Applicable die area, mm2 (e.g. 814 = GH100).")
        ],
        date: Annotated[
            str | None, typer.Option("--date", help="YYYY-MM-DD (default today).")
        ] = None,
        datacenter: Annotated[
            bool, typer.Option("--datacenter/--no-datacenter", help="Marketed for datacenters.")
        ] = True,
        io_gbs: Annotated[
            float | None, typer.Option("--io-gbs", help="I/O, GB/s (for the 2022 rule).")
        ] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """The largest TPP (and dense BF16/FP8 TFLOPS) that stays outside each 3A090 paragraph."""
        from chipwatch.controls import ControlsInputError
        from chipwatch.controls.frontier import frontier

        try:
            f = frontier(die_area, _date(date), datacenter, io_bidir_gbs=io_gbs, ws=_ws())
        except ControlsInputError as e:
            fail(str(e))
        if as_json:
            emit_json(f)
            return
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
