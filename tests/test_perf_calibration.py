"""Calibration: the points, the fitting method on synthetic data, and the stored factors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chipwatch.perf import factors
from chipwatch.perf.calibration import fit as cal_fit
from chipwatch.perf.calibration import points as cal_points
from chipwatch.perf.calibration import predict as cal_predict


@pytest.fixture(scope="module")
def points():
    return cal_points.build_points()


def test_points_cover_every_data_set(points):
    assert set(points["dataset"]) == {
        "silicon",
        "silicon-disagg",
        "published",
        "published-serving",
        "mlperf",
        "published-decode",
    }
    sil = points[points["dataset"] == "silicon"]
    assert set(sil["metric"]) == {"tpot_s", "ttft_s"}
    assert len(sil) > 1000
    assert (points["measured"] > 0).all()
    assert points["source"].str.len().min() > 10  # every point cites its source


def test_fit_recovers_known_factors_from_synthetic_measurements(points):
    """Generate 'measurements' from known factors, fit, and get the same predictions back."""
    sub = points[(points["chip"] == "h100-sxm") & (points["metric"] == "tpot_s")].head(120)
    sub = sub.reset_index(drop=True)
    pa = cal_predict.point_arrays(sub)
    truth = np.array([0.55, 0.6, 0.8, 0.7, 0.6, 0.5, 0.004, 2e-5, 0.1, 0.05, 0.1, 0.05])
    pa.measured = cal_predict.predict(pa, truth)
    res = cal_fit.fit_group(pa, np.arange(len(sub)))
    pred = cal_predict.predict(pa, res.x)
    assert np.max(np.abs(pred / pa.measured - 1)) < 0.02


def test_stored_factors_match_the_stored_points():
    data = factors.load_factors()
    assert data, "run benchmarks/perf_calibration.py --write"
    pts_path = factors.measurements_dir() / data["fitted_on"]
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
    eff = factors.factors_for(catalog.chip("mlu590"))  # no Cambricon measurement
    assert eff.is_default and eff.source.startswith("default")
    assert "pooled" in eff.source
    eff = factors.factors_for(catalog.chip("mi300x"))
    assert eff.source.startswith("fitted")  # AMD now has MLPerf measurements
    eff = factors.factors_for(catalog.chip("h100-sxm"))
    assert eff.source.startswith("fitted")


def test_mlperf_points_use_the_scenarios_and_a_layout_that_leaves_room_for_kv(points):
    ml = points[points["dataset"] == "mlperf"]
    assert set(ml["metric"]) == {"mlperf_offline_tokens_per_s", "mlperf_server_tokens_per_s"}
    assert {"mi300x", "h100-sxm", "h200-sxm", "l40s"} <= set(ml["chip"])
    assert (ml["tp"] * ml["dp"] == ml["num_chips"]).all()
    # 69 GB of FP8 Llama-2-70B: one 141 GB H200 or 192 GB MI300X, two 80 GB H100, four 48 GB L40S
    assert cal_points.mlperf_layout(69.0, 1.0, 141.0, 8) == 1
    assert cal_points.mlperf_layout(69.0, 1.0, 192.0, 8) == 1
    assert cal_points.mlperf_layout(69.0, 1.0, 80.0, 8) == 2
    assert cal_points.mlperf_layout(69.0, 1.0, 48.0, 8) == 4
    assert cal_points.mlperf_layout(69.0, 1.0, 48.0, 2) == 2  # never more than the chips there are


def test_server_never_beats_offline_for_the_same_system(points):
    """Server adds latency limits to the same max-throughput search, so it cannot be faster."""
    ml = points[points["dataset"] == "mlperf"].reset_index(drop=True)
    pa = cal_predict.point_arrays(ml)
    theta = cal_fit.START
    pred = cal_predict.predict(pa, theta)
    off = ml.assign(pred=pred).pivot_table(
        index=["chip", "num_chips", "backend"], columns="metric", values="pred"
    )
    both = off.dropna()
    assert len(both) >= 5
    assert (both["mlperf_server_tokens_per_s"] <= both["mlperf_offline_tokens_per_s"] + 1e-6).all()


def test_decode_point_models_speculative_decoding(points):
    d = points[(points["dataset"] == "published-decode") & (points["spec_tokens"] >= 1)]
    d = d.reset_index(drop=True)
    assert len(d) >= 1 and (d["accepted_per_step"] > 1).all()
    pa = cal_predict.point_arrays(d)
    theta = cal_fit.START
    with_spec = cal_predict.predict(pa, theta)
    pa.spec_tokens = np.zeros(len(d))
    pa.accepted = np.ones(len(d))
    assert (with_spec > cal_predict.predict(pa, theta)).all()  # accepted drafts raise tokens/s


def test_few_points_are_shrunk_towards_the_prior(points):
    """Two points that say 'twice as slow' move a family less when a prior holds it."""
    sub = points[(points["chip"] == "h100-sxm") & (points["metric"] == "tpot_s")].head(2)
    pa = cal_predict.point_arrays(sub.reset_index(drop=True))
    prior = cal_fit.START
    pa.measured = cal_predict.predict(pa, prior) * 2.0
    free = cal_fit.fit_group(pa, np.arange(2), start=prior).x
    held = cal_fit.fit_group(pa, np.arange(2), prior=prior, start=prior).x
    dist = lambda x: float(np.abs(np.log(x[:6] / prior[:6])).sum())  # noqa: E731
    assert dist(held) < dist(free)


def test_every_factor_at_a_bound_is_explained():
    """A fitted factor stuck at a bound is a structural error unless a note says why."""
    data = factors.load_factors()
    for b in data.get("at_bound", []):
        assert not b["note"].startswith("UNEXPLAINED"), b


def test_regimes_split_points_by_architecture_deployment_scale_and_phase(points):
    reg = cal_fit.regimes(points)
    assert {"MoE", "dense"} <= set(reg["architecture"])
    assert {"aggregated", "disaggregated"} <= set(reg["deployment"])
    assert {"prefill", "decode"} <= set(reg["phase"])
    assert "multi-node" in set(reg["scale"])


def test_disaggregated_rows_without_worker_counts_are_a_check_not_fitted(points):
    """Rows that state neither worker count are predicted as a check, never fitted."""
    import pandas as pd

    raw = pd.read_csv(factors.measurements_dir() / cal_points.SILICON_FILE)
    dis = raw[raw["mode"] == "disagg"]
    complete = cal_points.conditions_complete(dis)
    assert 0 < complete.sum() < len(dis)
    fitted = points[points["dataset"] == "silicon-disagg"]
    check = cal_points.silicon_disagg_check_points()
    assert set(check["dataset"]) == {"silicon-disagg-check"}
    ids = lambda df: set(df["point_id"].str.rsplit(":", n=1).str[0])  # noqa: E731
    assert not ids(fitted) & ids(check)
    assert ids(fitted) <= set(dis.loc[complete, "id"])


def test_an_efficiency_at_its_lower_bound_needs_its_own_note():
    assert cal_fit.bound_note("memory", "lower").startswith("UNEXPLAINED")
    assert not cal_fit.bound_note("memory", "upper").startswith("UNEXPLAINED")
    assert not cal_fit.bound_note("overhead_s", "lower").startswith("UNEXPLAINED")
