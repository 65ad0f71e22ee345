"""US export controls on AI chips (ECCN 3A090 and related actions), as data plus one classifier.

>>> from chipwatch.controls import classify, ChipSpec
>>> import datetime as dt
>>> classify(ChipSpec(name="x", tpp=2368, die_area_mm2=814), dt.date(2024, 6, 1)).eccn is None
True
"""

from __future__ import annotations

from chipwatch.controls.classifier import Classification, ThresholdCheck, classify
from chipwatch.controls.errors import ControlsInputError
from chipwatch.controls.frontier import Frontier, ThresholdRegion, frontier, thresholds_in_force
from chipwatch.controls.rules import RuleBook, load_rulebook
from chipwatch.controls.spec import ChipSpec
from chipwatch.controls.timeline import Period, timeline

__all__ = [
    "ChipSpec",
    "Classification",
    "ControlsInputError",
    "Frontier",
    "Period",
    "ThresholdRegion",
    "RuleBook",
    "ThresholdCheck",
    "classify",
    "frontier",
    "thresholds_in_force",
    "timeline",
    "load_rulebook",
]
