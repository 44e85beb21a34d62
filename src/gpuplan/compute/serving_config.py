"""Resolve and validate a serving configuration: model, GPU, precisions, tensor parallelism.

Shared by the single estimate, fleet sizing and the deployment search, so all three accept
and reject the same inputs with the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from gpuplan.catalog.gpus import GPU, get_gpu
from gpuplan.catalog.models import ModelEntry, get_model
from gpuplan.compute.serving_calibration import ServingCalibration
from gpuplan.compute.serving_memory import FloatArray, ServingCosts
from gpuplan.errors import InputError
from gpuplan.humanize import plain
from gpuplan.units import BYTES_PER_ELEMENT

MAX_TENSOR_PARALLEL = 8
WEIGHT_PRECISIONS = ("bf16", "fp8", "fp4")


def default_precision(gpu: GPU) -> str:
    """fp8 where the GPU has fp8 tensor cores (the usual serving choice), else bf16."""
    return "fp8" if gpu.supports("fp8") else "bf16"


def default_kv_precision(gpu: GPU, precision: str) -> str:
    """An 8-bit KV cache with 8- or 4-bit weights where the GPU computes fp8, else bf16."""
    if BYTES_PER_ELEMENT[precision] <= 1 and gpu.supports("fp8"):
        return "fp8"
    return "bf16"


def check_precision(field: str, value: str) -> str:
    key = value.strip().lower()
    if key not in BYTES_PER_ELEMENT:
        raise InputError(field, f"'{value}' is not one of {', '.join(sorted(BYTES_PER_ELEMENT))}.")
    return key


def check_shape(input_tokens: float, output_tokens: float, model: ModelEntry) -> None:
    """Token counts must be >= 1 and fit the model's context window."""
    if not input_tokens >= 1:
        raise InputError("input_tokens", f"must be at least 1 (got {input_tokens}).")
    if not output_tokens >= 1:
        raise InputError("output_tokens", f"must be at least 1 (got {output_tokens}).")
    limit = model.architecture.max_position_embeddings
    if limit and input_tokens + output_tokens > limit:
        raise InputError(
            "input_tokens",
            f"{plain(input_tokens)} input + {plain(output_tokens)} output tokens exceed "
            f"{model.id}'s "
            f"context window of {limit:,} tokens; shorten the request.",
        )


ENGINE_TP_RULE = (
    "vLLM, SGLang and TensorRT-LLM shard attention by heads: tp must divide the attention "
    "heads, and the KV heads must divide tp or tp divide them"
)


def engine_runs(model: ModelEntry, tp: int) -> bool:
    """Whether serving engines can shard ``model`` over ``tp`` GPUs (:data:`ENGINE_TP_RULE`)."""
    arch = model.architecture
    kv = arch.num_kv_heads
    return arch.num_attention_heads % tp == 0 and (kv % tp == 0 or tp % kv == 0)


def tensor_parallel_options(model: ModelEntry, gpu: GPU, tp: int | None = None) -> FloatArray:
    """Tensor-parallel degrees to consider: ``tp`` itself (validated: within the scale-up
    domain and runnable by the engines), or by default every degree of 1, 2, 4, 8 within
    the GPU's scale-up domain that engines can run: powers of two divide the 8-GPU node,
    so replicas pack nodes without idle GPUs (tp 3 or 6 would leave 2 of 8 idle)."""
    domain = min(MAX_TENSOR_PARALLEL, gpu.scaleup_domain)
    if tp is not None:
        if tp < 1:
            raise InputError("tp", f"must be a positive integer (got {tp}).")
        if tp > gpu.scaleup_domain:
            raise InputError(
                "tp",
                f"{tp} exceeds {gpu.id}'s scale-up domain of {gpu.scaleup_domain} GPUs; "
                f"use tp <= {gpu.scaleup_domain}.",
            )
        if not engine_runs(model, tp):
            arch = model.architecture
            valid = [d for d in range(1, gpu.scaleup_domain + 1) if engine_runs(model, d)]
            raise InputError(
                "tp",
                f"{tp} cannot shard {model.id} ({arch.num_attention_heads} attention heads, "
                f"{arch.num_kv_heads} KV heads): {ENGINE_TP_RULE}. Use one of "
                f"{', '.join(map(str, valid[:8]))}.",
            )
        return np.array([float(tp)])
    return np.array([float(d) for d in (1, 2, 4, 8) if d <= domain and engine_runs(model, d)])


