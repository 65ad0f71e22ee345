"""``--out`` writes through a temporary file and a rename; when the target cannot be written
the command says why and keeps the result elsewhere (issue 14 probe: a sweep lost to a
read-only path)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from chipwatch.cli import app
from chipwatch.outfile import save_or_rescue, write_atomically

SWEEP = ["perf", "sweep", "h20", "-m", "llama-3.1-8b", "-n", "1", "--batches", "1,8"]


def test_a_failed_write_leaves_the_earlier_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "rows.csv"
    target.write_text("old\n")

    def half_then_fail(p: Path) -> None:
        p.write_text("new, partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_atomically(target, half_then_fail)
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["rows.csv"]  # no temporary file left behind


def test_an_unwritable_target_keeps_the_result_elsewhere(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "rows.csv"
    where, why = save_or_rescue(missing, lambda p: p.write_text("a,b\n"))
    assert why and "No such file" in why
    assert where is not None and where.read_text() == "a,b\n"
    where.unlink()


def test_sweep_out_to_an_unwritable_path_says_why_and_keeps_the_rows(runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "locked" / "sweep.csv"  # the folder does not exist: the write fails
    r = runner.invoke(app, [*SWEEP, "--out", str(out), "--json"])
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    m = re.search(r"cannot write .*sweep\.csv: (.+); the rows are in (\S+) instead", r.output)
    assert m, r.output
    kept = Path(m.group(2))
    assert kept.exists() and kept.read_text().startswith("chip,")
    kept.unlink()


def test_sweep_out_writes_the_file(runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "sweep.csv"
    r = runner.invoke(app, [*SWEEP, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_text().startswith("chip,") and os.listdir(tmp_path) == ["sweep.csv"]


def test_report_out_to_an_unwritable_path_keeps_the_report(runner, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import chipwatch.outfile as outfile

    def refuse(path, write):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outfile, "write_atomically", refuse)
    out = tmp_path / "briefing.html"
    r = runner.invoke(app, ["report", "--out", str(out), "--chips", "h20"])
    assert r.exit_code == 1
    m = re.search(
        r"cannot write .*briefing\.html: Permission denied; the report is in (\S+)", r.output
    )
    assert m, r.output
    kept = Path(m.group(1))
    assert kept.read_text().startswith("<!doctype html") or "<html" in kept.read_text()[:200]
    kept.unlink()
