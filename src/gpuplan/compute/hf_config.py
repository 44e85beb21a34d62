"""Reading a Hugging Face ``config.json`` into an :class:`Architecture`.

Llama/Mistral, the MoE spellings (Mixtral, Qwen-MoE, DeepSeek, Llama 4, gpt-oss), local
attention layers (sliding windows, Llama 4's chunks) and GPT-2/3 keys; a missing or bad key
is an :class:`InputError` naming it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gpuplan.compute.architecture import Architecture
from gpuplan.errors import InputError
from gpuplan.schema import check_magnitude

_GPT2_KEYS = {
    "n_embd": "hidden_size",
    "n_layer": "num_hidden_layers",
    "n_head": "num_attention_heads",
}


_CONFIG_KEYS = {
    "num_layers": "num_hidden_layers",
    "num_kv_heads": "num_key_value_heads",
    "num_experts": "num_local_experts / num_experts / n_routed_experts",
    "experts_per_token": "num_experts_per_tok",
    "num_shared_experts": "n_shared_experts",
    "first_dense_layers": "first_k_dense_replace",
    "local_attention_layers": "layer_types / no_rope_layers",
}
"""config.json key of each :class:`Architecture` field whose name differs (for messages)."""


def architecture_from_hf_config(config: dict[str, Any], source: str = "config") -> Architecture:
    """Build an :class:`Architecture` from Hugging Face ``config.json`` keys.

    Understands Llama/Mistral (``num_key_value_heads``, ``sliding_window``), local
    attention layers (:func:`local_attention_fields`: Llama 4's chunks), the MoE
    spellings of :func:`moe_fields` (Mixtral, Qwen-MoE, DeepSeek, Llama 4, gpt-oss) and
    GPT-2/3 (``n_embd``, ``n_layer``, ``n_inner``) keys; a multimodal config's
    ``text_config`` (Llama 4) is read as the language model. A missing key is an
    :class:`InputError` naming it.
    """
    cfg = dict(config)
    if isinstance(cfg.get("text_config"), dict) and "hidden_size" not in cfg:
        cfg = {**cfg, **cfg["text_config"]}
    for old, new in _GPT2_KEYS.items():
        if old in cfg and new not in cfg:
            cfg[new] = cfg[old]
    gpt_style = "n_embd" in cfg or cfg.get("model_type") in {"gpt2", "gpt3"}

    def need(key: str) -> Any:
        if cfg.get(key) is None:
            raise InputError(f"{source}.{key}", "is required but missing from the config.")
        return cfg[key]

    def whole(key: str) -> int:
        value = need(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                check_magnitude(value)  # before any float conversion of a huge integer
            except ValueError as error:
                raise InputError(f"{source}.{key}", f"{error}.") from None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value != int(value)
        ):
            raise InputError(f"{source}.{key}", f"must be a whole number (got {value!r}).")
        return int(value)

    hidden = whole("hidden_size")
    heads = whole("num_attention_heads")
    intermediate = (
        cfg.get("intermediate_size") or cfg.get("n_inner") or (4 * hidden if gpt_style else None)
    )
    if intermediate is None:
        raise InputError(f"{source}.intermediate_size", "is required but missing from the config.")
    use_window = cfg.get("use_sliding_window", True)
    fields: dict[str, Any] = {
        "vocab_size": need("vocab_size"),
        "hidden_size": hidden,
        "num_layers": need("num_hidden_layers"),
        "num_attention_heads": heads,
        "num_kv_heads": cfg.get("num_key_value_heads") or heads,
        "head_dim": cfg.get("head_dim") or hidden // heads,
        "intermediate_size": intermediate,
        "mlp": "plain" if gpt_style else "gated",
        "tie_word_embeddings": cfg.get("tie_word_embeddings", gpt_style),
        "learned_position_embeddings": (cfg.get("n_positions") or 0) if gpt_style else 0,
        "attention_bias": cfg.get("attention_bias", gpt_style),
        "mlp_bias": cfg.get("mlp_bias", gpt_style),
        "norm": "layernorm" if gpt_style else "rmsnorm",
        "sliding_window": cfg.get("sliding_window") if use_window else None,
        **local_attention_fields(cfg, use_window),
        "max_position_embeddings": cfg.get("max_position_embeddings") or cfg.get("n_positions"),
        **moe_fields(cfg),
        "q_lora_rank": cfg.get("q_lora_rank"),
        "kv_lora_rank": cfg.get("kv_lora_rank"),
        "qk_nope_head_dim": cfg.get("qk_nope_head_dim"),
        "qk_rope_head_dim": cfg.get("qk_rope_head_dim"),
        "v_head_dim": cfg.get("v_head_dim"),
        "extra_params": cfg.get("extra_params", 0.0),
    }
    try:
        return Architecture.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(_CONFIG_KEYS.get(str(p), str(p)) for p in first["loc"]) or "config"
        got = first.get("input")
        message = str(first["msg"]).removeprefix("Value error, ")
        shown = (
            f" (got {got!r})"
            if got is not None and not isinstance(got, dict) and "(got " not in message
            else ""
        )
        raise InputError(f"{source}.{field}", f"{message}{shown}.") from None


def _first(cfg: dict[str, Any], *keys: str) -> Any:
    return next((cfg[k] for k in keys if cfg.get(k) is not None), None)


def moe_fields(cfg: dict[str, Any]) -> dict[str, Any]:
    """The MoE fields of :class:`Architecture` from any common config spelling.

    Routed experts: ``num_local_experts`` (Mixtral, Llama 4, gpt-oss), ``n_routed_experts``
    (DeepSeek), ``num_experts`` (Qwen2/3-MoE, OLMoE). Experts per token:
    ``num_experts_per_tok`` or ``experts_per_token`` (gpt-oss). Shared experts:
    ``n_shared_experts`` (DeepSeek); Qwen2-MoE's one shared expert of
    ``shared_expert_intermediate_size`` counts as that size / ``moe_intermediate_size``
    experts; Llama 4 has one per MoE layer, its experts sized ``intermediate_size`` and its
    dense layers ``intermediate_size_mlp``. Dense layers: ``first_k_dense_replace``
    (DeepSeek), or every layer but each ``interleave_moe_layer_step``-th (Llama 4) /
    ``decoder_sparse_step``-th (Qwen), counted, not placed (same weights and FLOPs).
    """
    experts = _first(cfg, "num_local_experts", "n_routed_experts", "num_experts") or 0
    if not experts:
        return {"num_experts": 0, "experts_per_token": 0, "num_shared_experts": 0}
    layers = cfg.get("num_hidden_layers") or 0
    step = _first(cfg, "interleave_moe_layer_step", "decoder_sparse_step") or 1
    expert_size = cfg.get("moe_intermediate_size")
    shared = cfg.get("n_shared_experts") or 0
    fields: dict[str, Any] = {}
    if cfg.get("intermediate_size_mlp"):  # Llama 4: experts at intermediate_size
        expert_size = cfg.get("intermediate_size")
        fields["intermediate_size"] = cfg["intermediate_size_mlp"]
        shared = shared or 1
    shared_size = cfg.get("shared_expert_intermediate_size")
    if shared_size and expert_size and not shared:
        shared = max(1, round(shared_size / expert_size))
    dense = cfg.get("first_k_dense_replace") or 0
    if isinstance(step, int) and step > 1 and isinstance(layers, int):
        dense = max(dense, layers - layers // step)
    return {
        **fields,
        "num_experts": experts,
        "experts_per_token": _first(cfg, "num_experts_per_tok", "experts_per_token") or 0,
        "num_shared_experts": shared,
        "moe_intermediate_size": expert_size,
        "first_dense_layers": dense,
    }


LLAMA4_NO_ROPE_LAYER_INTERVAL = 4
"""transformers' ``Llama4TextConfig.no_rope_layer_interval`` default: every 4th layer is a
global (NoPE) layer, the others chunked (``configuration_llama4.py`` @ 008e5743)."""


def local_attention_fields(cfg: dict[str, Any], use_window: bool = True) -> dict[str, Any]:
    """``attention_chunk_size`` and how many layers use it or the sliding window.

    Counted from ``layer_types`` ("sliding_attention", "chunked_attention": gpt-oss, Gemma,
    recent Llama 4 configs), else from Llama 4's ``no_rope_layers`` (1 = a RoPE layer, which
    is chunked), else, for a chunked config, as transformers derives it: all layers but every
    ``no_rope_layer_interval``-th (default 4); without either, every layer is local.
    """
    chunk = cfg.get("attention_chunk_size")
    window = cfg.get("sliding_window") if use_window else None
    if chunk is None and not window:
        return {}
    layer_types = cfg.get("layer_types")
    no_rope = cfg.get("no_rope_layers")
    layers = cfg.get("num_hidden_layers")
    local: int | None = None
    if isinstance(layer_types, list) and layer_types:
        local = sum(kind in ("sliding_attention", "chunked_attention") for kind in layer_types)
    elif chunk and isinstance(no_rope, list) and no_rope:
        local = sum(1 for flag in no_rope if flag)
    elif chunk and isinstance(layers, int):
        interval = cfg.get("no_rope_layer_interval") or LLAMA4_NO_ROPE_LAYER_INTERVAL
        local = layers - layers // interval if isinstance(interval, int) else None
    return {"attention_chunk_size": chunk, "local_attention_layers": local}


def load_hf_config(path: Path) -> Architecture:
    """Read a ``config.json`` file into an :class:`Architecture` (nesting bounded)."""
    from gpuplan.userfiles import load_json_text, read_user_text, user_path

    path = user_path(path, "model")
    config = load_json_text(read_user_text(path, "model"), f"model: '{path}'")
    if not isinstance(config, dict):
        raise InputError("model", f"'{path}' must hold a JSON object of config keys.")
    return architecture_from_hf_config(config, source=path.name)
