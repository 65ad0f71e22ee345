"""Large-scale MoE serving: wide EP with redundant experts, node-aware all-to-all, overlap,
disaggregated pools, MTP, rank-per-die, KV precision, and the physical floors of every phase."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chipwatch
from chipwatch.perf import PerfInputError, infer, load_models, moe
from chipwatch.perf import workload as wl
from chipwatch.perf.inference import Hw, evaluate, pass_time
from chipwatch.perf.parallelism import Parallelism, candidates, check

CAT = chipwatch.load_catalog()
MODELS = load_models()
DSV3 = MODELS.model("deepseek-v3")
SHAPES = {
    m: wl.ModelShape.of(MODELS.model(m))
    for m in ["deepseek-v3", "qwen3-30b-a3b", "llama-3.1-8b", "mixtral-8x7b"]
}
DONE_WHEN = dict(
    redundant_experts=32,
    phase="decode",
    batch=8192,
    spec_tokens=1,
    precision="fp8",
    input_len=4096,
    output_len=1000,
)


# --- the done-when deployments ------------------------------------------------------
@pytest.mark.parametrize(
    "chip,n,ranks,extra",
    [
        ("h800-sxm", 144, 144, {}),
        ("h100-sxm", 72, 72, {}),
        ("ascend-910c", 144, 288, {"rank_per_die": True}),
    ],
)
def test_wide_ep_decode_pools_report_per_rank_experts_tokens_traffic_overlap_and_tpot(
    chip, n, ranks, extra
):
    r = infer(CAT.chip(chip), "deepseek-v3", num_chips=n, ep=ranks, dp=ranks, **DONE_WHEN, **extra)
    assert r.parallelism["ep"] == ranks and r.phase == "decode" and r.disaggregated
    m = r.moe
    assert m is not None
    # 256 experts + 32 redundant = 288 slots spread evenly over the EP ranks
    assert m.expert_slots_per_rank == -(-288 // ranks)
    assert m.decode_tokens_per_rank == pytest.approx(8192 / ranks * 2)  # 2 tokens/seq with MTP k=1
    assert r.overlap and r.phases["decode"].overlap_hides in ("communication", "compute")
    assert r.tpot_s > 0 and r.spec_step_s > r.tpot_s  # a step emits 1.85 tokens on average
    assert r.accepted_per_step == pytest.approx(1.85)  # DeepSeek-V3 report: 85% acceptance
    if chip == "ascend-910c":  # one CloudMatrix384 supernode: every rank in the UB domain
        assert (
            m.decode_a2a_scaleout_bytes_per_layer == 0 and m.decode_a2a_scaleup_bytes_per_layer > 0
        )
        assert r.ranks_per_chip == 2 and r.memory_per_chip_gb.capacity_gb == 64
    else:  # 8-GPU HGX nodes: most copies leave the node
        assert m.decode_a2a_scaleout_bytes_per_layer > m.decode_a2a_scaleup_bytes_per_layer > 0
        assert r.phases["decode"].scaleout_s > 0


def test_the_done_when_command_runs_from_the_cli(tmp_path):
    from typer.testing import CliRunner

    from chipwatch.cli import app

    args = "perf infer --chip h800-sxm --model deepseek-v3 --num-chips 144 --ep 144 --dp 144 "
    args += "--redundant-experts 32 --phase decode --batch 8192 --spec-tokens 1 --precision fp8 "
    args += "--input-len 4096 --output-len 1000 --json"
    r = CliRunner().invoke(app, args.split())
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["moe"]["expert_slots_per_rank"] == 2
    assert d["moe"]["decode_a2a_scaleout_bytes_per_layer"] > 0
    assert d["phases"]["decode"]["overlap_hides"] in ("communication", "compute")


def test_ep_need_not_divide_the_expert_count_but_must_fit_the_slots():
    check(DSV3, Parallelism(1, 1, 72, 72, 1), 72, 8, redundant=0)  # 256 / 72: ceil = 4 slots
    with pytest.raises(PerfInputError, match="redundant"):
        check(DSV3, Parallelism(1, 1, 320, 320, 1), 320, 8, redundant=0)
    check(DSV3, Parallelism(1, 1, 320, 320, 1), 320, 8, redundant=64)


def test_layout_search_does_not_grow_with_the_divisors_of_the_chip_count():
    """50,400 chips have 108 divisors; the chooser's candidates stay a small bounded set."""
    import time

    t0 = time.perf_counter()
    lays = candidates(DSV3, 50400, 8)
    assert 0 < len(lays) < 300
    r = infer(CAT.chip("h800-sxm"), "deepseek-v3", num_chips=50400, precision="fp8", batch="auto")
    assert (
        r.parallelism["replicas"] * r.parallelism["tp"] * r.parallelism["pp"] * r.parallelism["dp"]
        == 50400
    )
    assert time.perf_counter() - t0 < 20


