"""Pages in the reader's language: which language a request asks for, and chart figures with
their titles, axis titles, legend names and chip labels translated through the message catalog.

Figures are computed (and cached) once in English; translation is a walk over the figure JSON:
strings with a catalog entry are replaced, chip ids used as labels become the chip's Chinese
short name (``ascend-910b`` -> ``昇腾 910B``); ids in ``customdata`` stay ids, so clicks still
name the chip.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chipwatch.i18n import DEFAULT, from_accept_language, gettext, normalize

if TYPE_CHECKING:
    from chipwatch.catalog import Catalog

COOKIE = "lang"
TEXT_KEYS = ("name", "text")  # trace keys that hold labels


def request_lang(request: Any) -> tuple[str, bool]:
    """The page language (``?lang=``, then the remembered cookie, then the browser's
    Accept-Language, then English) and whether the query asked for it (to remember it)."""
    asked = normalize(request.query_params.get("lang"))
    if asked:
        return asked, True
    remembered = normalize(request.cookies.get(COOKIE))
    if remembered:
        return remembered, False
    return from_accept_language(request.headers.get("accept-language")) or DEFAULT, False


def chip_labels(cat: Catalog, lang: str) -> dict[str, str]:
    """Chip id -> the label charts show in ``lang`` (only where it differs from the id)."""
    from chipwatch.i18n.names import short_name

    labels = {}
    for cid in cat.ids:
        label = short_name(cid, cat.chip(cid).vendor, lang)
        if label != cid:
            labels[cid] = label
    return labels


def text(s: str, lang: str, labels: dict[str, str] | None = None) -> str:
    """One label in ``lang``: a catalog entry, a known pattern, or a chip id's local name."""
    if not s or lang == DEFAULT:
        return s
    if labels and s in labels:
        return labels[s]
    out = gettext(s, lang)
    if out != s:
        return out
    from chipwatch.web.messages import patterns

    for pattern, msgid in patterns():
        m = pattern.match(s)
        if m:
            translated = gettext(msgid, lang)
            if translated != msgid:
                return translated.format(*(text(g, lang, labels) for g in m.groups()))
    return s


def _title(obj: Any, lang: str, labels: dict[str, str]) -> None:
    if isinstance(obj, dict):
        t = obj.get("title")
        if isinstance(t, dict) and isinstance(t.get("text"), str):
            t["text"] = text(t["text"], lang, labels)
        elif isinstance(t, str):
            obj["title"] = text(t, lang, labels)


def figure(fig: dict[str, Any], lang: str, labels: dict[str, str]) -> dict[str, Any]:
    """Translate a figure dict in place (and return it)."""
    layout = fig.get("layout", {})
    _title(layout, lang, labels)
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")):
            _title(axis, lang, labels)
    _title(layout.get("legend"), lang, labels)
    for ann in layout.get("annotations", []) or []:
        if ann.get("name") == "chip-label":  # "h20/h20-141g": each chip's label
            ann["text"] = "/".join(labels.get(x, x) for x in ann["text"].split("/"))
        elif isinstance(ann.get("text"), str):
            ann["text"] = text(ann["text"], lang, labels)
    for trace in fig.get("data", []):
        for key in TEXT_KEYS:
            v = trace.get(key)
            if isinstance(v, str):
                trace[key] = text(v, lang, labels)
            elif isinstance(v, list):
                trace[key] = [text(x, lang, labels) if isinstance(x, str) else x for x in v]
        for axis_key in ("x", "y"):
            v = trace.get(axis_key)
            if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
                trace[axis_key] = [labels.get(x, x) for x in v]
    return fig


def chart_card(card: dict[str, Any], lang: str, labels: dict[str, str]) -> dict[str, Any]:
    """A chart card (question, explanation, figure JSON) in ``lang``."""
    if lang == DEFAULT:
        return card
    out = dict(card)
    for key in ("question", "explain", "unavailable"):
        if isinstance(out.get(key), str):
            out[key] = text(out[key], lang, labels)
    if isinstance(out.get("figure"), str):
        fig = figure(json.loads(out["figure"]), lang, labels)
        out["figure"] = json.dumps(fig, ensure_ascii=False, separators=(",", ":")).replace(
            "</", "<\\/"
        )
    return out


def policy_words(policy: str | None, lang: str = DEFAULT) -> str:
    """A licensing policy in words, in ``lang`` (``presumption_of_denial`` -> 推定拒绝)."""
    from chipwatch.web.messages import policy_words as words

    return gettext(words(policy), lang)
