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


def test_silicon_layouts_match_the_chips_the_row_id_names(points):
    """Two files of the sample give an EP run's layout columns multiplied by its chip count (a
    tp8_ep8 run as TP 64 or 64 attention-DP ranks with MoE TP 8 x EP 8, its TTFT and TPOT
    equal digit for digit to the earlier file's 8-GPU row): they are read back to 8 chips."""
    f = cal_points.silicon_agg_layout
    assert f("r_c64_tp8_ep8_937", 1, 64, 8, 8) == (1, 8, 8)  # attention DP 8, EP 8
    assert f("r_c16_tp8_ep8_921", 64, 1, 8, 8) == (8, 1, 8)  # TP 8, EP 8
    assert f("dsr1_b200_x_c4_cfg201", 16, 1, 4, 4) == (4, 1, 4)  # no chip count in the id
    assert f("r_c64_tp8_0_ep8_0_976", 1, 8, 8) == (1, 8, 8)  # already consistent
    assert f("r_c8_tp2_epnone_3", 2, 0, 0) == (2, 1, 1)
    assert f("r_c8_tp8_ep8_1", 3, 5, 8) is None  # contradicts the id: dropped
    sil = points[points["dataset"] == "silicon"]
    n_id = sil["point_id"].str.extract(r"_tp(\d+)_(?:\d+_)?ep")[0].astype(float)
    named = n_id.notna()
    assert ((sil["tp"] * sil["dp"])[named] == n_id[named]).all()
    row = sil[sil["point_id"].str.contains("_c64_tp8_ep8_937:")]
    assert set(row["dp"]) == {8} and set(row["ep"]) == {8}


def test_a_ttft_that_falls_by_half_under_more_load_is_not_fitted():
    """Closed-loop TTFT never falls as concurrency rises: a row more than twice the TTFT of the
    same configuration at a higher concurrency is set aside (its TPOT is still fitted)."""
    import pandas as pd

    d = pd.DataFrame(
        {
            "id": ["x_1024x1024_c6_cfg1", "x_1024x1024_c9_cfg1", "x_1024x1024_c30_cfg1"]
            + ["x_8192x1024_c6_cfg1", "y_1024x1024_c6_cfg2"],
            "silicon_ttft_ms": [12_000.0, 7_000.0, 5_000.0, 900.0, 12_000.0],
        }
    )
    # c6: 12 s > 2 x 5 s at c30 -> flagged; c9: 7 s < 2 x 5 s -> kept; other lengths / configs
    # are other groups
    assert cal_points.ttft_not_steady(d).tolist() == [True, False, False, False, False]


def test_layouts_outside_the_model_are_a_check_not_fitted(points):
    """Tensor parallel beyond one scale-up domain (TP16 decode pools over two HGX H100 nodes,
    which ``infer`` refuses) and layouts whose chips cannot hold the weights (Qwen3-235B FP8 on
    one H200) are predicted as a check, never fitted."""
    assert not cal_points.outside_model(points).any()
    check = cal_points.build_points(outside=True)
    beyond = cal_points.tp_beyond_domain(check)
    assert set(check.loc[beyond, "chip"]) == {"h100-sxm"}
    assert (check.loc[beyond, ["tp", "decode_tp"]].max(axis=1) == 16).all()
    full = cal_points.weights_exceed_memory(check)
    assert full.any() and (beyond | full).all()
    assert set(check.loc[full, "model"]) == {"qwen3-235b-a22b"}


def test_rows_run_in_eager_mode_are_recorded_not_fitted(points):
    from chipwatch.perf.calibration.conditions import with_conditions

    raw = with_conditions(
        __import__("pandas").read_csv(factors.measurements_dir() / cal_points.PUBLISHED_FILE)
    )
    eager = set(raw.loc[raw["cond_eager"] == "yes", "id"])
    assert eager
    assert not eager & set(points["point_id"])


def test_decode_pool_rows_average_the_context_over_the_output(points):
    """A decode pool's sequences are half-way through their output on average: context =
    input + output / 2 (M486: 1 input token, 512 output tokens -> 257)."""
    row = points[points["point_id"] == "M486"].iloc[0]
    assert row["input_len"] + row["output_len"] / 2 == pytest.approx(257, abs=0.5)


def test_engine_ttft_terms_replace_the_family_ones(catalog):
    """``--engine`` swaps in the queueing terms fitted for that engine; the efficiencies stay."""
    data = factors.load_factors()
    assert {"sglang", "trtllm", "vllm"} <= set(data["engines"])
    chip = catalog.chip("h200-sxm")
    base = factors.factors_for(chip)
    for eng, terms in data["engines"].items():
        eff = factors.factors_for(chip, engine=eng)
        assert eff.ttft_queue_share == terms["ttft_queue_share"]
        assert eff.ttft_fixed_s == terms["ttft_fixed_s"]
        assert (eff.compute, eff.memory, eff.link) == (base.compute, base.memory, base.link)
        assert f"engine {eng}" in eff.source
    # an engine the file has no terms for keeps the family's and says so
    eff = factors.factors_for(chip, {**data, "engines": {}}, engine="vllm")
    assert eff.ttft_queue_share == base.ttft_queue_share
    assert "no TTFT terms fitted for engine vllm" in eff.source


def test_engine_terms_are_fitted_on_aggregated_ttft_points_only(points):
    """Stage 2 refits (queue share, fixed time) per engine with the chips' factors fixed: a
    synthetic engine whose TTFTs carry a known extra fixed time gets it back."""
    sub = points[(points["metric"] == "ttft_s") & (points["disaggregated"] == 0)]
    sub = sub[sub["backend"].str.startswith("vllm")].head(120).reset_index(drop=True)
    pa = cal_fit.point_arrays(sub)
    theta = np.array(cal_fit.START)
    theta[8], theta[9] = 0.1, 0.5  # the truth: queue share 0.1, fixed time 0.5 s
    sub = sub.assign(measured=cal_predict.predict(pa, theta))
    pa = cal_fit.point_arrays(sub)
    facs = cal_fit.Factors({}, {}, {}, {}, {}, pooled=np.array(cal_fit.START))
    got = cal_fit.fit_engines(pa, sub, facs, np.ones(len(sub), bool))
    assert set(got) == {"vllm"}
    assert got["vllm"] == pytest.approx([0.1, 0.5], rel=0.02)


def test_a_row_can_state_its_deployments_scale_up_domain(points):
    """The 910C's catalog domain is the 384-chip CloudMatrix; SGLang's Ascend rows M496-M499 run
    a decode instance over two 8-package Atlas 800I A3 servers (``scaleup_domain=8``), so they
    are multi-node and their all-to-all crosses the network."""
    rows = points[points["point_id"].isin(["M496", "M497", "M498", "M499"])]
    assert len(rows) == 4 and (rows["scaleup_domain"] == 8).all()
    reg = cal_fit.regimes(points).loc[rows.index]
    assert (reg["scale"] == "multi-node").all()
    pa = cal_fit.point_arrays(rows.reset_index(drop=True))
    assert (pa.lay.domain == 8).all()
    other = points[points["chip"] == "ascend-910c"].drop(rows.index)
    assert (cal_fit.point_arrays(other.reset_index(drop=True)).lay.domain == 384).all()
