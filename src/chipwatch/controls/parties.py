"""The parties to a transaction: where they are headquartered, and whether one is a listed entity.

Screening matches a name against the packaged subset of Entity List entries relevant to AI chips
(``data/rules/entities``) with a fuzzy match whose score is shown; it is not the official
Consolidated Screening List.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from difflib import SequenceMatcher

from pydantic import BaseModel, Field

from chipwatch.controls import destinations as dst
from chipwatch.controls.rules import LegalStatus, ListedEntity, RuleBook

MATCH = 0.88  # a name at least this close to a listed name is a hit
POSSIBLE = 0.70  # closer than this (but below MATCH) is a possible match to review
AFFILIATES_RULE = "2025-09-affiliates-rule"

_SUFFIXES = re.compile(
    r"\b(co|company|corp|corporation|ltd|limited|inc|llc|group|technologies|technology|"
    r"information|development|holdings?|the)\b"
)


def _norm(name: str) -> str:
    s = unicodedata.normalize("NFKC", name).lower()
    s = re.sub(r"[.,()'\"]", " ", s)
    s = _SUFFIXES.sub(" ", s)
    return " ".join(s.split())


def similarity(a: str, b: str) -> float:
    """How close two names are (0-1) after dropping corporate suffixes; containment counts."""
    na, nb = _norm(a), _norm(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    short, long_ = sorted((na, nb), key=len)
    if len(short) >= 2 and re.search(rf"(^|\s){re.escape(short)}(\s|$)", long_):
        return 0.95
    if not short.isascii() and short in long_:  # CJK names have no word boundaries
        return 0.95
    return SequenceMatcher(None, na, nb).ratio()


class ScreeningHit(BaseModel):
    entity: str
    name: str
    matched_on: str = Field(description="the listed name or alias the query matched")
    score: float
    country: str
    listing: str
    added: dt.date
    fr_citation: str
    license_requirement: str
    policy: str
    confidence: str
    source: str
    listed_on_date: bool = Field(description="listed on the date assessed")
    via_affiliates_rule: bool = False


class Parties(BaseModel):
    """Who is on the other side: headquarters, ultimate parent, end user and screening."""

    headquarters: str | None = None
    parent_headquarters: str | None = None
    end_user: str | None = None
    hits: list[ScreeningHit] = Field(default_factory=list)
    possible: list[ScreeningHit] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def hq_codes(self) -> list[str]:
        """Every place a party is headquartered (itself, its ultimate parent, a listed match)."""
        codes = [c for c in (self.headquarters, self.parent_headquarters) if c]
        codes += [h.country for h in self.hits if h.listed_on_date]
        return list(dict.fromkeys(codes))

    @property
    def hq_known(self) -> bool:
        return bool(self.hq_codes)

    @property
    def listed(self) -> list[ScreeningHit]:
        return [h for h in self.hits if h.listed_on_date]


def _best(query: str, e: ListedEntity) -> tuple[float, str]:
    return max(((similarity(query, n), n) for n in [e.name, *e.aliases]), key=lambda t: t[0])


def _hit(e: ListedEntity, score: float, on_name: str, on: dt.date, rb: RuleBook) -> ScreeningHit:
    listed = e.listed(on)
    via = False
    if e.affiliate_of and not listed:
        parent = next((p for p in rb.entities if p.id == e.affiliate_of), None)
        if parent and parent.listed(on) and affiliates_rule_status(on, rb) is LegalStatus.in_force:
            listed, via = True, True
    return ScreeningHit(
        entity=e.id,
        name=e.name,
        matched_on=on_name,
        score=round(score, 3),
        country=e.country,
        listing=e.listing,
        added=e.added,
        fr_citation=e.fr_citation,
        license_requirement=e.license_requirement,
        policy=e.policy.value,
        confidence=e.confidence,
        source=e.source,
        listed_on_date=listed,
        via_affiliates_rule=via,
    )


def affiliates_rule_status(on: dt.date, rb: RuleBook) -> LegalStatus | None:
    """Legal status of the Affiliates (50% ownership) rule on a date, None if not in the data."""
    try:
        ev = rb.rule_set(AFFILIATES_RULE).status_on(on)
    except KeyError:
        return None
    return ev.status if ev else None


def screen(name: str, on: dt.date, rb: RuleBook) -> tuple[list[ScreeningHit], list[ScreeningHit]]:
    """(hits, possible matches) for a party name, best first."""
    scored = [(e, *_best(name, e)) for e in rb.entities]
    scored.sort(key=lambda t: -t[1])
    hits = [_hit(e, s, n, on, rb) for e, s, n in scored if s >= MATCH]
    possible = [_hit(e, s, n, on, rb) for e, s, n in scored if POSSIBLE <= s < MATCH][:3]
    return hits, possible


def parties(
    on: dt.date,
    rb: RuleBook,
    headquarters: str | None = None,
    parent_headquarters: str | None = None,
    end_user: str | None = None,
    owned_by_listed: bool = False,
) -> Parties:
    """Resolve the headquarters codes and screen the end user."""
    hq = dst.effective_code(dst.resolve(headquarters, rb)) if headquarters else None
    parent = (
        dst.effective_code(dst.resolve(parent_headquarters, rb)) if parent_headquarters else None
    )
    p = Parties(headquarters=hq, parent_headquarters=parent, end_user=end_user)
    if end_user:
        p.hits, p.possible = screen(end_user, on, rb)
        for h in p.hits:
            when = "listed" if h.listed_on_date else f"not yet listed on {on} (added {h.added})"
            p.notes.append(
                f"End user {end_user!r} matches {h.name} (on {h.matched_on!r}, score {h.score}): "
                f"{h.listing.replace('_', ' ')}, {when}; {h.fr_citation}"
                + (" (via the Affiliates rule)" if h.via_affiliates_rule else "")
            )
        for h in p.possible:
            p.notes.append(
                f"Possible match for {end_user!r}: {h.name} (score {h.score}); review before "
                "relying on a no-license answer."
            )
        if not p.hits:
            p.notes.append(
                f"{end_user!r} matched no entry of the packaged AI-chip subset of the Entity List "
                "(screen the official Consolidated Screening List too)."
            )
    status = affiliates_rule_status(on, rb)
    if owned_by_listed:
        if status is LegalStatus.in_force:
            p.hits.append(
                ScreeningHit(
                    entity="affiliate-of-listed",
                    name=f"{end_user or 'party'} (50%+ owned by listed entities)",
                    matched_on="--owned-by-listed",
                    score=1.0,
                    country=hq or parent or "CN",
                    listing="entity_list",
                    added=rb.rule_set(AFFILIATES_RULE).effective,
                    fr_citation=rb.rule_set(AFFILIATES_RULE).fr_citation or "",
                    license_requirement="as for the most restrictive listed owner",
                    policy="presumption_of_denial",
                    confidence="high",
                    source=rb.rule_set(AFFILIATES_RULE).sources.get("FR2025AFF", ""),
                    listed_on_date=True,
                    via_affiliates_rule=True,
                )
            )
        elif status is not None:
            p.notes.append(
                f"Affiliates rule is {status.value} on {on}: 50%-owned affiliates of listed "
                "entities are not restricted by it on this date (context only)."
            )
    return p
