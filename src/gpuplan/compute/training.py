"""Training estimates: FLOPs, GPU-hours (P10/P50/P90), wall clock, memory and cost.

    training FLOPs = tokens × (6·N_active_matmul + attention)   (PaLM convention, see
                     :meth:`Architecture.training_flops_per_token`; with only a parameter
                     count: 6·N·D and no attention term)
    GPU-hours      = training FLOPs / (peak FLOP/s × MFU) / 3600
    wall clock     = GPU-hours / GPUs / 24 days

MFU is the run-level utilisation of :mod:`gpuplan.compute.utilisation` (benchmark MFU ×
goodput); P10/P90 GPU-hours come from its log-normal band. The minimum GPU count comes from
:mod:`gpuplan.compute.training_memory`. One vectorised core (:func:`training_arrays`) serves
the scalar :func:`estimate_training`, :func:`estimate_training_batch` and
:func:`implied_training`. Nothing here looks up a published GPU-hour figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict

from gpuplan.catalog.gpus import GPU, get_gpu
from gpuplan.catalog.models import ModelEntry, get_model
from gpuplan.compute.training_memory import min_gpus_for_memory
from gpuplan.compute.utilisation import (
    UtilisationFit,
    load_utilisation_fit,
    log_sigma,
    precision_class,
    run_mfu,
    utilisation_inputs,
)
from gpuplan.errors import InputError
from gpuplan.units import HOURS_PER_DAY, SECONDS_PER_HOUR

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

DEFAULT_SEQ_LEN: Final = 4096
"""ASSUMPTION: pre-training context when none is given (Llama 2: 4k; Llama 3: 8k)."""
DEFAULT_GPUS: Final = 1024
"""ASSUMPTION: cluster size for the utilisation model when ``gpus`` is not given (never
below the memory minimum)."""
PARAMS_ONLY_ASPECT: Final = 128.0
"""Hidden width ÷ layers assumed for a bare parameter count (Llama 2 7B: 128; 70B: 102);
with N ≈ 12·L·h², h = (N·128/12)^(1/3). Used for the memory and width terms only."""
PARAMS_ONLY_VOCAB: Final = 32000.0
"""Vocabulary assumed for a bare parameter count (Llama 2, Mistral 7B)."""


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


class Hardware(NamedTuple):
    """Per-row GPU arrays: peak at the precision and bf16, bandwidth, memory, fabric."""

    peak_flops: NDArray[np.float64]
    bf16_peak_flops: NDArray[np.float64]
    memory_bandwidth: NDArray[np.float64]
    memory_bytes: NDArray[np.float64]
    scaleup_domain: NDArray[np.float64]
    generation_fitted: NDArray[np.bool_]
    precision_class: NDArray[np.int64]


class TrainingArrays(NamedTuple):
    """Results of the vectorised core, one entry per input row."""

    training_flops: NDArray[np.float64]
    flops_per_token: NDArray[np.float64]
    mfu: NDArray[np.float64]
    log_sigma: NDArray[np.float64]
    gpu_hours: NDArray[np.float64]
    gpu_hours_p10: NDArray[np.float64]
    gpu_hours_p90: NDArray[np.float64]
    gpus_assumed: NDArray[np.float64]
    wall_clock_days: NDArray[np.float64]
    min_gpus_for_memory: NDArray[np.float64]
    fits_in_memory: NDArray[np.bool_]


def params_only_shape(
    params: ArrayLike,
    active_params: ArrayLike | None = None,
    seq_len: ArrayLike = DEFAULT_SEQ_LEN,
) -> ModelShape:
    """A model known only by its parameter counts: 6·N FLOPs, shape from the aspect ratio."""
    total = np.asarray(params, dtype=float)
    active = total if active_params is None else np.asarray(active_params, dtype=float)
    hidden = np.cbrt(active * PARAMS_ONLY_ASPECT / 12.0)
    return ModelShape(
        matmul_params=active,
        params_total=total,
        attention_flops_per_token=np.zeros_like(active),
        hidden_size=hidden,
        num_layers=hidden / PARAMS_ONLY_ASPECT,
        vocab_size=np.full_like(active, PARAMS_ONLY_VOCAB),
        seq_len=np.asarray(seq_len, dtype=float) + np.zeros_like(active),
        is_moe=active < total,
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
        generation_fitted=np.array([g.generation in fitted for g in gpus]),
        precision_class=np.array([precision_class(p, fit) for p in precisions]),
    )


def training_arrays(
    shape: ModelShape,
    hardware: Hardware,
    tokens: ArrayLike,
    gpus: ArrayLike,
    fit: UtilisationFit,
) -> TrainingArrays:
    """The one vectorised formula path (module docstring). ``gpus`` NaN = not given: the
    utilisation model then assumes max(DEFAULT_GPUS, memory minimum) and wall clock is NaN.
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
    assumed = np.where(np.isnan(given), np.maximum(DEFAULT_GPUS, minimum), given)
    x = utilisation_inputs(
        peak_flops=hardware.peak_flops,
        bf16_peak_flops=hardware.bf16_peak_flops,
        memory_bandwidth=hardware.memory_bandwidth,
        hidden_size=shape.hidden_size,
        attention_share=shape.attention_flops_per_token / flops_per_token,
        gpus=np.where(np.isfinite(assumed), assumed, DEFAULT_GPUS),
        is_moe=shape.is_moe,
    )
    mfu = run_mfu(x, fit)
    sigma = log_sigma(
        x,
        fit,
        generation_fitted=hardware.generation_fitted,
        precision_class=hardware.precision_class,
        params=shape.params_total,
    )
    hours = training_flops / (hardware.peak_flops * mfu) / SECONDS_PER_HOUR
    spread = np.exp(fit.band_z * sigma)
    return TrainingArrays(
        training_flops=training_flops,
        flops_per_token=flops_per_token,
        mfu=mfu,
        log_sigma=sigma,
        gpu_hours=hours,
        gpu_hours_p10=hours / spread,
        gpu_hours_p90=hours * spread,
        gpus_assumed=assumed,
        wall_clock_days=hours / given / HOURS_PER_DAY,
        min_gpus_for_memory=minimum,
        fits_in_memory=np.isnan(given) | (given >= minimum),
    )


