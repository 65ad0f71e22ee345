"""The accelerator catalog: typed records loaded from sourced YAML, with lookups and frames."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chipwatch.catalog.loader import LoadError, display_path, load_records
from chipwatch.catalog.schema import Accelerator, Precision, Sourced

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Catalog", "UnknownIdError", "LoadError", "load_catalog", "suggest"]


class UnknownIdError(KeyError):
    """An id that is not in the catalog; carries the closest known ids."""

    def __init__(self, kind: str, wanted: str, suggestions: list[str]):
        self.kind, self.wanted, self.suggestions = kind, wanted, suggestions
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown {kind} {wanted!r}.{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


def suggest(wanted: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Closest ids to a misspelt one (difflib ratio, plus prefix/substring matches)."""
    known = list(known)
    w = wanted.lower().strip()
    close = difflib.get_close_matches(w, known, n=n, cutoff=0.5)
    partial = [k for k in known if w and (w in k or k in w) and k not in close]
    return (close + sorted(partial, key=len))[:n]


def _provenance(c: Accelerator, v: Sourced[Any], unit: str | None) -> dict[str, Any]:
    """Unit, range, citation and caveats of one sourced value (the columns after the value)."""
    return {
        "unit": unit,
        "low": v.low,
        "high": v.high,
        "source": c.cite(v.source),
        "unverified": v.unverified,
        "note": v.note,
    }


COMPARE_FIELDS = [
    "tflops_fp64_dense",
    "tflops_tf32_dense",
    "tflops_fp16_dense",
    "tflops_bf16_dense",
    "tflops_fp8_dense",
    "tops_int8_dense",
    "tflops_fp4_dense",
    "mem_gb",
    "mem_bw_tbs",
    "scaleup_bidir_gbs",
    "host_bidir_gbs",
    "die_area_mm2",
    "tdp_w",
    "price_usd",
]


class Catalog:
    """Accelerators by id, plus the problems met while loading them."""

    def __init__(
        self,
        chips: dict[str, Accelerator],
        errors: list[LoadError] | None = None,
        origins: dict[str, list[str]] | None = None,
    ):
        self._chips = dict(sorted(chips.items()))
        self.errors = errors or []
        self.origins = origins or {}
        self._alias = {a.lower(): c.id for c in self._chips.values() for a in c.aliases}

    def __len__(self) -> int:
        return len(self._chips)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._chips.values())

    def __contains__(self, chip_id: object) -> bool:
        return isinstance(chip_id, str) and self.resolve(chip_id) is not None

    @property
    def ids(self) -> list[str]:
        return list(self._chips)

    def resolve(self, chip_id: str) -> str | None:
        key = chip_id.lower().strip()
        if key in self._chips:
            return key
        return self._alias.get(key)

    def chip(self, chip_id: str) -> Accelerator:
        """The chip with this id or alias; :class:`UnknownIdError` suggests close ids."""
        key = self.resolve(chip_id)
        if key is None:
            raise UnknownIdError("chip", chip_id, suggest(chip_id, [*self._chips, *self._alias]))
        return self._chips[key]

    def chips(self, vendor: str | None = None, segment: str | None = None) -> list[Accelerator]:
        out = list(self._chips.values())
        if vendor:
            out = [c for c in out if c.vendor.lower() == vendor.lower()]
        if segment:
            out = [c for c in out if c.segment.value == segment.lower()]
        return out

    def detail(self, chip_id: str) -> dict[str, Any]:
        """One chip as plain data: its headline row, dies, and every value with its source."""
        c = self.chip(chip_id)
        values = [
            {"field": f, "value": v.value, **_provenance(c, v, unit)}
            for f, v, unit in c.sourced_values()
        ]
        return {
            **c.flat(),
            "aliases": c.aliases,
            "notes": c.notes,
            "dies": [d.model_dump(mode="json") for d in c.dies],
            "values": values,
            "origin": [display_path(f) for f in self.origins.get(c.id, [])],
        }

    def compare(self, chip_ids: list[str]) -> list[dict[str, Any]]:
        """Headline fields side by side, one row per field, with each chip's ratio to the
        first (``chips compare``)."""
        chips = [self.chip(i) for i in chip_ids]
        flats = [c.flat() for c in chips]
        base = flats[0]
        rows = []
        for f in COMPARE_FIELDS:
            row: dict[str, Any] = {"field": f}
            for c, fl in zip(chips, flats, strict=True):
                row[c.id] = fl[f]
            for c, fl in zip(chips[1:], flats[1:], strict=True):
                a, b = base[f], fl[f]
                ratio = (
                    (b / a)
                    if isinstance(a, int | float) and isinstance(b, int | float) and a
                    else None
                )
                row[f"{c.id}/{chips[0].id}"] = round(ratio, 3) if ratio is not None else None
            rows.append(row)
        return rows

    def with_chip(self, chip: Accelerator) -> Catalog:
        """A copy of the catalog with one chip added or replaced (hypothetical chips)."""
        chips = dict(self._chips)
        chips[chip.id] = chip
        return Catalog(chips, self.errors, self.origins)

    # --- frames ----------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per chip, headline numbers in unit-named columns."""
        import pandas as pd

        return pd.DataFrame([c.flat() for c in self]).set_index("id", drop=False)

    def values_frame(self) -> pd.DataFrame:
        """Tidy: one row per chip, field and value, with its source."""
        import pandas as pd

        rows = []
        for c in self:
            for field, v, unit in c.sourced_values():
                num = v.value if isinstance(v.value, int | float) else None
                rows.append(
                    {
                        "chip_id": c.id,
                        "field": field,
                        "value": float(num) if num is not None else None,
                        "value_text": None if num is not None else str(v.value),
                        **_provenance(c, v, unit),
                    }
                )
        return pd.DataFrame(rows)

    def dies_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = []
        for c in self:
            for d in c.dies:
                rows.append(
                    {
                        "chip_id": c.id,
                        "die": d.name,
                        "count": d.count,
                        "area_mm2": d.area_mm2.value if d.area_mm2 else None,
                        "area_source": c.cite(d.area_mm2.source) if d.area_mm2 else None,
                        "area_unverified": d.area_mm2.unverified if d.area_mm2 else None,
                        "process": d.process.value if d.process else None,
                        "foundry": d.foundry.value if d.foundry else None,
                        "processing": d.processing,
                        "memory_die": d.memory_die,
                    }
                )
        return pd.DataFrame(rows)


def load_catalog(catalog_dirs: Iterable[str | Path] = (), env: bool = True) -> Catalog:
    """Packaged accelerators plus user folders (``CHIPWATCH_PATH`` unless ``env`` is False, then
    ``catalog_dirs``)."""
    loaded = load_records("accelerators", Accelerator, catalog_dirs, env)
    return Catalog(loaded.records, loaded.errors, loaded.origins)


PRECISIONS = [p.value for p in Precision]
