"""Chinese names of chips and vendors (data/i18n/names.zh-CN.yaml), each with its source.

>>> chip_name("ascend-910b2", "Huawei Ascend 910B2", "Huawei", "zh-CN")
'华为昇腾 910B2'
>>> chip_name("h20", "NVIDIA H20 (HGX, 96 GB)", "NVIDIA", "zh-CN")
'英伟达 H20 (HGX, 96 GB)'
>>> chip_name("h20", "NVIDIA H20 (HGX, 96 GB)", "NVIDIA", "en")
'NVIDIA H20 (HGX, 96 GB)'
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "i18n" / "names.zh-CN.yaml"


@dataclass(frozen=True)
class LocalName:
    text: str
    source: str  # the citation the key in the file's ``sources`` table stands for
    unverified: bool = False


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    import yaml

    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    sources: dict[str, str] = raw["sources"]

    def entry(v: dict[str, Any]) -> LocalName:
        return LocalName(v["zh"], sources.get(v["source"], v["source"]), bool(v.get("unverified")))

    return {
        "vendors": {k: entry(v) for k, v in raw["vendors"].items()},
        "chips": {k: entry(v) for k, v in raw["chips"].items()},
    }


def vendor_local(vendor: str) -> LocalName | None:
    """The vendor's Chinese name with its source, or None where none is recorded."""
    out: LocalName | None = _table()["vendors"].get(vendor)
    return out


def chip_local(chip_id: str) -> LocalName | None:
    out: LocalName | None = _table()["chips"].get(chip_id)
    return out


def vendor_name(vendor: str, lang: str | None) -> str:
    if lang != "zh-CN":
        return vendor
    local = vendor_local(vendor)
    return local.text if local else vendor


def chip_name(chip_id: str, name: str, vendor: str, lang: str | None) -> str:
    """The chip's name in ``lang``: the recorded Chinese name, else the English name with the
    vendor written in Chinese."""
    if lang != "zh-CN":
        return name
    local = chip_local(chip_id)
    if local:
        return local.text
    v = vendor_local(vendor)
    if v and name.startswith(vendor):
        return v.text + name[len(vendor) :]
    return name


def short_name(chip_id: str, vendor: str, lang: str | None) -> str:
    """A short label for charts: the chip id, prefixed with the Chinese series name where one is
    recorded (``昇腾 910b``), so Chinese readers recognise it at a glance."""
    if lang != "zh-CN":
        return chip_id
    local = chip_local(chip_id)
    if local:
        # the recorded name without its vendor prefix and parenthesis: 华为昇腾 910B2 -> 昇腾 910B2
        text = local.text.split("（")[0]
        v = vendor_local(vendor)
        if v and text.startswith(v.text) and len(text) > len(v.text):
            text = text[len(v.text) :].strip()
        return text
    return chip_id
