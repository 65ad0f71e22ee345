"""CLI for the perf domain: ``chipwatch perf infer|compare|crossover|train|sweep|calibration|
models``. Each command builds its request model (``chipwatch.perf.requests``) from its options
and calls the service the API calls (``chipwatch.services.perf``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from chipwatch.cli.kit import (
    STATE,
    ColumnsOpt,
    WideOpt,
    arg,
    build,
    catalog,
    csv_default,
    csv_list,
    default,
    emit,
    emit_json,
    fail,
    opt,
    split_columns,
)
from chipwatch.perf.requests import (
    CompareRequest,
    CrossoverRequest,
    ServingRequest,
    SweepRequest,
    TrainingRequest,
)

app = typer.Typer(
    help="LLM inference and training performance on any chip (roofline + calibration).",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
S, C, X, T, W = ServingRequest, CompareRequest, CrossoverRequest, TrainingRequest, SweepRequest
CLI_ONLY = {"as_json", "as_csv", "out"}  # output options: not part of any request


def _run(fn: Any, req: Any) -> Any:
    """Call a service; bad input becomes one clear line and exit code 2."""
    from chipwatch.catalog import UnknownIdError
    from chipwatch.perf import PerfInputError

    try:
        return fn(req, ws=STATE.ws)
    except UnknownIdError as e:
        fail(str(e))
    except PerfInputError as e:
        fail(str(e))


@app.command("infer")
def infer_cmd(
    chip: Annotated[str, opt(S, "chip", "--chip", "-c")] = default(S, "chip"),
    model: Annotated[str, opt(S, "model", "--model", "-m")] = default(S, "model"),
    num_chips: Annotated[int, opt(S, "num_chips", "--num-chips", "-n")] = default(S, "num_chips"),
    batch: Annotated[str, opt(S, "batch", "--batch", "-b")] = default(S, "batch"),
    input_len: Annotated[int, opt(S, "input_len", "--input-len")] = default(S, "input_len"),
    output_len: Annotated[int, opt(S, "output_len", "--output-len")] = default(S, "output_len"),
    precision: Annotated[str, opt(S, "precision", "--precision", "-p")] = default(S, "precision"),
    tp: Annotated[int | None, opt(S, "tp", "--tp")] = None,
    pp: Annotated[int | None, opt(S, "pp", "--pp")] = None,
    dp: Annotated[int | None, opt(S, "dp", "--dp")] = None,
    ep: Annotated[int | None, opt(S, "ep", "--ep")] = None,
    replicas: Annotated[int | None, opt(S, "replicas", "--replicas")] = None,
    max_tpot_ms: Annotated[float | None, opt(S, "max_tpot_ms", "--max-tpot-ms")] = None,
    max_ttft_ms: Annotated[float | None, opt(S, "max_ttft_ms", "--max-ttft-ms")] = None,
    calibration: Annotated[bool, opt(S, "calibration", "--calibration/--no-calibration")] = default(
        S, "calibration"
    ),
    spec_tokens: Annotated[int, opt(S, "spec_tokens", "--spec-tokens")] = default(S, "spec_tokens"),
    accepted_per_step: Annotated[
        float | None, opt(S, "accepted_per_step", "--acceptance", "--accepted-per-step")
    ] = None,
    disaggregated: Annotated[
        bool, opt(S, "disaggregated", "--disaggregated/--aggregated")
    ] = default(S, "disaggregated"),
    phase: Annotated[str, opt(S, "phase", "--phase")] = default(S, "phase"),
    redundant_experts: Annotated[int, opt(S, "redundant_experts", "--redundant-experts")] = default(
        S, "redundant_experts"
    ),
    expert_skew: Annotated[float, opt(S, "expert_skew", "--expert-skew")] = default(
        S, "expert_skew"
    ),
    overlap: Annotated[bool | None, opt(S, "overlap", "--overlap/--no-overlap")] = None,
    kv_precision: Annotated[str, opt(S, "kv_precision", "--kv-precision")] = default(
        S, "kv_precision"
    ),
    dispatch_precision: Annotated[
        str | None, opt(S, "dispatch_precision", "--dispatch-precision")
    ] = None,
    rank_per_die: Annotated[bool, opt(S, "rank_per_die", "--rank-per-die")] = default(
        S, "rank_per_die"
    ),
    prefill_tokens_per_chip: Annotated[
        int, opt(S, "prefill_tokens_per_chip", "--prefill-tokens-per-chip")
    ] = default(S, "prefill_tokens_per_chip"),
    engine: Annotated[str | None, opt(S, "engine", "--engine")] = None,
    as_json: JsonOpt = False,
) -> None:
    """TTFT, TPOT, tokens/s, memory per chip and the binding resource for one configuration."""
    from chipwatch.services import perf as service

    req = build(S, locals())
    r = _run(service.infer, req)
    if as_json:
        emit_json(r)
        return
    from chipwatch.perf.inference import flat_row

    row = flat_row(r)
    rows = [{"metric": k, "value": v} for k, v in row.items() if k != "error"]
    emit(rows, title=f"{r.model} on {req.num_chips} x {r.chip}")
    for n in r.notes:
        typer.echo(f"Note: {n}")


def _compare_table(df: Any) -> list[dict[str, Any]]:
    metrics = [
        ("precision_used", "precision used"),
        ("tp", "TP"),
        ("pp", "PP"),
        ("dp", "DP"),
        ("ep", "EP"),
        ("replicas", "replicas (independent copies)"),
        ("batch", "batch (sequences)"),
        ("ttft_ms", "TTFT (ms)"),
        ("tpot_ms", "TPOT (ms)"),
        ("output_tokens_per_s", "output tokens/s"),
        ("output_tokens_per_s_per_chip", "output tokens/s per chip"),
        ("prefill_tokens_per_s", "prefill tokens/s"),
        ("prefill_compute_ms", "prefill: compute-bound time (ms)"),
        ("prefill_memory_ms", "prefill: memory-bound time (ms)"),
        ("prefill_interconnect_ms", "prefill: interconnect time (ms)"),
        ("prefill_bound", "prefill bound by"),
        ("decode_compute_ms", "decode step: compute-bound (ms)"),
        ("decode_memory_ms", "decode step: memory-bound (ms)"),
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


@app.command("compare")
def compare_cmd(
    chips: Annotated[list[str] | None, arg(C, "chips", metavar="ID...")] = None,
    model: Annotated[str, opt(C, "model", "--model", "-m")] = default(C, "model"),
    num_chips: Annotated[int, opt(C, "num_chips", "--num-chips", "-n")] = default(C, "num_chips"),
    batch: Annotated[str, opt(C, "batch", "--batch", "-b")] = default(C, "batch"),
    input_len: Annotated[int, opt(C, "input_len", "--input-len")] = default(C, "input_len"),
    output_len: Annotated[int, opt(C, "output_len", "--output-len")] = default(C, "output_len"),
    precision: Annotated[str, opt(C, "precision", "--precision", "-p")] = default(C, "precision"),
    tp: Annotated[int | None, opt(C, "tp", "--tp")] = None,
    pp: Annotated[int | None, opt(C, "pp", "--pp")] = None,
    dp: Annotated[int | None, opt(C, "dp", "--dp")] = None,
    ep: Annotated[int | None, opt(C, "ep", "--ep")] = None,
    replicas: Annotated[int | None, opt(C, "replicas", "--replicas")] = None,
    max_tpot_ms: Annotated[float | None, opt(C, "max_tpot_ms", "--max-tpot-ms")] = None,
    max_ttft_ms: Annotated[float | None, opt(C, "max_ttft_ms", "--max-ttft-ms")] = None,
    calibration: Annotated[bool, opt(C, "calibration", "--calibration/--no-calibration")] = default(
        C, "calibration"
    ),
    spec_tokens: Annotated[int, opt(C, "spec_tokens", "--spec-tokens")] = default(C, "spec_tokens"),
    accepted_per_step: Annotated[
        float | None, opt(C, "accepted_per_step", "--acceptance", "--accepted-per-step")
    ] = None,
    disaggregated: Annotated[
        bool, opt(C, "disaggregated", "--disaggregated/--aggregated")
    ] = default(C, "disaggregated"),
    phase: Annotated[str, opt(C, "phase", "--phase")] = default(C, "phase"),
    redundant_experts: Annotated[int, opt(C, "redundant_experts", "--redundant-experts")] = default(
        C, "redundant_experts"
    ),
    expert_skew: Annotated[float, opt(C, "expert_skew", "--expert-skew")] = default(
        C, "expert_skew"
    ),
    overlap: Annotated[bool | None, opt(C, "overlap", "--overlap/--no-overlap")] = None,
    kv_precision: Annotated[str, opt(C, "kv_precision", "--kv-precision")] = default(
        C, "kv_precision"
    ),
    dispatch_precision: Annotated[
        str | None, opt(C, "dispatch_precision", "--dispatch-precision")
    ] = None,
    rank_per_die: Annotated[bool, opt(C, "rank_per_die", "--rank-per-die")] = default(
        C, "rank_per_die"
    ),
    prefill_tokens_per_chip: Annotated[
        int, opt(C, "prefill_tokens_per_chip", "--prefill-tokens-per-chip")
    ] = default(C, "prefill_tokens_per_chip"),
    engine: Annotated[str | None, opt(C, "engine", "--engine")] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Side by side on several chips, with the resource that decides each phase."""
    import pandas as pd

    from chipwatch.services import perf as service

    req = build(C, locals(), ("chips",))
    rows = _run(service.compare, req)
    df = pd.DataFrame(rows)
    if "error" not in df.columns:
        df["error"] = None
    if as_json:  # the API's shape (GET/POST /api/perf/compare)
        emit_json({"rows": rows})
        return
    if as_csv:
        emit(rows, as_csv=True)
        return
    num_chips, precision, input_len, output_len = (
        req.num_chips,
        req.precision,
        req.input_len,
        req.output_len,
    )
    emit(
        _compare_table(df),
        title=f"{req.model} on {num_chips} chips, {precision} requested, "
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
        for key in ("precision_note", "notes"):
            if isinstance(r.get(key), str):
                typer.echo(f"  note: {r[key]}")
    if df["error"].notna().all():
        raise typer.Exit(2)


@app.command("crossover")
def crossover_cmd(
    chips: Annotated[list[str] | None, arg(X, "chips", metavar="ID...")] = None,
    model: Annotated[str, opt(X, "model", "--model", "-m")] = default(X, "model"),
    num_chips: Annotated[int, opt(X, "num_chips", "--num-chips", "-n")] = default(X, "num_chips"),
    precision: Annotated[str, opt(X, "precision", "--precision", "-p")] = default(X, "precision"),
    batches: Annotated[str, opt(X, "batches", "--batches")] = csv_default(X, "batches"),
    input_len: Annotated[int, opt(X, "input_len", "--input-len")] = default(X, "input_len"),
    output_len: Annotated[int, opt(X, "output_len", "--output-len")] = default(X, "output_len"),
    tp: Annotated[int | None, opt(X, "tp", "--tp")] = None,
    pp: Annotated[int | None, opt(X, "pp", "--pp")] = None,
    dp: Annotated[int | None, opt(X, "dp", "--dp")] = None,
    ep: Annotated[int | None, opt(X, "ep", "--ep")] = None,
    disaggregated: Annotated[
        bool, opt(X, "disaggregated", "--disaggregated/--aggregated")
    ] = default(X, "disaggregated"),
    calibration: Annotated[bool, opt(X, "calibration", "--calibration/--no-calibration")] = default(
        X, "calibration"
    ),
    as_json: JsonOpt = False,
) -> None:
    """Where chips trade places: decode tokens/s per chip against batch size, who leads and why."""
    from chipwatch.services import perf as service

    req = build(X, {**locals(), "batches": csv_list(batches)}, ("chips",))
    r = _run(service.crossover, req)
    if as_json:
        emit_json(r)
        return
    num_chips, precision, aggregated = req.num_chips, req.precision, not req.disaggregated
    rows = []
    for p in r.points:
        row: dict[str, Any] = {"batch": p.batch}
        for c in r.chips:
            tps = p.decode_tokens_per_s_per_chip[c]
            row[f"{c} tok/s/chip"] = tps
            row[f"{c} bound"] = p.decode_bound[c] or "does not fit"
        row["leader"] = p.leader
        rows.append(row)
    mode = "aggregated (prefill interleaved)" if aggregated else "pure decode"
    emit(rows, title=f"{req.model} on {num_chips} chips, {precision} requested, {mode}")
    typer.echo(r.summary)
    for f in r.flips:
        typer.echo(
            f"flip between batch {f.after_batch} and {f.at_batch}: {f.from_chip} -> {f.to_chip}"
        )
    for n in r.notes:
        typer.echo(f"Note: {n}")


@app.command("train")
def train_cmd(
    chip: Annotated[str, opt(T, "chip", "--chip", "-c")] = default(T, "chip"),
    model: Annotated[str, opt(T, "model", "--model", "-m")] = default(T, "model"),
    num_chips: Annotated[int, opt(T, "num_chips", "--num-chips", "-n")] = default(T, "num_chips"),
    tokens: Annotated[float, opt(T, "tokens", "--tokens")] = default(T, "tokens"),
    seq_len: Annotated[int, opt(T, "seq_len", "--seq-len")] = default(T, "seq_len"),
    global_batch_tokens: Annotated[
        int, opt(T, "global_batch_tokens", "--global-batch-tokens")
    ] = default(T, "global_batch_tokens"),
    precision: Annotated[str, opt(T, "precision", "--precision", "-p")] = default(T, "precision"),
    tp: Annotated[int | None, opt(T, "tp", "--tp")] = None,
    pp: Annotated[int | None, opt(T, "pp", "--pp")] = None,
    ep: Annotated[int | None, opt(T, "ep", "--ep")] = None,
    zero_stage: Annotated[int, opt(T, "zero_stage", "--zero-stage")] = default(T, "zero_stage"),
    recompute: Annotated[str | None, opt(T, "recompute", "--recompute")] = None,
    micro_batch: Annotated[int, opt(T, "micro_batch", "--micro-batch")] = default(T, "micro_batch"),
    calibration: Annotated[bool, opt(T, "calibration", "--calibration/--no-calibration")] = default(
        T, "calibration"
    ),
    as_json: JsonOpt = False,
) -> None:
    """Step time, tokens/s, MFU, days to train and memory per chip."""
    from chipwatch.services import perf as service

    req = build(T, locals())
    r = _run(service.train, req)
    if as_json:
        emit_json(r)
        return
    m = r.memory_per_chip_gb
    rows: list[dict[str, Any]] = [
        {"metric": "precision used", "value": r.precision_used},
        {
            "metric": "parallelism (tp/pp/dp/ep)",
            "value": "/".join(str(r.parallelism[k]) for k in ("tp", "pp", "dp", "ep")),
        },
        {"metric": "recompute / ZeRO stage", "value": f"{r.recompute} / {r.zero_stage}"},
        {"metric": "step time (s)", "value": r.step_time_s},
        {"metric": "tokens/s", "value": r.tokens_per_s},
        {"metric": "tokens/s per chip", "value": r.tokens_per_s_per_chip},
        {"metric": "MFU", "value": r.mfu},
        {"metric": "days", "value": r.days},
        {"metric": "bound by", "value": r.bound},
        {"metric": "memory per chip (GB)", "value": m.total_gb},
        {
            "metric": "  weights / grads / optimizer / activations",
            "value": f"{m.weights_gb:.1f} / {m.gradients_gb:.1f} / {m.optimizer_gb:.1f} / "
            f"{m.activations_gb:.1f}",
        },
        {"metric": "energy (MWh)", "value": r.energy_mwh},
        {"metric": "cost (USD)", "value": r.usd_total},
        {"metric": "calibration", "value": r.calibration["source"]},
    ]
    rows += [{"metric": f"time: {k} (s)", "value": v} for k, v in r.time_breakdown_s.items()]
    emit(rows, title=f"train {r.model} on {req.num_chips} x {r.chip}, {req.tokens:.3g} tokens")
    for n in r.notes:
        typer.echo(f"Note: {n}")


# Default columns of `perf sweep`, most important first (the table keeps those that fit).
SWEEP_COLUMNS = [
    "chip",
    "model",
    "output_tokens_per_s",
    "tpot_s",
    "ttft_s",
    "precision_used",
    "num_chips",
    "batch",
    "tp",
    "ep",
    "pp",
    "dp",
    "replicas",
    "output_tokens_per_s_per_chip",
    "prefill_bound",
    "decode_bound",
]


@app.command("sweep")
def sweep_cmd(
    chips: Annotated[list[str] | None, arg(W, "chips", metavar="ID...")] = None,
    models: Annotated[str, opt(W, "models", "--model", "--models", "-m")] = csv_default(
        W, "models"
    ),
    precisions: Annotated[str, opt(W, "precisions", "--precisions")] = csv_default(W, "precisions"),
    num_chips: Annotated[str, opt(W, "num_chips", "--num-chips", "-n")] = csv_default(
        W, "num_chips"
    ),
    batches: Annotated[str, opt(W, "batches", "--batches")] = csv_default(W, "batches"),
    input_lens: Annotated[str, opt(W, "input_lens", "--input-lens")] = csv_default(W, "input_lens"),
    output_lens: Annotated[str, opt(W, "output_lens", "--output-lens")] = csv_default(
        W, "output_lens"
    ),
    max_tpot_ms: Annotated[float | None, opt(W, "max_tpot_ms", "--max-tpot-ms")] = None,
    max_ttft_ms: Annotated[float | None, opt(W, "max_ttft_ms", "--max-ttft-ms")] = None,
    best_by: Annotated[str, opt(W, "best_by", "--best-by")] = default(W, "best_by"),
    calibration: Annotated[bool, opt(W, "calibration", "--calibration/--no-calibration")] = default(
        W, "calibration"
    ),
    out: Annotated[
        str | None,
        typer.Option("--out", help="Save all rows: .parquet, .csv, or .duckdb (table perf_sweep)."),
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
) -> None:
    """Evaluate a grid of configurations; print the best one per chip (and model)."""
    import time

    from chipwatch.services import perf as service

    lists = ("models", "precisions", "num_chips", "batches", "input_lens", "output_lens")
    values = locals()
    req = build(W, {**values, **{k: csv_list(values[k]) for k in lists}}, ("chips",))
    best_by = req.best_by
    t0 = time.perf_counter()
    df, rows = _run(service.sweep, req)
    elapsed = time.perf_counter() - t0
    why = _save_sweep(df, out) if out else None
    if as_json or as_csv:
        emit(rows, as_json, as_csv)
        if why is not None:
            raise typer.Exit(1)
        return
    emit(
        rows,
        title=f"best by {best_by}: {len(df):,} configurations in {elapsed:.2f} s",
        columns=SWEEP_COLUMNS,
        selected=split_columns(columns),
        wide=wide,
    )
    if not rows:
        typer.echo("No configuration fits and meets the limits.")
    if out and why is None:
        typer.echo(f"wrote {len(df):,} rows to {out}")
    if why is not None:
        raise typer.Exit(1)


def _save_sweep(df: Any, out: str) -> str | None:
    """Save the sweep to ``--out`` (a temporary file renamed into place; a DuckDB store commits
    in one transaction). If that fails, keep the rows in the temporary folder and say where.
    Returns why ``out`` failed, or None."""
    from chipwatch.outfile import reason, rescue_path, save_or_rescue
    from chipwatch.perf.sweep import save

    if out.endswith((".duckdb", ".db")):
        try:
            save(df, out, ws=STATE.ws)
            return None
        except Exception as e:  # noqa: BLE001 - keep the rows whatever went wrong
            why, spare = reason(e), rescue_path(out).with_suffix(".parquet")
            try:
                saved_to: Any = save(df, str(spare), ws=STATE.ws)
            except Exception:  # noqa: BLE001
                saved_to = None
    else:
        saved_to, why_or_none = save_or_rescue(out, lambda p: save(df, str(p), ws=STATE.ws))
        if why_or_none is None:
            return None
        why = why_or_none
    where = f"the rows are in {saved_to} instead" if saved_to else "nothing was saved"
    typer.echo(f"Warning: cannot write {out}: {why}; {where}", err=True)
    return why


@app.command("calibration")
def calibration_cmd(as_json: JsonOpt = False, as_csv: CsvOpt = False) -> None:
    """Fitted efficiencies by vendor and family: how much of its datasheet peak each vendor's
    software stack reaches on the measurements."""
    data = STATE.ws.factors
    if not data:
        fail("no fitted factors: run `python benchmarks/perf_calibration.py --write`", code=1)
    from chipwatch.perf.factors import factor_rows, vendor_rows

    cat = catalog()
    rows = factor_rows(data, cat)
    vendors = vendor_rows(data, cat)
    from chipwatch.perf.train_calibration import by_vendor, relative_training_efficiency

    train_rows = relative_training_efficiency()
    train_vendor = by_vendor(train_rows).to_dict(orient="records")
    if as_json:
        emit_json(
            {
                "factors": rows,
                "by_vendor": vendors,
                "method": data["method"],
                "error_summary": data["error_summary"],
                "assumptions": data.get("assumptions"),
                "at_bound": data.get("at_bound", []),
                "training_by_vendor": train_vendor,
                "training_rows": train_rows.to_dict(orient="records"),
            }
        )
        return
    if as_csv:
        emit(rows, as_csv=True)
        return
    emit(
        [_rounded(r) for r in rows],
        title="Fitted efficiency factors (share of datasheet dense peak)",
    )
    emit(
        [_rounded(r) for r in vendors],
        title="By vendor: share of datasheet peak the measured software stacks reach "
        "(point-weighted geometric mean of the vendor's fitted families)",
    )
    emit(
        [_rounded(r) for r in train_vendor],
        title="Training (MLPerf time-to-train): peak-normalised speed relative to H100 on the "
        "same benchmark at similar scale (1.0 = as efficient as H100; same tokens assumed)",
    )
    typer.echo(
        "Median absolute error per data set (%): "
        + "; ".join(
            f"{e['dataset']} {e['metric']} (n={e['n']}): fit {e['fit_median_abs_err_pct']:.1f}, "
            f"leave-one-out {e['loo_median_abs_err_pct']:.1f}"
            for e in data["error_summary"]
        )
    )
    typer.echo(
        "Vendors marked 'not measured' use the pooled factors: their software efficiency is not "
        "measured here, so a comparison with them shows hardware, not the ecosystem."
    )
    for b in data.get("at_bound", []):
        who = b.get("family") or b.get("chip") or b.get("default")
        typer.echo(
            f"At a bound: {who} {b['parameter']} = {b['value']:.3g} ({b['bound']}): {b['note']}"
        )


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    """Table view: 2 decimals for efficiencies, 1 for times and errors."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, float):
            v = round(v, 2 if "eff" in k or k == "ttft_queue_share" else 1)
        out[k.replace("_median_abs_err_pct", "_err_%")] = v
    return out


@app.command("models")
def models_cmd(as_json: JsonOpt = False, as_csv: CsvOpt = False) -> None:
    """LLM architectures in the catalog, with derived parameter counts."""
    cat = STATE.ws.models
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
                "attention": m.attention_label,
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


# the commands this module adds to ``chipwatch`` (see chipwatch.cli.LazyGroup)
commands = typer.Typer()
commands.add_typer(app, name="perf")
