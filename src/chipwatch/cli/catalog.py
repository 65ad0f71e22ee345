"""CLI for the catalog: ``chipwatch chips list|show|compare``, ``sql`` and ``validate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from chipwatch.cli.kit import (
    STATE,
    ColumnsOpt,
    WideOpt,
    catalog,
    chip_or_fail,
    console,
    emit,
    emit_json,
    fail,
    split_columns,
    translate,
)

chips_app = typer.Typer(help="List, inspect and compare accelerators.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]


# Default columns, most important first: the table keeps those that fit the terminal.
LIST_COLUMNS = [
    "id",
    "vendor",
    "tflops_bf16_dense",
    "tflops_fp8_dense",
    "mem_gb",
    "mem_bw_tbs",
    "tdp_w",
    "tops_int8_dense",
    "scaleup_bidir_gbs",
    "segment",
    "released",
    "name",
]


@chips_app.command("list")
def chips_list(
    vendor: Annotated[str | None, typer.Option(help="Only this vendor (e.g. NVIDIA).")] = None,
    segment: Annotated[
        str | None, typer.Option(help="datacenter, workstation, consumer or edge.")
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
) -> None:
    """List accelerators with their headline numbers (the columns that fit the terminal)."""
    cat = catalog()
    if segment and segment.lower() not in ("datacenter", "workstation", "consumer", "edge"):
        fail(f"unknown segment {segment!r}: use datacenter, workstation, consumer or edge")
    chips = cat.chips(vendor=vendor, segment=segment)
    if vendor and not chips:
        from chipwatch.catalog import suggest

        vendors = sorted({c.vendor for c in cat})
        hint = suggest(vendor, vendors) or vendors
        fail(f"no chips from vendor {vendor!r}; vendors include: {', '.join(hint)}")
    rows = [c.flat() for c in chips]
    _note_load_errors()
    if as_json or as_csv:
        emit(rows, as_json, as_csv)
    else:
        emit(
            _localized(rows),
            title=translate("{n} accelerators").format(n=len(rows)),
            columns=LIST_COLUMNS,
            selected=split_columns(columns),
            wide=wide,
        )


def _localized(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Table rows with chip and vendor names in the ``--lang`` language (JSON/CSV keep the
    catalog's own names)."""
    if STATE.lang in (None, "en"):
        return rows
    from chipwatch.i18n.names import chip_name, vendor_name

    return [
        {
            **r,
            "name": chip_name(r["id"], r["name"], r["vendor"], STATE.lang),
            "vendor": vendor_name(r["vendor"], STATE.lang),
            "segment": translate(str(r["segment"])),
        }
        for r in rows
    ]


def _note_load_errors() -> None:
    catalog()  # warns once per skipped file


def chip_detail(chip_id: str) -> dict[str, Any]:
    from chipwatch.services.catalog import chip_detail as detail

    return detail(catalog(), chip_or_fail(chip_id).id)


@chips_app.command("show")
def chips_show(
    chip_id: Annotated[str, typer.Argument(metavar="ID")], as_json: JsonOpt = False
) -> None:
    """Every value of one chip with its source."""
    d = chip_detail(chip_id)
    if as_json:
        emit_json(d)
        return
    con = console()
    con.print(
        f"[bold]{d['name']}[/bold] ({d['id']}) - {d['vendor']}, {d['vendor_country']}; "
        f"{d['segment']}, {d['status']}, released {d['released']}"
    )
    zh = d.get("local_names", {}).get("zh-CN")
    if zh:
        con.print(
            f"中文名 {zh['name']} ({zh['name_source']}"
            + (", unverified" if zh["unverified"] else "")
            + ")",
            soft_wrap=True,
        )
    c = chip_or_fail(chip_id)
    rows = [
        {
            "field": f,
            "value": v.value,
            "unit": unit,
            "range": f"{v.low}-{v.high}" if v.low is not None or v.high is not None else None,
            "source": v.source,
            "check": "UNVERIFIED" if v.unverified else "",
        }
        for f, v, unit in c.sourced_values()
    ]
    emit(rows, columns=["field", "value", "unit", "range", "check", "source"])
    for key, citation in c.sources.items():
        con.print(f"[bold]{key}[/bold]: {citation}", soft_wrap=True)
    if d["notes"]:
        con.print(f"Notes: {d['notes']}")


