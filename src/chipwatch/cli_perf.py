"""CLI for the perf domain: ``chipwatch perf infer|train|compare|sweep|calibration|models``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from chipwatch.clikit import STATE, catalog, chip_or_fail, emit, emit_json, fail

perf_app = typer.Typer(
    help="LLM inference and training performance on any chip (roofline + calibration).",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Model id (see `perf models`).")]
ChipsOpt = Annotated[int, typer.Option("--num-chips", "-n", help="Number of chips.")]
PrecOpt = Annotated[
    str, typer.Option("--precision", "-p", help="bf16, fp16, fp8, int8, fp4 or int4 (W4A16).")
]
BatchOpt = Annotated[str, typer.Option("--batch", "-b", help="Sequences in flight, or 'auto'.")]
InOpt = Annotated[int, typer.Option("--input-len", help="Prompt tokens.")]
OutOpt = Annotated[int, typer.Option("--output-len", help="Generated tokens.")]
TpotOpt = Annotated[float | None, typer.Option("--max-tpot-ms", help="TPOT limit (ms).")]
TtftOpt = Annotated[float | None, typer.Option("--max-ttft-ms", help="TTFT limit (ms).")]
NoCalOpt = Annotated[
    bool, typer.Option("--no-calibration", help="Pure roofline (efficiencies = 1).")
]
ParOpt = Annotated[int | None, typer.Option(help="Parallel degree (chosen if left out).")]


def _model(model_id: str) -> Any:
    from chipwatch.catalog import UnknownIdError
    from chipwatch.perf.models import load_models

    try:
        return load_models(STATE.catalog_dirs).model(model_id)
    except UnknownIdError as e:
        fail(str(e))


def _batch(batch: str) -> int | str:
    if batch.lower() == "auto":
        return "auto"
    try:
        return int(batch)
    except ValueError:
        fail(f"--batch must be a positive integer or 'auto', got {batch!r}")


def _workload(
    batch: str,
    input_len: int,
    output_len: int,
    precision: str,
    tp: int | None,
    pp: int | None,
    dp: int | None,
    ep: int | None,
    max_tpot_ms: float | None,
    max_ttft_ms: float | None,
    no_calibration: bool,
    num_chips: int,
) -> dict[str, Any]:
    return {
        "num_chips": num_chips,
        "batch": _batch(batch),
        "input_len": input_len,
        "output_len": output_len,
        "precision": precision,
        "tp": tp,
        "pp": pp,
        "dp": dp,
        "ep": ep,
        "max_tpot_ms": max_tpot_ms,
        "max_ttft_ms": max_ttft_ms,
        "calibration": not no_calibration,
    }


@perf_app.command("infer")
def infer_cmd(
    chip: Annotated[str, typer.Option("--chip", "-c", help="Chip id.")],
    model: ModelOpt,
    num_chips: ChipsOpt = 1,
    batch: BatchOpt = "auto",
    input_len: InOpt = 1024,
    output_len: OutOpt = 256,
    precision: PrecOpt = "bf16",
    tp: ParOpt = None,
    pp: ParOpt = None,
    dp: ParOpt = None,
    ep: ParOpt = None,
    max_tpot_ms: TpotOpt = None,
    max_ttft_ms: TtftOpt = None,
    no_calibration: NoCalOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """TTFT, TPOT, tokens/s, memory per chip and the binding resource for one configuration."""
    from chipwatch.perf import PerfInputError, infer

    acc = chip_or_fail(chip)
    spec = _model(model)
    try:
        r = infer(
            acc,
            spec,
            **_workload(
                batch,
                input_len,
                output_len,
                precision,
                tp,
                pp,
                dp,
                ep,
                max_tpot_ms,
                max_ttft_ms,
                no_calibration,
                num_chips,
            ),
        )
    except PerfInputError as e:
        fail(str(e))
    if as_json:
        emit_json(r)
        return
    from chipwatch.perf.inference import flat_row

    row = flat_row(r)
    rows = [{"metric": k, "value": v} for k, v in row.items() if k != "error"]
    emit(rows, title=f"{spec.id} on {num_chips} x {acc.id}")
    for n in r.notes:
        typer.echo(f"Note: {n}")


def _compare_table(df: Any) -> list[dict[str, Any]]:
    metrics = [
        ("precision_used", "precision used"),
        ("tp", "TP"),
        ("pp", "PP"),
        ("dp", "DP"),
        ("ep", "EP"),
        ("batch", "batch (sequences)"),
        ("ttft_ms", "TTFT (ms)"),
        ("tpot_ms", "TPOT (ms)"),
        ("output_tokens_per_s", "output tokens/s"),
        ("output_tokens_per_s_per_chip", "output tokens/s per chip"),
        ("prefill_tokens_per_s", "prefill tokens/s"),
        ("prefill_compute_ms", "prefill: compute time (ms)"),
        ("prefill_memory_ms", "prefill: memory time (ms)"),
        ("prefill_interconnect_ms", "prefill: interconnect time (ms)"),
        ("prefill_bound", "prefill bound by"),
        ("decode_compute_ms", "decode step: compute (ms)"),
        ("decode_memory_ms", "decode step: memory (ms)"),
        ("decode_interconnect_ms", "decode step: interconnect (ms)"),
        ("decode_bound", "decode bound by"),
        ("mem_total_gb", "memory per chip (GB)"),
        ("mem_capacity_gb", "capacity per chip (GB)"),
        ("tokens_per_joule", "tokens per joule"),
        ("usd_per_million_tokens", "USD per million tokens"),
        ("calibration", "calibration"),
        ("error", "error"),
    ]
    recs = df.to_dict(orient="records")
    out = []
    for key, label in metrics:
        if key not in df.columns:
            continue
        row: dict[str, Any] = {"metric": label}
        for r in recs:
            v = r.get(key)
            row[r["chip"]] = None if v != v else v  # NaN -> None
        out.append(row)
    return out


@perf_app.command("compare")
def compare_cmd(
    chip_ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Chip ids.")],
    model: ModelOpt,
    num_chips: ChipsOpt = 1,
    batch: BatchOpt = "auto",
    input_len: InOpt = 1024,
    output_len: OutOpt = 256,
    precision: PrecOpt = "bf16",
    tp: ParOpt = None,
    pp: ParOpt = None,
    dp: ParOpt = None,
    ep: ParOpt = None,
    max_tpot_ms: TpotOpt = None,
    max_ttft_ms: TtftOpt = None,
    no_calibration: NoCalOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Side by side on several chips, with the resource that decides each phase."""
    from chipwatch.perf import PerfInputError
    from chipwatch.perf.inference import compare

    chips = [chip_or_fail(c) for c in chip_ids]
    spec = _model(model)
    try:
        df = compare(
            chips,
            spec,
            **_workload(
                batch,
                input_len,
                output_len,
                precision,
                tp,
                pp,
                dp,
                ep,
                max_tpot_ms,
                max_ttft_ms,
                no_calibration,
                num_chips,
            ),
        )
    except PerfInputError as e:
        fail(str(e))
    if as_json or as_csv:
        emit(df.to_dict(orient="records"), as_json, as_csv)
        return
    emit(
        _compare_table(df),
        title=f"{spec.id} on {num_chips} chips, {precision} requested, "
        f"input {input_len} / output {output_len}",
    )
    for r in df.to_dict(orient="records"):
        if r.get("error") and r["error"] == r["error"]:
            typer.echo(f"{r['chip']}: cannot serve: {r['error']}")
            continue
        typer.echo(
            f"{r['chip']}: prefill bound by {r['prefill_bound']}, "
            f"decode bound by {r['decode_bound']}"
        )
        if r.get("precision_note") and r["precision_note"] == r["precision_note"]:
            typer.echo(f"  note: {r['precision_note']}")
    if df["error"].notna().all():
        raise typer.Exit(2)


