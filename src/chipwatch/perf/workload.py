"""FLOPs and bytes moved per chip for one prefill pass and one decode step.

All functions are plain NumPy arithmetic, so the same code serves one ``infer`` call (scalars)
and a sweep over millions of configurations (arrays that broadcast).

Conventions
- A matmul with P weights costs 2 P FLOPs per token (one multiply-add = 2 FLOPs).
- Decode reads each weight it uses once per step, the KV cache of every sequence once
  (K and V are counted once each: the KV size already holds both; no "load and store" doubling),
  and writes one new KV entry per sequence.
- GQA: the cache holds ``kv_heads`` heads, not ``heads``; MLA: one compressed latent per token.
- MoE: a batch of T tokens touches on average ``E (1 - (1 - k/E)^T)`` distinct experts
  (uniform routing), so small decode batches read only part of the expert weights.
- Parallelism within one model copy: tensor parallel ``tp`` splits attention heads and dense
  matmuls; pipeline parallel ``pp`` splits layers into stages; ``dp`` data-parallel ranks run
  side by side. Routed experts are spread over the ``tp * dp`` chips of a stage in ``ep``
  expert groups (expert parallel), each expert split over ``tp * dp / ep`` chips.
  ``replicas`` independent copies of that group share nothing, so every per-chip figure here is
  that of one copy; only totals (``inference.evaluate``) multiply by ``replicas``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from chipwatch.perf import moe
from chipwatch.perf.models import ModelSpec

Num = Any  # float or numpy array (broadcastable)

EMBED_BYTES = 2.0  # embedding tables, lm_head and norms stay 16-bit when weights are quantized


@dataclass(frozen=True)
class ModelShape:
    """The numbers of a model the cost formulas need (floats, or arrays for sweeps)."""

    layers: Num
    moe_layers: Num
    hidden: Num
    vocab: Num
    p_dense_linear: Num  # attention + dense FFN + shared experts + router matmul weights
    p_lm_head: Num  # output projection (matmul)
    p_stored_16bit: Num  # embedding, untied lm_head, norms: stored at 16 bit
    p_expert: Num  # one routed expert in one layer
    experts: Num  # routed experts per MoE layer (0 = dense model)
    active: Num  # routed experts per token
    kv_elems: Num  # KV-cache elements per token, all layers
    kv_split_max: Num  # how many ways TP can split the cache (kv heads; 1 for MLA)
    attn_prefill: Num  # attention FLOPs per query token per context token per layer
    attn_decode: Num
    act_elems: Num  # activation elements read+written per token per layer
    groups_per_token: Num = 1e9  # node-limited routing: destination groups (nodes) per token

    @classmethod
    def of(cls, m: ModelSpec) -> ModelShape:
        c = m.counts()
        h = m.hidden
        if m.mla:
            q_dim = m.heads * (m.mla.qk_nope_head_dim + m.mla.qk_rope_head_dim)
            kv_dim = m.mla.kv_lora_rank + m.mla.qk_rope_head_dim
        else:
            q_dim, kv_dim = m.heads * m.hd, m.kv_heads * m.hd
        ffn_eff = (m.moe.active + m.moe.shared) * m.moe.expert_ffn if m.moe else m.ffn
        # Each linear reads its input and writes its output; norms + residual adds ~8 h;
        # gated MLP adds the activation function's 2 reads + 1 write of the intermediate.
        act = 15 * h + 2 * q_dim + 2 * kv_dim + 6 * ffn_eff
        return cls(
            layers=float(m.layers),
            moe_layers=float(m.moe_layers),
            hidden=float(h),
            vocab=float(m.vocab),
            p_dense_linear=float(c.dense_linear),
            p_lm_head=float(c.lm_head_matmul),
            p_stored_16bit=float(c.stored_other),
            p_expert=float(c.expert),
            experts=float(m.moe.experts if m.moe else 0),
            active=float(m.moe.active if m.moe else 0),
            kv_elems=float(m.kv_elems_per_token()),
            kv_split_max=float(1 if m.mla else m.kv_heads),
            attn_prefill=float(m.attn_flops_per_ctx(absorbed=False)),
            attn_decode=float(m.attn_flops_per_ctx(absorbed=True)),
            act_elems=float(act),
            groups_per_token=float(
                m.moe.groups_per_token if m.moe and m.moe.groups_per_token else 1e9
            ),
        )

    @classmethod
    def stack(cls, shapes: list[ModelShape]) -> ModelShape:
        """One shape whose fields are arrays over models (for sweeps)."""
        return cls(
            **{
                f.name: np.array([getattr(s, f.name) for s in shapes], dtype=float)
                for f in fields(cls)
            }
        )

    def take(self, idx: np.ndarray) -> ModelShape:
        return ModelShape(**{f.name: np.asarray(getattr(self, f.name))[idx] for f in fields(self)})

    @property
    def p_routed(self) -> Num:
        return self.p_expert * self.experts * self.moe_layers


@dataclass(frozen=True)
class Precisions:
    """Bytes per element: weights, KV cache (its own precision; engines default to 16-bit KV),
    activations, and the MoE all-to-all's dispatch (tokens out to the experts) and combine
    (expert outputs back) payloads."""

    weight_bytes: Num
    kv_bytes: Num
    act_bytes: Num = 2.0
    dispatch_bytes: Num = 2.0
    combine_bytes: Num = 2.0


@dataclass(frozen=True)
class Layout:
    """Parallel degrees and the deployment choices that change the work (floats or arrays).

    ``redundant``: spare expert slots (slots = experts + redundant, spread evenly over the
    ``ep`` ranks); ``domain``: chips per scale-up domain (NVLink node, NVL72, supernode);
    ``overlap``: 1 when micro-batch overlap hides communication behind compute (a layer then
    costs max(compute + memory, communication)); ``skew``: systematic expert-load skew (hottest
    expert group's load / mean) on top of the statistical imbalance of random routing.
    """

    tp: Num = 1.0
    pp: Num = 1.0
    dp: Num = 1.0
    ep: Num = 1.0
    replicas: Num = 1.0  # independent copies of the tp x pp x dp group (no traffic between)
    redundant: Num = 0.0
    domain: Num = 1e9
    overlap: Num = 0.0
    skew: Num = 1.0


@dataclass(frozen=True)
class PhaseWork:
    """Per chip, for one pass of one pipeline stage: FLOPs and bytes by operation group."""

    dense_flops: Num  # matmuls against dense weights (attention projections, shared experts)
    expert_flops: Num  # grouped GEMMs of the routed experts on the busiest rank
    expert_tokens: Num  # tokens per expert slot on the busiest rank (grouped-GEMM size)
    weight_bytes: Num  # weights read
    attn_flops: Num  # score/value products against the context
    kv_bytes: Num  # KV cache read and written
    act_bytes: Num  # activations read and written
    up_bytes: Num  # bytes each chip sends over the scale-up link (TP, in-domain all-to-all, PP)
    out_bytes: Num  # bytes each chip sends over the scale-out network (cross-domain all-to-all)
    collectives: Num  # collective calls per stage and pass
    tokens_per_rank: Num = 0.0  # tokens of this pass on one data-parallel rank

    @property
    def linear_flops(self) -> Num:
        return self.dense_flops + self.expert_flops

    @property
    def attn_bytes(self) -> Num:
        return self.kv_bytes + self.act_bytes


def distinct_experts(experts: Num, active: Num, tokens: Num) -> Num:
    """Expected distinct experts hit by ``tokens`` tokens each routed to ``active`` of ``experts``.

    Uniform routing: each expert is missed by one token with probability 1 - k/E.
    """
    e = np.maximum(experts, 1.0)
    frac = np.where(experts > 0, active / e, 0.0)
    return np.where(experts > 0, e * (1.0 - np.power(1.0 - frac, tokens)), 0.0)


def kv_shard(shape: ModelShape, lay: Layout) -> Num:
    """Ways the KV cache is split by TP (heads beyond the KV head count are replicated)."""
    return np.minimum(lay.tp, shape.kv_split_max)


def _moe_pass(
    shape: ModelShape, prec: Precisions, lay: Layout, tokens: Num, prefill: bool
) -> dict[str, Num]:
    """The routed-expert part of a pass with ``tokens`` tokens per data-parallel rank."""
    stage_tokens = tokens * lay.dp  # every rank's tokens meet in the experts
    load = moe.hot_rank_load(
        shape.experts, shape.active, lay.ep, lay.redundant, stage_tokens, lay.skew
    )
    group = lay.tp * lay.dp / lay.ep  # chips that split one EP rank's experts
    layers = shape.moe_layers / lay.pp
    slots = moe.slots_per_rank(shape.experts, lay.redundant, lay.ep)
    hit = moe.slot_hit_fraction(shape.experts, shape.active, lay.redundant, stage_tokens)
    a2a_up, a2a_out = moe.all_to_all_bytes(
        tokens / lay.tp,
        shape.hidden,
        shape.active,
        lay.ep,
        lay.tp * lay.dp,
        lay.domain,
        prec.dispatch_bytes + prec.combine_bytes,
        shape.groups_per_token,
        per_node=prefill,
    )
    a2a = np.where((lay.dp > 1) & (shape.experts > 0), 1.0, 0.0) * layers
    return {
        "expert_flops": 2 * load * shape.p_expert * layers / group,
        # grouped-GEMM size: tokens per slot over all the rank's slots. Decode's masked grouped
        # GEMMs run over every local expert (DeepGEMM's masked layout), so a slot no token
        # reached is charged a tile too; charging reached slots only was tried and fits the
        # whole data set worse (the compute efficiencies then fall to 0.13-0.26, absorbing it)
        "expert_tokens": load / np.maximum(slots, 1.0),
        "expert_weight_bytes": prec.weight_bytes * shape.p_expert * layers * slots * hit / group,
        "a2a_up": a2a * a2a_up,
        "a2a_out": a2a * a2a_out,
    }


def _pass(
    shape: ModelShape,
    prec: Precisions,
    lay: Layout,
    seqs: Num,
    query: Num,
    ctx_products: Num,
    kv_tokens: Num,
    logits: Num,
    attn_per_ctx: Num,
    prefill: bool,
) -> PhaseWork:
    """One pass of one pipeline stage per chip: ``query`` tokens per sequence through the model,
    ``ctx_products`` query x context products per sequence, ``kv_tokens`` cache entries read or
    written per sequence, ``logits`` output rows per sequence."""
    bm = seqs / lay.pp  # micro-batch per stage
    tokens = bm * query
    layers = shape.layers / lay.pp
    m = _moe_pass(shape, prec, lay, tokens, prefill)
    dense = 2 * (tokens * shape.p_dense_linear + bm * logits * shape.p_lm_head) / (lay.tp * lay.pp)
    dense_w = prec.weight_bytes * (shape.p_dense_linear + shape.p_lm_head) / (lay.tp * lay.pp)
    act = tokens * shape.hidden * prec.act_bytes
    tp_ar, tp_ar_out = tp_all_reduce_bytes(layers, act, lay)
    pp_p2p = np.where(lay.pp > 1, act, 0.0)
    return PhaseWork(
        dense_flops=dense,
        expert_flops=m["expert_flops"],
        expert_tokens=m["expert_tokens"],
        weight_bytes=dense_w + m["expert_weight_bytes"],
        attn_flops=bm * ctx_products * attn_per_ctx * layers / lay.tp,
        kv_bytes=bm * kv_tokens * prec.kv_bytes * shape.kv_elems / lay.pp / kv_shard(shape, lay),
        act_bytes=prec.act_bytes * tokens * shape.act_elems * layers / lay.tp,
        up_bytes=tp_ar + m["a2a_up"] + pp_p2p,
        out_bytes=m["a2a_out"] + tp_ar_out,
        collectives=collective_calls(shape, lay),
        tokens_per_rank=tokens,
    )


def tp_all_reduce_bytes(layers: Num, act: Num, lay: Layout) -> tuple[Num, Num]:
    """(scale-up, scale-out) bytes per chip of the TP all-reduces (2 per layer) of ``act``
    activation bytes. Inside one scale-up domain a ring: 2 (tp-1)/tp of the activations over
    the scale-up link. Across n = tp / d domains of d chips (every chip with its own NIC) it runs
    hierarchically: reduce-scatter inside the domain, an all-reduce of each chip's 1/d share
    across the n domains over the network, all-gather inside the domain: 2 (d-1)/d over
    scale-up and 2 (n-1)/n / d over scale-out (so NCCL's bus bandwidth across 2 HGX H100 nodes,
    400-450 GB/s, is about 8 NICs' worth, not one:
    https://saturncloud.io/blog/crusoe-nccl-cluster-validation)."""
    d = np.minimum(np.maximum(lay.domain, 1.0), np.maximum(lay.tp, 1.0))
    n = np.maximum(lay.tp, 1.0) / d
    return 2 * layers * 2 * (d - 1) / d * act, 2 * layers * 2 * (n - 1) / n * act / d


def collective_calls(shape: ModelShape, lay: Layout) -> Num:
    """Collective operations per stage and pass: 2 all-reduces per layer with TP, dispatch and
    combine per MoE layer when experts span data-parallel ranks, one hand-off between stages."""
    layers = shape.layers / lay.pp
    tp_calls = np.where(lay.tp > 1, 2 * layers, 0.0)
    moe_calls = np.where((lay.dp > 1) & (shape.experts > 0), 2 * shape.moe_layers / lay.pp, 0.0)
    return tp_calls + moe_calls + np.where(lay.pp > 1, 1.0, 0.0)


def decode_work(
    shape: ModelShape,
    prec: Precisions,
    lay: Layout,
    batch: Num,
    ctx: Num,
    tokens_per_seq: Num = 1.0,
) -> PhaseWork:
    """One decode step of one pipeline stage, per chip.

    ``batch`` = sequences per data-parallel rank (split into ``pp`` micro-batches), ``ctx`` =
    context each sequence attends to. ``tokens_per_seq`` = tokens each sequence puts through the
    model in the step: 1 for plain decoding, ``k + 1`` when a speculative step verifies ``k``
    draft tokens (matmuls, scores and activations scale with it; the cache is read once).
    The all-to-all sends one copy per destination rank (DeepEP low-latency kernels).
    """
    q = tokens_per_seq
    return _pass(shape, prec, lay, batch, q, q * ctx, ctx + q, q, shape.attn_decode, False)


def prefill_work(
    shape: ModelShape, prec: Precisions, lay: Layout, seqs: Num, input_len: Num
) -> PhaseWork:
    """Prefill of ``seqs`` prompts of ``input_len`` tokens on one data-parallel rank, per chip.

    Causal attention: token i attends to i tokens, so a prompt of s tokens costs s (s+1) / 2
    context-token products; logits for the last token only. ``seqs`` may be fractional (a
    chunk of a longer prompt). The all-to-all sends one copy per destination node over the
    scale-out network and forwards inside the node (DeepEP normal kernels).
    """
    s = input_len  # the whole batch passes every stage once: pp x seqs per "micro-batch"
    return _pass(
        shape, prec, lay, seqs * lay.pp, s, s * (s + 1) / 2, s, 1.0, shape.attn_prefill, True
    )


def weights_per_chip_bytes(shape: ModelShape, prec: Precisions, lay: Layout) -> Num:
    """Stored weights per chip: dense parts split over tp x pp; each EP rank holds its expert
    slots (experts + redundant copies over ``ep`` ranks), split over its tp x dp / ep chips."""
    dense = (
        prec.weight_bytes * (shape.p_dense_linear)
        + np.maximum(prec.weight_bytes, EMBED_BYTES) * shape.p_stored_16bit
    )
    slots = moe.slots_per_rank(shape.experts, lay.redundant, lay.ep)
    group = lay.tp * lay.dp / lay.ep
    experts = prec.weight_bytes * shape.p_expert * shape.moe_layers * slots / (group * lay.pp)
    return dense / (lay.tp * lay.pp) + experts


def kv_per_seq_per_chip_bytes(
    shape: ModelShape, prec: Precisions, lay: Layout, seq_len: Num
) -> Num:
    return seq_len * prec.kv_bytes * shape.kv_elems / (lay.pp * kv_shard(shape, lay))


def activation_peak_bytes(shape: ModelShape, prec: Precisions, lay: Layout, tokens: Num) -> Num:
    """Working memory of the largest forward chunk: hidden states, the widest intermediate and
    fp32 logits for the last tokens; a rough bound, stated as such."""
    per_token = prec.act_bytes * (4 * shape.hidden + shape.act_elems / 3) / lay.tp
    return tokens * per_token
