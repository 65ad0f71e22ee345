"""Workload accounting against hand-worked FLOP and byte counts (dense, GQA, MoE + MLA)."""

from __future__ import annotations

import numpy as np
import pytest

from chipwatch.perf import load_models
from chipwatch.perf import workload as wl

ONE = wl.Layout()
BF16 = wl.Precisions(weight_bytes=2.0, kv_bytes=2.0)


@pytest.fixture(scope="module")
def models():
    return load_models()


def test_dense_decode_step_llama2_7b(models):
    """Batch 8 at context 1000: 2 FLOPs per weight per token; every weight read once; the KV
    cache (K and V, 32 heads x 128, 32 layers, 2 bytes) read once per sequence."""
    m = models.model("llama-2-7b")
    s = wl.ModelShape.of(m)
    w = wl.decode_work(s, BF16, ONE, batch=8.0, ctx=1000.0)
    c = m.counts()
    matmul = c.attention + c.dense_mlp + 4096 * 32000  # norms are not matmuls
    assert w.linear_flops == pytest.approx(2 * 8 * matmul)
    assert w.linear_flops == pytest.approx(
        2 * 8 * (32 * (4 * 4096**2 + 3 * 4096 * 11008) + 4096 * 32000)
    )
    assert w.weight_bytes == pytest.approx(
        2 * (32 * (4 * 4096**2 + 3 * 4096 * 11008) + 4096 * 32000)
    )
    kv_per_token = 2 * 32 * 128 * 32 * 2  # K+V x heads x head_dim x layers x bytes = 512 KiB
    assert kv_per_token == 524288
    act = 2 * 8 * s.act_elems * 32
    assert w.attn_bytes == pytest.approx(8 * 1001 * kv_per_token + act)
    # QK^T and PV: 2 x 2 x 32 heads x 128 per context token per layer
    assert w.attn_flops == pytest.approx(8 * 1000 * 4 * 32 * 128 * 32)
    assert w.up_bytes == 0


def test_gqa_reads_kv_heads_only(models):
    """Llama-3.1-8B has 8 KV heads: a decode step reads 4x less KV than with 32."""
    m = models.model("llama-3.1-8b")
    s = wl.ModelShape.of(m)
    w = wl.decode_work(s, BF16, ONE, batch=32.0, ctx=1024.0)
    kv_bytes = 32 * 1025 * (2 * 8 * 128 * 32) * 2
    assert kv_bytes / 1e9 == pytest.approx(4.30, abs=0.01)  # not 17.2 GB as with 32 heads
    assert w.attn_bytes - 2 * 32 * s.act_elems * 32 == pytest.approx(kv_bytes)


def test_gqa_kv_split_stops_at_kv_heads(models):
    s = wl.ModelShape.of(models.model("llama-3.1-8b"))
    kv8 = wl.kv_per_seq_per_chip_bytes(s, BF16, wl.Layout(tp=8.0), 1000.0)
    kv16 = wl.kv_per_seq_per_chip_bytes(s, BF16, wl.Layout(tp=16.0), 1000.0)
    assert kv8 == kv16  # 8 KV heads: beyond TP 8 the cache is replicated


def test_prefill_close_to_two_flops_per_active_param(models):
    """Closed form: prefill ~ 2 x active matmul params x tokens + causal attention."""
    for mid in ("llama-3.1-70b", "qwen3-30b-a3b", "deepseek-v3"):
        m = models.model(mid)
        s = wl.ModelShape.of(m)
        c = m.counts()
        seqs, isl = 4.0, 2048.0
        w = wl.prefill_work(s, BF16, ONE, seqs, isl)
        tokens = seqs * isl
        linear = 2 * tokens * (c.dense_linear + c.active_routed) + 2 * seqs * c.lm_head_matmul
        assert w.linear_flops == pytest.approx(linear, rel=1e-9)
        attn = seqs * isl * (isl + 1) / 2 * m.attn_flops_per_ctx(absorbed=False) * m.layers
        assert w.attn_flops == pytest.approx(attn)
        # logits only for each prompt's last token: the output head drops out of the closed form
        approx = 2 * (c.active - c.embedding - c.lm_head) * tokens
        assert 0.99 < w.linear_flops / approx < 1.01


