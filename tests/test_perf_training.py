"""Training: MFU, time to train, memory with ZeRO and recomputation, and clear errors."""

from __future__ import annotations

import pytest

from chipwatch.perf import PerfInputError
from chipwatch.perf.training import train


def test_training_numbers_are_consistent(catalog):
    r = train(catalog.chip("h100-sxm"), "llama-3.1-70b", num_chips=1024, tokens=1e12)
    assert 0.05 < r.mfu < 1.0
    assert r.days == pytest.approx(1e12 / r.tokens_per_s / 86400)
    p = r.parallelism
    assert p["tp"] * p["pp"] * p["dp"] == 1024
    m = r.memory_per_chip_gb
    assert m.total_gb == pytest.approx(
        m.weights_gb + m.gradients_gb + m.optimizer_gb + m.activations_gb
    )
    assert m.total_gb <= m.capacity_gb


def test_more_chips_train_faster(catalog):
    chip = catalog.chip("h100-sxm")
    a = train(chip, "llama-3.1-8b", num_chips=64, tokens=1e11)
    b = train(chip, "llama-3.1-8b", num_chips=256, tokens=1e11)
    assert b.days < a.days


def test_zero_and_recompute_reduce_memory(catalog):
    chip = catalog.chip("h100-sxm")
    kw = dict(num_chips=64, tokens=1e11, tp=8, pp=1)
    z0 = train(chip, "llama-3.1-8b", zero_stage=0, recompute="none", **kw)
    z1 = train(chip, "llama-3.1-8b", zero_stage=1, recompute="none", **kw)
    full = train(chip, "llama-3.1-8b", zero_stage=1, recompute="full", **kw)
    assert z1.memory_per_chip_gb.optimizer_gb == pytest.approx(
        z0.memory_per_chip_gb.optimizer_gb / 8
    )  # dp = 64 / 8
    assert full.memory_per_chip_gb.activations_gb < z1.memory_per_chip_gb.activations_gb
    assert full.step_time_s > z1.step_time_s  # recomputation costs a forward pass


def test_training_that_cannot_fit_is_a_clear_error(catalog):
    with pytest.raises(PerfInputError, match="does not fit"):
        train(catalog.chip("h100-sxm"), "llama-3.1-405b", num_chips=8, tokens=1e9, zero_stage=0)