class TrainingEstimate(BaseModel):
    """One training estimate. FLOPs, GPU-hours, days, bytes, USD; P10/P50/P90 where noted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str | None
    gpu: str
    precision: str
    params_total: float
    params_active: float
    tokens: float
    seq_len: int | None
    training_flops: float
    flops_per_token: float
    mfu: float
    """Run-level 6ND-MFU assumed at P50 (benchmark MFU × goodput)."""
    goodput: float
    gpus: int | None
    gpus_assumed_for_mfu: float
    gpu_hours: float
    gpu_hours_p10: float
    gpu_hours_p90: float
    wall_clock_days: float | None
    wall_clock_days_p10: float | None
    wall_clock_days_p90: float | None
    min_gpus_for_memory: int | None
    price_per_gpu_hour: float | None
    cost_usd: float | None
    cost_usd_p10: float | None
    cost_usd_p90: float | None
    log_sigma: float
    notes: tuple[str, ...]


class ImpliedTraining(BaseModel):
    """What a GPU-hour (or dollar) figure implies: FLOPs and tokens at P10/P50/P90."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str | None
    gpu: str
    precision: str
    gpu_hours: float
    cost_usd: float | None
    price_per_gpu_hour: float | None
    mfu: float
    training_flops: float
    training_flops_p10: float
    training_flops_p90: float
    tokens: float
    tokens_p10: float
    tokens_p90: float
    flops_per_token: float


