"""Languages of the interface: English (the source strings) and Simplified Chinese.

Messages are gettext catalogs managed with Babel (``src/chipwatch/locale``; extract with
``pybabel extract -F babel.cfg``, update with ``pybabel update``); the ``.po`` files are read and
compiled in memory on first use, so no binary ``.mo`` file sits in the repository. Chinese chip
and vendor names are data with sources (:mod:`chipwatch.i18n.names`).

>>> gettext("Chips", "zh-CN")
'芯片'
>>> gettext("Chips", "en")
'Chips'
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = {"en": "English", "zh-CN": "简体中文"}
DEFAULT = "en"
_ALIASES = {"zh": "zh-CN", "zh-cn": "zh-CN", "zh_cn": "zh-CN", "zh-hans": "zh-CN", "cn": "zh-CN"}


def normalize(lang: str | None) -> str | None:
    """A supported language code for ``lang`` (``zh``, ``zh_CN`` ... -> ``zh-CN``), else None."""
    if not lang:
        return None
    key = lang.strip().lower()
    if key in ("en", "en-us", "en-gb", "en_us", "en_gb"):
        return "en"
    return _ALIASES.get(key) or ("zh-CN" if key.startswith("zh") else None)


def from_accept_language(header: str | None) -> str | None:
    """The first supported language in an HTTP ``Accept-Language`` header."""
    for part in (header or "").split(","):
        lang = normalize(part.split(";")[0])
        if lang:
            return lang
    return None


@functools.lru_cache(maxsize=4)
def translations(lang: str) -> Any:
    """The compiled message catalog for ``lang`` (NullTranslations for English)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import NullTranslations, Translations

    if lang == DEFAULT:
        return NullTranslations()
    po = LOCALE_DIR / lang.replace("-", "_") / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang.replace("-", "_"))
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def gettext(message: str, lang: str | None) -> str:
    """``message`` in ``lang`` (the English text when the catalog has no translation)."""
    if not lang or lang == DEFAULT:
        return message
    out: str = translations(lang).gettext(message)
    return out


def ngettext(singular: str, plural: str, n: int, lang: str | None) -> str:
    if not lang or lang == DEFAULT:
        return singular if n == 1 else plural
    out: str = translations(lang).ngettext(singular, plural, n)
    return out


def format_number(value: float, lang: str | None, digits: int = 3) -> str:
    """A number as the language writes it; Chinese uses 万 (1e4) and 亿 (1e8) for large counts.

    >>> format_number(1_250_000, "zh-CN")
    '125万'
    >>> format_number(1_250_000, "en")
    '1,250,000'
    """
    if lang == "zh-CN" and abs(value) >= 1e4:
        for unit, scale in (("亿", 1e8), ("万", 1e4)):
            if abs(value) >= scale:
                return f"{value / scale:.{digits}g}{unit}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}g}"


def N_(message: str) -> str:
    """Mark a message for extraction into the catalogs without translating it here (it is
    translated where it is shown, in the reader's language)."""
    return message
