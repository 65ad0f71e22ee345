"""What the controls tests share: the keys every classification answer carries (CLI and API)."""

from __future__ import annotations

CLASSIFICATION_KEYS = (
    "chip",
    "date",
    "destination",
    "rule_sets",
    "eccn",
    "tpp",
    "performance_density",
    "license_required",
    "licensing_policy",
    "actions",
    "tests",
    "citations",
)
