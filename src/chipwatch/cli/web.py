"""CLI commands for the web domain: ``serve`` (dashboard + API) and ``report`` (HTML briefing)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from chipwatch.cli.kit import STATE, console, emit_json, fail


def serve(
    host: Annotated[
        str, typer.Option(help="Interface to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=256,
            help="Processes for CPU-heavy requests (perf, compare, market), so lookups keep "
            "answering while they run. Default: one per core; 0: threads of the server.",
        ),
    ] = None,
    time_limit: Annotated[
        float,
        typer.Option(
            "--time-limit", min=1, max=3600, help="Seconds one heavy request may run (then 503)."
        ),
    ] = 60.0,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Host header to accept besides the bound address (repeatable), e.g. a name "
            "the server is reached by behind a proxy.",
        ),
    ] = None,
) -> None:
    """Run the dashboard and the REST API (docs at /docs) on the embedded catalog."""
    import uvicorn

    from chipwatch.api import create_app
    from chipwatch.api.security import default_hosts, http_protocol
    from chipwatch.services.work import default_workers

    _check_can_listen(host, port)
    n = default_workers() if workers is None else workers
    app = create_app(
        ws=STATE.ws,
        workers=n,
        time_limit_s=time_limit,
        allowed_hosts=[*default_hosts(host), *(allow_host or [])],
        warm=True,
    )
    app.state.pool.start()
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", http=http_protocol())
    )
    url = f"http://{'localhost' if host in ('0.0.0.0', '::') else host}:{port}/"
    note = f"{n} worker process{'es' if n != 1 else ''}"
    threading.Thread(target=_announce, args=(server, url, note), daemon=True).start()
    try:
        server.run()
    finally:
        app.state.pool.close()


def _announce(server: Any, url: str, note: str, timeout_s: float = 60.0) -> None:
    """Print the dashboard's URL once it answers (not before: a link that fails is no help)."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not server.should_exit:
        if server.started:
            try:
                with urllib.request.urlopen(url + "favicon.ico", timeout=2):
                    pass
            except OSError:
                pass
            else:
                typer.echo(
                    f"chipwatch dashboard on {url}  (API docs: {url}docs; {note}; Ctrl-C stops)"
                )
                return
        time.sleep(0.05)


def _check_can_listen(host: str, port: int) -> None:
    """Fail with one line (exit 2) if the address is taken or not ours, before starting up."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        fail(f"cannot serve on {host}:{port}: {e.strerror or e}")
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as e:
            fail(f"cannot serve on {host}:{port}: {e.strerror or e}")


def report(
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("briefing.html"),
    chips: Annotated[
        list[str] | None,
        typer.Option("--chips", help="Chip ids to feature (repeatable, or comma-separated)."),
    ] = None,
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="Market scenario (default: baseline).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Write a self-contained HTML briefing (charts and plotly.js inlined; opens offline)."""
    from chipwatch.catalog import UnknownIdError
    from chipwatch.report import build_report, chart_count
    from chipwatch.services.errors import ChoiceError

    ids = [c.strip() for item in (chips or []) for c in item.split(",") if c.strip()]
    if not out.parent.is_dir():
        fail(f"folder {out.parent} does not exist")
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from chipwatch.web.views import REPORT_STEPS

    bar = Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
        disable=as_json,
    )
    task = bar.add_task("report", total=REPORT_STEPS)

    def step(name: str) -> None:
        done = bar.tasks[task].description != "report"
        bar.update(task, description=name, advance=1 if done else 0)

    try:
        with bar:
            html = build_report(ids, scenario, ws=STATE.ws, progress=step)
            bar.update(task, completed=REPORT_STEPS)
    except UnknownIdError as e:
        fail(str(e))
    except ChoiceError as e:  # unknown scenario
        hint = e.suggestions
        fail(e.message + (f"; scenarios: {', '.join(hint)}" if hint else ""))
    except ValueError as e:
        fail(str(e).splitlines()[0] if str(e) else "invalid report options")
    from chipwatch.outfile import save_or_rescue

    saved_to, why = save_or_rescue(out, lambda p: p.write_text(html, encoding="utf-8"))
    if why is not None:
        where = f"the report is in {saved_to} instead" if saved_to else "nothing was saved"
        fail(f"cannot write {out}: {why}; {where}", code=1)
    size, n_charts = len(html.encode()), chart_count(html)
    summary = {"out": str(out), "bytes": size, "charts": n_charts}
    if as_json:
        emit_json(summary)
    else:
        typer.echo(f"wrote {out} ({size / 1e6:.1f} MB, {n_charts} charts)")


# the commands this module adds to ``chipwatch`` (see chipwatch.cli.LazyGroup)
commands = typer.Typer()
commands.command("serve")(serve)
commands.command("report")(report)
