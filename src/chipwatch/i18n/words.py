"""Words for values the data spells in snake_case (licensing policies), marked for the
catalogs; shown in the reader's language by the views and the memo."""

from __future__ import annotations

from chipwatch.i18n import N_

# Licensing policies as the rules name them (snake_case in the data) and as readers say them.
POLICY_WORDS = {
    "presumption_of_denial": N_("presumption of denial"),
    "presumption_of_approval": N_("presumption of approval"),
    "approval_with_conditions": N_("approval with conditions"),
    "case_by_case": N_("case-by-case review"),
    "not_stated": N_("policy not stated"),
    "license_exception_nac": N_("License Exception NAC (notified advanced computing)"),
    "license_exception_aca": N_("License Exception ACA"),
    "none": N_("no license needed"),
    "unknown": N_("undetermined"),
}


def policy_words(policy: str | None) -> str:
    """A licensing policy in words (``presumption_of_denial`` -> ``presumption of denial``)."""
    if not policy:
        return ""
    return POLICY_WORDS.get(policy, policy.replace("_", " "))
