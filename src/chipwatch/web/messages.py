"""Chart text for the message catalogs: the titles, axis titles and legend names that
``web/charts.py`` writes in English, marked here for extraction (``pybabel extract -k N_``), and
the patterns of titles built from parts. ``tests/test_i18n.py`` checks each string still
occurs in the chart code, so this list cannot silently go stale.
"""

from __future__ import annotations

import re
from functools import lru_cache

from chipwatch.i18n import N_

CHART_TEXT = [
    N_("Memory bandwidth, TB/s"),
    N_("Arithmetic intensity, FLOP per byte"),
    N_("Attainable TFLOPS (dense peak)"),
    N_("Attainable TFLOPS"),
    N_("Throughput (label: binding resource)"),
    N_("Prefill tokens/s"),
    N_("Decode output tokens/s"),
    N_("Latency"),
    N_("Time to first token, ms"),
    N_("Time per output token, ms"),
    N_("KV cache"),
    N_("Memory per chip"),
    N_("Cost per million output tokens (chip capex + power)"),
    N_("US$ per million tokens"),
    N_("Total processing performance (TPP, log)"),
    N_("Performance density (TPP per mm², log)"),
    N_("license required"),
    N_("no license required"),
    N_("undetermined"),
    N_("undetermined / not released"),
    N_("flips under the proposed rule"),
    N_("prefill (compute-heavy)"),
    N_("decode (bandwidth-heavy)"),
    N_("policy"),
    N_("capacity"),
    N_("weights"),
]

# The market page's chart text (titles, axes, legend names, captions), written in web/views.py and
# web/charts.py; tests/test_web_i18n_speed.py checks each still appears on the English page.
MARKET_TEXT = [
    N_("China's AI-chip demand and how it is met"),
    N_("US$ billion (P50 of each part)"),
    N_("Units shipped to China, by vendor"),
    N_("accelerators"),
    N_("Revenue by vendor"),
    N_("US$ billion"),
    N_("Domestic vendors' share"),
    N_("share"),
    N_("Installed compute stock by vendor country"),
    N_("H100-equivalents"),
    N_("domestic"),
    N_("licensed"),
    N_("grey"),
    N_("offshore"),
    N_("deferred"),
    N_("policy events"),
    N_("by units"),
    N_("by revenue"),
    N_("Other domestic"),
    N_(
        "Each year's demand (new plus deferred demand carried over) is met by domestic chips, "
        "licensed imports, grey-market imports or offshore rental; the rest is deferred. "
        "Bars are P50s of each part; dotted lines mark policy events (US and PRC gates)."
    ),
    N_("Accelerator packages delivered per year."),
    N_("Units times each product's price draw."),
    N_(
        "By units and by revenue (they differ: domestic chips are cheaper). Diamonds: "
        "published estimates the market check compares with."
    ),
    N_("Installed units after retirement, in H100-equivalents of dense compute."),
    N_("The same seed for both, so differences are the scenario's."),
]

# Values the pages show as words (segments, status, binding resources) and page headings.
VALUE_TEXT = [
    N_("datacenter"),
    N_("workstation"),
    N_("consumer"),
    N_("edge"),
    N_("shipping"),
    N_("announced"),
    N_("reported"),
    N_("compute"),
    N_("memory"),
    N_("interconnect"),
    N_("Page not found"),
    N_("API console"),
]

# Titles built from parts: {0}, {1} stand for the parts, which are kept (chip ids become the
# reader's chip labels).
CHART_PATTERNS = [
    N_("Dense {0} compute vs memory bandwidth"),
    N_("Dense {0} TFLOPS (datasheet peak)"),
    N_("Roofline: {0} ({1} TB/s)"),
    N_("Rooflines, dense {0}"),
    N_("Decode throughput against batch ({0}); dotted: the lead changes"),
    N_("Throughput relative to {0} (label: binding resource)"),
    N_("Control map on {0} for destination {1}"),
    N_("Control status of {0} over time"),
    N_("license: chip-specific rule"),
    N_("outside 3A090"),
    N_("vendor in {0}"),
    N_("× {0}"),
    N_("Domestic share of demand: {0} vs {1}"),
]


@lru_cache(maxsize=1)
def patterns() -> list[tuple[re.Pattern[str], str]]:
    """Each pattern as a regular expression that captures its parts."""
    out = []
    for msgid in CHART_PATTERNS:
        rx = re.escape(msgid)
        for i in range(4):
            rx = rx.replace(re.escape("{" + str(i) + "}"), "(.+?)")
        out.append((re.compile(f"^{rx}$"), msgid))
    return out


from chipwatch.i18n.words import POLICY_WORDS, policy_words  # noqa: E402,F401  (re-export)