# --- mechanisms, hand-worked ---------------------------------------------------------------
def test_slots_and_busiest_rank_by_hand():
    assert float(moe.slots_per_rank(256, 32, 144)) == 2
    assert float(moe.slots_per_rank(256, 0, 72)) == 4
    # 1,000 tokens x 8 experts over 8 ranks: mean 1,000; busiest ~ 1,000 + sqrt(2 x 1,000 x ln 8)
    load = float(moe.hot_rank_load(256, 8, 8, 0, 1000, 1.0))
    assert load == pytest.approx(1000 + np.sqrt(2 * 1000 * np.log(8)))
    # a 1.5x hot-expert skew; 256 redundant copies halve its excess
    skewed = float(moe.effective_skew(1.5, 256, 256))
    assert skewed == pytest.approx(1.25)


def test_all_to_all_stays_inside_one_domain_and_splits_across_nodes():
    # EP 8 inside one 8-chip node: everything on the scale-up link
    up, out = moe.all_to_all_bytes(100, 7168, 8, 8, 8, 8, 3.0, 1e9, False)
    assert float(out) == 0 and float(up) > 0
    # EP 16 over two nodes, per destination rank: about half the copies leave the node
    up, out = moe.all_to_all_bytes(100, 7168, 8, 16, 16, 8, 3.0, 1e9, False)
    copies = float(moe.destination_ranks(16, 8))
    assert float(out) == pytest.approx(100 * 7168 * 3 * copies * 8 / 16)
    assert float(up) == pytest.approx(100 * 7168 * 3 * copies * 7 / 16)
    # per destination node (prefill): node-limited routing caps the RDMA copies at 4 nodes
    _, out_node = moe.all_to_all_bytes(100, 7168, 8, 144, 144, 8, 3.0, 4.0, True)
    assert float(out_node) <= 100 * 7168 * 3 * 4


def test_kv_cache_precision_is_separate_from_the_weights():
    h20 = CAT.chip("h20")
    kw = dict(
        num_chips=8, batch=8, precision="fp8", input_len=4096, output_len=512, tp=8, pp=1, dp=1
    )
    bf16 = infer(h20, "qwen3-32b", **kw)
    fp8 = infer(h20, "qwen3-32b", kv_precision="fp8", **kw)
    assert bf16.kv_precision == "bf16"
    assert bf16.memory_per_chip_gb.kv_cache_gb == pytest.approx(
        2 * fp8.memory_per_chip_gb.kv_cache_gb
    )
    assert bf16.memory_per_chip_gb.weights_gb == fp8.memory_per_chip_gb.weights_gb


def test_a_batch_beyond_the_kv_capacity_is_capped_and_said():
    r = infer(
        CAT.chip("h20"),
        "llama-3.1-70b",
        num_chips=8,
        batch=100000,
        precision="fp8",
        input_len=8192,
        output_len=1024,
        tp=8,
        pp=1,
        dp=1,
    )
    assert r.batch_capped and r.batch == r.max_batch_fit < 100000
    assert any("capped" in n for n in r.notes)


def test_mtp_needs_a_head_or_a_given_acceptance():
    with pytest.raises(PerfInputError, match="acceptance"):
        infer(CAT.chip("h20"), "llama-3.1-8b", spec_tokens=1)
    r = infer(CAT.chip("h20"), "llama-3.1-8b", spec_tokens=1, accepted_per_step=1.7)
    assert r.accepted_per_step == 1.7


def test_rank_per_die_needs_a_multi_die_package():
    with pytest.raises(PerfInputError, match="one compute die"):
        infer(CAT.chip("h20"), "llama-3.1-8b", rank_per_die=True)


def test_disaggregated_both_counts_the_prefill_chips_it_needs():
    kw = dict(
        num_chips=16, precision="fp8", input_len=2048, output_len=512, batch=512, tp=1, dp=16, ep=16
    )
    dec = infer(CAT.chip("h200-sxm"), "deepseek-v3", phase="decode", **kw)
    both = infer(CAT.chip("h200-sxm"), "deepseek-v3", phase="both", disaggregated=True, **kw)
    pool = both.prefill_pool
    assert pool is not None and pool.chips_needed > 0
    assert both.output_tokens_per_s_per_chip == pytest.approx(
        dec.output_tokens_per_s / (16 + pool.chips_needed)
    )
    assert both.ttft_s > pool.kv_transfer_s > 0


