"""Model catalog: shapes load, parameter counts match the publishers' totals, hand-worked counts."""

from __future__ import annotations

import pytest

from chipwatch.catalog import UnknownIdError
from chipwatch.perf import load_models

REQUIRED = [
    "llama-2-7b",
    "llama-2-70b",
    "llama-3.1-8b",
    "llama-3.1-70b",
    "llama-3.1-405b",
    "qwen2.5-72b",
    "qwen3-8b",
    "qwen3-32b",
    "qwen3-30b-a3b",
    "qwen3-235b-a22b",
    "mixtral-8x7b",
    "deepseek-v3",
    "gpt-3-175b",
]


@pytest.fixture(scope="module")
def models():
    return load_models()


def test_catalog_has_required_models_and_no_errors(models):
    assert models.errors == []
    for mid in REQUIRED:
        assert models.model(mid).source.startswith(("http", "Brown"))


def test_deepseek_r1_is_an_alias_of_v3(models):
    assert models.model("deepseek-r1") is models.model("deepseek-v3")


@pytest.mark.parametrize("mid", REQUIRED)
def test_derived_total_matches_published(models, mid):
    m = models.model(mid)
    pub = m.params_published
    assert pub is not None
    derived_b = m.counts().total / 1e9
    assert abs(derived_b / pub.value_b - 1) * 100 <= pub.tolerance_pct, (derived_b, pub.value_b)


@pytest.mark.parametrize("mid", ["qwen3-30b-a3b", "qwen3-235b-a22b", "mixtral-8x7b", "deepseek-v3"])
def test_derived_active_matches_published(models, mid):
    m = models.model(mid)
    pub = m.active_params_published
    assert pub is not None
    derived_b = m.counts().active / 1e9
    assert abs(derived_b / pub.value_b - 1) * 100 <= pub.tolerance_pct, (derived_b, pub.value_b)


def test_llama2_7b_hand_count(models):
    """Dense MHA model, by hand: per layer 4 h^2 attention + 3 h f MLP + 2 h norms."""
    m = models.model("llama-2-7b")
    h, f, v, n = 4096, 11008, 32000, 32
    per_layer = 4 * h * h + 3 * h * f + 2 * h
    assert m.counts().total == n * per_layer + h + 2 * v * h == 6_738_415_616
    # KV cache: K and V, 32 heads x 128, 32 layers = 262,144 elements per token
    assert m.kv_elems_per_token() == 2 * 32 * 128 * 32


def test_llama31_8b_gqa_hand_count(models):
    """GQA: K and V projections are 8 heads x 128 wide, not 32."""
    m = models.model("llama-3.1-8b")
    h, f, v, n, kv = 4096, 14336, 128256, 32, 8 * 128
    per_layer = 2 * h * h + 2 * h * kv + 3 * h * f + 2 * h
    assert m.counts().total == n * per_layer + h + 2 * v * h == 8_030_261_248
    assert m.kv_elems_per_token() == 2 * kv * n  # 4x less than with 32 KV heads


def test_deepseek_v3_mla_moe_hand_count(models):
    """MLA + MoE: the 37B active / 671B total follow from the config."""
    m = models.model("deepseek-v3")
    h, heads = 7168, 128
    q = h * 1536 + 1536 + 1536 * heads * (128 + 64)
    kv = h * (512 + 64) + 512 + 512 * heads * (128 + 128)
    o = heads * 128 * h
    assert m.attention_params() == q + kv + o == 187_107_328
    expert = 3 * h * 2048
    c = m.counts()
    assert c.expert == expert
    assert c.routed_experts == 58 * 256 * expert
    assert c.dense_mlp == 3 * 3 * h * 18432
    # MLA caches the 512-wide latent plus the 64-wide RoPE key per layer
    assert m.kv_elems_per_token() == (512 + 64) * 61
    assert 670e9 < c.total < 672e9
    assert 37e9 < c.active < 38e9


def test_unknown_model_suggests(models):
    with pytest.raises(UnknownIdError, match="llama-3.1-70b"):
        models.model("llama-3.1-70")


def test_user_model_yaml_adds_a_model(tmp_path):
    d = tmp_path / "models"
    d.mkdir()
    (d / "tiny.yaml").write_text(
        "id: tiny\nname: Tiny\nsource: https://example.org/config.json\nlayers: 2\nhidden: 64\n"
        "heads: 4\nkv_heads: 2\nffn: 128\nvocab: 100\nmax_context: 512\n"
    )
    cat = load_models(tmp_path)
    assert cat.model("tiny").counts().total > 0
    assert "llama-3.1-8b" in cat.ids
