"""Evaluate a serving configuration over a grid of tensor-parallel degrees x batch sizes.

Combines :mod:`serving_memory` (what fits) and :mod:`serving_roofline` (how long a step
takes) into per-GPU throughput and latency arrays, and picks the best feasible point. Used by
the single estimate, the fleet sizing and the deployment search alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gpuplan.catalog.gpus import GPU
from gpuplan.compute.serving_calibration import ServingCalibration
from gpuplan.compute.serving_memory import FloatArray, ServingCosts, max_batch_size
from gpuplan.compute.serving_roofline import Rates, StepTimes, prefill_time, step_times

MAX_BATCH = 4096
"""Most concurrent sequences per attention group (per replica without attention
data-parallel), and ``MAX_STEP_TOKENS`` the most tokens one step processes: the caps
``trtllm-bench`` sets (``max_batch_size`` <= 4,096 "to avoid decoder buffer size becoming
too large", ``max_num_tokens`` <= 32,768 for the activation buffers;
``tensorrt_llm/bench/build/tuning.py`` ``finetune_setting``), the engine settings of the
TensorRT-LLM tables in the fit and the held-out set."""
MAX_STEP_TOKENS = 32768
BoolArray = npt.NDArray[np.bool_]
BATCH_GRID = np.unique(
    np.concatenate(
        [
            np.arange(1, 257, dtype=float),
            np.round(np.geomspace(256, MAX_BATCH, 280)),
            2.0 ** np.arange(9, 13),
        ]
    )
)
"""Batch sizes evaluated: every size to 256, then steps of 1% (and the powers of two) to
4,096: the best batch found is within 1% of the best integer batch."""


@dataclass(frozen=True)
class LatencyTarget:
    """p99 latency limits in seconds (``None`` = no limit, i.e. offline)."""

    max_ttft_s: float | None = None
    max_tpot_s: float | None = None

    @property
    def offline(self) -> bool:
        return self.max_ttft_s is None and self.max_tpot_s is None


@dataclass(frozen=True)
class ServingGrid:
    """Arrays over (parallel layout, batch) for one model, GPU and precision pair. Rows
    are (tp, ep) layouts; ``batch`` is the replica's running sequences (``ep`` attention
    groups x the grid's batch per group)."""

    input_tokens: float
    output_tokens: float
    calibration: ServingCalibration
    tp: FloatArray
    ep: FloatArray
    batch: FloatArray
    max_batch: FloatArray
    steps: StepTimes
    tpot_s: FloatArray
    ttft_s: FloatArray
    tpot_p99_s: FloatArray
    ttft_p99_s: FloatArray
    prefill_s: FloatArray
    throughput_per_gpu: FloatArray
    """Output tokens/s per GPU (after the arrival headroom when a latency target is set)."""
    fits: BoolArray
    meets_latency: BoolArray

    @property
    def feasible(self) -> BoolArray:
        return self.fits & self.meets_latency


def evaluate_grid(
    costs: ServingCosts,
    gpu: GPU,
    tp: FloatArray,
    input_tokens: float,
    output_tokens: float,
    target: LatencyTarget,
    calibration: ServingCalibration,
    batch: FloatArray = BATCH_GRID,
    speed: float = 1.0,
    ep: FloatArray | None = None,
) -> ServingGrid:
    """Throughput and latency at every (layout, batch): rows pair ``tp[i]`` with ``ep[i]``
    (default 1, no expert parallelism); ``batch`` is per attention group. ``speed`` scales
    all step times (software vintage, 1.0 = the fitted current software)."""
    rates = Rates.build(gpu, costs.precision, costs.kv_precision, calibration)
    tp_col = np.asarray(tp, dtype=float)[:, None]
    ep_col = np.ones_like(tp_col) if ep is None else np.asarray(ep, dtype=float)[:, None]
    batch_row = np.asarray(batch, dtype=float)[None, :] * ep_col
    steps = step_times(
        costs, rates, tp_col, batch_row, input_tokens, output_tokens, calibration, ep_col
    )
    tpot = steps.total / speed
    prefill = prefill_time(costs, rates, tp_col, input_tokens, calibration, ep_col) / speed
    # A new request waits half a step on average, then its prompt joins a step.
    ttft = 1.5 * tpot + prefill
    tail = calibration.fitted.latency_tail_factor
    headroom = 1.0 if target.offline else calibration.fitted.arrival_headroom
    throughput = headroom * batch_row / tpot / tp_col
    limit = max_batch_size(
        costs, gpu.memory_gb, tp_col, input_tokens, output_tokens, calibration.fixed, ep_col
    )
    step_tokens = batch_row / ep_col * (1.0 + input_tokens / output_tokens)
    fits = (batch_row <= limit) & (step_tokens <= MAX_STEP_TOKENS)
    tpot_p99, ttft_p99 = tail * tpot, tail * ttft
    ok = np.ones_like(tpot, dtype=bool)
    if target.max_tpot_s is not None:
        ok &= tpot_p99 <= target.max_tpot_s
    if target.max_ttft_s is not None:
        ok &= ttft_p99 <= target.max_ttft_s
    return ServingGrid(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        calibration=calibration,
        tp=tp_col,
        ep=ep_col,
        batch=batch_row,
        max_batch=limit,
        steps=steps,
        tpot_s=tpot,
        ttft_s=ttft,
        tpot_p99_s=tpot_p99,
        ttft_p99_s=ttft_p99,
        prefill_s=prefill + 0.0 * batch_row,
        throughput_per_gpu=throughput,
        fits=fits,
        meets_latency=ok,
    )


def best_index(grid: ServingGrid) -> tuple[int, int] | None:
    """(tp row, batch column) of the highest feasible per-GPU throughput, or None."""
    score = np.where(grid.feasible, grid.throughput_per_gpu, -1.0)
    flat = int(np.argmax(score))
    if score.flat[flat] < 0:
        return None
    row, col = np.unravel_index(flat, score.shape)
    return int(row), int(col)
