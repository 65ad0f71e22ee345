"""LLM performance model: architectures, workload accounting, roofline + calibration, sweeps.

Public API::

    from chipwatch.perf import load_models, infer, train, compare, sweep
"""

from __future__ import annotations

from chipwatch.perf.cost import CostAssumptions
from chipwatch.perf.hardware import Efficiency, PerfInputError
from chipwatch.perf.inference import InferenceResult, ServingAssumptions, compare, infer
from chipwatch.perf.models import ModelCatalog, ModelSpec, load_models
from chipwatch.perf.sweep import best_per_chip, sweep
from chipwatch.perf.training import TrainingResult, train

__all__ = [
    "CostAssumptions",
    "Efficiency",
    "InferenceResult",
    "ModelCatalog",
    "ModelSpec",
    "PerfInputError",
    "ServingAssumptions",
    "TrainingResult",
    "best_per_chip",
    "compare",
    "infer",
    "load_models",
    "sweep",
    "train",
]
