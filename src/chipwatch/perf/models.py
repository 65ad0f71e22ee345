"""LLM architectures: a typed schema, parameter counts derived from the shapes, and the catalog.

Each model YAML (``data/models/*.yaml``) holds the shapes from the model's published
``config.json`` (cited in ``source``) and the publisher's headline parameter count; the tests
check that the derived count matches it. Users add or override models with ``--catalog DIR``
(``DIR/models/*.yaml``), as for chips.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chipwatch.catalog import UnknownIdError, suggest
from chipwatch.catalog.loader import LoadError, load_records


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MLA(_Strict):
    """Multi-head latent attention (DeepSeek-V2/V3): K and V are cached as one compressed latent."""

    q_lora_rank: int | None = Field(default=None, ge=1, description="0/None = full-rank Q")
    kv_lora_rank: int = Field(ge=1)
    qk_nope_head_dim: int = Field(ge=1)
    qk_rope_head_dim: int = Field(ge=1)
    v_head_dim: int = Field(ge=1)


class MoE(_Strict):
    """Mixture of experts: ``experts`` routed experts of which ``active`` are used per token."""

    experts: int = Field(ge=2)
    active: int = Field(ge=1)
    shared: int = Field(default=0, ge=0, description="shared experts every token goes through")
    expert_ffn: int = Field(ge=1, description="intermediate size of one expert")
    dense_layers: int = Field(default=0, ge=0, description="leading layers with a dense FFN")
    groups: int | None = Field(
        default=None, ge=1, description="expert groups of group-limited routing (n_group)"
    )
    groups_per_token: int | None = Field(
        default=None,
        ge=1,
        description="groups a token may route to (topk_group); with one group per node this is "
        "node-limited routing (DeepSeek-V3 report, arXiv 2412.19437, sec. 2.1.2: at most 4 nodes)",
    )

    @model_validator(mode="after")
    def _active_le_experts(self) -> MoE:
        if self.active > self.experts:
            raise ValueError(f"active experts ({self.active}) exceed experts ({self.experts})")
        return self


class MTP(_Strict):
    """A multi-token-prediction head shipped with the model (DeepSeek-V3 sec. 2.2), used as the
    draft model of speculative decoding: ``layers`` extra transformer layers per draft token and
    the published acceptance rate of the second token."""

    layers: int = Field(default=1, ge=1)
    acceptance: float = Field(gt=0, lt=1, description="probability a draft token is accepted")
    acceptance_low: float | None = Field(default=None, gt=0, lt=1)
    acceptance_high: float | None = Field(default=None, gt=0, lt=1)
    source: str = Field(min_length=1)


class PublishedCount(_Strict):
    value_b: float = Field(gt=0, description="billions of parameters")
    source: str = Field(min_length=1)
    note: str | None = None
    tolerance_pct: float = Field(
        default=1.0, gt=0, description="how close the derived count must be (headline sizes: 5)"
    )


class ModelSpec(_Strict):
    """Shapes of a decoder-only transformer LLM, as in its published config."""

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    source: str = Field(min_length=1, description="URL of the published config")
    layers: int = Field(ge=1)
    hidden: int = Field(ge=1)
    heads: int = Field(ge=1)
    kv_heads: int = Field(ge=1)
    head_dim: int | None = Field(default=None, ge=1, description="default hidden / heads")
    ffn: int = Field(ge=1, description="intermediate size of the dense FFN")
    vocab: int = Field(ge=1)
    tied_embeddings: bool = False
    gated_mlp: bool = Field(default=True, description="SwiGLU-style 3-matrix MLP")
    qkv_bias: bool = False
    linear_bias: bool = Field(default=False, description="biases on every linear (GPT-3)")
    qk_norm: bool = False
    layernorm_bias: bool = Field(default=False, description="LayerNorm with bias (2 vectors)")
    learned_positions: int = Field(default=0, ge=0, description="learned position embeddings")
    max_context: int = Field(ge=1)
    mla: MLA | None = None
    moe: MoE | None = None
    mtp: MTP | None = None
    params_published: PublishedCount | None = None
    active_params_published: PublishedCount | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _shapes_consistent(self) -> ModelSpec:
        if self.heads % self.kv_heads:
            raise ValueError(f"heads ({self.heads}) not divisible by kv_heads ({self.kv_heads})")
        if self.moe and self.moe.dense_layers > self.layers:
            raise ValueError("moe.dense_layers exceeds layers")
        return self

    # --- derived shapes ----------------------------------------------------------------
    @property
    def hd(self) -> int:
        return self.head_dim or self.hidden // self.heads

    @property
    def moe_layers(self) -> int:
        return self.layers - self.moe.dense_layers if self.moe else 0

    @property
    def dense_layers(self) -> int:
        return self.layers - self.moe_layers

    @property
    def attention_label(self) -> str:
        """MLA (latent attention), GQA (fewer KV heads than query heads) or MHA."""
        return "MLA" if self.mla else ("GQA" if self.kv_heads < self.heads else "MHA")

    @property
    def is_moe(self) -> bool:
        return self.moe is not None

    # --- parameter counts (weights only; see counts()) --------------------------------
    def attention_params(self) -> int:
        """Per layer: projections (and their biases / norms) of one attention block."""
        h = self.hidden
        if self.mla:
            m = self.mla
            qk = m.qk_nope_head_dim + m.qk_rope_head_dim
            if m.q_lora_rank:
                q = h * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * self.heads * qk
            else:
                q = h * self.heads * qk
            kv_down = h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank
            kv_up = m.kv_lora_rank * self.heads * (m.qk_nope_head_dim + m.v_head_dim)
            o = self.heads * m.v_head_dim * h
            return q + kv_down + kv_up + o
        q_dim, kv_dim = self.heads * self.hd, self.kv_heads * self.hd
        n = h * q_dim + 2 * h * kv_dim + q_dim * h
        if self.qkv_bias or self.linear_bias:
            n += q_dim + 2 * kv_dim
        if self.linear_bias:
            n += h
        if self.qk_norm:
            n += 2 * self.hd
        return n

    def mlp_params(self, ffn: int) -> int:
        """One FFN with intermediate size ``ffn`` (gated: gate, up, down; else up, down)."""
        h = self.hidden
        n = (3 if self.gated_mlp else 2) * h * ffn
        if self.linear_bias:
            n += ffn + h
        return n

    def norm_params(self) -> int:
        """Per layer: two norms (pre-attention, pre-FFN)."""
        return 2 * self.hidden * (2 if self.layernorm_bias else 1)

    def counts(self) -> ParamCounts:
        """Parameter counts by role, derived from the shapes."""
        h = self.hidden
        attn = self.attention_params() * self.layers
        norms = self.norm_params() * self.layers + h * (2 if self.layernorm_bias else 1)
        dense_mlp = self.mlp_params(self.ffn) * self.dense_layers
        expert = shared = router = 0
        if self.moe:
            expert = self.mlp_params(self.moe.expert_ffn)
            shared = self.moe.shared * expert * self.moe_layers
            router = h * self.moe.experts * self.moe_layers
        embed = self.vocab * h + self.learned_positions * h
        lm_head = self.vocab * h
        return ParamCounts(
            attention=attn,
            dense_mlp=dense_mlp,
            shared_experts=shared,
            router=router,
            expert=expert,
            routed_experts=expert * (self.moe.experts if self.moe else 0) * self.moe_layers,
            active_routed=expert * (self.moe.active if self.moe else 0) * self.moe_layers,
            norms=norms,
            embedding=embed,
            lm_head=0 if self.tied_embeddings else lm_head,
            lm_head_matmul=lm_head,
        )

    def kv_elems_per_token(self) -> int:
        """KV-cache elements per token, all layers (GQA: K and V per KV head; MLA: latent)."""
        if self.mla:
            return (self.mla.kv_lora_rank + self.mla.qk_rope_head_dim) * self.layers
        return 2 * self.kv_heads * self.hd * self.layers

    def attn_flops_per_ctx(self, absorbed: bool) -> int:
        """Score + value FLOPs per query token per context token per layer (2 per MAC).

        GQA: QK^T and PV over every query head. MLA decode uses the absorbed form (attention over
        the compressed latent, DeepSeek-V2 paper sec. 2.1.3); prefill the naive per-head form.
        """
        if self.mla:
            m = self.mla
            if absorbed:
                return 2 * self.heads * (m.kv_lora_rank + m.qk_rope_head_dim) + (
                    2 * self.heads * m.kv_lora_rank
                )
            return 2 * self.heads * (m.qk_nope_head_dim + m.qk_rope_head_dim) + (
                2 * self.heads * m.v_head_dim
            )
        return 4 * self.heads * self.hd


@dataclass(frozen=True)
class ParamCounts:
    attention: int
    dense_mlp: int
    shared_experts: int
    router: int
    expert: int  # one routed expert, one layer
    routed_experts: int
    active_routed: int
    norms: int
    embedding: int
    lm_head: int  # stored separately (0 when tied)
    lm_head_matmul: int  # used in the output matmul either way

    @property
    def total(self) -> int:
        return (
            self.attention
            + self.dense_mlp
            + self.shared_experts
            + self.router
            + self.routed_experts
            + self.norms
            + self.embedding
            + self.lm_head
        )

    @property
    def active(self) -> int:
        """Parameters a token uses (embedding rows included, as publishers count them)."""
        return (
            self.attention
            + self.dense_mlp
            + self.shared_experts
            + self.router
            + self.active_routed
            + self.norms
            + self.embedding
            + self.lm_head
        )

    @property
    def dense_linear(self) -> int:
        """Matmul weights every token goes through, lm_head excluded."""
        return self.attention + self.dense_mlp + self.shared_experts + self.router

    @property
    def stored_other(self) -> int:
        """Stored, but not multiplied per token: norms and embedding tables."""
        return self.norms + self.embedding + self.lm_head

    def as_dict(self) -> dict[str, int]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["total"], d["active"] = self.total, self.active
        return d


class ModelCatalog:
    """Models by id or alias, plus the problems met while loading them."""

    def __init__(self, models: dict[str, ModelSpec], errors: list[LoadError] | None = None):
        self._models = dict(sorted(models.items()))
        self.errors = errors or []
        self._alias = {a.lower(): m.id for m in self._models.values() for a in m.aliases}

    def __len__(self) -> int:
        return len(self._models)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._models.values())

    @property
    def ids(self) -> list[str]:
        return list(self._models)

    def model(self, model_id: str) -> ModelSpec:
        key = model_id.lower().strip()
        key = key if key in self._models else self._alias.get(key, "")
        if not key:
            raise UnknownIdError(
                "model", model_id, suggest(model_id, [*self._models, *self._alias])
            )
        return self._models[key]

    def resolve(self, model: str | ModelSpec) -> ModelSpec:
        return model if isinstance(model, ModelSpec) else self.model(model)


AttentionKind = Literal["gqa", "mla"]


def load_models(*dirs: str | Path | Iterable[str | Path], env: bool = True) -> ModelCatalog:
    """Packaged models plus user folders (``DIR/models/*.yaml``, ``CHIPWATCH_PATH``)."""
    flat: list[str | Path] = []
    for d in dirs:
        if isinstance(d, str | Path):
            flat.append(d)
        else:
            flat.extend(d)
    loaded = load_records("models", ModelSpec, flat, env)
    return ModelCatalog(loaded.records, loaded.errors)


_DEFAULT: ModelCatalog | None = None


def default_models() -> ModelCatalog:
    """The packaged catalog (plus ``CHIPWATCH_PATH``), loaded once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_models()
    return _DEFAULT