def test_deepseek_v3_mla_moe_decode(models):
    """MLA: 576 cached values per token per layer (not 2 x 128 heads x 128); MoE: a batch of 1
    reads 8 routed experts per layer, a large batch all 256."""
    m = models.model("deepseek-v3")
    s = wl.ModelShape.of(m)
    fp8 = wl.Precisions(weight_bytes=1.0, kv_bytes=1.0)
    assert s.kv_elems == 576 * 61
    one = wl.decode_work(s, fp8, ONE, batch=1.0, ctx=4096.0)
    c = m.counts()
    expert = 3 * 7168 * 2048
    dense = c.dense_linear + c.lm_head_matmul
    assert one.weight_bytes == pytest.approx(dense + 8 * expert * 58)
    big = wl.decode_work(s, fp8, ONE, batch=4096.0, ctx=4096.0)
    assert big.weight_bytes == pytest.approx(dense + 256 * expert * 58, rel=1e-6)
    # absorbed MLA decode: per head 2 x (512 + 64) for scores + 2 x 512 for values
    assert one.attn_flops == pytest.approx(4096 * 128 * (2 * 576 + 2 * 512) * 61)
    assert one.linear_flops == pytest.approx(2 * (dense + 8 * expert * 58))


def test_distinct_experts_limits():
    assert wl.distinct_experts(256.0, 8.0, 1.0) == pytest.approx(8.0)
    assert wl.distinct_experts(256.0, 8.0, 1e6) == pytest.approx(256.0)
    t = np.array([1.0, 2.0, 16.0, 128.0])
    d = wl.distinct_experts(128.0, 8.0, t)
    assert np.all(np.diff(d) > 0)
    assert float(wl.distinct_experts(0.0, 0.0, 5.0)) == 0.0


def test_tp_all_reduce_bytes(models):
    """Ring all-reduce: 2 (tp-1)/tp of the activations per chip, 2 per layer."""
    s = wl.ModelShape.of(models.model("llama-3.1-70b"))
    w = wl.decode_work(s, BF16, wl.Layout(tp=8.0), batch=16.0, ctx=100.0)
    assert w.up_bytes == pytest.approx(2 * 80 * 2 * 7 / 8 * 16 * 8192 * 2)
    assert w.collectives == 160


def test_tp_all_reduce_across_domains_is_hierarchical(models):
    """TP16 over two 8-chip domains: reduce-scatter / all-gather inside the domain (2 x 7/8 of
    the activations per chip over scale-up) and each chip's 1/8 share all-reduced across the 2
    domains (2 x 1/2 / 8 over scale-out), 2 all-reduces per layer; hand-worked."""
    s = wl.ModelShape.of(models.model("llama-3.1-70b"))
    w = wl.decode_work(s, BF16, wl.Layout(tp=16.0, domain=8.0), batch=16.0, ctx=100.0)
    act = 16 * 8192 * 2
    assert w.up_bytes == pytest.approx(2 * 80 * 2 * 7 / 8 * act)
    assert w.out_bytes == pytest.approx(2 * 80 * 2 * (1 / 2) / 8 * act)
    # within one domain nothing crosses the network
    inside = wl.decode_work(s, BF16, wl.Layout(tp=8.0, domain=8.0), batch=16.0, ctx=100.0)
    assert inside.out_bytes == 0


def test_weights_per_chip(models):
    m = models.model("llama-3.1-70b")
    s = wl.ModelShape.of(m)
    fp8 = wl.Precisions(weight_bytes=1.0, kv_bytes=1.0)
    c = m.counts()
    got = wl.weights_per_chip_bytes(s, fp8, wl.Layout(tp=4.0))
    # matmuls at 1 byte, embedding / lm_head / norms kept at 2 bytes
    assert got == pytest.approx((c.dense_linear + 2 * c.stored_other) / 4)
