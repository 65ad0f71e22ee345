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

    flags = tpp is not None or io_gbs is not None or dram_bw_gbs is not None
    if chip_id is None and spec is None and die_area is not None:
        flags = True
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
    lic = {
        True: "[red]license required[/red]",
        False: "[green]no license required[/green]",
        None: "[yellow]undetermined[/yellow]",
    }[c.license_required]
    if c.status == "not_released":
        lic = "[yellow]not released on this date: no ruling[/yellow]"
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
            + (f", policy {a.policy}" if a.policy else "")
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
    for a in c.assumptions:
        con.print(f"Assumption: {a}", highlight=False)
    for x in c.context:
        con.print(f"Context: {x}", highlight=False)
    for n in c.notes:
        con.print(f"Note: {n}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the main app. Keep module-level imports light."""
    app.add_typer(rules_app, name="rules")

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
        parent_hq: Annotated[
            str | None,
            typer.Option("--parent-hq", help="Where the party's ultimate parent is headquartered."),
        ] = None,
        end_user: Annotated[
            str | None,
            typer.Option(
                "--end-user", help="End user name, screened against the Entity List subset."
            ),
        ] = None,
        owned_by_listed: Annotated[
            bool,
            typer.Option(
                "--owned-by-listed",
                help="The party is 50%+ owned by listed entities (Affiliates rule).",
            ),
        ] = False,
        transaction: Annotated[
            str | None,
            typer.Option("--transaction", help="export, reexport or transfer (in-country)."),
        ] = None,
        origin: Annotated[
            str | None,
            typer.Option("--from", help="Country the item leaves (default US = an export)."),
        ] = None,
        assume_pd: Annotated[
            float | None,
            typer.Option(
                "--assume-pd", help="Assume this performance density (decides an unknown)."
            ),
        ] = None,
    ) -> None:
        """Classify a chip under the US rules in force on a date, for a shipment and parties."""
        from chipwatch.controls import ControlsInputError, classify

        on = _date(date)
        try:
            chip = _chip(chip_id, spec, tpp, die_area, datacenter, io_gbs, dram_bw_gbs, name)
            c = classify(
                chip,
                on,
                destination,
                headquarters=hq,
                ws=_ws(),
                parent_headquarters=parent_hq,
                end_user=end_user,
                owned_by_listed=owned_by_listed,
                transaction=transaction,
                origin=origin,
                assume_pd=assume_pd,
                die_area_mm2=die_area if (chip_id is not None or spec is not None) else None,
            )
            if memo is not None:
                from chipwatch.controls.memo import write_memo

                write_memo(c, memo, ws=STATE.ws)
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


rules_app = typer.Typer(
    help="The rulebook: legal status by date, what changed between dates, proposed rules.",
    no_args_is_help=True,
)


def _print_diff(d: Any, as_json: bool) -> None:
    if as_json:
        emit_json({**d.model_dump(mode="json"), "newly_controlled": d.newly_controlled})
        return
    con = console(highlight=False)
    con.print(
        f"[bold]{d.label_a} -> {d.label_b}[/bold], destination {d.destination}: "
        f"{len(d.changes)} chips changed, {d.unchanged} unchanged"
    )
    for e in d.events:
        con.print(f"  event: {e}")
    if d.newly_controlled:
        con.print("Newly controlled: " + ", ".join(d.newly_controlled))
    emit_table(
        [
            {"chip": c.chip, "before": c.before, "after": c.after, "reason": c.reason}
            for c in d.changes
        ],
        title="Chips whose answer changed",
    )


@rules_app.command("status")
def rules_status(
    date: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default today).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every rule set, action, guidance and foreign measure known on a date, with legal status."""
    from chipwatch.controls.changes import status

    on = _date(date)
    items = status(on, _ws().rulebook)
    if as_json:
        emit_json({"date": on, "items": items})
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
            for i in items
        ],
        title=f"Rulebook as of {on}",
    )


@rules_app.command("diff")
def rules_diff(
    date_a: Annotated[str, typer.Argument(metavar="DATE_A", help="YYYY-MM-DD.")],
    date_b: Annotated[str, typer.Argument(metavar="DATE_B", help="YYYY-MM-DD.")],
    destination: DestOpt = "CN",
    as_json: JsonOpt = False,
) -> None:
    """Every catalog chip whose classification, license or policy changed between two dates."""

    from chipwatch.controls import ControlsInputError
    from chipwatch.controls.changes import diff

    try:
        d = diff(_ws().catalog.chips(), _date(date_a), _date(date_b), destination, _ws().rulebook)
    except ControlsInputError as e:
        fail(str(e))
    _print_diff(d, as_json)


@rules_app.command("propose")
def rules_propose(
    file: Annotated[
        Path, typer.Argument(metavar="FILE.yaml", help="Rule set(s), packaged schema.")
    ],
    date: Annotated[
        str | None, typer.Option("--date", help="Date to compare on (default: its effective date).")
    ] = None,
    destination: DestOpt = "CN",
    as_json: JsonOpt = False,
) -> None:
    """Which catalog chips flip under a proposed rule set (e.g. a moved TPP line)."""

    from chipwatch.controls import ControlsInputError
    from chipwatch.controls.changes import propose, read_proposal

    try:
        proposed = read_proposal(file)
        ws = _ws()
        on = _date(date) if date else None
        d = propose(ws.catalog.chips(), proposed, ws.rulebook, on, destination)
    except ControlsInputError as e:
        fail(str(e))
    _print_diff(d, as_json)