@chips_app.command("compare")
def chips_compare(
    chip_ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Two or more chip ids.")],
    as_json: JsonOpt = False,
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
) -> None:
    """Side by side, with ratios to the first chip."""
    if len(chip_ids) < 2:
        fail("give at least two chip ids to compare")
    chips = [chip_or_fail(i) for i in chip_ids]
    rows = catalog().compare([c.id for c in chips])
    if as_json:
        emit_json({"chips": [c.id for c in chips], "base": chips[0].id, "rows": rows})
    else:
        from chipwatch.tables import header

        emit(
            [{**r, "field": header(r["field"], STATE.lang)} for r in rows],
            title=translate("compared with {chip}").format(chip=chips[0].id),
            selected=split_columns(columns),
            wide=wide,
            transpose=None if (columns or wide) else "chip",
        )


def sql_cmd(
    statement: Annotated[str, typer.Argument(help="One read-only SQL statement.")],
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Run read-only SQL over the catalog tables: accelerators, accelerator_values, dies
    (and perf_sweep when a sweep was saved to the --db store)."""
    from chipwatch.sqlstore import check_readonly

    try:
        check_readonly(statement)  # refused before the store is even opened
    except ValueError as e:
        fail(str(e))
    if STATE.db:
        rows, truncated = _sql_with_db(statement)
    else:
        rows, truncated = _sql_cached(statement)
    if truncated:
        typer.echo(f"Warning: only the first {len(rows):,} rows are shown", err=True)
    emit(rows, as_json, as_csv)


def _sql_cached(statement: str) -> tuple[list[dict[str, Any]], bool]:
    """The tables from the store persisted under the data's hash (built on the first run; the
    catalog is not loaded when it exists), else built in memory."""
    from chipwatch.sqlstore import cached_store, open_store, query_rows, user_dirs

    def build(tmp: Path) -> bool:
        from chipwatch.catalog.store import connect

        cat = catalog()  # warns of any file it skipped
        if cat.errors:  # keep nothing, so that the warning shows on every run
            return False
        connect(cat, tmp).close()
        return True

    path = cached_store(user_dirs(STATE.catalog_dirs), build)
    if path is None:
        return _sql_with_db(statement)
    try:
        con = open_store(path)
    except ValueError as e:
        fail(str(e))
    try:
        return query_rows(con, statement)
    except ValueError as e:  # SQL errors
        fail(str(e))
    finally:
        con.close()


def _sql_with_db(statement: str) -> tuple[list[dict[str, Any]], bool]:
    """The catalog tables in memory, plus the tables of the ``--db`` store when given."""
    from chipwatch.catalog.store import open_readonly, query

    try:
        con = open_readonly(catalog(), STATE.db)
    except ValueError as e:
        fail(str(e))
    try:
        df = query(con, statement)
    except ValueError as e:  # refused writes (ReadOnlyError) and SQL errors
        fail(str(e))
    finally:
        con.close()
    rows: list[dict[str, Any]] = df.to_dict(orient="records")  # type: ignore[assignment]
    return rows, bool(df.attrs.get("truncated"))


def validate_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder of user YAML to check.")],
    as_json: JsonOpt = False,
) -> None:
    """Check a user catalog folder; one line per problem (file: field: reason)."""
    from chipwatch.catalog.loader import validate_folder
    from chipwatch.registry import schemas

    errors = validate_folder(folder, schemas(), context={"ws": STATE.ws})
    if as_json:
        emit_json({"ok": not errors, "errors": [e.__dict__ for e in errors]})
    else:
        for e in errors:
            typer.echo(str(e))
        if not errors:
            typer.echo(f"{folder}: OK")
    if errors:
        raise typer.Exit(1)


# the commands this module adds to ``chipwatch`` (see chipwatch.cli.LazyGroup)
commands = typer.Typer()
commands.add_typer(chips_app, name="chips")
commands.command("sql")(sql_cmd)
commands.command("validate")(validate_cmd)
