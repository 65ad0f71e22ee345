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
    weight_bytes: Num
    kv_bytes: Num
    act_bytes: Num = 2.0


@dataclass(frozen=True)
class Layout:
    """Parallel degrees (floats or arrays)."""

    tp: Num = 1.0
    pp: Num = 1.0
    dp: Num = 1.0
    ep: Num = 1.0
    moe_cross_domain: Num = 0.0  # 1 when the tp x dp chips of a stage span scale-up domains
    replicas: Num = 1.0  # independent copies of the tp x pp x dp group (no traffic between)


@dataclass(frozen=True)
class PhaseWork:
    """Per chip, for one pass of one pipeline stage: FLOPs and bytes by operation group."""

    linear_flops: Num  # matmuls against weights (dense + experts + lm_head)
    weight_bytes: Num
    attn_flops: Num  # score/value products against the context
    attn_bytes: Num  # KV cache read/written + activations
    comm_bytes: Num  # bytes each chip sends over the scale-up link
    comm_out_bytes: Num = 0.0  # bytes each chip sends over the scale-out network
    collectives: Num = 0.0  # collective calls (all-reduce, all-to-all, hand-off) per stage


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


def _weights_read(shape: ModelShape, prec: Precisions, lay: Layout, expert_tokens: Num) -> Num:
    dense = prec.weight_bytes * (shape.p_dense_linear + shape.p_lm_head) / (lay.tp * lay.pp)
    local = distinct_experts(shape.experts, shape.active, expert_tokens) / lay.ep
    experts = (
        prec.weight_bytes
        * shape.p_expert
        * (shape.moe_layers / lay.pp)
        * local
        * lay.ep
        / (lay.tp * lay.dp)
    )
    return dense + experts


def _comm(shape: ModelShape, prec: Precisions, lay: Layout, tokens: Num) -> tuple[Num, Num]:
    """Bytes per chip over the link for ``tokens`` tokens (per replica) through one stage.

    TP: two ring all-reduces per layer, each moving 2 (tp-1)/tp of the activations per chip.
    MoE with dp > 1: tokens of the other replicas must reach the experts (dispatch) and come
    back (combine): each token goes to min(k, ep) expert groups of tp*dp/ep chips each; a share
    1/dp of them already sits on the token's own replica. With dp = 1 the experts see tokens
    that TP already replicated, so the TP all-reduce is all the traffic.
    PP: one activation hand-off per stage.
    """
    act = tokens * shape.hidden * prec.act_bytes
    tp_ar = 2 * (shape.layers / lay.pp) * 2 * (lay.tp - 1) / lay.tp * act
    group = lay.tp * lay.dp / lay.ep
    copies = np.minimum(shape.active, lay.ep) * group
    moe_a2a = 2 * (shape.moe_layers / lay.pp) * copies * (1 - 1 / lay.dp) * act / lay.tp
    pp_p2p = np.where(lay.pp > 1, act, 0.0)
    cross = lay.moe_cross_domain
    return tp_ar + (1 - cross) * moe_a2a, cross * moe_a2a + pp_p2p


def _comm_fields(shape: ModelShape, prec: Precisions, lay: Layout, tokens: Num) -> dict[str, Num]:
    up, out = _comm(shape, prec, lay, tokens)
    return {"comm_bytes": up, "comm_out_bytes": out, "collectives": collective_calls(shape, lay)}


