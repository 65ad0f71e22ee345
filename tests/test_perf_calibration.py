"""Calibration: the points, the fitting method on synthetic data, and the stored factors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chipwatch.perf import calibrate as cal


@pytest.fixture(scope="module")
def points():
    return cal.build_points()


def test_points_cover_both_data_sets(points):
    assert set(points["dataset"]) == {"silicon", "published"}
    sil = points[points["dataset"] == "silicon"]
    assert set(sil["metric"]) == {"tpot_s", "ttft_s"}
    assert len(sil) > 1000
    assert (points["measured"] > 0).all()
    assert points["source"].str.len().min() > 10  # every point cites its source


def test_fit_recovers_known_factors_from_synthetic_measurements(points):
    """Generate 'measurements' from known factors, fit, and get the same predictions back."""
    sub = points[(points["chip"] == "h100-sxm") & (points["metric"] == "tpot_s")].head(120)
    sub = sub.reset_index(drop=True)
    pa = cal.point_arrays(sub)
    truth = np.array([0.55, 0.8, 0.6, 0.004, 2e-5])
    pa.measured = cal.predict(pa, truth)
    res = cal.fit_group(pa, np.arange(len(sub)))
    pred = cal.predict(pa, res.x)
    assert np.max(np.abs(pred / pa.measured - 1)) < 0.02


def test_stored_factors_match_the_stored_points():
    data = cal.load_factors()
    assert data, "run benchmarks/perf_calibration.py --write"
    pts_path = cal.measurements_dir() / data["fitted_on"]
    import pandas as pd

    pts = pd.read_csv(pts_path)
    assert len(pts) == data["n_points"]
    for fam, f in data["families"].items():
        assert f["n_points"] == int((pts["family"] == fam).sum())
        for k in ("compute", "memory", "link"):
            assert 0 < f[k] <= 1
    assert {"fit_err_pct", "loo_err_pct", "cv_err_pct"} <= set(pts.columns)
    json.dumps(data)  # plain JSON


def test_chips_without_measurements_use_default_and_say_so(catalog):
    eff = cal.factors_for(catalog.chip("ascend-910c"))
    assert eff.source.startswith("default")
    eff = cal.factors_for(catalog.chip("h100-sxm"))
    assert eff.source.startswith("fitted")
