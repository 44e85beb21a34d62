"""Training memory: the fewest GPUs that hold a model's training state and activations.

Per GPU, with ZeRO-3/FSDP sharding over all ``n`` GPUs, tensor parallelism ``t`` inside
the scale-up domain (Megatron sequence parallelism shards the stored activations too) and
context parallelism ``c`` (the sequence split into ``c`` chunks on ``c`` GPUs, attention
exchanging key/value blocks in a ring: Liu et al. 2023, Ring Attention, arXiv:2310.01889;
Megatron-Core context parallelism, as Llama 3.1 trained its 131k stage with CP 16,
arXiv:2407.21783 §3.3.2), each GPU keeps the activations of ``s/c`` tokens:

    states      = 16 bytes/param · N_total / n
                  (bf16 weights 2 + bf16 gradients 2 + fp32 master, Adam m and v 12:
                  ZeRO, Rajbhandari et al. 2019, arXiv:1910.02054 §3.1, K = 12)
    activations = s·b·h·(2·L + 34) / (t·c) + 4·s·b·V / (t·c)
                  (full recomputation keeps each layer's bf16 input, 2·s·b·h per layer, and
                  rebuilds one layer at a time, 34·s·b·h with FlashAttention so no 5·a·s/h
                  score term; fp32 logits 4·s·b·V: Korthikanti et al. 2022,
                  arXiv:2205.05198 §4.1-4.2 and Table 2)

with s the sequence length, b the micro-batch (sequences), h the hidden width, L layers, V
vocabulary. A GPU may fill ``USABLE_MEMORY_FRACTION`` of its memory (CUDA context, NCCL
buffers and allocator fragmentation take the rest). The minimum count is the smallest ``n``
over ``t`` in {1, 2, 4, 8} (within the scale-up domain) and ``c`` in {1, 2, ..., 64}, with
``n >= t·c`` and states + activations <= usable memory. Ring attention's key/value blocks
(2·s/c·kv-width per layer, transient) are within the 34·s·b·h working term. Units: bytes
and GPU counts.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Final

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

STATE_BYTES_PER_PARAM: Final = 16.0
"""Mixed-precision Adam: 2 (bf16 weights) + 2 (bf16 gradients) + 12 (fp32 master, m, v)."""
USABLE_MEMORY_FRACTION: Final = 0.9
"""ASSUMPTION: share of HBM left for states and activations."""
LAYER_INPUT_BYTES: Final = 2.0
"""bf16 layer input kept per token per hidden unit under full recomputation."""
LAYER_WORKING_BYTES: Final = 34.0
"""Working activations of one transformer layer per token per hidden unit (Korthikanti)."""
LOGIT_BYTES: Final = 4.0
"""fp32 logits per token per vocabulary entry."""
TENSOR_PARALLEL_DEGREES: Final = (1, 2, 4, 8)
CONTEXT_PARALLEL_DEGREES: Final = (1, 2, 4, 8, 16, 32, 64)
"""Sequence shards tried (Llama 3.1 used 16 at 131k tokens; 64 is an assumed upper bound)."""
PARALLEL_PAIRS_SMALLEST_FIRST: Final = sorted(
    itertools.product(TENSOR_PARALLEL_DEGREES, CONTEXT_PARALLEL_DEGREES),
    key=lambda pair: (pair[0] * pair[1], -pair[0]),
)
"""(t, c) by growing t·c, the larger t first on a tie (tensor parallelism first)."""


def activation_bytes_per_gpu(
    *,
    hidden_size: ArrayLike,
    num_layers: ArrayLike,
    vocab_size: ArrayLike,
    seq_len: ArrayLike,
    micro_batch: ArrayLike = 1,
    tensor_parallel: ArrayLike = 1,
    context_parallel: ArrayLike = 1,
) -> NDArray[np.float64]:
    """Activation bytes per GPU with full recomputation (module docstring formula)."""
    tokens = np.asarray(seq_len, dtype=float) * np.asarray(micro_batch, dtype=float)
    layers = np.asarray(num_layers, dtype=float)
    per_token = np.asarray(hidden_size, dtype=float) * (
        LAYER_INPUT_BYTES * layers + LAYER_WORKING_BYTES
    ) + LOGIT_BYTES * np.asarray(vocab_size, dtype=float)
    shards = np.asarray(tensor_parallel, dtype=float) * np.asarray(context_parallel, dtype=float)
    result: NDArray[np.float64] = tokens * per_token / shards
    return result


def _parallel_pairs(ndim: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(t, c) of :data:`PARALLEL_PAIRS_SMALLEST_FIRST` along a leading axis, to broadcast
    against rows of ``ndim`` dimensions."""
    pairs = np.array(PARALLEL_PAIRS_SMALLEST_FIRST, dtype=float).reshape(-1, 2, *[1] * ndim)
    return pairs[:, 0], pairs[:, 1]