EXPERT_PARALLEL_RULE = (
    "expert parallelism is modelled as engines run it for throughput (TensorRT-LLM "
    "--ep with enable_attention_dp, SGLang --ep with --enable-dp-attention): experts spread "
    "over all the replica's GPUs and attention data-parallel, so ep is 1 or equal to tp, "
    "and it must divide the routed experts"
)


def parallel_layouts(
    model: ModelEntry, gpu: GPU, tp: int | None = None, ep: int | None = None
) -> tuple[FloatArray, FloatArray]:
    """(tp, ep) layouts to consider, as two aligned arrays. Dense models: ep 1 at every
    :func:`tensor_parallel_options` degree. MoE models: each degree with ep 1 (tensor
    parallel experts) and, for tp > 1, ep = tp (:data:`EXPERT_PARALLEL_RULE`). An explicit
    ``ep`` is validated and, without ``tp``, sets tp = ep."""
    arch = model.architecture
    if ep is not None:
        if ep < 1:
            raise InputError("ep", f"must be a positive integer (got {ep}).")
        if ep > 1 and not arch.is_moe:
            raise InputError(
                "ep", f"{model.id} is a dense model: expert parallelism needs a MoE model; drop ep."
            )
        if ep > 1 and arch.num_experts % ep:
            raise InputError(
                "ep",
                f"{ep} does not divide {model.id}'s {arch.num_experts} routed experts; "
                f"{EXPERT_PARALLEL_RULE}.",
            )
        if tp is not None and ep not in (1, tp):
            raise InputError("ep", f"{ep} with tp {tp}: {EXPERT_PARALLEL_RULE}. Use ep 1 or {tp}.")
        if tp is None and ep > 1:
            tp = ep
    degrees = tensor_parallel_options(model, gpu, tp)
    if ep is not None:
        return degrees, np.full_like(degrees, float(ep))
    pairs = [(d, 1.0) for d in degrees]
    if arch.is_moe:
        pairs += [(d, d) for d in degrees if d > 1 and arch.num_experts % int(d) == 0]
    return (
        np.array([t for t, _ in pairs], dtype=float),
        np.array([e for _, e in pairs], dtype=float),
    )


serving_costs = lru_cache(maxsize=256)(ServingCosts.build)
""":meth:`ServingCosts.build`, cached: a pure function of frozen inputs (architecture,
precisions, fixed factors) that every estimate and search of the same model would rebuild."""


@dataclass(frozen=True)
class ServingConfig:
    """A resolved model x GPU x precision pair and its per-model serving constants."""

    model: ModelEntry
    gpu: GPU
    precision: str
    kv_precision: str
    costs: ServingCosts


def resolve_config(
    model: str | Path | ModelEntry,
    gpu: str | GPU,
    precision: str | None,
    kv_precision: str | None,
    calibration: ServingCalibration,
) -> ServingConfig:
    """Look the model and GPU up, default and validate the precisions."""
    entry = get_model(model)
    device = get_gpu(gpu)
    weights = check_precision("precision", precision) if precision else default_precision(device)
    device.peak_tflops(weights)  # raises an InputError naming what the GPU supports
    kv = (
        check_precision("kv_precision", kv_precision)
        if kv_precision
        else default_kv_precision(device, weights)
    )
    costs = serving_costs(entry.architecture, weights, kv, calibration.fixed)
    return ServingConfig(entry, device, weights, kv, costs)
