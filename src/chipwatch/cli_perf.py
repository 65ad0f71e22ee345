"""CLI for the perf domain: ``chipwatch perf infer|train|compare|sweep|calibration|models``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from chipwatch.clikit import (
    STATE,
    ColumnsOpt,
    WideOpt,
    catalog,
    chip_or_fail,
    emit,
    emit_json,
    fail,
    split_columns,
)

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
ReplicasOpt = Annotated[
    int | None,
    typer.Option(
        "--replicas",
        help="Independent model copies (no traffic between them); num-chips = replicas x tp x "
        "pp x dp. Chosen if left out.",
    ),
]
SpecOpt = Annotated[
    int,
    typer.Option(
        "--spec-tokens", help="Draft tokens verified per decode step (speculative / MTP); 0 = off."
    ),
]
DisOpt = Annotated[
    bool,
    typer.Option(
        "--disaggregated",
        help="Chips are the decode instance of prefill/decode-disaggregated serving "
        "(TPOT and tokens/s without interleaved prefill).",
    ),
]
AccOpt = Annotated[
    float | None,
    typer.Option(
        "--acceptance",
        help="Mean tokens emitted per decode step with --spec-tokens (1 to N+1, 'accept len').",
    ),
]


def _model(model_id: str) -> Any:
    from chipwatch.catalog import UnknownIdError

    try:
        return STATE.ws.models.model(model_id)
    except UnknownIdError as e:
        fail(str(e))


def _batch(batch: str) -> int | str:
    if batch.lower() == "auto":
        return "auto"
    try:
        return int(batch)
    except ValueError:
        fail(f"--batch must be a positive integer or 'auto', got {batch!r}")


def _workload(options: dict[str, Any]) -> dict[str, Any]:
    """The workload keywords of ``infer`` / ``compare`` from the command's options (its locals)."""
    return {
        "replicas": options["replicas"],
        "disaggregated": options["disaggregated"],
        "spec_tokens": options["spec_tokens"],
        "accepted_per_step": options["acceptance"],
        "num_chips": options["num_chips"],
        "batch": _batch(options["batch"]),
        "input_len": options["input_len"],
        "output_len": options["output_len"],
        "precision": options["precision"],
        "tp": options["tp"],
        "pp": options["pp"],
        "dp": options["dp"],
        "ep": options["ep"],
        "max_tpot_ms": options["max_tpot_ms"],
        "max_ttft_ms": options["max_ttft_ms"],
        "calibration": not options["no_calibration"],
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
    replicas: ReplicasOpt = None,
    max_tpot_ms: TpotOpt = None,
    max_ttft_ms: TtftOpt = None,
    no_calibration: NoCalOpt = False,
    spec_tokens: SpecOpt = 0,
    acceptance: AccOpt = None,
    disaggregated: DisOpt = False,
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
            **_workload(locals()),
            ws=STATE.ws,
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
    replicas: ReplicasOpt = None,
    max_tpot_ms: TpotOpt = None,
    max_ttft_ms: TtftOpt = None,
    no_calibration: NoCalOpt = False,
    spec_tokens: SpecOpt = 0,
    acceptance: AccOpt = None,
    disaggregated: DisOpt = False,
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
            **_workload(locals()),
            ws=STATE.ws,
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
        for key in ("precision_note", "notes"):
            if isinstance(r.get(key), str):
                typer.echo(f"  note: {r[key]}")
    if df["error"].notna().all():
        raise typer.Exit(2)


@perf_app.command("crossover")
def crossover_cmd(
    chip_ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Two or more chip ids.")],
    model: ModelOpt,
    num_chips: ChipsOpt = 8,
    precision: PrecOpt = "fp8",
    batches: Annotated[
        str, typer.Option(help="Comma-separated batch sizes.")
    ] = "1,2,4,8,16,32,64,128,256,512,1024",
    input_len: InOpt = 1024,
    output_len: OutOpt = 256,
    tp: ParOpt = None,
    pp: ParOpt = None,
    dp: ParOpt = None,
    ep: ParOpt = None,
    aggregated: Annotated[
        bool,
        typer.Option(
            "--aggregated",
            help="Decode with prefills interleaved (default: pure decode, as a decode instance).",
        ),
    ] = False,
    no_calibration: NoCalOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Where chips trade places: decode tokens/s per chip against batch size, who leads and why."""
    from chipwatch.perf import PerfInputError
    from chipwatch.perf.crossover import crossover

    chips = [chip_or_fail(c) for c in chip_ids]
    spec = _model(model)
    layout = {k: v for k, v in {"tp": tp, "pp": pp, "dp": dp, "ep": ep}.items() if v is not None}
    try:
        r = crossover(
            chips,
            spec,
            num_chips=num_chips,
            precision=precision,
            batches=_ints(batches, "--batches"),
            input_len=input_len,
            output_len=output_len,
            disaggregated=not aggregated,
            calibration=not no_calibration,
            **layout,
            ws=STATE.ws,
        )
    except PerfInputError as e:
        fail(str(e))
    if as_json:
        emit_json(r)
        return
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
    emit(rows, title=f"{spec.id} on {num_chips} chips, {precision} requested, {mode}")
    typer.echo(r.summary)
    for f in r.flips:
        typer.echo(
            f"flip between batch {f.after_batch} and {f.at_batch}: {f.from_chip} -> {f.to_chip}"
        )
    for n in r.notes:
        typer.echo(f"Note: {n}")


@perf_app.command("train")
def train_cmd(
    chip: Annotated[str, typer.Option("--chip", "-c", help="Chip id.")],
    model: ModelOpt,
    num_chips: ChipsOpt = 1,
    tokens: Annotated[float, typer.Option("--tokens", help="Training tokens (e.g. 15e12).")] = 1e12,
    seq_len: Annotated[int, typer.Option("--seq-len", help="Sequence length.")] = 4096,
    global_batch_tokens: Annotated[
        int, typer.Option("--global-batch-tokens", help="Tokens per optimizer step.")
    ] = 4 * 1024 * 1024,
    precision: PrecOpt = "bf16",
    tp: ParOpt = None,
    pp: ParOpt = None,
    ep: ParOpt = None,
    zero_stage: Annotated[int, typer.Option("--zero-stage", help="ZeRO stage 0-3.")] = 1,
    recompute: Annotated[
        str | None, typer.Option(help="none, selective or full (chosen if left out).")
    ] = None,
    no_calibration: NoCalOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Step time, tokens/s, MFU, days to train and memory per chip."""
    from chipwatch.perf import PerfInputError
    from chipwatch.perf.training import train

    acc = chip_or_fail(chip)
    spec = _model(model)
    if recompute is not None and recompute not in ("none", "selective", "full"):
        fail(f"--recompute must be none, selective or full, got {recompute!r}")
    try:
        r = train(
            acc,
            spec,
            num_chips=num_chips,
            tokens=tokens,
            seq_len=seq_len,
            global_batch_tokens=global_batch_tokens,
            precision=precision,
            tp=tp,
            pp=pp,
            ep=ep,
            zero_stage=zero_stage,
            recompute=recompute,  # type: ignore[arg-type]
            calibration=not no_calibration,
            ws=STATE.ws,
        )
    except PerfInputError as e:
        fail(str(e))
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
    emit(rows, title=f"train {spec.id} on {num_chips} x {acc.id}, {tokens:.3g} tokens")
    for n in r.notes:
        typer.echo(f"Note: {n}")


def _ints(text: str, name: str) -> list[int]:
    try:
        vals = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        fail(f"{name} must be comma-separated integers, got {text!r}")
    if not vals or min(vals) < 1:
        fail(f"{name} must list positive integers, got {text!r}")
    return vals


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


@perf_app.command("sweep")
def sweep_cmd(
    chip_ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Chip ids.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model ids, comma-separated.")],
    precisions: Annotated[str, typer.Option("--precisions", help="Comma-separated.")] = "bf16,fp8",
    num_chips: Annotated[
        str, typer.Option("--num-chips", "-n", help="Comma-separated.")
    ] = "1,2,4,8",
    batches: Annotated[str, typer.Option("--batches", help="Comma-separated.")] = (
        "1,2,4,8,16,32,64,128,256,512,1024"
    ),
    input_lens: Annotated[str, typer.Option("--input-lens", help="Comma-separated.")] = "1024",
    output_lens: Annotated[str, typer.Option("--output-lens", help="Comma-separated.")] = "256",
    max_tpot_ms: TpotOpt = None,
    max_ttft_ms: TtftOpt = None,
    best_by: Annotated[
        str, typer.Option("--best-by", help="Column to maximise (tpot_s/ttft_s: minimise).")
    ] = "output_tokens_per_s",
    out: Annotated[
        str | None,
        typer.Option("--out", help="Save all rows: .parquet, .csv, or .duckdb (table perf_sweep)."),
    ] = None,
    no_calibration: NoCalOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    columns: ColumnsOpt = None,
    wide: WideOpt = False,
) -> None:
    """Evaluate a grid of configurations; print the best one per chip (and model)."""
    import time

    from chipwatch.perf import PerfInputError
    from chipwatch.perf.sweep import best_per_chip, save, sweep

    chips = [chip_or_fail(c) for c in chip_ids]
    specs = [_model(m) for m in model.split(",") if m.strip()]
    precs = [p.strip() for p in precisions.split(",") if p.strip()]
    t0 = time.perf_counter()
    try:
        df = sweep(
            chips,
            specs,
            precisions=precs,
            num_chips=_ints(num_chips, "--num-chips"),
            batches=_ints(batches, "--batches"),
            input_lens=_ints(input_lens, "--input-lens"),
            output_lens=_ints(output_lens, "--output-lens"),
            max_tpot_ms=max_tpot_ms,
            max_ttft_ms=max_ttft_ms,
            calibration=not no_calibration,
            ws=STATE.ws,
        )
        best = best_per_chip(df, best_by, group=("chip", "model"))
    except PerfInputError as e:
        fail(str(e))
    elapsed = time.perf_counter() - t0
    if out:
        save(df, out, ws=STATE.ws)
    rows = best.to_dict(orient="records")
    if as_json or as_csv:
        emit(rows, as_json, as_csv)
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
    if out:
        typer.echo(f"wrote {len(df):,} rows to {out}")


@perf_app.command("calibration")
def calibration_cmd(as_json: JsonOpt = False, as_csv: CsvOpt = False) -> None:
    """Fitted efficiencies by vendor and family: how much of its datasheet peak each vendor's
    software stack reaches on the measurements."""
    data = STATE.ws.factors
    if not data:
        fail("no fitted factors: run `python benchmarks/perf_calibration.py --write`", code=1)
    cat = catalog()
    vendor_of_family = {c.family: c.vendor for c in cat if c.family}
    rows = []
    for fam, f in sorted(
        data["families"].items(), key=lambda kv: (vendor_of_family.get(kv[0], ""), kv[0])
    ):
        vendor = vendor_of_family.get(fam, "?")
        rows.append(
            _factor_row(
                vendor,
                fam,
                "(family)",
                f,
                ttft_queue_share=f.get("ttft_queue_share"),
                points=f["n_points"],
                fit_err_pct=f.get("fit_median_abs_err_pct"),
            )
        )
        for chip_id, c in sorted(data.get("chips", {}).items()):
            if chip_id in cat and cat.chip(chip_id).family == fam:
                rows.append(
                    _factor_row(
                        vendor,
                        fam,
                        chip_id,
                        c,
                        ttft_queue_share=None,
                        points=c["n_points"],
                        fit_err_pct=c.get("fit_median_abs_err_pct"),
                    )
                )
    d = data["default"]
    rows.append(
        _factor_row(
            "(other)",
            "(default)",
            "(no measurements)",
            d,
            ttft_queue_share=d.get("ttft_queue_share"),
            points=0,
            fit_err_pct=None,
        )
    )
    vendors = _vendor_rows(data, cat)
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


def _factor_row(
    vendor: str,
    family: str,
    chip: str,
    f: dict[str, Any],
    *,
    ttft_queue_share: float | None,
    points: int,
    fit_err_pct: float | None,
) -> dict[str, Any]:
    """One row of the calibration table from a fitted-factor record (times in ms and us)."""
    return {
        "vendor": vendor,
        "family": family,
        "chip": chip,
        "compute_eff": f["compute"],
        "memory_eff": f["memory"],
        "link_eff": f["link"],
        "overhead_ms": f["overhead_s"] * 1e3,
        "collective_us": f["link_latency_s"] * 1e6,
        "ttft_queue_share": ttft_queue_share,
        "points": points,
        "fit_median_abs_err_pct": fit_err_pct,
    }


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    """Table view: 2 decimals for efficiencies, 1 for times and errors."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, float):
            v = round(v, 2 if "eff" in k or k == "ttft_queue_share" else 1)
        out[k.replace("_median_abs_err_pct", "_err_%")] = v
    return out


def _vendor_rows(data: dict[str, Any], cat: Any) -> list[dict[str, Any]]:
    """One row per catalog vendor: fitted efficiencies where measured, else 'not measured'."""
    import math

    fams = data.get("families", {})
    by_vendor: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    vendors = sorted({c.vendor for c in cat})
    fam_vendor = {c.family: c.vendor for c in cat if c.family}
    for fam, f in fams.items():
        by_vendor.setdefault(fam_vendor.get(fam, "?"), []).append((fam, f))
    out = []
    for v in vendors:
        items = by_vendor.get(v, [])
        n = sum(int(f["n_points"]) for _, f in items)
        if not items or n == 0:
            d = data["default"]
            out.append(
                {
                    "vendor": v,
                    "measured": "not measured (pooled default)",
                    "families": "",
                    "points": 0,
                    "compute_eff": d["compute"],
                    "memory_eff": d["memory"],
                    "link_eff": d["link"],
                }
            )
            continue

        def gmean(key: str, items: list[tuple[str, dict[str, Any]]] = items, n: int = n) -> float:
            return math.exp(sum(f["n_points"] * math.log(f[key]) for _, f in items) / n)

        out.append(
            {
                "vendor": v,
                "measured": "fitted",
                "families": ", ".join(sorted(fam for fam, _ in items)),
                "points": n,
                "compute_eff": gmean("compute"),
                "memory_eff": gmean("memory"),
                "link_eff": gmean("link"),
            }
        )
    return out


@perf_app.command("models")
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
