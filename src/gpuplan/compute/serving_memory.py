"""Bytes of a served model: weights per GPU, KV cache per sequence, activations, max batch.

All sizes in bytes (SI, :mod:`gpuplan.units`); arrays broadcast over tensor-parallel degree
and batch size. Sharding follows Megatron-LM tensor parallelism (arXiv:1909.08053): every
matrix is split across the ``tp`` GPUs; KV heads split across GPUs up to the number of KV
heads (beyond that they are replicated); a latent KV (DeepSeek MLA) is replicated. With
expert parallelism (``ep`` > 1, MoE only) the replica's ``tp`` GPUs run attention
data-parallel in ``ep`` groups of ``tp/ep`` GPUs (TensorRT-LLM ``enable_attention_dp``,
SGLang ``--enable-dp-attention``): the non-expert weights are replicated in every group
and each GPU holds ``E/ep`` whole experts (sharded ``tp/ep`` ways).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from gpuplan.compute.architecture import Architecture
from gpuplan.compute.serving_calibration import FixedFactors
from gpuplan.units import BYTES_PER_ELEMENT

FloatArray = npt.NDArray[np.float64]
ArrayLike = float | FloatArray


def bytes_per_weight(precision: str, fixed: FixedFactors) -> float:
    """Storage bytes per weight; 4-bit formats add their block scales (NVFP4: one fp8 scale
    per 16 values = 1/16 byte per weight, NVIDIA NVFP4 format description)."""
    width = BYTES_PER_ELEMENT[precision]
    return width + (fixed.fp4_scale_bytes_per_weight if width < 1 else 0.0)


def expected_distinct_experts(num_experts: int, experts_per_token: int, tokens: ArrayLike) -> Any:
    """Expected number of distinct routed experts a step of ``tokens`` tokens touches in one
    MoE layer, for uniform top-k routing: E·(1 - (1 - k/E)^tokens).

    Each token picks k of E experts; an expert is missed by one token with probability
    1 - k/E, by all tokens with (1 - k/E)^tokens (tokens routed independently).
    """
    tokens = np.asarray(tokens, dtype=float)
    if num_experts == 0:
        return np.zeros_like(tokens)
    if experts_per_token >= num_experts:
        return np.where(tokens > 0, float(num_experts), 0.0)
    # (1 - k/E)^T as exp(T·ln(1 - k/E)): the same number, 6x faster than np.power over
    # a grid of exponents (this runs on every grid point of every estimate).
    return num_experts * -np.expm1(tokens * np.log1p(-experts_per_token / num_experts))


@dataclass(frozen=True)
class ServingCosts:
    """Per-model constants of the serving model at one weight and KV precision."""

    arch: Architecture
    precision: str
    kv_precision: str
    streamed_dense_bytes: float
    """Weights read every step whatever the routing (attention, dense MLPs, shared experts,
    routers, LM head; the input embedding is a lookup and is not streamed)."""
    resident_weight_bytes: float
    """All weights held in memory."""
    routed_weight_bytes: float
    """The routed experts' part of ``resident_weight_bytes`` (all MoE layers)."""
    expert_bytes: float
    """One routed expert of one layer."""
    matmul_flops_per_token: float
    """2 x active matmul weights (forward)."""
    routed_flops_per_token: float
    """The part of ``matmul_flops_per_token`` spent in routed experts: 2·k·expert weights
    per MoE layer, all MoE layers."""
    kv_bytes_per_token: float
    attention_flops_per_key: float
    """Score + value FLOPs per prompt query per attended key, all layers."""
    decode_attention_flops_per_key: float
    """The same for a decoding query (latent attention: in the latent space)."""
    dispatch_bytes_per_token: float
    """HBM traffic of MoE token dispatch and combine per token per MoE layer: k routed
    copies of the hidden vector, each written and read on the way to the expert and back
    (4·k·hidden activations); 0 for dense models."""
    activation_bytes_per_token: float
    """Live activation buffers of one layer per token in a step (before dividing the MLP by tp)."""
    column_parallel_outputs_per_token: float
    """2 x the output width summed over the non-routed GEMMs of reduction depth ``hidden``
    (QKV or latent projections, gate/up of dense MLPs and shared experts, router, LM head),
    all layers: their FLOPs per token over their depth. Tensor parallelism splits their
    outputs, not their depth."""
    row_parallel_outputs_per_token: float
    """The same for the GEMMs whose depth tensor parallelism splits (attention output and
    MLP down projections: output width ``hidden`` each)."""

    @classmethod
    def build(
        cls, arch: Architecture, precision: str, kv_precision: str, fixed: FixedFactors
    ) -> ServingCosts:
        per_weight = bytes_per_weight(precision, fixed)
        routed = arch.num_moe_layers * arch.num_experts * arch.expert_params
        lookup = 0 if arch.tie_word_embeddings else arch.input_embedding_params
        ffn = max(arch.intermediate_size, arch.experts_per_token * arch.expert_intermediate_size)
        h, gates = arch.hidden_size, (2 if arch.mlp == "gated" else 1)
        dense_layers, moe_layers = arch.num_layers - arch.num_moe_layers, arch.num_moe_layers
        output_projection = arch.num_attention_heads * arch.value_head_dim * h
        column = (
            arch.num_layers * (arch.attention_params_per_layer - output_projection) / h
            + dense_layers * gates * arch.intermediate_size
            + moe_layers
            * (arch.num_shared_experts * gates * arch.expert_intermediate_size + arch.num_experts)
            + arch.vocab_size
        )
        row = (arch.num_layers + dense_layers + moe_layers * arch.num_shared_experts) * h
        return cls(
            arch=arch,
            precision=precision,
            kv_precision=kv_precision,
            streamed_dense_bytes=(arch.params_total - routed - lookup) * per_weight,
            resident_weight_bytes=arch.params_total * per_weight,
            routed_weight_bytes=routed * per_weight,
            expert_bytes=arch.expert_params * per_weight if arch.is_moe else 0.0,
            matmul_flops_per_token=2.0 * arch.params_active_matmul,
            routed_flops_per_token=2.0
            * arch.num_moe_layers
            * arch.experts_per_token
            * arch.expert_params,
            kv_bytes_per_token=arch.kv_bytes_per_token(kv_precision),
            attention_flops_per_key=arch.attention_flops_per_key,
            decode_attention_flops_per_key=arch.decode_attention_flops_per_key,
            dispatch_bytes_per_token=4.0
            * arch.experts_per_token
            * arch.hidden_size
            * fixed.activation_bytes,
            activation_bytes_per_token=fixed.activation_bytes * (4 * arch.hidden_size + 2 * ffn),
            column_parallel_outputs_per_token=2.0 * column,
            row_parallel_outputs_per_token=2.0 * row,
        )

    def kv_shards(self, tp: ArrayLike) -> Any:
        """GPUs a sequence's KV cache is split over: min(tp, kv heads); 1 for latent KV."""
        if self.arch.uses_latent_attention:
            return np.ones_like(np.asarray(tp, dtype=float))
        return np.minimum(np.asarray(tp, dtype=float), self.arch.num_kv_heads)

    def dense_depth_factor(self, group: ArrayLike, depth_overhead: float) -> Any:
        """Time of the non-routed GEMMs over their time at deep-GEMM efficiency, on a
        ``group``-way tensor-parallel group: a GEMM of reduction depth K runs at K/(K + k0)
        of it (``depth_overhead`` = k0, :class:`FixedFactors`), so each adds k0·2N FLOP-
        equivalents per token: 1 + k0·(column outputs + group·row outputs) / FLOPs."""
        dense_flops = self.matmul_flops_per_token - self.routed_flops_per_token
        group = np.asarray(group, dtype=float)
        outputs = (
            self.column_parallel_outputs_per_token + group * self.row_parallel_outputs_per_token
        )
        return 1.0 + depth_overhead * outputs / dense_flops

    def expert_depth_factor(self, shard: ArrayLike, depth_overhead: float) -> Any:
        """The same for one routed expert split ``shard`` ways: gate/up of depth ``hidden``,
        down of depth I/shard: 1 + k0·((m - 1)/hidden + shard/I)/m for m matrices."""
        arch = self.arch
        matrices = 3 if arch.mlp == "gated" else 2
        shard = np.asarray(shard, dtype=float)
        per_depth = (matrices - 1) / arch.hidden_size + shard / arch.expert_intermediate_size
        return 1.0 + depth_overhead * per_depth / matrices

    def weights_per_gpu(self, tp: ArrayLike, ep: ArrayLike = 1.0) -> Any:
        """Weight bytes one GPU holds: experts split over all ``tp`` GPUs, the rest over
        the ``tp/ep`` GPUs of one attention group (replicated ``ep`` times)."""
        tp = np.asarray(tp, dtype=float)
        dense = self.resident_weight_bytes - self.routed_weight_bytes
        return self.routed_weight_bytes / tp + dense * np.asarray(ep, dtype=float) / tp

    def experts_touched(self, tokens: ArrayLike) -> Any:
        """Expected distinct routed experts a step of ``tokens`` tokens touches per MoE layer."""
        arch = self.arch
        return expected_distinct_experts(arch.num_experts, arch.experts_per_token, tokens)

    def tokens_per_touched_expert(self, tokens: ArrayLike) -> Any:
        """Mean rows of one touched expert's GEMM: the step's T·k routed token slots shared
        by the D experts it touches, T·k/D (T·k/E once every expert is touched; 1 at T = 1)."""
        tokens = np.asarray(tokens, dtype=float)
        touched = self.experts_touched(tokens)
        return np.where(
            touched > 0, tokens * self.arch.experts_per_token / np.maximum(touched, 1e-300), 0.0
        )

    def weights_read_per_step(self, tokens: ArrayLike) -> Any:
        """Weight bytes read (all GPUs together) by a step of ``tokens`` tokens; MoE layers
        read only the distinct experts the step routes to."""
        experts = self.experts_touched(tokens)
        return self.streamed_dense_bytes + self.arch.num_moe_layers * experts * self.expert_bytes

    def kv_bytes_per_sequence(self, context: float) -> float:
        """KV bytes of one sequence at ``context`` tokens (window-capped), all GPUs."""
        return self.arch.kv_bytes_per_sequence(context, self.kv_precision)


