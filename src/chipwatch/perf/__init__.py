"""LLM performance model: architectures, workload accounting, roofline + calibration, sweeps.

Public API::

    from chipwatch.perf import load_models, infer, train, compare, sweep
"""

from __future__ import annotations

from chipwatch.perf.cost import CostAssumptions
from chipwatch.perf.hardware import Efficiency, PerfInputError
from chipwatch.perf.inference import InferenceResult, ServingAssumptions, infer
from chipwatch.perf.models import ModelCatalog, ModelSpec, load_models

__all__ = [
    "CostAssumptions",
    "Efficiency",
    "InferenceResult",
    "ModelCatalog",
    "ModelSpec",
    "PerfInputError",
    "ServingAssumptions",
    "infer",
    "load_models",
]