# --- physical floors and monotonicities (hypothesis) -----------------------------------------
hws = st.builds(
    Hw,
    peak_flops=st.floats(100e12, 5000e12),
    mem_bw_bs=st.floats(0.5e12, 8e12),
    link_bw_bs=st.floats(25e9, 900e9),
    capacity_b=st.just(1e15),
    scaleout_bw_bs=st.floats(10e9, 100e9),
    eta_c=st.floats(0.05, 1.0),
    eta_m=st.floats(0.05, 1.0),
    eta_l=st.floats(0.05, 1.0),
    overhead_s=st.floats(0.0, 0.01),
    link_latency_s=st.floats(0.0, 1e-4),
    eta_c_prefill=st.floats(0.05, 1.0),
    eta_attn=st.floats(0.05, 1.0),
    eta_out=st.floats(0.05, 1.0),
)
lays = st.builds(
    wl.Layout,
    tp=st.sampled_from([1.0, 2.0, 8.0]),
    pp=st.sampled_from([1.0, 2.0]),
    dp=st.sampled_from([1.0, 4.0, 16.0, 144.0]),
    ep=st.sampled_from([1.0, 4.0, 16.0]),
    redundant=st.sampled_from([0.0, 16.0, 32.0]),
    domain=st.sampled_from([8.0, 72.0, 384.0]),
    overlap=st.sampled_from([0.0, 1.0]),
    skew=st.floats(1.0, 2.0),
)
precs = st.sampled_from(
    [wl.Precisions(2.0, 2.0), wl.Precisions(1.0, 2.0, 2.0, 1.03125, 2.0), wl.Precisions(0.5, 1.0)]
)
SETTINGS = settings(max_examples=80, deadline=None)


@SETTINGS
@given(
    st.sampled_from(sorted(SHAPES)),
    hws,
    precs,
    lays,
    st.floats(1, 512),
    st.floats(16, 8192),
    st.floats(1, 4),
    st.booleans(),
)
def test_no_phase_beats_bytes_over_peak_bandwidth_or_flops_over_peak_compute(
    m, hw, prec, lay, b, ctx, q, prefill
):
    s = SHAPES[m]
    w = (
        wl.prefill_work(s, prec, lay, b / 64, ctx)
        if prefill
        else wl.decode_work(s, prec, lay, b, ctx, q)
    )
    t = pass_time(w, hw, lay.pp, lay.overlap, prefill)
    flops = w.linear_flops + w.attn_flops
    byts = w.weight_bytes + w.kv_bytes + w.act_bytes
    assert t.time_s >= lay.pp * flops / hw.peak_flops * (1 - 1e-9)
    assert t.time_s >= lay.pp * byts / hw.mem_bw_bs * (1 - 1e-9)
    assert t.time_s >= lay.pp * (w.up_bytes / hw.link_bw_bs + w.out_bytes / hw.scaleout_bw_bs) * (
        1 - 1e-9
    )


@SETTINGS
@given(st.sampled_from(sorted(SHAPES)), hws, precs, lays, st.floats(1, 512), st.floats(16, 8192))
def test_overlap_never_slows_a_layer(m, hw, prec, lay, b, ctx):
    s = SHAPES[m]
    w = wl.decode_work(s, prec, lay, b, ctx)
    assert pass_time(w, hw, lay.pp, 1.0).time_s <= pass_time(w, hw, lay.pp, 0.0).time_s * (
        1 + 1e-12
    )


@SETTINGS
@given(
    st.sampled_from(sorted(SHAPES)),
    lays,
    st.floats(1, 1e5),
    st.sampled_from([0.0, 8.0, 32.0, 64.0]),
)
def test_redundant_experts_never_reduce_slots_or_raise_the_busiest_rank(m, lay, tokens, extra):
    s = SHAPES[m]
    r0, r1 = lay.redundant, lay.redundant + extra
    assert moe.slots_per_rank(s.experts, r1, lay.ep) >= moe.slots_per_rank(s.experts, r0, lay.ep)
    hot0 = moe.hot_rank_load(s.experts, s.active, lay.ep, r0, tokens, lay.skew)
    hot1 = moe.hot_rank_load(s.experts, s.active, lay.ep, r1, tokens, lay.skew)
    assert hot1 <= hot0 * (1 + 1e-12)


