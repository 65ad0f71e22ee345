"""Determination memo: a self-contained Markdown or HTML record of one classification."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from chipwatch import __version__
from chipwatch.controls.classifier import Classification
from chipwatch.controls.errors import ControlsInputError
from chipwatch.i18n import N_, gettext
from chipwatch.i18n.names import chip_name
from chipwatch.i18n.words import policy_words
from chipwatch.workspace import Workspace, resolve

NOT_LEGAL_ADVICE = N_(
    "This record is produced by software from public sources. It is not legal "
    "advice and not a BIS classification; confirm with counsel or a BIS "
    "commodity classification request before relying on it."
)
# Table headers and result words, for the message catalogs (translated where written).
MEMO_WORDS = [
    N_("Not legal advice."), N_("missing"), N_("Subject to the EAR"), N_("not assessed"),
    N_("undetermined"),
    N_("Chip"), N_("Date assessed"), N_("Destination"), N_("ECCN paragraph"),
    N_("License required"), N_("Licensing policy"), N_("Basis"), N_("from"), N_("given TPP"),
    N_("applicable die area"), N_("datacenter"), N_("DRAM bandwidth"), N_("yes"), N_("no"),
    N_("field"), N_("value"), N_("unit"), N_("source"), N_("unverified"), N_("scope"),
    N_("comparison"), N_("threshold"), N_("margin"), N_("margin %"), N_("result"),
]  # fmt: skip


def _num(v: object) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
    return "unknown" if v is None else str(v)


def memo_markdown(
    c: Classification,
    generated: dt.datetime | None = None,
    *,
    ws: Workspace | None = None,
    lang: str | None = None,
) -> str:
    """The memo as Markdown: inputs with sources, rule text, each test, result, versions.
    ``lang="zh-CN"``: headings, labels and the disclaimer in Simplified Chinese (rule text,
    sources and notes stay as published, in English)."""

    def _(message: str) -> str:
        return gettext(message, lang)

    yes, no = _("yes"), _("no")
    name = chip_name(c.chip, c.chip_name, "", lang) if lang else c.chip_name
    rb = resolve(ws).rulebook
    when = (generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    what = c.eccn or (
        _("excluded by {rule}").format(rule=c.excluded_by)
        if c.excluded_by
        else _("no 3A090 paragraph met")
    )
    lines = [
        "# " + _("Export-control determination: {chip}").format(chip=name),
        "",
        f"- **{_('Chip')}:** {name} (`{c.chip}`)",
        f"- **{_('Date assessed')}:** {c.date}",
        f"- **{_('Destination')}:** {c.destination} ({c.destination_name})"
        + (
            "; " + _("party headquartered in {country}").format(country=c.headquarters)
            if c.headquarters
            else ""
        ),
        f"- **{_('ECCN paragraph')}:** {what}",
        f"- **{_('License required')}:** "
        + {True: yes, False: no, None: _("undetermined")}[c.license_required]
        + (" (" + _("missing") + f": {'; '.join(c.missing_inputs)})" if c.missing_inputs else ""),
        f"- **{_('Subject to the EAR')}:** "
        + (
            {True: yes, False: no, None: _("undetermined")}[c.jurisdiction.subject_to_ear]
            + f" ({c.jurisdiction.basis})"
            if c.jurisdiction
            else _("not assessed")
        ),
        f"- **{_('Licensing policy')}:** {_(policy_words(c.licensing_policy))}"
        + (f" (License Exception {c.license_exception})" if c.license_exception else ""),
        f"- **{_('Basis')}:** {c.licensing_basis or _('no licensing rule or action applies')}",
        "",
        "## " + _("Inputs"),
        "",
        f"TPP {_num(c.tpp)} ({_('from')} {c.tpp_precision or _('given TPP')}); "
        f"{_('applicable die area')} {_num(c.die_area_mm2)} mm2; PD {_num(c.performance_density)}; "
        f"{_('datacenter')} {yes if c.datacenter else no}; I/O {_num(c.io_bidir_gbs)} GB/s; "
        f"{_('DRAM bandwidth')} {_num(c.dram_bw_gbs)} GB/s.",
        "",
        "| " + " | ".join(_(h) for h in ("field", "value", "unit", "source", "unverified")) + " |",
        "|---|---|---|---|---|",
    ]
    for i in c.inputs:
        lines.append(
            f"| {i['field']} | {i['value']} | {i.get('unit') or ''} | {i['source']} | "
            f"{yes if i.get('unverified') else ''} |"
        )
    lines += ["", "## " + _("Rule sets in force"), ""]
    for r in c.rule_sets:
        lines.append(
            f"- {r.short}: {r.fr_citation} (FR Doc. {r.fr_doc}), effective "
            f"{r.effective}; {r.status}"
        )
    lines += ["", "## " + _("Rule text applied"), ""]
    for rid in [x.id for x in c.rule_sets]:
        rs = rb.rule_set(rid)
        for p in rs.items.paragraphs if rs.items else []:
            lines.append(f"- **{p.id}** ({rs.cite(p.cite)}): {p.text}")
        for e in rs.items.exclusions if rs.items else []:
            lines.append(f"- **{e.id}** ({rs.cite(e.cite)}): {e.text}")
    lines += [
        "",
        "## " + _("Threshold tests"),
        "",
        "| "
        + " | ".join(
            _(h)
            for h in ("scope", "value", "comparison", "threshold", "margin", "margin %", "result")
        )
        + " |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in c.tests:
        res = _("unknown") if t.passed is None else (_("met") if t.passed else _("not met"))
        pct = f"{t.margin_pct:+.1f}%" if t.margin_pct is not None else ""
        lines.append(
            f"| {t.scope} | {_num(t.value)} | {t.symbol} ({t.rule_text}) | "
            f"{_num(t.threshold)} | {_num(t.margin)} | {pct} | {res} |"
        )
    if c.actions:
        lines += ["", "## " + _("Chip-specific actions"), ""]
        for a in c.actions:
            lines.append(
                f"- {a.date}: {a.title} (bound by {a.bound_by}; {a.legal_status}"
                f"{'' if a.applied else ', not applied'}; policy "
                f"{a.policy or 'not stated'}). Source: {a.source}"
            )
    if c.screening or c.headquarters or c.parent_headquarters:
        lines += ["", "## " + _("Parties"), ""]
        lines.append(
            f"- Headquarters: {c.headquarters or 'not given'}; ultimate parent: "
            f"{c.parent_headquarters or 'not given'}; transaction: {c.transaction} from {c.origin}"
        )
        for h in c.screening:
            lines.append(
                f"- End user {c.end_user!r} ~ {h.name} (match on {h.matched_on!r}, score "
                f"{h.score}): {h.listing.replace('_', ' ')}, "
                f"{'listed' if h.listed_on_date else 'not listed'} on {c.date}; {h.fr_citation}"
            )
    if c.outcomes:
        lines += ["", "## " + _("Undetermined: outcomes by assumption"), ""]
        lines += [
            f"- If {o.assumption}: {'license required' if o.license_required else 'no license'}"
            f" ({o.licensing_policy})"
            for o in c.outcomes
        ]
        lines += [f"- Missing: {m}" for m in c.missing_inputs]
    if c.conditions:
        lines += ["", "## " + _("Conditions to confirm"), ""] + [f"- {x}" for x in c.conditions]
    if c.warnings:
        lines += ["", "## " + _("Near-threshold warnings"), ""] + [f"- {x}" for x in c.warnings]
    if c.context:
        lines += ["", "## " + _("Context (not applied)"), ""] + [f"- {x}" for x in c.context]
    if c.market_access is not None:
        m = c.market_access
        title = _("{market} market access (not US law)").format(market=m.market)
        lines += ["", f"## {title}", ""]
        lines.append(f"- open: {m.open} ({m.status}; confidence {m.confidence})")
        lines += [f"- {x.date} {x.title} ({x.source})" for x in m.measures]
    lines += ["", "## " + _("Notes and uncertainties"), ""] + [f"- {n}" for n in c.notes]
    lines += ["", "## " + _("Citations"), ""] + [f"- {x}" for x in c.citations]
    lines += [
        "",
        "## " + _("Versions"),
        "",
        f"- chipwatch {__version__}; rules data sha256:{c.data_hash}; "
        + _("generated {when}").format(when=when),
        "",
        f"**{_('Not legal advice.')}** {_(NOT_LEGAL_ADVICE)}",
        "",
    ]
    if lang and lang != "en":
        lines.insert(2, _("Rule text, sources and notes are quoted as published, in English."))
        lines.insert(3, "")
    return "\n".join(lines)


def memo_html(
    c: Classification,
    generated: dt.datetime | None = None,
    *,
    ws: Workspace | None = None,
    lang: str | None = None,
) -> str:
    """The same memo as one self-contained HTML page (tables and lists, no external assets)."""
    md = memo_markdown(c, generated, ws=ws, lang=lang)
    out = [
        f"<!doctype html><html lang='{html.escape(lang or 'en')}'><head><meta charset='utf-8'>",
        f"<title>{html.escape(c.chip_name)} determination</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}</style>",
        "</head><body>",
    ]
    in_table = in_list = False
    for line in md.splitlines():
        esc = html.escape(line)
        if line.startswith("|"):
            cells = [x.strip() for x in line.strip("|").split("|")]
            if set("".join(cells)) <= {"-"}:
                continue
            if not in_table:
                out.append("<table>")
                in_table = True
                out.append("<tr>" + "".join(f"<th>{html.escape(x)}</th>" for x in cells) + "</tr>")
            else:
                out.append("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{_bold(esc[2:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("## "):
            out.append(f"<h2>{esc[3:]}</h2>")
        elif line.startswith("# "):
            out.append(f"<h1>{esc[2:]}</h1>")
        elif line.strip():
            out.append(f"<p>{_bold(esc)}</p>")
    if in_table:
        out.append("</table>")
    if in_list:
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)


def _bold(s: str) -> str:
    parts = s.split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))


def write_memo(
    c: Classification, path: str | Path, *, ws: Workspace | None = None, lang: str | None = None
) -> Path:
    """Write the memo; the suffix (.md or .html) picks the format."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".md", ".markdown", ".html", ".htm"):
        raise ControlsInputError(f"--memo {p}: use a .md or .html file name")
    html_out = suffix in (".html", ".htm")
    text = memo_html(c, ws=ws, lang=lang) if html_out else memo_markdown(c, ws=ws, lang=lang)
    try:
        p.write_text(text, encoding="utf-8")
    except OSError as e:
        raise ControlsInputError(f"--memo {p}: cannot write: {e.strerror or e}") from None
    return p
