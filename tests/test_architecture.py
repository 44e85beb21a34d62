"""Architecture maths against hand calculations and published parameter counts."""

from __future__ import annotations

import json

import pytest

from gpuplan.catalog.models import get_model
from gpuplan.compute.hf_config import architecture_from_hf_config, load_hf_config
from gpuplan.errors import InputError


@pytest.mark.parametrize(
    ("model_id", "published_total", "published_active", "source"),
    [
        # mistral.ai/news/announcing-mistral-7b and arXiv:2310.06825: 7.24B parameters
        ("mistral-7b", 7.24e9, None, "arXiv:2310.06825"),
        # mistral.ai/news/mixtral-of-experts: 46.7B total, 12.9B used per token
        ("mixtral-8x7b", 46.7e9, 12.9e9, "mistral.ai/news/mixtral-of-experts"),
        # Llama 2 70B: 68.98B in the HF model card / 69.0B in parameter tables
        ("llama-2-70b", 69.0e9, None, "arXiv:2307.09288"),
        # DeepSeek-V3 total: 671B (arXiv:2412.19437 abstract)
        ("deepseek-v3", 671e9, None, "arXiv:2412.19437"),
        ("mixtral-8x22b", 141e9, 39e9, "mistral.ai/news/mixtral-8x22b"),
        ("llama-3-8b", 8.03e9, None, "Meta-Llama-3-8B model card"),
        ("llama-3.1-405b", 405e9, None, "arXiv:2407.21783"),
        ("gpt-3-175b", 175e9, None, "arXiv:2005.14165 Table 2.1"),
        ("mistral-large-2", 123e9, None, "mistral.ai/news/mistral-large-2407"),
        ("llama-3.1-8b", 8.03e9, None, "Llama-3.1-8B model card"),
        ("llama-3.3-70b", 70.6e9, None, "Llama-3.3-70B-Instruct model card"),
        ("qwen3-30b-a3b", 30.5e9, None, "Qwen3-30B-A3B model card (3.3B active: rounded)"),
        ("qwen3-235b-a22b", 235e9, 22e9, "Qwen3-235B-A22B model card"),
        # Meta: 400B total / 17B active (text model; the vision encoder is not counted)
        ("llama-4-maverick", 400e9, None, "Llama-4-Maverick model card"),
    ],
)
def test_parameter_counts_match_published_within_1_percent(
    model_id: str, published_total: float, published_active: float | None, source: str
) -> None:
    arch = get_model(model_id).architecture
    assert arch.params_total == pytest.approx(published_total, rel=0.01), source
    if published_active is not None:
        assert arch.params_active == pytest.approx(published_active, rel=0.01), source


def test_deepseek_v3_active_parameters_hand_count() -> None:
    """DeepSeek-V3 '37B activated' (arXiv:2412.19437) is rounded to whole billions.

    Hand count from config.json: MLA attention 187,107,328 x 61 layers; 3 dense MLPs of
    3·7168·18432; 58 MoE layers with 8 routed + 1 shared experts of 3·7168·2048 and a
    7168x256 router; norms 2·7168 per layer + 7168; embeddings 2·129280·7168.
    That is 37.55B, which the published '37B' rounds; we check the exact hand count and
    that it lies within the rounding (+/- 0.5B) of the published figure.
    """
    attention = 61 * (
        7168 * 1536
        + 1536
        + 1536 * 128 * 192
        + 7168 * 576
        + 512
        + 512 * 128 * 256
        + 128 * 128 * 7168
    )
    dense = 3 * 3 * 7168 * 18432
    moe = 58 * (9 * 3 * 7168 * 2048 + 7168 * 256)
    norms = 61 * 2 * 7168 + 7168
    embeddings = 2 * 129280 * 7168
    hand = attention + dense + moe + norms + embeddings
    arch = get_model("deepseek-v3").architecture
    assert arch.params_active == hand
    assert abs(arch.params_active - 37e9) <= 0.5e9 + 0.06e9