def _positive(value: float | int | None, field: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(field, f"'{value}' is not a number.") from None
    if not math.isfinite(number) or number <= 0:
        raise InputError(field, f"must be a finite number greater than zero (got {value}).")
    return number


class _Resolved(NamedTuple):
    model_id: str | None
    shape: ModelShape
    hardware: Hardware
    gpu: GPU
    seq_len: int | None
    notes: tuple[str, ...]


def _resolve(
    model: str | Path | ModelEntry | None,
    params: float | None,
    active_params: float | None,
    gpu: str | GPU,
    precision: str,
    seq_len: int | None,
    fit: UtilisationFit,
) -> _Resolved:
    """Validate the model/params/GPU/precision inputs and build one-row arrays."""
    device = get_gpu(gpu)
    if not device.supports(precision):
        device.peak_tflops(precision)  # raises the InputError naming the precision
    hardware = hardware_arrays([device], [precision], fit)
    length = _positive(seq_len, "seq_len")
    notes: list[str] = []
    if model is not None:
        if params is not None or active_params is not None:
            raise InputError("params", "give either a model or --params, not both.")
        entry = get_model(model)
        used = int(length) if length else DEFAULT_SEQ_LEN
        if length is None:
            notes.append(f"sequence length {used} assumed")
        if entry.status == "estimate":
            notes.append(f"{entry.id}: architecture is an estimate ({entry.note})")
        return _Resolved(
            entry.id, architecture_shape(entry, used), hardware, device, used, tuple(notes)
        )
    total = _positive(params, "params")
    if total is None:
        raise InputError("model", "give a catalog model id, a config.json path, or --params.")
    active = _positive(active_params, "active_params")
    if active is not None and active > total:
        raise InputError("active_params", f"{active:.3g} exceeds params {total:.3g}.")
    notes.append("parameters only: 6·N·D FLOPs without attention; shape from h/L = 128")
    shape = params_only_shape(total, active, length or DEFAULT_SEQ_LEN)
    shape = ModelShape._make(np.atleast_1d(column) for column in shape)
    return _Resolved(None, shape, hardware, device, int(length) if length else None, tuple(notes))


def estimate_training(
    model: str | Path | ModelEntry | None = None,
    *,
    params: float | None = None,
    active_params: float | None = None,
    tokens: float,
    gpu: str | GPU,
    gpus: int | None = None,
    precision: str = "bf16",
    seq_len: int | None = None,
    price_per_gpu_hour: float | None = None,
) -> TrainingEstimate:
    """Estimate a pre-training run (see the module docstring for the formulas).

    ``model`` is a catalog id, a ``config.json`` path or a :class:`ModelEntry`; otherwise give
    ``params`` (and ``active_params`` for a MoE). ``tokens`` trained, ``gpus`` in the cluster
    (optional: wall clock needs it), ``price_per_gpu_hour`` in USD (optional: cost).
    """
    fit = load_utilisation_fit()
    count = _positive(tokens, "tokens")
    assert count is not None  # tokens is required; _positive only returns None for None
    cluster = _positive(gpus, "gpus")
    price = _positive(price_per_gpu_hour, "price_per_gpu_hour")
    resolved = _resolve(model, params, active_params, gpu, precision, seq_len, fit)
    result = training_arrays(
        resolved.shape,
        resolved.hardware,
        count,
        math.nan if cluster is None else cluster,
        fit,
    )
    minimum = float(result.min_gpus_for_memory[0])
    if not math.isfinite(minimum):
        # A model given by its size has its width from the size: then the size is to blame.
        by_size = model is None
        raise InputError(
            "params" if by_size else "seq_len",
            (
                f"a model of {float(resolved.shape.params_total[0]):g} parameters is too wide: "
                if by_size
                else ""
            )
            + f"activations of one {resolved.seq_len or DEFAULT_SEQ_LEN}-token sequence do not "
            f"fit on {resolved.gpu.id} even with 8-way tensor and 64-way context "
            "parallelism; "
            + ("check the parameter count's units." if by_size else "use a shorter sequence ")
            + ("" if by_size else "or a GPU with more memory."),
        )
    if not bool(result.fits_in_memory[0]):
        raise InputError(
            "gpus",
            f"{int(cluster or 0)} x {resolved.gpu.id} cannot hold the training state and "
            f"activations; at least {int(minimum)} are needed (ZeRO-3 sharding, 16 bytes/param).",
        )
    hours, p10, p90 = (
        float(a[0]) for a in (result.gpu_hours, result.gpu_hours_p10, result.gpu_hours_p90)
    )

    def per_day(value: float) -> float | None:
        return None if cluster is None else value / cluster / HOURS_PER_DAY

    def cost(value: float) -> float | None:
        return None if price is None else value * price

    notes = resolved.notes
    if cluster is None:
        notes = (*notes, f"cluster of {float(result.gpus_assumed[0]):.0f} GPUs assumed for MFU")
    return TrainingEstimate(
        model=resolved.model_id,
        gpu=resolved.gpu.id,
        precision=precision,
        params_total=float(resolved.shape.params_total[0]),
        params_active=float(resolved.shape.matmul_params[0])
        if model is None
        else float(get_model(model).params_active),
        tokens=count,
        seq_len=resolved.seq_len,
        training_flops=float(result.training_flops[0]),
        flops_per_token=float(result.flops_per_token[0]),
        mfu=float(result.mfu[0]),
        goodput=fit.goodput,
        gpus=None if cluster is None else int(cluster),
        gpus_assumed_for_mfu=float(result.gpus_assumed[0]),
        gpu_hours=hours,
        gpu_hours_p10=p10,
        gpu_hours_p90=p90,
        wall_clock_days=per_day(hours),
        wall_clock_days_p10=per_day(p10),
        wall_clock_days_p90=per_day(p90),
        min_gpus_for_memory=int(minimum),
        price_per_gpu_hour=price,
        cost_usd=cost(hours),
        cost_usd_p10=cost(p10),
        cost_usd_p90=cost(p90),
        log_sigma=float(result.log_sigma[0]),
        notes=tuple(notes),
    )


def implied_training(
    gpu_hours: float | None = None,
    cost_usd: float | None = None,
    price_per_gpu_hour: float | None = None,
    *,
    gpu: str | GPU,
    precision: str = "bf16",
    gpus: int | None = None,
    model: str | Path | ModelEntry | None = None,
    params: float | None = None,
    active_params: float | None = None,
    seq_len: int | None = None,
) -> ImpliedTraining:
    """The reverse question: FLOPs and tokens that ``gpu_hours`` (or ``cost_usd`` at
    ``price_per_gpu_hour``) buy on ``gpu``. Exactly inverts :func:`estimate_training`:
    tokens P50 = GPU-hours × 3600 × peak × MFU ÷ FLOPs per token; a run that needed more
    GPU-hours than P50 (P90 hours) trained fewer tokens (P10 tokens), and vice versa.
    """
    fit = load_utilisation_fit()
    hours = _positive(gpu_hours, "gpu_hours")
    price = _positive(price_per_gpu_hour, "price_per_gpu_hour")
    dollars = _positive(cost_usd, "cost_usd")
    if hours is None:
        if dollars is None or price is None:
            raise InputError("gpu_hours", "give GPU-hours, or a cost with a price per GPU-hour.")
        hours = dollars / price
    cluster = _positive(gpus, "gpus")
    resolved = _resolve(model, params, active_params, gpu, precision, seq_len, fit)
    unit = training_arrays(
        resolved.shape, resolved.hardware, 1.0, math.nan if cluster is None else cluster, fit
    )
    tokens = hours / float(unit.gpu_hours[0])
    low, high = hours / float(unit.gpu_hours_p90[0]), hours / float(unit.gpu_hours_p10[0])
    per_token = float(unit.flops_per_token[0])
    return ImpliedTraining(
        model=resolved.model_id,
        gpu=resolved.gpu.id,
        precision=precision,
        gpu_hours=hours,
        cost_usd=dollars if dollars is not None else (None if price is None else hours * price),
        price_per_gpu_hour=price,
        mfu=float(unit.mfu[0]),
        training_flops=tokens * per_token,
        training_flops_p10=low * per_token,
        training_flops_p90=high * per_token,
        tokens=tokens,
        tokens_p10=low,
        tokens_p90=high,
        flops_per_token=per_token,
    )


def estimate_training_batch(
    *,
    params: ArrayLike,
    tokens: ArrayLike,
    gpu: str | Sequence[str],
    gpus: ArrayLike | None = None,
    precision: str | Sequence[str] = "bf16",
    active_params: ArrayLike | None = None,
    seq_len: ArrayLike = DEFAULT_SEQ_LEN,
) -> TrainingArrays:
    """Many estimates at once from parameter counts (numpy arrays, broadcast together).

    Same formulas as :func:`estimate_training` with ``params`` (6·N·D, shape from the aspect
    ratio); ``gpu`` and ``precision`` are one id or one per row; ``gpus`` NaN = not given.
    No validation beyond the GPU/precision lookups: rows with bad numbers give NaN.
    """
    fit = load_utilisation_fit()
    shape = params_only_shape(params, active_params, seq_len)
    size = np.broadcast(shape.params_total, np.asarray(tokens), np.asarray(seq_len)).shape
    ids = np.broadcast_to(np.asarray(gpu), size)
    precisions = np.broadcast_to(np.asarray(precision), size)
    pairs, inverse = np.unique(
        np.stack([ids.ravel(), precisions.ravel()]), axis=1, return_inverse=True
    )
    table = hardware_arrays([get_gpu(str(g)) for g in pairs[0]], [str(p) for p in pairs[1]], fit)
    hardware = Hardware._make(np.asarray(column)[inverse.ravel()].reshape(size) for column in table)
    shape = ModelShape._make(np.broadcast_to(column, size) for column in shape)
    cluster = np.full(size, math.nan) if gpus is None else np.asarray(gpus, dtype=float)
    return training_arrays(shape, hardware, tokens, cluster, fit)