@perf_app.command("models")
def models_cmd(as_json: JsonOpt = False, as_csv: CsvOpt = False) -> None:
    """LLM architectures in the catalog, with derived parameter counts."""
    from chipwatch.perf.models import load_models

    cat = load_models(STATE.catalog_dirs)
    for e in cat.errors:
        typer.echo(f"Note: {e}", err=True)
    rows = []
    for m in cat:
        c = m.counts()
        rows.append(
            {
                "id": m.id,
                "layers": m.layers,
                "hidden": m.hidden,
                "attention": "MLA" if m.mla else ("GQA" if m.kv_heads < m.heads else "MHA"),
                "moe": f"{m.moe.active}/{m.moe.experts}+{m.moe.shared}" if m.moe else "-",
                "params_b": c.total / 1e9,
                "active_params_b": c.active / 1e9,
                "published_b": m.params_published.value_b if m.params_published else None,
                "kv_bytes_per_token_bf16": 2 * m.kv_elems_per_token(),
                "max_context": m.max_context,
                "aliases": ", ".join(m.aliases),
                "source": m.source,
            }
        )
    emit(
        rows,
        as_json,
        as_csv,
        title="LLM architectures",
        columns=None
        if (as_json or as_csv)
        else [
            "id",
            "layers",
            "hidden",
            "attention",
            "moe",
            "params_b",
            "active_params_b",
            "published_b",
            "kv_bytes_per_token_bf16",
            "max_context",
        ],
    )


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the main app. Keep module-level imports light."""
    app.add_typer(perf_app, name="perf")


_ = catalog  # re-exported helper kept for domain commands added later