def test_mistral_7b_layer_hand_count() -> None:
    """Per layer: q,o 4096² each; k,v 4096·1024 each; MLP 3·4096·14336; 2 RMSNorms."""
    arch = get_model("mistral-7b").architecture
    layer = 2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336 + 2 * 4096
    assert arch.params_total == 32 * layer + 2 * 32000 * 4096 + 4096


def test_mistral_7b_kv_cache_with_and_without_window() -> None:
    """KV per token = 2·8 kv heads·128·32 layers·2 bytes = 131,072 B; at 32k context the
    rolling 4096-token window holds 4096 tokens: 0.537 GB instead of 4.295 GB."""
    arch = get_model("mistral-7b").architecture
    assert arch.kv_bytes_per_token("bf16") == 2 * 8 * 128 * 32 * 2
    assert arch.kv_bytes_per_sequence(32768, "bf16") == 4096 * 131072
    no_window = arch.model_copy(update={"sliding_window": None})
    assert no_window.kv_bytes_per_sequence(32768, "bf16") == 32768 * 131072
    assert arch.kv_bytes_per_sequence(32768, "fp8") == pytest.approx(4096 * 131072 / 2)


def test_deepseek_latent_kv_is_compressed() -> None:
    """MLA caches (512 + 64) values per layer: 576·61·2 B = 70,272 B per token in bf16."""
    arch = get_model("deepseek-v3").architecture
    assert arch.kv_bytes_per_token("bf16") == 576 * 61 * 2


def test_forward_flops_per_token_hand_calculation() -> None:
    """Llama 2 7B at 4096 context: 2·(6.738B - 32000·4096) + 32·2·32·(128+128)·4096."""
    arch = get_model("llama-2-7b").architecture
    matmul = arch.params_total - 32000 * 4096
    attention = 32 * 2 * 32 * 256 * 4096
    assert arch.forward_flops_per_token(4096) == pytest.approx(2 * matmul + attention)
    assert arch.training_flops_per_token(4096) == pytest.approx(3 * (2 * matmul + attention))


def test_gqa_kv_heads_shrink_kv_cache() -> None:
    llama2_70b = get_model("llama-2-70b").architecture  # 8 KV heads of 64
    full = llama2_70b.model_copy(update={"num_kv_heads": 64})
    assert full.kv_bytes_per_token() == 8 * llama2_70b.kv_bytes_per_token()


