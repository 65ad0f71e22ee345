"""Terminal tables that fit the screen: headers with units, numbers right-aligned, long text cut
with an ellipsis, columns dropped (in the caller's order of priority) rather than folded
mid-word, and a transposed record view when even that does not fit.

>>> lines = render_text([{"id": "h20", "mem_bw_tbs": 4.0}], width=40).splitlines()
>>> "mem BW TB/s" in lines[0] or "mem BW TB/s" in lines[1]
True
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from chipwatch.i18n import N_

# Unit suffixes in field names (decimal units, see the catalog schema) and how headers show them.
UNITS = {
    "tflops": "TFLOPS",
    "tops": "TOPS",
    "tbs": "TB/s",
    "gbs": "GB/s",
    "gb": "GB",
    "mb": "MB",
    "w": "W",
    "usd": "USD",
    "mm2": "mm²",
    "ms": "ms",
    "s": "s",
    "pct": "%",
    "mhz": "MHz",
    "nm": "nm",
    "tok": "tok",
}
WORDS = {
    "bw": "BW",
    "bf16": "BF16",
    "fp8": "FP8",
    "fp16": "FP16",
    "fp32": "FP32",
    "fp64": "FP64",
    "fp4": "FP4",
    "tf32": "TF32",
    "int8": "INT8",
    "int4": "INT4",
    "tpp": "TPP",
    "tpot": "TPOT",
    "ttft": "TTFT",
    "eccn": "ECCN",
    "mfu": "MFU",
    "ep": "EP",
    "tp": "TP",
    "pp": "PP",
    "dp": "DP",
    "p10": "P10",
    "p50": "P50",
    "p90": "P90",
    "id": "id",
}
# Fields whose header is not a plain spelling-out of the name.
HEADERS = {
    "tflops_bf16_dense": N_("BF16 TFLOPS"),
    "tflops_fp8_dense": N_("FP8 TFLOPS"),
    "tflops_fp16_dense": N_("FP16 TFLOPS"),
    "tflops_fp32_dense": N_("FP32 TFLOPS"),
    "tflops_fp64_dense": N_("FP64 TFLOPS"),
    "tflops_tf32_dense": N_("TF32 TFLOPS"),
    "tflops_fp4_dense": N_("FP4 TFLOPS"),
    "tops_int8_dense": N_("INT8 TOPS"),
    "mem_gb": N_("memory GB"),
    "mem_bw_tbs": N_("mem BW TB/s"),
    "scaleup_bidir_gbs": N_("scale-up GB/s"),
    "host_bidir_gbs": N_("host GB/s"),
    "die_area_mm2": N_("die mm²"),
    "tdp_w": N_("TDP W"),
    "price_usd": N_("price USD"),
    "vendor_country": N_("country"),
    "performance_density": N_("perf. density"),
    "output_tokens_per_s": N_("output tok/s"),
    "output_tokens_per_s_per_chip": N_("tok/s per chip"),
    "precision_used": N_("precision"),
    "num_chips": N_("chips"),
    "usd_per_million_tokens": N_("USD per M tok"),
    "tpp_precision": N_("TPP precision"),
}
EDGE = -2  # n columns take sum(widths) + 3 (n - 1) characters; one spare for the cursor
TEXT_MIN = 6  # a text column is never cut below this many characters (ellipsis included)


def header(field: str, lang: str | None = None) -> str:
    """A column header for a field name: words, units spelled as units (``mem_bw_tbs`` ->
    ``mem BW TB/s``); the Chinese interface translates it through the message catalog."""
    if lang and lang != "en":
        from chipwatch.i18n import gettext

        text = header(field)
        out = gettext(text, lang)
        return out
    if field in HEADERS:
        return HEADERS[field]
    parts = field.split("_")
    if len(parts) > 1 and parts[-1] in UNITS:
        words = [WORDS.get(p, p) for p in parts[:-1]]
        return " ".join([*words, UNITS[parts[-1]]])
    return " ".join(WORDS.get(p, p) for p in parts)


def cell(v: Any) -> str:
    """A value as text: 3-4 significant figures, thousands separated, ``-`` for missing."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isnan(v):
            return "-"
        if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
            return f"{v:.3g}"
        return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10000 else str(v)
    if isinstance(v, Enum):
        return str(v.value)
    if isinstance(v, list | tuple):
        return ", ".join(cell(x) for x in v)
    return str(v)


def is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    numeric: bool
    natural: int  # widest cell or header, in characters
    minimum: int  # narrowest it may be drawn without splitting a word or a number

    @property
    def cost(self) -> int:
        return self.minimum + 3  # one space either side and a separator


def _width(text: str) -> int:
    """Terminal cells the text takes (CJK characters take two)."""
    from rich.cells import cell_len

    return cell_len(text)


