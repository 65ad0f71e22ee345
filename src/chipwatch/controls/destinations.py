"""Destinations: ISO 3166 codes, the EAR country groups they belong to on a date, and matching."""

from __future__ import annotations

from datetime import date

from chipwatch.catalog import suggest
from chipwatch.controls.errors import ControlsInputError
from chipwatch.controls.rules import Country, RuleBook, Where


def resolve(code: str, rb: RuleBook) -> Country:
    """The country for an ISO alpha-2 code or an exact name; unknown ones suggest close codes."""
    key = (code or "").strip()
    up = key.upper()
    if up in rb.countries:
        return rb.countries[up]
    for c in rb.countries.values():
        if key.lower() in (c.name.lower(), c.alpha_3.lower()):
            return c
    names = {c.name.lower(): c.id for c in rb.countries.values()}
    close = suggest(up, list(rb.countries), n=3)
    close += [names[n] for n in suggest(key.lower(), list(names), n=3) if names[n] not in close]
    hint = ", ".join(f"{c} ({rb.countries[c].name})" for c in close[:4])
    raise ControlsInputError(
        f"unknown destination {code!r}: use an ISO 3166-1 alpha-2 code such as CN, HK, MO, AE, "
        f"SA, VN, DE or US" + (f"; did you mean {hint}?" if hint else "")
    )


def effective_code(country: Country) -> str:
    """The code the EAR treats this destination as (Hong Kong -> CN)."""
    return country.treated_as or country.id


def groups_of(code: str, on: date, rb: RuleBook) -> list[str]:
    """Country groups (and AI Diffusion tiers) that hold this code on this date."""
    return [g.id for g in rb.groups.values() if any(m.code == code and m.on(on) for m in g.members)]


def unverified_groups(code: str, on: date, rb: RuleBook) -> list[str]:
    return [g for g in groups_of(code, on, rb) if rb.groups[g].unverified]


def matches(where: Where, code: str, on: date, rb: RuleBook) -> bool:
    """Does a destination selector cover this (effective) code on this date?"""
    if code == "US":  # shipping within the United States is not an export
        return False
    gs = set(groups_of(code, on, rb))
    hit = where.any or code in where.codes or bool(gs & set(where.groups))
    if not hit:
        return False
    return not (code in where.except_codes or gs & set(where.except_groups))


def describe(where: Where) -> str:
    s = "any destination" if where.any else (", ".join([*where.codes, *where.groups]) or "nowhere")
    ex = [*where.except_codes, *where.except_groups]
    return s + (f" except {', '.join(ex)}" if ex else "")