def test_user_config_json_is_accepted(tmp_path) -> None:
    config = {
        "vocab_size": 32000,
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "sliding_window": 4096,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert get_model(str(path)).params_total == get_model("mistral-7b").params_total
    assert load_hf_config(path).sliding_window == 4096


def test_missing_config_key_names_the_field() -> None:
    with pytest.raises(InputError, match="hidden_size"):
        architecture_from_hf_config({"vocab_size": 10, "num_hidden_layers": 2})


def test_inconsistent_heads_are_rejected() -> None:
    with pytest.raises(InputError, match="multiple"):
        architecture_from_hf_config(
            {
                "vocab_size": 10,
                "hidden_size": 64,
                "intermediate_size": 128,
                "num_hidden_layers": 2,
                "num_attention_heads": 6,
                "num_key_value_heads": 4,
            }
        )


def test_tied_embedding_still_costs_the_lm_head_matmul() -> None:
    """GPT-3 ties input and output embeddings: the 50257x12288 table is counted once in the
    parameters, but its LM-head matmul (2·50257·12288 FLOPs/token) still happens; only the
    2048x12288 learned-position lookup is FLOP-free."""
    arch = get_model("gpt-3-175b").architecture
    assert arch.params_active_matmul == arch.params_active - 2048 * 12288


QWEN3_30B_A3B = {
    # huggingface.co/Qwen/Qwen3-30B-A3B config.json; model card: 30.5B total, 3.3B activated.
    "vocab_size": 151936,
    "hidden_size": 2048,
    "intermediate_size": 6144,
    "num_hidden_layers": 48,
    "num_attention_heads": 32,
    "num_key_value_heads": 4,
    "head_dim": 128,
    "num_experts": 128,
    "num_experts_per_tok": 8,
    "moe_intermediate_size": 768,
    "decoder_sparse_step": 1,
    "mlp_only_layers": [],
    "tie_word_embeddings": False,
    "max_position_embeddings": 40960,
}
LLAMA4_SCOUT_TEXT = {
    # huggingface.co/meta-llama/Llama-4-Scout-17B-16E config.json text_config; Meta: 17B
    # active, 109B total (with the vision encoder).
    "vocab_size": 202048,
    "hidden_size": 5120,
    "intermediate_size": 8192,
    "intermediate_size_mlp": 16384,
    "num_hidden_layers": 48,
    "num_attention_heads": 40,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "num_local_experts": 16,
    "num_experts_per_tok": 1,
    "interleave_moe_layer_step": 1,
    "tie_word_embeddings": False,
    "max_position_embeddings": 10485760,
}


def test_qwen_moe_spelling_num_experts_is_accepted() -> None:
    arch = architecture_from_hf_config(QWEN3_30B_A3B)
    assert arch.num_experts == 128
    assert arch.params_total == pytest.approx(30.5e9, rel=0.01)
    assert arch.params_active == pytest.approx(3.3e9, rel=0.03)


def test_llama4_text_config_with_shared_expert_and_interleaving() -> None:
    scout = architecture_from_hf_config({"text_config": LLAMA4_SCOUT_TEXT})
    assert scout.params_active == pytest.approx(17e9, rel=0.03)
    assert scout.params_total == pytest.approx(109e9, rel=0.03)
    # Maverick: 128 experts, MoE every second layer; Meta: 17B active, 400B total.
    maverick = architecture_from_hf_config(
        {
            "text_config": {
                **LLAMA4_SCOUT_TEXT,
                "num_local_experts": 128,
                "interleave_moe_layer_step": 2,
            }
        }
    )
    assert maverick.params_active == pytest.approx(17e9, rel=0.03)
    assert maverick.params_total == pytest.approx(400e9, rel=0.02)


def test_qwen2_moe_shared_expert_counts_by_size() -> None:
    # huggingface.co/Qwen/Qwen1.5-MoE-A2.7B config.json: 14.3B total, 2.7B activated.
    arch = architecture_from_hf_config(
        {
            "vocab_size": 151936,
            "hidden_size": 2048,
            "intermediate_size": 5632,
            "num_hidden_layers": 24,
            "num_attention_heads": 16,
            "num_key_value_heads": 16,
            "num_experts": 60,
            "num_experts_per_tok": 4,
            "moe_intermediate_size": 1408,
            "shared_expert_intermediate_size": 5632,
            "tie_word_embeddings": False,
        }
    )
    assert arch.num_shared_experts == 4
    assert arch.params_total == pytest.approx(14.3e9, rel=0.01)
    assert arch.params_active == pytest.approx(2.7e9, rel=0.02)


def test_llama4_chunked_attention_layers_are_read_from_the_config() -> None:
    # Scout's config.json: attention_chunk_size 8,192 and an empty no_rope_layers, which
    # transformers' Llama4TextConfig fills as every 4th layer global (NoPE), the others
    # chunked: 36 of 48. An explicit no_rope_layers list or layer_types says the same.
    scout = architecture_from_hf_config(
        {"text_config": {**LLAMA4_SCOUT_TEXT, "attention_chunk_size": 8192, "no_rope_layers": []}}
    )
    assert (scout.attention_chunk_size, scout.local_attention_layers) == (8192, 36)
    flags = architecture_from_hf_config(
        {**LLAMA4_SCOUT_TEXT, "attention_chunk_size": 8192, "no_rope_layers": [1, 1, 1, 0] * 12}
    )
    assert flags.local_attention_layers == 36
    kinds = ["chunked_attention"] * 3 + ["full_attention"]
    typed = architecture_from_hf_config(
        {**LLAMA4_SCOUT_TEXT, "attention_chunk_size": 8192, "layer_types": kinds * 12}
    )
    assert typed.local_attention_layers == 36
    assert get_model("llama-4-maverick").architecture.local_attention_layers == 36
    assert get_model("llama-4-scout").architecture.attention_chunk_size == 8192


def test_chunked_attention_keys_by_hand() -> None:
    # A chunked layer's query at position p attends p mod 8,192 earlier keys. Decoding from
    # 20,000 to 22,000: positions 3,616-5,616 in the third chunk, mean 4,616; the 12 global
    # layers attend 21,000 on average: (12·21,000 + 36·4,616) / 48 = 8,712.
    scout = get_model("llama-4-scout").architecture
    assert scout.mean_attended_keys(20_000, 22_000) == pytest.approx(8_712.0)
    # A 20,000-token prompt: a chunked layer attends ∫ p mod C dp / 20,000 =
    # (2·8,192²/2 + 3,616²/2) / 20,000 = 3,682.33 on average, a global one 10,000.
    assert scout.mean_attended_keys(0, 20_000) == pytest.approx(0.25 * 10_000 + 0.75 * 3_682.3296)
    # The KV cache keeps every block (TensorRT-LLM's cache is cyclic only for windows).
    assert scout.cached_tokens(22_000) == 22_000
    # Training's convention (every query sees the whole sequence): a chunk caps at 8,192.
    assert scout.attended_tokens(32_768) == pytest.approx(0.25 * 32_768 + 0.75 * 8_192)


def test_sliding_window_keys_and_buffer_by_hand() -> None:
    # Mistral 7B (window 4,096 on every layer): positions 0-8,192 attend min(p, 4,096), a
    # mean of (4,096²/2 + 4,096·4,096) / 8,192 = 3,072; the buffer holds 4,096.
    mistral = get_model("mistral-7b").architecture
    assert mistral.mean_attended_keys(0, 8_192) == pytest.approx(3_072.0)
    assert mistral.mean_attended_keys(0, 2_000) == pytest.approx(1_000.0)
    assert mistral.cached_tokens(8_192) == 4_096
    # gpt-oss style: a 128-token window on half the layers (layer_types): a sequence of 1,000
    # tokens holds (12·1,000 + 12·128) / 24 = 564 tokens of KV per layer on average.
    half = architecture_from_hf_config(
        {
            **LLAMA4_SCOUT_TEXT,
            "num_hidden_layers": 24,
            "sliding_window": 128,
            "layer_types": ["sliding_attention", "full_attention"] * 12,
        }
    )
    assert half.cached_tokens(1_000) == pytest.approx(564.0)


def test_a_window_and_a_chunk_together_or_a_zero_chunk_are_refused() -> None:
    with pytest.raises(InputError, match="sliding_window or attention_chunk_size"):
        architecture_from_hf_config(
            {**LLAMA4_SCOUT_TEXT, "attention_chunk_size": 8192, "sliding_window": 4096}
        )
    with pytest.raises(InputError, match="attention_chunk_size"):
        architecture_from_hf_config({**LLAMA4_SCOUT_TEXT, "attention_chunk_size": 0})


def test_latent_attention_decodes_in_the_latent_space() -> None:
    # DeepSeek-V3 (61 layers, 128 heads, kv_lora_rank 512, rope 64, nope 128, v 128): a
    # prompt query costs 2·128·(192 + 128) = 81,920 FLOPs per key per layer, 4,997,120 over
    # the 61 layers; a decoding query, with the up-projections absorbed (DeepSeek-V2 §2.1.3,
    # FlashMLA's 576/512 head dims), 2·128·(576 + 512) = 278,528 per layer, 16,990,208.
    arch = get_model("deepseek-v3").architecture
    assert arch.attention_flops_per_key == 4_997_120
    assert arch.decode_attention_flops_per_key == 16_990_208
    llama = get_model("llama-3-8b").architecture
    assert llama.decode_attention_flops_per_key == llama.attention_flops_per_key == 524_288