def collective_calls(shape: ModelShape, lay: Layout) -> Num:
    """Collective operations per stage and pass: 2 all-reduces per layer with TP, dispatch and
    combine per MoE layer when experts span replicas, one hand-off between stages."""
    layers = shape.layers / lay.pp
    tp_calls = np.where(lay.tp > 1, 2 * layers, 0.0)
    moe_calls = np.where(lay.dp > 1, 2 * shape.moe_layers / lay.pp, 0.0)
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

    ``batch`` = sequences per replica (split into ``pp`` micro-batches), ``ctx`` = context length
    each sequence attends to. ``tokens_per_seq`` = tokens each sequence puts through the model in
    the step: 1 for plain decoding, ``k + 1`` when a speculative step verifies ``k`` draft tokens
    (the matmuls, attention scores and activations scale with it; the cached context is still
    read once per sequence and step).
    """
    q = tokens_per_seq
    bm = batch / lay.pp
    layers = shape.layers / lay.pp
    expert_tokens = bm * q * lay.dp  # every replica's micro-batch meets in the experts
    linear = 2 * bm * q * (shape.p_dense_linear + shape.p_lm_head) / (
        lay.tp * lay.pp
    ) + 2 * expert_tokens * shape.active * shape.p_expert * (shape.moe_layers / lay.pp) / (
        lay.tp * lay.dp
    )
    kv_per_token = prec.kv_bytes * shape.kv_elems / lay.pp / kv_shard(shape, lay)
    attn_bytes = (
        bm * (ctx + q) * kv_per_token  # read the cache once, write the new entries
        + prec.act_bytes * bm * q * shape.act_elems * layers / lay.tp
    )
    return PhaseWork(
        linear_flops=linear,
        weight_bytes=_weights_read(shape, prec, lay, expert_tokens),
        attn_flops=bm * q * ctx * shape.attn_decode * layers / lay.tp,
        attn_bytes=attn_bytes,
        **_comm_fields(shape, prec, lay, bm * q),
    )


def prefill_work(
    shape: ModelShape, prec: Precisions, lay: Layout, seqs: Num, input_len: Num
) -> PhaseWork:
    """Prefill of ``seqs`` prompts of ``input_len`` tokens on one replica, per chip and stage.

    Causal attention: token i attends to i tokens, so a prompt of s tokens costs s (s+1) / 2
    context-token products. Logits are computed for the last token of each prompt only.
    """
    tokens = seqs * input_len
    layers = shape.layers / lay.pp
    expert_tokens = tokens * lay.dp
    linear = 2 * (tokens * shape.p_dense_linear + seqs * shape.p_lm_head) / (
        lay.tp * lay.pp
    ) + 2 * expert_tokens * shape.active * shape.p_expert * (shape.moe_layers / lay.pp) / (
        lay.tp * lay.dp
    )
    kv_write = tokens * prec.kv_bytes * shape.kv_elems / lay.pp / kv_shard(shape, lay)
    return PhaseWork(
        linear_flops=linear,
        weight_bytes=_weights_read(shape, prec, lay, expert_tokens),
        attn_flops=seqs * input_len * (input_len + 1) / 2 * shape.attn_prefill * layers / lay.tp,
        attn_bytes=kv_write + prec.act_bytes * tokens * shape.act_elems * layers / lay.tp,
        **_comm_fields(shape, prec, lay, tokens),
    )


def weights_per_chip_bytes(shape: ModelShape, prec: Precisions, lay: Layout) -> Num:
    """Stored weights per chip: dense parts split over tp x pp, experts over tp x dp x pp."""
    dense = (
        prec.weight_bytes * (shape.p_dense_linear)
        + np.maximum(prec.weight_bytes, EMBED_BYTES) * shape.p_stored_16bit
    )
    return dense / (lay.tp * lay.pp) + prec.weight_bytes * shape.p_routed / (
        lay.tp * lay.dp * lay.pp
    )


def kv_per_seq_per_chip_bytes(
    shape: ModelShape, prec: Precisions, lay: Layout, seq_len: Num
) -> Num:
    return seq_len * prec.kv_bytes * shape.kv_elems / (lay.pp * kv_shard(shape, lay))


def activation_peak_bytes(shape: ModelShape, prec: Precisions, lay: Layout, tokens: Num) -> Num:
    """Working memory of the largest forward chunk: hidden states, the widest intermediate and
    fp32 logits for the last tokens; a rough bound, stated as such."""
    per_token = prec.act_bytes * (4 * shape.hidden + shape.act_elems / 3) / lay.tp
    return tokens * per_token