@SETTINGS
@given(hws, lays, st.floats(8, 4096), st.floats(128, 8192), st.floats(16, 2048))
def test_decode_pool_tpot_never_exceeds_the_aggregated_tpot(hw, lay, b, isl, osl):
    """Taking the prefill off the decode chips never slows their output."""
    s, prec = SHAPES["deepseek-v3"], wl.Precisions(1.0, 2.0, 2.0, 1.03125, 2.0)
    agg = evaluate(s, prec, lay, hw, b * lay.dp, isl, osl)
    dis = evaluate(s, prec, lay, hw, b * lay.dp, isl, osl, disaggregated=True)
    assert dis.tpot_s <= agg.tpot_s * (1 + 1e-12)


def test_dp_attention_prefill_stalls_every_rank_that_shares_the_experts():
    """64 DP ranks sharing experts, 16 sequences each, 1,024-token outputs: a rank admits
    q = 1/64 prompts per step, so some rank prefills in 1 - (1 - 1/64)^64 = 63.5 % of the steps
    against 1/64 for a rank alone: the interleaved prefill stalls decode 40.6 times as long."""
    from chipwatch.perf.inference import dp_prefill_sync

    s = SHAPES["deepseek-v3"]
    lay = wl.Layout(tp=1.0, pp=1.0, dp=64.0, ep=8.0)
    assert float(dp_prefill_sync(s, lay, 16.0, 1024.0)) == pytest.approx(
        (1 - (1 - 1 / 64) ** 64) * 64, rel=1e-9
    )
    assert float(dp_prefill_sync(s, lay, 16.0, 1024.0)) == pytest.approx(40.64, abs=0.01)
    # half the prefill FLOPs in routed experts: those spread over the EP ranks as before
    assert float(dp_prefill_sync(s, lay, 16.0, 1024.0, 0.5)) == pytest.approx(
        0.5 * 40.64 + 0.5, abs=0.01
    )
    # one rank, replicated experts, a dense model, or a prefill in every step: no extra stall
    assert float(dp_prefill_sync(s, wl.Layout(dp=1.0, ep=8.0), 16.0, 1024.0)) == 1.0
    assert float(dp_prefill_sync(s, wl.Layout(dp=64.0, ep=1.0), 16.0, 1024.0)) == 1.0
    assert float(dp_prefill_sync(SHAPES["llama-3.1-8b"], lay, 16.0, 1024.0)) == 1.0
    assert float(dp_prefill_sync(s, lay, 2048.0, 1024.0)) == 1.0


@SETTINGS
@given(hws, lays, st.floats(1, 4096), st.floats(128, 8192), st.floats(16, 2048))
def test_dp_prefill_sync_only_adds_time_and_grows_with_the_ranks(hw, lay, b, isl, osl):
    from chipwatch.perf.inference import dp_prefill_sync

    s = SHAPES["deepseek-v3"]
    e = float(hw.eta_c)  # any share in [0, 1]
    f = float(dp_prefill_sync(s, lay, b, osl, e))
    more = dataclasses.replace(lay, dp=lay.dp * 2)
    assert 1.0 <= f <= float(dp_prefill_sync(s, more, b, osl, e)) * (1 + 1e-12)


def test_tensorrt_llm_plans_its_kv_cache_from_the_memory_left_after_the_weights():
    """DeepSeek-V3 in FP8 on 4 B200 (TP4) holds 168 GB of weights per 180 GB chip. Keeping 10 %
    of the whole chip free (vLLM, SGLang) leaves no room for a KV cache; TensorRT-LLM keeps 10 %
    of what is left after the weights (free_gpu_memory_fraction 0.9), so it serves a batch."""
    kw = dict(
        num_chips=4,
        tp=4,
        dp=1,
        ep=1,
        batch=16,
        input_len=1024,
        output_len=1024,
        precision="fp8",
    )
    b200 = CAT.chip("b200")
    with pytest.raises(PerfInputError, match="does not fit"):
        infer(b200, "deepseek-v3", **kw)
    r = infer(b200, "deepseek-v3", **kw, engine="trtllm")
    m = r.memory_per_chip_gb
    # 10 % of what the weights (and the prefill chunk's working memory) leave, not of 180 GB
    assert m.reserved_gb == pytest.approx(0.1 * (m.capacity_gb - m.weights_gb), abs=0.1)
    assert r.max_batch_fit > 16
    assert "TensorRT-LLM" in r.assumptions["memory_reserve"]
