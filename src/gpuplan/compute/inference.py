"""Serving estimate for one model on one GPU type: throughput, latency, memory, cost.

``estimate_inference`` evaluates batch sizes 1-4,096 (``serving_grid.BATCH_GRID``) and
every default tensor-parallel degree (unless one is given) with the continuous-batching
roofline of
:mod:`gpuplan.compute.serving_roofline`, keeps the points that fit in memory and meet the
p99 latency targets, and returns the one with the highest output tokens/s per GPU, as an
MLPerf submitter would. Units: tokens/s, milliseconds, GB (1e9 bytes), USD.

Throughput per GPU comes with a P10-P90 band: the P50 times the calibration's
out-of-sample quantiles of measured / predicted (:class:`UncertaintyBand`); costs per token
scale inversely (the P10 cost goes with the P90 throughput).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from gpuplan.catalog.gpus import GPU
from gpuplan.catalog.models import ModelEntry
from gpuplan.catalog.prices import resolve_price
from gpuplan.compute.serving_calibration import ServingCalibration, default_calibration
from gpuplan.compute.serving_config import (
    WEIGHT_PRECISIONS,
    ServingConfig,
    check_shape,
    default_kv_precision,
    parallel_layouts,
    resolve_config,
    serving_costs,
    tensor_parallel_options,
)
from gpuplan.compute.serving_grid import (
    MAX_BATCH,
    LatencyTarget,
    ServingGrid,
    best_index,
    evaluate_grid,
)
from gpuplan.compute.serving_memory import (
    ServingCosts,
    expected_distinct_experts,
    max_batch_size,
    usable_memory_bytes,
)
from gpuplan.errors import InfeasibleError, InputError
from gpuplan.humanize import plain
from gpuplan.units import GIGA, MEGA, SECONDS_PER_HOUR

CURVE_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)


class BatchPoint(BaseModel):
    """Throughput and latency at one batch size (same tp and precision). ``meets_latency``
    judges the p99 figures against the p99 targets."""

    model_config = ConfigDict(frozen=True)

    batch_size: int
    output_tokens_per_second_per_gpu: float
    ttft_p99_ms: float = Field(description="p99 time to first token (what the target judges).")
    tpot_p99_ms: float = Field(description="p99 time per output token (what the target judges).")
    ttft_ms: float = Field(description="Mean time to first token.")
    tpot_ms: float = Field(description="Mean time per output token.")
    fits_memory: bool
    meets_latency: bool


COST_DEFINITIONS = {
    "cost_per_million_output_tokens": "all GPU cost ÷ output tokens (input tokens free; "
    "the figure to compare with per-output-token prices and MLPerf)",
    "cost_per_million_tokens": "all GPU cost ÷ (input + output tokens)",
    "cost_per_million_input_tokens_by_gpu_time": "cost of the GPU time spent on prompts ÷ input "
    "tokens (with the next, for pricing input and output separately)",
    "cost_per_million_output_tokens_by_gpu_time": "cost of the GPU time spent decoding ÷ output "
    "tokens (input-token price from the previous)",
}
"""One definition per cost column, used in field descriptions, table headers and --help."""


class InferenceEstimate(BaseModel):
    """The best serving point of one model x GPU x precision (x tp) for a request shape."""

    model_config = ConfigDict(frozen=True)

    model: str
    gpu: str
    precision: str
    kv_precision: str
    tensor_parallel: int
    expert_parallel: int = Field(
        default=1,
        description="GPUs the routed experts are spread over (1: experts tensor-parallel); "
        "ep = tensor_parallel > 1 runs attention data-parallel across the replica.",
    )
    input_tokens: float
    output_tokens: float
    max_ttft_ms: float | None
    max_tpot_ms: float | None
    batch_size: int = Field(description="Concurrent sequences per replica (tp GPUs).")
    max_batch_size: int = Field(description="Most concurrent sequences that fit in memory.")
    output_tokens_per_second_per_gpu: float = Field(description="P50 output tokens/s per GPU.")
    output_tokens_per_second_per_gpu_p10: float = Field(
        description="P10 (out-of-sample band of the calibration)."
    )
    output_tokens_per_second_per_gpu_p90: float = Field(description="P90 (same band).")
    output_tokens_per_second_per_replica: float
    input_tokens_per_second_per_gpu: float
    requests_per_second_per_replica: float
    ttft_ms: float = Field(description="Mean time to first token.")
    tpot_ms: float = Field(description="Mean time per output token (one step).")
    ttft_p99_ms: float
    tpot_p99_ms: float
    bound: Literal["compute", "memory"] = Field(
        description="What limits the linear layers at this batch: FLOPs or weight reads."
    )
    step_ms: dict[str, float] = Field(
        description="One step: linear, attention, comm, overhead (GPU) and host (CPU, overlapped)."
    )
    weights_gb_per_gpu: float
    kv_cache_gb_per_sequence: float = Field(
        description="KV cache of one sequence of input+output tokens, all GPUs together."
    )
    kv_cache_gb_per_sequence_per_gpu: float
    usable_memory_gb_per_gpu: float = Field(
        description="Device memory for weights, KV cache and activations: the datasheet GB "
        "(binary, HBM) less the runtime reserve; the KV pool is 90% of what the weights and "
        "activations leave (TensorRT-LLM's rule)."
    )
    moe_experts_touched_per_layer: float | None = Field(
        default=None, description="Expected distinct routed experts one step reads per layer."
    )
    prefill_time_fraction: float = Field(description="Share of GPU time spent on prompts.")
    price_per_gpu_hour: float | None
    price_source: str | None
    cost_per_million_output_tokens: float | None = Field(
        default=None, description=COST_DEFINITIONS["cost_per_million_output_tokens"]
    )
    cost_per_million_output_tokens_p10: float | None = Field(
        default=None, description="P10 of the above (at the P90 throughput)."
    )
    cost_per_million_output_tokens_p90: float | None = Field(
        default=None, description="P90 of the above (at the P10 throughput)."
    )
    cost_per_million_tokens: float | None = Field(
        default=None, description=COST_DEFINITIONS["cost_per_million_tokens"]
    )
    cost_per_million_input_tokens_by_gpu_time: float | None = Field(
        default=None, description=COST_DEFINITIONS["cost_per_million_input_tokens_by_gpu_time"]
    )
    cost_per_million_output_tokens_by_gpu_time: float | None = Field(
        default=None, description=COST_DEFINITIONS["cost_per_million_output_tokens_by_gpu_time"]
    )
    curve: list[BatchPoint]


def latency_target(max_ttft_ms: float | None, max_tpot_ms: float | None) -> LatencyTarget:
    for field, value in (("max_ttft_ms", max_ttft_ms), ("max_tpot_ms", max_tpot_ms)):
        if value is not None and not value > 0:
            raise InputError(field, f"must be > 0 milliseconds (got {value}).")
    return LatencyTarget(
        max_ttft_s=max_ttft_ms / 1e3 if max_ttft_ms is not None else None,
        max_tpot_s=max_tpot_ms / 1e3 if max_tpot_ms is not None else None,
    )


def _min_bytes_per_gpu(
    costs: ServingCosts,
    tp: float,
    input_tokens: float,
    output_tokens: float,
    kv_cache_memory_fraction: float,
) -> float:
    """Weights per GPU plus the free memory whose KV share (``kv_cache_memory_fraction``)
    holds one full-length sequence."""
    kv = costs.kv_bytes_per_sequence(input_tokens + output_tokens) / float(costs.kv_shards(tp))
    return costs.resident_weight_bytes / tp + kv / kv_cache_memory_fraction


def explain_no_fit(
    config: ServingConfig,
    tp_options: np.ndarray,
    input_tokens: float,
    output_tokens: float,
    calibration: ServingCalibration,
) -> InfeasibleError:
    """Say how much memory is missing and which tp / precision would fit."""
    gpu, fixed = config.gpu, calibration.fixed
    usable = usable_memory_bytes(gpu.memory_gb, fixed)
    fraction = fixed.kv_cache_memory_fraction
    need = min(
        _min_bytes_per_gpu(config.costs, tp, input_tokens, output_tokens, fraction)
        for tp in tp_options
    )
    alternatives = []
    all_tp = tensor_parallel_options(config.model, gpu)
    for precision in WEIGHT_PRECISIONS:
        if not gpu.supports(precision):
            continue
        kv = default_kv_precision(gpu, precision)
        costs = serving_costs(config.model.architecture, precision, kv, fixed)
        limits = max_batch_size(costs, gpu.memory_gb, all_tp, input_tokens, output_tokens, fixed)
        for tp, limit in zip(all_tp, limits, strict=True):
            if limit >= 1 and (precision, tp) != (config.precision, tp_options[0]):
                alternatives.append(f"tp {int(tp)} at {precision} (max batch {int(limit)})")
                break
    hint = (
        "Configurations that fit: " + "; ".join(alternatives) + "."
        if alternatives
        else f"Nothing fits on {gpu.id} up to tp {int(all_tp.max())}: use a GPU with more "
        "memory or pipeline parallelism across nodes."
    )
    tried = ", ".join(str(int(t)) for t in tp_options)
    return InfeasibleError(
        f"{config.model.id} at {config.precision} weights / {config.kv_precision} KV does not fit "
        f"on {gpu.id} with tp {tried}: one sequence of {plain(input_tokens)}+"
        f"{plain(output_tokens)} tokens "
        f"needs {need / GIGA:.1f} GB per GPU (weights, and free memory whose "
        f"{fraction:.0%} KV share holds the sequence) but {usable / GIGA:.1f} GB are usable "
        f"({gpu.memory_gb:g} GiB less {fixed.runtime_reserve_bytes / GIGA:.1f} GB runtime "
        "reserve); "
        f"missing {(need - usable) / GIGA:.1f} GB. {hint}"
    )


def explain_latency(
    grid: ServingGrid, target: LatencyTarget, config: ServingConfig
) -> InfeasibleError:
    """Say which latency target is missed and the best p99 latency reachable."""
    tpot = np.where(grid.fits, grid.tpot_p99_s, np.inf).min() * 1e3
    ttft = np.where(grid.fits, grid.ttft_p99_s, np.inf).min() * 1e3
    parts = []
    if target.max_tpot_s is not None and tpot > target.max_tpot_s * 1e3:
        parts.append(f"p99 TPOT {tpot:.1f} ms (target {target.max_tpot_s * 1e3:g} ms)")
    if target.max_ttft_s is not None and ttft > target.max_ttft_s * 1e3:
        parts.append(f"p99 TTFT {ttft:.0f} ms (target {target.max_ttft_s * 1e3:g} ms)")
    if not parts:
        parts.append(f"p99 TPOT {tpot:.1f} ms and TTFT {ttft:.0f} ms, not both at one batch")
    return InfeasibleError(
        f"No batch size of {config.model.id} on {config.gpu.id} ({config.precision}, tp "
        f"{', '.join(str(int(t)) for t in grid.tp[:, 0])}) meets the latency target; the best "
        f"reachable is {' and '.join(parts)}. Relax the target, raise tp, use a lower precision "
        "or a faster GPU."
    )


def _curve(grid: ServingGrid, row: int) -> list[BatchPoint]:
    """The estimate at the batch sizes of :data:`CURVE_BATCHES` present in the grid."""
    batches = grid.batch[row]  # ascending
    wanted = np.asarray(CURVE_BATCHES, dtype=float)
    found = np.minimum(np.searchsorted(batches, wanted), batches.size - 1)
    columns = found[batches[found] == wanted]
    ms = 1e3
    columns_by_field = {
        "batch_size": batches[columns].astype(int).tolist(),
        "output_tokens_per_second_per_gpu": grid.throughput_per_gpu[row, columns].tolist(),
        "ttft_p99_ms": (grid.ttft_p99_s[row, columns] * ms).tolist(),
        "tpot_p99_ms": (grid.tpot_p99_s[row, columns] * ms).tolist(),
        "ttft_ms": (grid.ttft_s[row, columns] * ms).tolist(),
        "tpot_ms": (grid.tpot_s[row, columns] * ms).tolist(),
        "fits_memory": grid.fits[row, columns].tolist(),
        "meets_latency": grid.meets_latency[row, columns].tolist(),
    }
    return [
        BatchPoint(**dict(zip(columns_by_field, point, strict=True)))
        for point in zip(*columns_by_field.values(), strict=True)
    ]


def build_estimate(
    config: ServingConfig,
    grid: ServingGrid,
    row: int,
    col: int,
    target: LatencyTarget,
    price: tuple[float | None, str | None],
) -> InferenceEstimate:
    """Assemble the result at grid point (row, col)."""
    costs, gpu = config.costs, config.gpu
    tp = float(grid.tp[row, 0])
    ep = float(grid.ep[row, 0])
    batch = float(grid.batch[row, col])
    input_tokens, output_tokens = grid.input_tokens, grid.output_tokens
    per_gpu = float(grid.throughput_per_gpu[row, col])
    tpot = float(grid.tpot_s[row, col])
    prefill_fraction = min(1.0, batch / output_tokens * float(grid.prefill_s[row, col]) / tpot)
    price_per_hour, source = price
    kv_sequence = costs.kv_bytes_per_sequence(input_tokens + output_tokens)
    arch = costs.arch
    step_tokens = batch * (1.0 + input_tokens / output_tokens)
    experts = (
        float(expected_distinct_experts(arch.num_experts, arch.experts_per_token, step_tokens))
        if arch.is_moe
        else None
    )
    band = grid.calibration.uncertainty
    cost: dict[str, float | None] = dict.fromkeys(COST_DEFINITIONS)
    if price_per_hour is not None:
        dollars_per_second = price_per_hour / SECONDS_PER_HOUR
        input_rate = per_gpu * input_tokens / output_tokens
        per_output = dollars_per_second / per_gpu * MEGA
        cost = {
            "cost_per_million_output_tokens": per_output,
            "cost_per_million_output_tokens_p10": per_output / band.p90_ratio,
            "cost_per_million_output_tokens_p90": per_output / band.p10_ratio,
            "cost_per_million_tokens": dollars_per_second / (per_gpu + input_rate) * MEGA,
            "cost_per_million_input_tokens_by_gpu_time": dollars_per_second
            * prefill_fraction
            / input_rate
            * MEGA,
            "cost_per_million_output_tokens_by_gpu_time": per_output * (1.0 - prefill_fraction),
        }
    steps = grid.steps
    return InferenceEstimate(
        model=config.model.id,
        gpu=gpu.id,
        precision=config.precision,
        kv_precision=config.kv_precision,
        tensor_parallel=int(tp),
        expert_parallel=int(ep),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        max_ttft_ms=target.max_ttft_s * 1e3 if target.max_ttft_s is not None else None,
        max_tpot_ms=target.max_tpot_s * 1e3 if target.max_tpot_s is not None else None,
        batch_size=int(batch),
        max_batch_size=int(grid.max_batch[row, 0]),
        output_tokens_per_second_per_gpu=per_gpu,
        output_tokens_per_second_per_gpu_p10=per_gpu * band.p10_ratio,
        output_tokens_per_second_per_gpu_p90=per_gpu * band.p90_ratio,
        output_tokens_per_second_per_replica=per_gpu * tp,
        input_tokens_per_second_per_gpu=per_gpu * input_tokens / output_tokens,
        requests_per_second_per_replica=per_gpu * tp / output_tokens,
        ttft_ms=float(grid.ttft_s[row, col] * 1e3),
        tpot_ms=tpot * 1e3,
        ttft_p99_ms=float(grid.ttft_p99_s[row, col] * 1e3),
        tpot_p99_ms=float(grid.tpot_p99_s[row, col] * 1e3),
        bound="compute" if bool(steps.compute_bound[row, col]) else "memory",
        step_ms={
            "linear": float(steps.linear[row, col] * 1e3),
            "attention": float(steps.attention[row, col] * 1e3),
            "communication": float(steps.communication[row, col] * 1e3),
            "overhead": float(steps.overhead[row, col] * 1e3),
            "host": float(steps.host[row, col] * 1e3),
        },
        weights_gb_per_gpu=float(costs.weights_per_gpu(tp, ep)) / GIGA,
        kv_cache_gb_per_sequence=kv_sequence / GIGA,
        kv_cache_gb_per_sequence_per_gpu=kv_sequence / float(costs.kv_shards(tp / ep)) / GIGA,
        usable_memory_gb_per_gpu=usable_memory_bytes(gpu.memory_gb, grid.calibration.fixed) / GIGA,
        moe_experts_touched_per_layer=experts,
        prefill_time_fraction=prefill_fraction,
        price_per_gpu_hour=price_per_hour,
        price_source=source,
        curve=_curve(grid, row),
        **cost,
    )


def estimate_inference(
    model: str | Path | ModelEntry,
    gpu: str | GPU,
    *,
    input_tokens: float,
    output_tokens: float,
    tp: int | None = None,
    ep: int | None = None,
    precision: str | None = None,
    kv_precision: str | None = None,
    max_ttft_ms: float | None = None,
    max_tpot_ms: float | None = None,
    batch_size: int | None = None,
    price_per_gpu_hour: float | None = None,
    calibration: ServingCalibration | None = None,
    speed: float = 1.0,
) -> InferenceEstimate:
    """Best serving point of ``model`` on ``gpu`` for requests of ``input_tokens`` in and
    ``output_tokens`` out, under optional p99 latency targets (ms).

    ``tp`` None tries every tensor-parallel degree in 1-8 within the scale-up domain;
    ``ep`` None tries, for MoE models, expert parallelism over the replica (ep = tp, with
    attention data-parallel) beside ep 1; ``batch_size`` (per attention group) None tries
    1-4,096 concurrent sequences; ``precision`` defaults to fp8 where the GPU has it.
    ``speed`` scales step times (1.0 = current software; the MLPerf fit uses it for older
    rounds). Raises :class:`InfeasibleError` when nothing fits or no
    batch meets the targets, with what is missing and what would work.
    """
    cal = calibration or default_calibration()
    config = resolve_config(model, gpu, precision, kv_precision, cal)
    check_shape(input_tokens, output_tokens, config.model)
    target = latency_target(max_ttft_ms, max_tpot_ms)
    price = resolve_price(config.gpu, price_per_gpu_hour)
    tp_options, ep_options = parallel_layouts(config.model, config.gpu, tp, ep)
    batches = None
    if batch_size is not None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise InputError(
                "batch_size",
                f"must be 1-{MAX_BATCH:,} sequences per attention group (got {batch_size}).",
            )
        batches = np.array([float(batch_size)])
    grid = evaluate_grid(
        config.costs,
        config.gpu,
        tp_options,
        input_tokens,
        output_tokens,
        target,
        cal,
        **({"batch": batches} if batches is not None else {}),
        speed=speed,
        ep=ep_options,
    )
    if not grid.fits.any():
        if batch_size is not None and (grid.max_batch >= 1).any():
            raise InfeasibleError(
                f"batch_size {batch_size} does not fit: at most "
                f"{int(grid.max_batch.max())} sequences fit per replica of {config.gpu.id}."
            )
        raise explain_no_fit(config, tp_options, input_tokens, output_tokens, cal)
    best = best_index(grid)
    if best is None:
        raise explain_latency(grid, target, config)
    return build_estimate(config, grid, *best, target, price)
