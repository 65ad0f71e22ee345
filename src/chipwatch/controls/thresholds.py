"""Testing one threshold of a rule against a chip, in the rule's own words."""

from __future__ import annotations

from pydantic import BaseModel, Field

from chipwatch.controls.rules import METRIC_LABEL, Test
from chipwatch.controls.spec import ChipInputs

NEAR_PCT = 3.0  # vendor TPPs differ from datasheet arithmetic by up to ~3%: flag closer margins


class ThresholdCheck(BaseModel):
    """One threshold tested: value, threshold, comparison and margin (value - threshold)."""

    scope: str = Field(description="paragraph, exclusion, license rule or action id")
    metric: str
    label: str
    value: float | None
    threshold: float
    comparison: str
    symbol: str
    passed: bool | None = Field(description="None when the value is unknown")
    margin: float | None
    margin_pct: float | None
    rule_text: str
    text: str

    @property
    def near(self) -> bool:
        return self.margin_pct is not None and abs(self.margin_pct) < NEAR_PCT


def fmt_num(v: float) -> str:
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"


def check(test: Test, scope: str, inputs: ChipInputs) -> ThresholdCheck:
    """Test one threshold and say by how much it passes or fails, in the rule's words."""
    value = inputs.metric(test.metric.value)
    label = METRIC_LABEL[test.metric]
    passed: bool | None = None
    margin: float | None = None
    pct: float | None = None
    if value is None:
        text = (
            f"{label} unknown: cannot test {test.cmp.symbol} {fmt_num(test.value)} "
            f"({scope}: {test.text})"
        )
    else:
        passed = test.cmp.holds(value, test.value)
        margin = value - test.value
        pct = 100.0 * margin / test.value if test.value else None
        actual = "=" if margin == 0 else (">" if margin > 0 else "<")
        pct_s = f" ({abs(pct):.1f}%)" if pct is not None else ""
        text = (
            f"{label} {fmt_num(value)} {actual} {fmt_num(test.value)}: {scope} needs {test.text} "
            f"-> {'met' if passed else 'not met'}, margin {fmt_num(abs(margin))}{pct_s}"
        )
    return ThresholdCheck(
        scope=scope,
        metric=test.metric.value,
        label=label,
        value=value,
        threshold=test.value,
        comparison=test.cmp.value,
        symbol=test.cmp.symbol,
        passed=passed,
        margin=margin,
        margin_pct=pct,
        rule_text=test.text,
        text=text,
    )


def all_pass(checks: list[ThresholdCheck]) -> bool | None:
    """True if every check passes, False if any fails, None if none fails but some are unknown."""
    if any(c.passed is False for c in checks):
        return False
    if any(c.passed is None for c in checks):
        return None
    return True


def unverified_at_the_line(c: ThresholdCheck, inputs: ChipInputs) -> ThresholdCheck:
    """An unverified value within ~3% of a paragraph's line cannot decide it: the test is open
    (the answer becomes undetermined unless every outcome agrees)."""
    if not (c.near and c.metric in inputs.unverified_metrics):
        return c
    return c.model_copy(
        update={
            "passed": None,
            "text": c.text + " -- but the value is unverified and within "
            f"{NEAR_PCT:.0f}% of the line: not decided",
        }
    )
