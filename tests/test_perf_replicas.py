"""Independent replicas: num_chips = replicas x tp x pp x dp, copies that share nothing."""

from __future__ import annotations

import json

import pytest

from chipwatch.cli import app
from chipwatch.perf import PerfInputError, infer
from chipwatch.perf.inference import compare
from chipwatch.perf.models import default_models
from chipwatch.perf.parallelism import Parallelism, candidates
from chipwatch.perf.sweep import sweep

DSV3 = dict(precision="fp8", input_len=1024, output_len=256, tp=8, dp=1, pp=1, ep=1)


def test_two_replicas_of_an_8_chip_deepseek_serve_twice_the_tokens_at_the_same_tpot(catalog):
    """DeepSeek-V3 FP8 on H20: one copy on 8 chips (TP 8) with 16 sequences, or two such copies
    on 16 chips with 32 (BF16 KV cache, the engines' default): twice the tokens/s, the same
    TPOT, TTFT and memory per chip."""
    h20 = catalog.chip("h20")
    one = infer(h20, "deepseek-v3", num_chips=8, batch=16, **DSV3)
    two = infer(h20, "deepseek-v3", num_chips=16, batch=32, replicas=2, **DSV3)
    assert two.parallelism == {"tp": 8, "pp": 1, "dp": 1, "ep": 1, "replicas": 2}
    assert two.output_tokens_per_s == pytest.approx(2 * one.output_tokens_per_s, rel=1e-12)
    assert two.output_tokens_per_s_per_chip == pytest.approx(one.output_tokens_per_s_per_chip)
    assert two.tpot_s == pytest.approx(one.tpot_s, rel=1e-12)
    assert two.ttft_s == pytest.approx(one.ttft_s, rel=1e-12)
    assert two.memory_per_chip_gb == one.memory_per_chip_gb
    assert two.max_batch_fit == 2 * one.max_batch_fit


def test_replicas_are_derived_when_tp_pp_dp_cover_part_of_the_chips(catalog):
    r = infer(catalog.chip("h20"), "deepseek-v3", num_chips=16, batch=64, **DSV3)
    assert r.parallelism["replicas"] == 2


def test_the_chooser_considers_replicas_and_reports_them(catalog):
    """Without degrees the search includes replicas; every result states them."""
    dsv3 = default_models().model("deepseek-v3")
    lays = candidates(dsv3, 16, domain_chips=8)
    assert Parallelism(tp=8, pp=1, dp=1, ep=1, replicas=2) in lays
    assert all(p.chips == 16 and p.tp <= 8 for p in lays)
    dense = default_models().model("llama-3.1-70b")
    # dense dp ranks share nothing: copies are listed once, as dp
    assert all(p.replicas == 1 for p in candidates(dense, 8))
    assert {p.replicas for p in candidates(dense, 8, dp=2)} == {1, 2, 4}
    r = infer(catalog.chip("h20"), "deepseek-v3", num_chips=16, precision="fp8", max_tpot_ms=50)
    p = r.parallelism
    assert p["replicas"] * p["tp"] * p["pp"] * p["dp"] == 16


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"replicas": 3}, "positive divisor of num_chips = 16"),
        ({"replicas": 0}, "positive divisor"),
        ({"replicas": 4, "tp": 8, "pp": 1, "dp": 1}, "does not equal num_chips"),
    ],
)
def test_bad_replicas_are_clear_errors(catalog, kw, message):
    with pytest.raises(PerfInputError, match=message):
        infer(catalog.chip("h20"), "deepseek-v3", num_chips=16, precision="fp8", **kw)


def test_compare_rows_carry_replicas(catalog):
    df = compare([catalog.chip("h20")], "llama-3.1-8b", num_chips=2, batch=8)
    assert int(df.loc[0, "replicas"]) == 1  # dense copies are reported as dp


def test_sweep_splits_moe_models_into_replicas_and_agrees_with_infer(catalog):
    h20 = catalog.chip("h20")
    df = sweep(
        [h20],
        ["deepseek-v3", "llama-3.1-8b"],
        precisions=["fp8"],
        num_chips=[16],
        batches=[32],
    )
    assert (df.loc[df.model == "llama-3.1-8b", "replicas"] == 1).all()
    moe = df[df.model == "deepseek-v3"]
    assert set(moe["replicas"]) == {1, 2, 4, 8, 16}
    assert (moe["replicas"] * moe["tp"] * moe["pp"] * moe["dp"] == 16).all()
    row = moe[(moe.replicas == 2) & (moe.tp == 8) & (moe.dp == 1) & (moe.ep == 1)].iloc[0]
    r = infer(h20, "deepseek-v3", num_chips=16, batch=32, replicas=2, **DSV3)
    assert row.output_tokens_per_s == pytest.approx(r.output_tokens_per_s, rel=1e-12)
    assert row.tpot_s == pytest.approx(r.tpot_s, rel=1e-12)
    off = sweep([h20], ["deepseek-v3"], precisions=["fp8"], num_chips=[16], replicas=False)
    assert (off["replicas"] == 1).all()


def test_cli_infer_takes_replicas(runner):
    args = ["perf", "infer", "-c", "h20", "-m", "deepseek-v3", "-n", "16", "-p", "fp8"]
    r = runner.invoke(app, [*args, "--replicas", "2", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["parallelism"]["replicas"] == 2
    bad = runner.invoke(app, [*args, "--replicas", "5"])
    assert bad.exit_code == 2 and "positive divisor" in bad.output
    assert "Traceback" not in bad.output