def min_gpus_for_memory(
    *,
    params_total: ArrayLike,
    hidden_size: ArrayLike,
    num_layers: ArrayLike,
    vocab_size: ArrayLike,
    seq_len: ArrayLike,
    gpu_memory_bytes: ArrayLike,
    scaleup_domain: ArrayLike,
    micro_batch: ArrayLike = 1,
) -> NDArray[np.float64]:
    """Fewest GPUs whose memory holds the sharded training state and activations.

    ``inf`` where even 8-way tensor and 64-way context parallelism leave no room for the
    activations of one micro-batch (a sequence too long for the GPU).
    """
    states = STATE_BYTES_PER_PARAM * np.asarray(params_total, dtype=float)
    usable = USABLE_MEMORY_FRACTION * np.asarray(gpu_memory_bytes, dtype=float)
    domain = np.asarray(scaleup_domain, dtype=float)
    unsharded = activation_bytes_per_gpu(
        hidden_size=hidden_size,
        num_layers=num_layers,
        vocab_size=vocab_size,
        seq_len=seq_len,
        micro_batch=micro_batch,
    )
    tensor, context = _parallel_pairs(np.broadcast(states, usable, domain, unsharded).ndim)
    room = usable - unsharded / (tensor * context)
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.maximum(tensor * context, np.ceil(states / room))
    allowed = (room > 0) & (domain >= tensor)
    best: NDArray[np.float64] = np.asarray(np.where(allowed, needed, np.inf).min(axis=0))
    return best


def memory_parallel_degrees(
    *,
    params_total: ArrayLike,
    hidden_size: ArrayLike,
    num_layers: ArrayLike,
    vocab_size: ArrayLike,
    seq_len: ArrayLike,
    gpu_memory_bytes: ArrayLike,
    scaleup_domain: ArrayLike,
    gpus: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(t, c): the least tensor × context parallelism with which ``gpus`` GPUs hold the
    ZeRO-3 sharded state (16·N/n bytes each) and one sequence's activations, the larger t on
    a tie (tensor parallelism first, Narayanan et al. 2021, arXiv:2104.04473 §3.3). (1, 1)
    where nothing fits: :func:`min_gpus_for_memory` reports those rows."""
    n = np.asarray(gpus, dtype=float)
    states = STATE_BYTES_PER_PARAM * np.asarray(params_total, dtype=float) / n
    usable = USABLE_MEMORY_FRACTION * np.asarray(gpu_memory_bytes, dtype=float)
    domain = np.asarray(scaleup_domain, dtype=float)
    activations = activation_bytes_per_gpu(
        hidden_size=hidden_size,
        num_layers=num_layers,
        vocab_size=vocab_size,
        seq_len=seq_len,
    )
    room = usable - states
    tensor, context = _parallel_pairs(np.broadcast(activations, room, domain, n).ndim)
    fits = (activations <= room * tensor * context) & (domain >= tensor) & (n >= tensor * context)
    first = np.argmax(fits, axis=0)
    found = fits.any(axis=0)
    tensor_best = np.where(found, np.take(tensor.ravel(), first), 1.0)
    context_best = np.where(found, np.take(context.ravel(), first), 1.0)
    return tensor_best, context_best
