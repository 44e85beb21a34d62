"""The vectorised core of the training estimator: per-row model shape and GPU arrays in,
FLOPs, MFU, P10/P50/P90 GPU-hours, wall clock and memory minimum out.

    training FLOPs = tokens × (6·N_active_matmul + attention)
    GPU-hours      = training FLOPs / (peak FLOP/s × run MFU) / 3600, band from the fit

:func:`training_arrays` is the one formula path; :mod:`gpuplan.compute.training` validates
inputs and wraps single estimates around it. Pure numpy, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import numpy as np

from gpuplan.catalog.gpus import GPU
from gpuplan.catalog.models import ModelEntry
from gpuplan.compute.model_parallel import ParallelLayout, layout_costs, scaleup_bandwidth
from gpuplan.compute.moe_step import (
    MoEShape,
    architecture_moe_shape,
    moe_layout,
    moe_step_costs,
    params_only_moe_shape,
)
from gpuplan.compute.step_communication import network_bandwidth, step_communication_seconds
from gpuplan.compute.training_memory import min_gpus_for_memory
from gpuplan.compute.utilisation import (
    UtilisationFit,
    UtilisationInputs,
    band_factors,
    default_global_batch_tokens,
    extrapolation_sigma,
    precision_class,
    run_mfu,
    utilisation_inputs,
)
from gpuplan.units import HOURS_PER_DAY, SECONDS_PER_HOUR

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

DEFAULT_SEQ_LEN: Final = 4096
"""ASSUMPTION: pre-training context when none is given (Llama 2: 4k; Llama 3: 8k)."""
DEFAULT_GPUS: Final = 1024
"""ASSUMPTION: cluster size for the utilisation model's P50 when ``gpus`` is not given
(moved into :data:`RUN_DAYS_RANGE`'s cluster range, never below the memory minimum)."""
RUN_DAYS_RANGE: Final = (7.0, 118.0)
"""Wall clock (days) of the calibration runs whose figure is a wall clock (GPUs × elapsed
days), shortest to longest: Phi-3-mini
(512 H100 for 7 days, HF model card) and BLOOM (384 A100 for ~118 days, arXiv:2211.02001
Table 1). Without ``gpus`` the band spans every cluster that finishes the run within it:
P10 GPU-hours on the smallest such cluster, P90 on the largest (more GPUs per token run
shorter, less efficient steps)."""
PARAMS_ONLY_ASPECT: Final = 128.0
"""Hidden width ÷ layers assumed for a bare parameter count (Llama 2 7B: 128; 70B: 102);
with N ≈ 12·L·h², h = (N·128/12)^(1/3). Used for the memory and width terms only."""
PARAMS_ONLY_VOCAB: Final = 32000.0
"""Vocabulary assumed for a bare parameter count (Llama 2, Mistral 7B)."""
DEFAULT_SCOPE: Final = "wall_clock"
"""What an estimate covers unless told otherwise: GPUs × elapsed time of the pre-training
run (restarts, evaluation, idle time included), i.e. what holding the cluster costs."""


class ModelShape(NamedTuple):
    """Per-row model arrays the core reads (parameters, FLOPs per token, shape)."""

    matmul_params: NDArray[np.float64]
    """Active weights taking part in matmuls (6·N of the FLOP formula)."""
    params_total: NDArray[np.float64]
    attention_flops_per_token: NDArray[np.float64]
    """Training (3× forward) attention FLOPs per token at seq_len."""
    hidden_size: NDArray[np.float64]
    num_layers: NDArray[np.float64]
    vocab_size: NDArray[np.float64]
    seq_len: NDArray[np.float64]
    is_moe: NDArray[np.bool_]
    moe: MoEShape
    """Routed experts, top-k, expert width, MoE layers (:mod:`moe_step`; 0 experts: dense)."""

    def map(self, function: Callable[[Any], Any]) -> ModelShape:
        """The same shape with ``function`` applied to every array (the MoE ones too)."""
        arrays = [function(column) for column in self[:-1]]
        return ModelShape._make([*arrays, MoEShape._make(function(c) for c in self.moe)])


class Hardware(NamedTuple):
    """Per-row GPU arrays: peak at the precision and bf16, bandwidth, memory, fabric."""

    peak_flops: NDArray[np.float64]
    bf16_peak_flops: NDArray[np.float64]
    memory_bandwidth: NDArray[np.float64]
    memory_bytes: NDArray[np.float64]
    scaleup_domain: NDArray[np.float64]
    network_bandwidth: NDArray[np.float64]
    """Bytes/s per GPU between scale-up domains (the generation's reference system)."""
    scaleup_bandwidth: NDArray[np.float64]
    """Bytes/s per GPU and direction inside the scale-up domain (NaN: not in the catalog)."""
    generation_fitted: NDArray[np.bool_]
    precision_class: NDArray[np.int64]


class TrainingArrays(NamedTuple):
    """Results of the vectorised core, one entry per input row."""

    training_flops: NDArray[np.float64]
    flops_per_token: NDArray[np.float64]
    mfu: NDArray[np.float64]
    extrapolation_sigma: NDArray[np.float64]
    global_batch_tokens: NDArray[np.float64]
    gpu_hours: NDArray[np.float64]
    gpu_hours_p10: NDArray[np.float64]
    gpu_hours_p90: NDArray[np.float64]
    gpus_assumed: NDArray[np.float64]
    cluster_range: tuple[NDArray[np.float64], NDArray[np.float64]]
    """(smallest, largest) cluster the band spans: the given GPU count, or without one the
    clusters finishing the run in :data:`RUN_DAYS_RANGE`."""
    wall_clock_days: NDArray[np.float64]
    min_gpus_for_memory: NDArray[np.float64]
    fits_in_memory: NDArray[np.bool_]
    layout: ParallelLayout
    """Tensor × pipeline × context × data parallel degrees on the P50's cluster."""


def params_only_shape(
    params: ArrayLike,
    active_params: ArrayLike | None = None,
    seq_len: ArrayLike = DEFAULT_SEQ_LEN,
) -> ModelShape:
    """A model known only by its parameter counts: 6·N FLOPs, shape from the aspect ratio."""
    total = np.asarray(params, dtype=float)
    active = total if active_params is None else np.asarray(active_params, dtype=float)
    hidden = np.cbrt(active * PARAMS_ONLY_ASPECT / 12.0)
    layers = hidden / PARAMS_ONLY_ASPECT
    return ModelShape(
        matmul_params=active,
        params_total=total,
        attention_flops_per_token=np.zeros_like(active),
        hidden_size=hidden,
        num_layers=layers,
        vocab_size=np.full_like(active, PARAMS_ONLY_VOCAB),
        seq_len=np.asarray(seq_len, dtype=float) + np.zeros_like(active),
        is_moe=active < total,
        moe=params_only_moe_shape(total, active, hidden, layers),
    )


def architecture_shape(entry: ModelEntry, seq_len: int) -> ModelShape:
    """A catalog model or config.json at ``seq_len``: exact FLOPs per token and shape."""
    arch = entry.architecture
    per_token = arch.training_flops_per_token(seq_len)
    matmul = arch.params_active_matmul

    def one(value: float) -> NDArray[np.float64]:
        return np.array([value], dtype=float)

    return ModelShape(
        matmul_params=one(matmul),
        params_total=one(arch.params_total),
        attention_flops_per_token=one(per_token - 6.0 * matmul),
        hidden_size=one(arch.hidden_size),
        num_layers=one(arch.num_layers),
        vocab_size=one(arch.vocab_size),
        seq_len=one(seq_len),
        is_moe=np.array([arch.is_moe]),
        moe=architecture_moe_shape(arch),
    )


def hardware_arrays(
    gpus: Sequence[GPU], precisions: Sequence[str], fit: UtilisationFit
) -> Hardware:
    """GPU figures per row (raises InputError for a precision the GPU lacks)."""
    fitted = set(fit.extrapolation.fitted_generations)
    return Hardware(
        peak_flops=np.array([g.peak_flops(p) for g, p in zip(gpus, precisions, strict=True)]),
        bf16_peak_flops=np.array([g.peak_flops("bf16") for g in gpus]),
        memory_bandwidth=np.array([g.memory_bandwidth_bytes_per_s for g in gpus]),
        memory_bytes=np.array([g.memory_bytes for g in gpus]),
        scaleup_domain=np.array([float(g.scaleup_domain) for g in gpus]),
        network_bandwidth=np.array([network_bandwidth(g.generation) for g in gpus]),
        scaleup_bandwidth=np.array([scaleup_bandwidth(g) for g in gpus]),
        generation_fitted=np.array([g.generation in fitted for g in gpus]),
        precision_class=np.array([precision_class(p, fit) for p in precisions]),
    )


def training_arrays(
    shape: ModelShape,
    hardware: Hardware,
    tokens: ArrayLike,
    gpus: ArrayLike,
    fit: UtilisationFit,
    *,
    global_batch_tokens: ArrayLike = math.nan,
    software_year: ArrayLike | None = None,
    scope: str = DEFAULT_SCOPE,
    tensor_parallel: ArrayLike = math.nan,
    pipeline_parallel: ArrayLike = math.nan,
    context_parallel: ArrayLike = math.nan,
    micro_batch_sequences: ArrayLike = math.nan,
    expert_parallel: ArrayLike = math.nan,
    exposed_all_to_all: ArrayLike = 1.0,
) -> TrainingArrays:
    """The one vectorised formula path (module docstring). ``gpus`` NaN = not given: the
    P50 then assumes DEFAULT_GPUS (kept within the memory minimum and the clusters that
    finish the run in :data:`RUN_DAYS_RANGE`), the band spans those clusters, and wall
    clock is NaN.
    ``global_batch_tokens`` NaN = the fitted batch rule of published runs; ``software_year`` None =
    today's stack (the fit's reference year); ``scope`` one of :data:`SCOPES`; the parallel
    degrees NaN = the default layout on each cluster
    (:func:`gpuplan.compute.model_parallel.default_layout`), ``micro_batch_sequences`` NaN
    = 1; ``expert_parallel`` NaN = min(experts, scale-up domain, GPUs),
    ``exposed_all_to_all`` the share of the MoE all-to-all not hidden under compute
    (:mod:`gpuplan.compute.moe_step`).
    """
    flops_per_token = 6.0 * shape.matmul_params + shape.attention_flops_per_token
    training_flops = np.asarray(tokens, dtype=float) * flops_per_token
    minimum = min_gpus_for_memory(
        params_total=shape.params_total,
        hidden_size=shape.hidden_size,
        num_layers=shape.num_layers,
        vocab_size=shape.vocab_size,
        seq_len=shape.seq_len,
        gpu_memory_bytes=hardware.memory_bytes,
        scaleup_domain=hardware.scaleup_domain,
    )
    given = np.asarray(gpus, dtype=float)
    unknown = np.isnan(given)
    batch = np.asarray(global_batch_tokens, dtype=float)
    batch = np.where(
        np.isnan(batch), default_global_batch_tokens(training_flops, fit.batch_rule), batch
    )
    year = fit.reference_year if software_year is None else software_year
    floor = np.where(np.isfinite(minimum), minimum, 1.0)

    def mfu_on(
        cluster: ArrayLike,
    ) -> tuple[NDArray[np.float64], UtilisationInputs, ParallelLayout]:
        costs = layout_costs(
            gpus=cluster,
            global_batch_tokens=batch,
            seq_len=shape.seq_len,
            params_total=shape.params_total,
            hidden_size=shape.hidden_size,
            num_layers=shape.num_layers,
            vocab_size=shape.vocab_size,
            flops_per_token=flops_per_token,
            peak_flops=hardware.peak_flops,
            gpu_memory_bytes=hardware.memory_bytes,
            scaleup_domain=hardware.scaleup_domain,
            scaleup_bandwidth=hardware.scaleup_bandwidth,
            memory_minimum=minimum,
            tensor_parallel=tensor_parallel,
            pipeline_parallel=pipeline_parallel,
            context_parallel=context_parallel,
            micro_batch_sequences=micro_batch_sequences,
        )
        communication = step_communication_seconds(
            params_total=shape.params_total,
            num_layers=shape.num_layers,
            gpus=cluster,
            gpus_per_replica=costs.gpus_per_replica,
            scaleup_domain=hardware.scaleup_domain,
            network_bandwidth=hardware.network_bandwidth,
        )
        x = utilisation_inputs(
            peak_flops=hardware.peak_flops,
            bf16_peak_flops=hardware.bf16_peak_flops,
            memory_bandwidth=hardware.memory_bandwidth,
            hidden_size=shape.hidden_size,
            attention_share=shape.attention_flops_per_token / flops_per_token,
            gpus=cluster,
            global_batch_tokens=batch,
            flops_per_token=flops_per_token,
            num_layers=shape.num_layers,
            communication_seconds=communication,
            tensor_communication=costs.tensor_communication,
            pipeline_bubble=costs.pipeline_bubble,
            software_age=fit.reference_year - np.asarray(year, dtype=float),
            is_moe=shape.is_moe,
        )
        gemm, other = moe_step_costs(
            shape.moe,
            moe_layout(
                expert_parallel=expert_parallel,
                micro_batch_sequences=micro_batch_sequences,
                seq_len=shape.seq_len,
                exposed_all_to_all=exposed_all_to_all,
                experts=shape.moe.experts,
                scaleup_domain=hardware.scaleup_domain,
                gpus=cluster,
            ),
            shape.hidden_size,
            flops_per_token=flops_per_token,
            peak_flops=hardware.peak_flops,
            memory_bandwidth=hardware.memory_bandwidth,
            scaleup_domain=hardware.scaleup_domain,
            scaleup_bandwidth=hardware.scaleup_bandwidth,
            network_bandwidth=hardware.network_bandwidth,
        )
        x = x._replace(moe_expert_gemm=gemm, moe_other=other)
        return run_mfu(x, fit, scope), x, costs.layout

    def hours_at(mfu: NDArray[np.float64]) -> NDArray[np.float64]:
        result: NDArray[np.float64] = (
            training_flops / (hardware.peak_flops * mfu) / SECONDS_PER_HOUR
        )
        return result

    default = np.where(unknown, np.maximum(DEFAULT_GPUS, floor), given)
    first, x, layout = mfu_on(default)
    longest, shortest = (days * HOURS_PER_DAY for days in reversed(RUN_DAYS_RANGE))
    smallest = np.maximum(floor, hours_at(first) / longest)
    largest = np.maximum(smallest, hours_at(first) / shortest)
    assumed = np.where(unknown, np.clip(default, smallest, largest), given)
    mfu = mfu_small = mfu_large = first
    if unknown.any():  # with every cluster given, the three clusters below are the first
        mfu, x, layout = mfu_on(assumed)
        mfu_small, _, _ = mfu_on(np.where(unknown, smallest, given))
        mfu_large, _, _ = mfu_on(np.where(unknown, largest, given))
    sigma = extrapolation_sigma(
        x,
        fit,
        generation_fitted=hardware.generation_fitted,
        precision_class=hardware.precision_class,
        params=shape.params_total,
    )
    hours = hours_at(mfu)
    low, high = band_factors(sigma, shape.params_total, fit)
    return TrainingArrays(
        training_flops=training_flops,
        flops_per_token=flops_per_token,
        mfu=mfu,
        extrapolation_sigma=sigma,
        global_batch_tokens=batch,
        gpu_hours=hours,
        gpu_hours_p10=np.minimum(hours, hours_at(mfu_small)) * low,
        gpu_hours_p90=np.maximum(hours, hours_at(mfu_large)) * high,
        gpus_assumed=assumed,
        cluster_range=(np.where(unknown, smallest, given), np.where(unknown, largest, given)),
        wall_clock_days=hours / given / HOURS_PER_DAY,
        min_gpus_for_memory=minimum,
        fits_in_memory=unknown | (given >= minimum),
        layout=layout,
    )
