"""Structured serving conditions of published measurements (rows M301+).

Rows of ``published-measurements.csv`` keep the table's 19 columns; conditions that have no
column (deployment, layout, batch per rank, MTP, KV precision, catalog ids) open the ``notes``
cell as ``cond{key=value; key=value; ...}`` (keys listed in ``data/measurements/README.md``).
"""

from __future__ import annotations

import re
from typing import Any

COND = re.compile(r"^cond\{([^}]*)\}")


def parse_conditions(notes: str) -> dict[str, str]:
    """The ``cond{...}`` block at the start of ``notes`` as a dict ({} when there is none)."""
    m = COND.match(str(notes))
    if not m:
        return {}
    out: dict[str, str] = {}
    for pair in m.group(1).split("; "):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"bad cond entry {pair!r} in {m.group(0)!r}")
        out[key.strip()] = value.strip()
    return out


def with_conditions(table: Any) -> Any:
    """``table`` (a DataFrame of published rows) plus one ``cond_<key>`` column per condition key;
    rows without a ``cond{...}`` block get empty strings."""
    import pandas as pd

    parsed = [parse_conditions(n) for n in table["notes"].fillna("")]
    extra = pd.DataFrame(parsed, index=table.index).fillna("").add_prefix("cond_")
    return pd.concat([table, extra], axis=1)