BYTES_PER_HBM_GB = 2.0**30
"""Bytes in one "GB" of a datasheet's HBM capacity: HBM stacks come in binary sizes, so an
"80 GB" H100 holds 80 GiB (nvidia-smi: 81,559 MiB) and a "141 GB" H200 141 GiB."""


def usable_memory_bytes(memory_gb: float, fixed: FixedFactors) -> float:
    """Device memory one GPU can give weights, KV cache and activations: the datasheet
    capacity in bytes (:data:`BYTES_PER_HBM_GB`) less the runtime reserve (driver, CUDA
    context, library and communicator workspaces)."""
    return memory_gb * BYTES_PER_HBM_GB - fixed.runtime_reserve_bytes


def max_batch_size(
    costs: ServingCosts,
    memory_gb: float,
    tp: ArrayLike,
    input_tokens: float,
    output_tokens: float,
    fixed: FixedFactors,
    ep: ArrayLike = 1.0,
) -> Any:
    """Largest number of concurrent sequences per replica whose KV cache fits the engine's
    KV pool. TensorRT-LLM sizes the pool after loading the weights and running its largest
    step: pool = f x (usable memory - weights - activations), f = ``kv_cache_memory_fraction``
    (``KvCacheConfig.free_gpu_memory_fraction``, default 0.9). The activations of a step scale
    with its tokens (``max_num_tokens``, which ``trtllm-bench`` sets to batch x (1 + I/O)),
    so a batch B fits when B x kv <= f x (free - B x a): B <= f x free / (kv + f x a).
    A running sequence holds the KV blocks of its whole request (input + output):
    TensorRT-LLM's default capacity scheduler (GUARANTEED_NO_EVICT) admits a request only
    when its full length fits, and ``trtllm-bench`` sizes the batch as KV memory / (bytes per
    token x (input + output)) (``tensorrt_llm/bench/build/tuning.py``,
    ``calc_engine_setting``). With ``ep`` attention groups each group holds its own
    sequences: ``ep`` x what fits on one group's GPU.
    """
    tp = np.asarray(tp, dtype=float)
    ep = np.asarray(ep, dtype=float)
    group = tp / ep
    free = usable_memory_bytes(memory_gb, fixed) - costs.weights_per_gpu(tp, ep)
    kv_per_gpu = costs.kv_bytes_per_sequence(input_tokens + output_tokens) / costs.kv_shards(group)
    tokens_per_sequence_step = 1.0 + input_tokens / output_tokens
    activations = tokens_per_sequence_step * costs.activation_bytes_per_token / group
    logits = costs.arch.vocab_size * 4.0 / group
    fraction = fixed.kv_cache_memory_fraction
    per_sequence = kv_per_gpu + fraction * (activations + logits)
    return ep * np.floor(fraction * np.maximum(free, 0.0) / per_sequence)
