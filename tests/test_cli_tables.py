"""CLI tables fit the terminal: no header word split at 80, 100 or 160 columns, numbers
right-aligned, long text cut with an ellipsis, --columns and --wide."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from chipwatch.catalog import COMPARE_FIELDS
from chipwatch.cli import app
from chipwatch.tables import header, render_text

COMMANDS = {
    "chips list": ["chips", "list"],
    "chips compare": ["chips", "compare", "h20", "ascend-910b", "h100-sxm", "mi300x"],
    "perf sweep": [
        "perf", "sweep", "h20", "ascend-910b", "-m", "deepseek-v3",
        "--num-chips", "16", "--batches", "64,256", "--precisions", "fp8",
    ],
    "market check": ["market", "check", "baseline", "--draws", "100"],
}  # fmt: skip
RULE = re.compile(r"^[\s─━]+$")


def run(args: list[str], columns: int) -> str:
    result = CliRunner().invoke(app, args, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


def header_lines(text: str) -> list[str]:
    """The lines of the first table's header: between its title and the rule under it."""
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.strip() and RULE.match(line))
    return lines[1:rule]


@pytest.fixture(scope="module")
def vocabulary() -> dict[str, set[str]]:
    """Each command's header words, from a terminal wide enough for every header on one line
    (plus the field headers a transposed comparison uses)."""
    fields = {w for f in COMPARE_FIELDS for w in header(f).split()} | {"chip"}
    return {
        name: {w for line in header_lines(run(args, 1000)) for w in line.split()} | fields
        for name, args in COMMANDS.items()
    }


@pytest.mark.parametrize("columns", [80, 100, 160])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_no_header_word_is_split(name: str, columns: int, vocabulary: dict) -> None:
    out = run(COMMANDS[name], columns)
    head = header_lines(out)
    words = [w for line in head for w in line.split()]
    assert words, out
    assert not [w for w in words if w not in vocabulary[name]], "\n".join(head)
    assert all(len(line) <= columns for line in head), out


def test_chips_list_at_100_columns_shows_units_in_headers() -> None:
    head = " ".join(header_lines(run(["chips", "list"], 100)))
    for word in ("TFLOPS", "GB", "TB/s"):
        assert word in head.split()


def test_numbers_are_right_aligned_and_text_cut_with_an_ellipsis() -> None:
    rows = [
        {"id": "a", "note": "a long description of the chip", "tdp_w": 5},
        {"id": "b", "note": "short", "tdp_w": 1000},
    ]
    text = render_text(rows, width=24)
    body = text.splitlines()[-2:]
    assert body[0].rstrip().endswith("   5")
    assert body[1].rstrip().endswith("1000")
    assert "…" in body[0]
    assert "TDP" in text.split() and "W" in text.split()


def test_columns_option_picks_the_columns_and_wide_shows_all() -> None:
    out = run(["chips", "list", "--columns", "id,mem_bw_tbs"], 100)
    assert header_lines(out)[-1].split() == ["id", "mem", "BW", "TB/s"] or "TB/s" in out
    assert "TFLOPS" not in " ".join(header_lines(out))
    wide = run(["chips", "list", "--wide"], 100)
    assert "vendor_country" in wide or "country" in " ".join(header_lines(wide))


def test_unknown_column_is_refused_with_the_known_ones() -> None:
    result = CliRunner().invoke(app, ["chips", "list", "--columns", "id,speed"])
    assert result.exit_code == 2
    assert "unknown column(s) speed" in result.output and "mem_bw_tbs" in result.output


def test_chinese_headers_with_lang() -> None:
    out = CliRunner().invoke(app, ["--lang", "zh-CN", "chips", "list"], env={"COLUMNS": "100"})
    assert out.exit_code == 0, out.output
    assert "显存" in out.stdout or "内存" in out.stdout
