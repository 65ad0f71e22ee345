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


def test_relative_training_efficiency_by_hand():
    """Two systems ran the same benchmark: 8 chips of 1,000 TFLOPS for 30 min (the H100
    reference) and 8 chips of 2,000 TFLOPS for 20 min -> rel_eff = (8 x 30 x 1000) /
    (8 x 20 x 2000) = 0.75; a 512-chip run is too far in scale to compare."""
    import pandas as pd

    from chipwatch.perf.train_calibration import by_vendor, relative_training_efficiency

    def row(i, chip, vendor, n, minutes, peak):
        return {
            "id": i,
            "benchmark": "b",
            "chip": chip,
            "vendor": vendor,
            "num_chips": n,
            "minutes": minutes,
            "peak_eflop_s": n * minutes * 60 * peak * 1e12 / 1e18,
        }

    rows = pd.DataFrame(
        [
            row("R", "h100-sxm", "NVIDIA", 8, 30.0, 1000.0),
            row("X", "x", "X", 8, 20.0, 2000.0),
            row("Y", "y", "Y", 512, 1.0, 2000.0),
        ]
    )
    d = relative_training_efficiency(rows).set_index("id")
    assert d.loc["R", "rel_eff_vs_h100"] == pytest.approx(1.0)
    assert d.loc["X", "rel_eff_vs_h100"] == pytest.approx(0.75)
    assert d.loc["X", "reference"] == "R"
    assert d.loc["Y", "rel_eff_vs_h100"] != d.loc["Y", "rel_eff_vs_h100"]  # NaN
    v = by_vendor(d.reset_index())
    assert list(v["vendor"]) == ["X"]  # the reference row itself is not a comparison


def test_mlperf_training_rows_cover_amd_google_nvidia():
    from chipwatch.perf.train_calibration import relative_training_efficiency

    d = relative_training_efficiency()
    assert {"AMD", "Google", "NVIDIA"} <= set(d["vendor"])
    assert d["source"].str.contains("mlcommons").all()