def _longest_word(text: str) -> int:
    return max((_width(w) for w in re.split(r"\s+", text) if w), default=1)


def columns_for(
    rows: Sequence[dict[str, Any]], fields: Sequence[str], lang: str | None = None
) -> list[Column]:
    out = []
    for i, f in enumerate(fields):
        vals = [r.get(f) for r in rows]
        numeric = all(v is None or is_number(v) for v in vals)
        texts = [cell(v) for v in vals]
        head = header(f, lang)
        widest = max((_width(t) for t in texts), default=1)
        word = _longest_word(head)
        # numbers and the first (key) column are never cut
        keep_whole = numeric or i == 0
        minimum = max(widest, word) if keep_whole else max(word, min(widest, TEXT_MIN))
        out.append(Column(f, head, numeric, max(widest, _width(head)), minimum))
    return out


def fit(cols: list[Column], width: int) -> list[Column]:
    """The leading columns (callers list them by priority) that fit ``width`` characters; the
    first column is always kept."""
    kept: list[Column] = []
    used = EDGE
    for c in cols:
        if kept and used + c.cost > width:
            continue
        kept.append(c)
        used += c.cost
    return kept


def natural_width(
    rows: Sequence[dict[str, Any]], fields: Sequence[str], lang: str | None = None
) -> int:
    """Characters the table takes with every column at its natural width."""
    return EDGE + sum(c.natural + 3 for c in columns_for(rows, fields, lang))


def widths(kept: list[Column], width: int) -> list[int]:
    """Each kept column's width: its minimum, then the space left shared out, in order,
    up to each column's natural width."""
    out = [c.minimum for c in kept]
    spare = width - EDGE - sum(c.cost for c in kept)
    for i, c in enumerate(kept):
        if spare <= 0:
            break
        grow = min(spare, c.natural - out[i])
        if grow > 0:
            out[i] += grow
            spare -= grow
    return out


def choose_fields(
    rows: Sequence[dict[str, Any]],
    default: Sequence[str] | None,
    selected: Sequence[str] | None = None,
    wide: bool = False,
) -> list[str]:
    """The fields to draw: ``--columns`` if given (unknown names refused with the known ones),
    every field with ``--wide``, else the command's default set."""
    known = list(dict.fromkeys(k for r in rows for k in r)) if rows else list(default or [])
    if selected:
        unknown = [c for c in selected if c not in known]
        if unknown and rows:
            raise ValueError(f"unknown column(s) {', '.join(unknown)}; columns: {', '.join(known)}")
        return list(selected)
    if wide or not default:
        return known
    return [c for c in default if c in known] if rows else list(default)


def render_text(
    rows: Sequence[dict[str, Any]],
    fields: Sequence[str] | None = None,
    width: int = 100,
    title: str | None = None,
    lang: str | None = None,
    transpose_if_needed: str | None = None,
    drop_columns: bool = True,
) -> str:
    """The table as text ``width`` characters wide (see :func:`table`)."""
    from rich.console import Console

    con = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    con.print(table(rows, fields, width, title, lang, transpose_if_needed, drop_columns))
    return con.export_text()


def table(
    rows: Sequence[dict[str, Any]],
    fields: Sequence[str] | None = None,
    width: int = 100,
    title: str | None = None,
    lang: str | None = None,
    transpose_if_needed: str | None = None,
    drop_columns: bool = True,
) -> Any:
    """A Rich renderable for ``rows``: the columns that fit ``width``. With
    ``transpose_if_needed`` (the name for the new key column), a table too wide for ``width``
    is drawn transposed: its columns become rows, keyed by the first column's values."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    fields = list(fields or (list(rows[0]) if rows else []))
    cols = columns_for(rows, fields, lang)
    needed = EDGE + sum(c.cost for c in cols)
    if transpose_if_needed and needed > width and rows:
        key = cols[0].field
        flipped = [
            {transpose_if_needed: c.header, **{cell(r.get(key)): r.get(c.field) for r in rows}}
            for c in cols[1:]
        ]
        return table(flipped, None, width, title, None, None, drop_columns)
    kept = fit(cols, width) if drop_columns else cols
    sizes = widths(kept, width) if drop_columns else [c.natural for c in kept]
    t = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for c, w in zip(kept, sizes, strict=True):
        t.add_column(
            Text(c.header, no_wrap=False, overflow="fold"),
            justify="right" if c.numeric else "left",
            no_wrap=True,
            overflow="ellipsis",
            width=w,
        )
    for r in rows:
        t.add_row(*(Text(cell(r.get(c.field)), no_wrap=True, overflow="ellipsis") for c in kept))
    if len(kept) < len(cols):
        left = [c.field for c in cols if c not in kept]
        from chipwatch.i18n import gettext

        t.caption = gettext("{n} more column(s) with --wide or --columns: {names}", lang).format(
            n=len(left), names=", ".join(left)
        )
    return t
