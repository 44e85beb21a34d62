"""Transformer architecture maths: parameters, FLOPs per token and KV-cache bytes.

An :class:`Architecture` is read from a Hugging Face style ``config.json`` (Llama, Mistral,
Mixtral, DeepSeek-V3 and GPT-2/3 keys) by :mod:`gpuplan.compute.hf_config`. All counts are
exact for the matrices a decoder holds; norms and biases are included so totals match
published parameter counts.

Conventions (stated once here, used everywhere):

* ``params_total`` counts every weight, including input embedding and LM head.
* ``params_active`` counts the weights one token uses: everything except the routed experts
  it is not sent to (the DeepSeek/Mistral convention: Mixtral 8x7B 12.9B of 46.7B).
* Forward FLOPs per token = 2 x (active matmul weights, i.e. active params less the input
  embedding lookup) + attention-score FLOPs (Kaplan et al. 2020, arXiv:2001.08361 Table 1).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gpuplan.errors import InputError
from gpuplan.schema import ScenarioModel
from gpuplan.units import BYTES_PER_ELEMENT


class Architecture(ScenarioModel):
    """A decoder-only transformer, dense or mixture-of-experts (strict like a scenario file:
    unknown keys, non-finite numbers and sizes beyond ``LARGEST_INPUT`` are errors)."""

    vocab_size: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    num_layers: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    num_kv_heads: int = Field(gt=0, description="Key/value heads (grouped-query attention).")
    head_dim: int = Field(gt=0)
    intermediate_size: int = Field(gt=0, description="Dense MLP hidden width.")
    mlp: Literal["gated", "plain"] = Field(
        default="gated", description="'gated' = SwiGLU (3 matrices), 'plain' = GELU (2)."
    )
    tie_word_embeddings: bool = False
    learned_position_embeddings: int = Field(
        default=0, ge=0, description="Rows of a learned position table (GPT-2/3), else 0."
    )
    attention_bias: bool = False
    mlp_bias: bool = False
    norm: Literal["rmsnorm", "layernorm"] = "rmsnorm"
    sliding_window: int | None = Field(
        default=None, gt=0, description="Attention window; the KV cache is a rolling buffer."
    )
    attention_chunk_size: int | None = Field(
        default=None,
        gt=0,
        description="Chunked local attention (Llama 4): a query attends only to the earlier "
        "keys of its own block of this many tokens.",
    )
    local_attention_layers: int | None = Field(
        default=None,
        ge=0,
        description="Layers that use the sliding window or the chunk; the others attend to "
        "the whole context (default: every layer).",
    )
    max_position_embeddings: int | None = Field(default=None, gt=0)
    # Mixture of experts
    num_experts: int = Field(default=0, ge=0, description="Routed experts per MoE layer.")
    experts_per_token: int = Field(default=0, ge=0)
    num_shared_experts: int = Field(default=0, ge=0)
    moe_intermediate_size: int | None = Field(default=None, gt=0)
    first_dense_layers: int = Field(
        default=0, ge=0, description="Leading layers with a dense MLP (DeepSeek)."
    )
    # Multi-head latent attention (DeepSeek-V2/V3)
    q_lora_rank: int | None = Field(default=None, gt=0)
    kv_lora_rank: int | None = Field(default=None, gt=0)
    qk_nope_head_dim: int | None = Field(default=None, gt=0)
    qk_rope_head_dim: int | None = Field(default=None, gt=0)
    v_head_dim: int | None = Field(default=None, gt=0)
    # Non-text parts (vision encoder of Pixtral, ...), counted in totals
    extra_params: float = Field(default=0.0, ge=0, description="e.g. a vision encoder.")

    @model_validator(mode="after")
    def _check_consistency(self) -> Architecture:
        if self.num_attention_heads % self.num_kv_heads:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
        if self.num_experts and not self.experts_per_token:
            raise ValueError("a MoE config needs num_experts_per_tok")
        if self.experts_per_token > self.num_experts:
            raise ValueError("num_experts_per_tok exceeds the number of experts")
        if self.first_dense_layers > self.num_layers:
            raise ValueError("first_k_dense_replace exceeds num_hidden_layers")
        if self.sliding_window and self.attention_chunk_size:
            raise ValueError("a config has either sliding_window or attention_chunk_size, not both")
        if self.local_attention_layers is not None:
            if not (self.sliding_window or self.attention_chunk_size):
                raise ValueError(
                    "local attention layers need sliding_window or attention_chunk_size"
                )
            if self.local_attention_layers > self.num_layers:
                raise ValueError("local attention layers exceed num_hidden_layers")
        mla = (self.kv_lora_rank, self.qk_nope_head_dim, self.qk_rope_head_dim, self.v_head_dim)
        if any(v is not None for v in mla) and any(v is None for v in mla):
            raise ValueError(
                "latent attention needs kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim "
                "and v_head_dim together"
            )
        return self

    # ---- structure -------------------------------------------------------------------
    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def uses_latent_attention(self) -> bool:
        return self.kv_lora_rank is not None

    @property
    def num_moe_layers(self) -> int:
        return self.num_layers - self.first_dense_layers if self.is_moe else 0

    @property
    def expert_intermediate_size(self) -> int:
        return self.moe_intermediate_size or self.intermediate_size

    # ---- parameters --------------------------------------------------------------------
    def _mlp_params(self, width: int) -> int:
        """Weights of one MLP of hidden width ``width``: 3·h·w (gated) or 2·h·w (plain)."""
        h = self.hidden_size
        matrices = 3 if self.mlp == "gated" else 2
        bias = (width * (matrices - 1) + h) if self.mlp_bias else 0
        return matrices * h * width + bias

    @property
    def attention_params_per_layer(self) -> int:
        """Q, K, V and output projections (GQA or latent attention) of one layer."""
        h = self.hidden_size
        if self.uses_latent_attention:
            assert self.kv_lora_rank and self.qk_nope_head_dim and self.qk_rope_head_dim
            assert self.v_head_dim
            heads = self.num_attention_heads
            qk_dim = self.qk_nope_head_dim + self.qk_rope_head_dim
            if self.q_lora_rank:
                q = h * self.q_lora_rank + self.q_lora_rank + self.q_lora_rank * heads * qk_dim
            else:
                q = h * heads * qk_dim
            kv_down = h * (self.kv_lora_rank + self.qk_rope_head_dim) + self.kv_lora_rank
            kv_up = self.kv_lora_rank * heads * (self.qk_nope_head_dim + self.v_head_dim)
            out = heads * self.v_head_dim * h
            return q + kv_down + kv_up + out
        q_width = self.num_attention_heads * self.head_dim
        kv_width = self.num_kv_heads * self.head_dim
        weights = h * q_width + 2 * h * kv_width + q_width * h
        bias = (q_width + 2 * kv_width + h) if self.attention_bias else 0
        return weights + bias

    @property
    def norm_params_per_layer(self) -> int:
        return 2 * self.hidden_size * (2 if self.norm == "layernorm" else 1)

    @property
    def expert_params(self) -> int:
        """Weights of one routed (or shared) expert."""
        return self._mlp_params(self.expert_intermediate_size)

    @property
    def router_params(self) -> int:
        return self.hidden_size * self.num_experts

    @property
    def embedding_params(self) -> int:
        """Input embedding (+ learned positions) and LM head (unless tied)."""
        table = self.vocab_size * self.hidden_size
        head = 0 if self.tie_word_embeddings else table
        return table + head + self.learned_position_embeddings * self.hidden_size

    @property
    def input_embedding_params(self) -> int:
        """Lookup-only tables, which cost no matmul FLOPs: learned positions, and the token
        embedding unless it is tied to the LM head (then the LM-head matmul uses it)."""
        token_table = 0 if self.tie_word_embeddings else self.vocab_size
        return (token_table + self.learned_position_embeddings) * self.hidden_size

    def _mlp_params_all_layers(self, experts_counted: int) -> int:
        dense_layers = self.num_layers - self.num_moe_layers
        dense = dense_layers * self._mlp_params(self.intermediate_size)
        moe_layer = (
            experts_counted + self.num_shared_experts
        ) * self.expert_params + self.router_params
        return dense + self.num_moe_layers * moe_layer

    def _params(self, experts_counted: int) -> int:
        final_norm = self.hidden_size * (2 if self.norm == "layernorm" else 1)
        return (
            self.num_layers * (self.attention_params_per_layer + self.norm_params_per_layer)
            + self._mlp_params_all_layers(experts_counted)
            + self.embedding_params
            + final_norm
            + round(self.extra_params)
        )

    @property
    def params_total(self) -> int:
        """Every weight of the model."""
        return self._params(self.num_experts)

    @property
    def params_active(self) -> int:
        """Weights used by one token (routed experts it skips excluded)."""
        return self._params(self.experts_per_token)

    @property
    def params_active_matmul(self) -> int:
        """Active weights that take part in a matrix multiply (no embedding lookup)."""
        return self.params_active - self.input_embedding_params

    # ---- FLOPs -------------------------------------------------------------------------
    @property
    def qk_head_dim(self) -> int:
        if self.uses_latent_attention:
            assert self.qk_nope_head_dim and self.qk_rope_head_dim
            return self.qk_nope_head_dim + self.qk_rope_head_dim
        return self.head_dim

    @property
    def value_head_dim(self) -> int:
        return self.v_head_dim or self.head_dim

    @property
    def local_attention_share(self) -> float:
        """Fraction of the layers with a sliding window or chunked attention (0 if none)."""
        if not (self.sliding_window or self.attention_chunk_size):
            return 0.0
        local = self.local_attention_layers
        return (self.num_layers if local is None else local) / self.num_layers

    def _layer_mean(self, full: float, local: float) -> float:
        share = self.local_attention_share
        return full if share == 0 else (1.0 - share) * full + share * local

    def attended_tokens(self, context: float) -> float:
        """Keys one query attends to in a sequence of ``context`` tokens when it sees all of
        them (training's convention), mean over layers: a window or a chunk caps a local
        layer at its span."""
        span = self.sliding_window or self.attention_chunk_size
        return self._layer_mean(context, min(context, span) if span else context)

    def mean_attended_keys(self, first: float, last: float) -> float:
        """Mean keys a causal query attends to over positions ``first`` to ``last``, mean
        over layers: p on a full layer, min(p, W) on a windowed one, p mod C on a chunked
        one (its own block only: Llama 4, ``attention_chunk_size``). Continuous in p."""
        if last <= first:
            return self._layer_mean(first, self._local_keys_at(first))
        if self.sliding_window:
            window = self.sliding_window

            def integral(x: float) -> float:
                return x * x / 2 if x <= window else window * window / 2 + window * (x - window)

        elif self.attention_chunk_size:
            chunk = self.attention_chunk_size

            def integral(x: float) -> float:
                whole, rest = divmod(x, chunk)
                return whole * chunk * chunk / 2 + rest * rest / 2

        else:
            return (first + last) / 2
        local = (integral(last) - integral(first)) / (last - first)
        return self._layer_mean((first + last) / 2, local)

    def _local_keys_at(self, position: float) -> float:
        if self.sliding_window:
            return min(position, self.sliding_window)
        if self.attention_chunk_size:
            return position % self.attention_chunk_size
        return position

    def cached_tokens(self, context: float) -> float:
        """KV-cache tokens one sequence of ``context`` tokens holds, mean over layers: a
        window is a rolling buffer (Mistral 7B, arXiv:2310.06825 §2); a chunked layer keeps
        every block (TensorRT-LLM's KV cache is cyclic only for windows, and trtllm-bench
        sizes every layer's KV for the whole request, ``tensorrt_llm/bench/build/tuning.py``)."""
        window = self.sliding_window
        return self._layer_mean(context, min(context, window) if window else context)

    @property
    def attention_flops_per_key(self) -> float:
        """Score (QK^T) and value (AV) FLOPs of one query per attended key, all layers,
        forward: 2·heads·(d_qk + d_v) per layer (Kaplan et al. 2020 Table 1 writes
        2·n_layer·n_ctx·d_attn for the scores alone)."""
        per_layer = 2 * self.num_attention_heads * (self.qk_head_dim + self.value_head_dim)
        return float(self.num_layers * per_layer)

    def attention_flops_per_token(self, context: float) -> float:
        """Attention FLOPs of one query that sees ``context`` keys (window- or chunk-capped
        on local layers: :meth:`attended_tokens`), forward."""
        return self.attention_flops_per_key * self.attended_tokens(context)

    @property
    def decode_attention_flops_per_key(self) -> float:
        """Score + value FLOPs of one decoding query per attended key, all layers. Latent
        attention decodes in the latent space, the up-projections absorbed into the query
        and output (DeepSeek-V2, arXiv:2405.04434 §2.1.3): scores over kv_lora_rank + rope
        dims, values over kv_lora_rank (FlashMLA's 576 / 512 head dims for DeepSeek-V3):
        2·heads·(2·kv_lora_rank + rope) per layer. Otherwise as in a prompt."""
        if self.uses_latent_attention:
            assert self.kv_lora_rank and self.qk_rope_head_dim
            per_head = 2 * self.kv_lora_rank + self.qk_rope_head_dim
            return self.num_layers * 2.0 * self.num_attention_heads * per_head
        return self.attention_flops_per_key

    def forward_flops_per_token(self, context: float = 0.0) -> float:
        """Forward FLOPs for one token at ``context`` keys: 2·N_matmul + attention."""
        return 2.0 * self.params_active_matmul + self.attention_flops_per_token(context)

    def training_flops_per_token(self, seq_len: int) -> float:
        """Training FLOPs per token for sequences of ``seq_len`` (forward + backward = 3x).

        Model-FLOP convention of PaLM (arXiv:2204.02311 App. B) and Megatron: 6·N + the
        attention of every query against the full sequence (no causal halving, no
        recomputation), so MFU figures from those papers compare like with like.
        """
        return 3.0 * self.forward_flops_per_token(seq_len)

    # ---- KV cache ----------------------------------------------------------------------
    def kv_bytes_per_token(self, kv_precision: str = "bf16") -> float:
        """KV-cache bytes one token adds, all layers.

        GQA: 2 (K and V) · kv_heads · head_dim · layers · bytes. Latent attention (DeepSeek):
        (kv_lora_rank + rope dims) · layers · bytes, one compressed vector per token.
        """
        width = BYTES_PER_ELEMENT.get(kv_precision)
        if width is None:
            raise InputError(
                "kv_precision", f"'{kv_precision}' is not one of {sorted(BYTES_PER_ELEMENT)}."
            )
        if self.uses_latent_attention:
            assert self.kv_lora_rank and self.qk_rope_head_dim
            per_layer = self.kv_lora_rank + self.qk_rope_head_dim
        else:
            per_layer = 2 * self.num_kv_heads * self.head_dim
        return self.num_layers * per_layer * width

    def kv_bytes_per_sequence(self, context: float, kv_precision: str = "bf16") -> float:
        """KV-cache bytes of one sequence of ``context`` tokens (:meth:`cached_tokens`)."""
        return self.cached_tokens(context) * self.kv_bytes_per_token(kv_precision)

    def weight_bytes(self, precision: str = "bf16") -> float:
        """Bytes of all weights stored at ``precision``."""
        return self.params_total * BYTES_PER_ELEMENT[precision]
