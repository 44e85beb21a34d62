"""Training estimates: FLOPs, GPU-hours (P10/P50/P90), wall clock, memory and cost.

    training FLOPs = tokens × (6·N_active_matmul + attention)   (PaLM convention, see
                     :meth:`Architecture.training_flops_per_token`; with only a parameter
                     count: 6·N·D and no attention term)
    GPU-hours      = training FLOPs / (peak FLOP/s × MFU) / 3600
    wall clock     = GPU-hours / GPUs / 24 days

MFU is the run-level utilisation of :mod:`gpuplan.compute.utilisation` (benchmark MFU ×
goodput of the figure's scope × failures); P10/P90 GPU-hours come from its out-of-sample
(conformal) band. The minimum GPU count comes from
:mod:`gpuplan.compute.training_memory`. One vectorised core
(:func:`gpuplan.compute.training_core.training_arrays`) serves
the scalar :func:`estimate_training`, :func:`estimate_training_batch` and
:func:`implied_training`. Nothing here looks up a published GPU-hour figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict

from gpuplan.catalog.gpus import GPU, get_gpu
from gpuplan.catalog.models import ModelEntry, get_model
from gpuplan.compute.model_parallel import (
    GivenLayout,
    check_layout,
    given_layout,
    layout_note,
)
from gpuplan.compute.moe_step import check_expert_parallel, check_moe_layout, moe_layout_note
from gpuplan.compute.training_core import (
    DEFAULT_SCOPE,
    DEFAULT_SEQ_LEN,
    RUN_DAYS_RANGE,
    Hardware,
    ModelShape,
    TrainingArrays,
    architecture_shape,
    hardware_arrays,
    params_only_shape,
    training_arrays,
)
from gpuplan.compute.utilisation import (
    SCOPES,
    UtilisationFit,
    goodput_for,
    load_utilisation_fit,
)
from gpuplan.errors import InputError
from gpuplan.humanize import number
from gpuplan.units import HOURS_PER_DAY

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

IMPLIED_START_TOKENS = 1e12
"""First guess of :func:`implied_training` (a run of the usual size: fewer steps than from a
guess of one token, whose tiny default batch makes the first steps communication-bound)."""
IMPLIED_ITERATIONS = 16
"""Fixed-point steps of :func:`implied_training`: with the batch rule, more tokens mean a
larger batch and less exposed per-step communication, so each step shrinks the error by
about that communication's share of the step time (well under a half)."""

__all__ = [
    "DEFAULT_SCOPE",
    "ImpliedTraining",
    "RunSettings",
    "TrainingArrays",
    "TrainingEstimate",
    "estimate_training",
    "estimate_training_batch",
    "implied_training",
]


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
    """Run-level 6ND-MFU assumed at P50 (benchmark MFU × goodput × failures)."""
    goodput: float
    """Run MFU ÷ benchmark MFU before failures, for ``scope``."""
    scope: str
    global_batch_tokens: float
    software_year: int
    tensor_parallel: float
    """Layout on the P50's cluster (given, or the default the batch and memory force)."""
    pipeline_parallel: float
    context_parallel: float
    data_parallel: float
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
    extrapolation_sigma: float
    """Log-width added to each side of the band for inputs outside the calibration data."""
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


class RunSettings(NamedTuple):
    """How the run is set up and what its GPU-hours are to cover (validated)."""

    global_batch_tokens: float
    """Tokens per optimiser step; NaN = the fitted batch rule of published runs."""
    software_year: int
    scope: str
    layout: GivenLayout
    """Tensor, pipeline and context degrees given; NaN = the default layout."""
    expert_parallel: float
    """GPUs pooling tokens for one expert (MoE); NaN = min(experts, scale-up domain, GPUs)."""
    exposed_all_to_all: float
    """Share (0-1) of the MoE all-to-all on the critical path (:mod:`moe_step`)."""


def run_settings(
    global_batch_tokens: float | None,
    software_year: int | None,
    scope: str,
    fit: UtilisationFit,
    *,
    tensor_parallel: int | None = None,
    pipeline_parallel: int | None = None,
    context_parallel: int | None = None,
    expert_parallel: int | None = None,
    exposed_all_to_all: float = 1.0,
) -> RunSettings:
    """Check the run settings; defaults: batch by rule, today's stack, :data:`DEFAULT_SCOPE`,
    the default layout (:func:`given_layout`, :func:`check_moe_layout`)."""
    layout = given_layout(tensor_parallel, pipeline_parallel, context_parallel)
    ep, exposed = check_moe_layout(expert_parallel, exposed_all_to_all)
    if scope not in SCOPES:
        raise InputError("scope", f"'{scope}' is not one of {', '.join(SCOPES)}.")
    batch = _positive(global_batch_tokens, "global_batch_tokens")
    year = fit.reference_year if software_year is None else software_year
    if not 2015 <= year <= 2100 or year != int(year):
        raise InputError("software_year", f"must be a year such as 2024 (got {software_year}).")
    return RunSettings(math.nan if batch is None else batch, int(year), scope, layout, ep, exposed)


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
        raise InputError("active_params", f"{number(active)} exceeds params {number(total)}.")
    notes.append("parameters only: 6·N·D FLOPs without attention; shape from h/L = 128")
    if active is not None and active < total:
        notes.append("MoE shape assumed: top-8, the active weights beyond attention in experts")
    shape = params_only_shape(total, active, length or DEFAULT_SEQ_LEN)
    shape = shape.map(np.atleast_1d)
    return _Resolved(None, shape, hardware, device, int(length) if length else None, tuple(notes))


def _check_layout(
    settings: RunSettings, resolved: _Resolved, cluster: float | None, result: TrainingArrays
) -> None:
    check_layout(
        settings.layout,
        gpus=cluster,
        gpu=resolved.gpu,
        num_layers=float(resolved.shape.num_layers[0]),
        batch_sequences=float(result.global_batch_tokens[0] / resolved.shape.seq_len[0]),
    )


def _one_run(
    resolved: _Resolved,
    tokens: float,
    cluster: float | None,
    settings: RunSettings,
    fit: UtilisationFit,
) -> TrainingArrays:
    """The vectorised core on one validated run."""
    experts = float(resolved.shape.moe.experts[0])
    check_expert_parallel(settings.expert_parallel, experts, cluster)
    return training_arrays(
        resolved.shape,
        resolved.hardware,
        tokens,
        math.nan if cluster is None else cluster,
        fit,
        global_batch_tokens=settings.global_batch_tokens,
        software_year=settings.software_year,
        scope=settings.scope,
        tensor_parallel=settings.layout.tensor,
        pipeline_parallel=settings.layout.pipeline,
        context_parallel=settings.layout.context,
        expert_parallel=settings.expert_parallel,
        exposed_all_to_all=settings.exposed_all_to_all,
    )


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
    global_batch_tokens: float | None = None,
    software_year: int | None = None,
    scope: str = DEFAULT_SCOPE,
    tensor_parallel: int | None = None,
    pipeline_parallel: int | None = None,
    context_parallel: int | None = None,
    expert_parallel: int | None = None,
    exposed_all_to_all: float = 1.0,
) -> TrainingEstimate:
    """Estimate a pre-training run (see the module docstring for the formulas).

    ``model`` is a catalog id, a ``config.json`` path or a :class:`ModelEntry`; otherwise give
    ``params`` (and ``active_params`` for a MoE). ``tokens`` trained, ``gpus`` in the cluster
    (optional: wall clock needs it), ``price_per_gpu_hour`` in USD (optional: cost).
    ``global_batch_tokens`` per step, ``software_year`` of the training stack and ``scope``
    of the GPU-hours (:data:`gpuplan.compute.utilisation.SCOPES`) default to the batch rule
    fitted on published runs, today's stack and :data:`DEFAULT_SCOPE`. ``tensor_parallel``,
    ``pipeline_parallel``, ``context_parallel``: the run's layout (needs ``gpus``, which
    t·p·c must divide; tensor a power of two within the scale-up domain); by default
    the one the batch and memory force (:func:`gpuplan.compute.model_parallel.default_layout`).
    A MoE's ``expert_parallel`` degree and ``exposed_all_to_all`` share set its routing cost
    (:mod:`gpuplan.compute.moe_step`); defaults: one scale-up domain, fully exposed.
    """
    fit = load_utilisation_fit()
    settings = run_settings(
        global_batch_tokens,
        software_year,
        scope,
        fit,
        tensor_parallel=tensor_parallel,
        pipeline_parallel=pipeline_parallel,
        context_parallel=context_parallel,
        expert_parallel=expert_parallel,
        exposed_all_to_all=exposed_all_to_all,
    )
    count = _positive(tokens, "tokens")
    assert count is not None  # tokens is required; _positive only returns None for None
    cluster = _positive(gpus, "gpus")
    price = _positive(price_per_gpu_hour, "price_per_gpu_hour")
    resolved = _resolve(model, params, active_params, gpu, precision, seq_len, fit)
    result = _one_run(resolved, count, cluster, settings, fit)
    minimum = float(result.min_gpus_for_memory[0])
    if not math.isfinite(minimum):
        # A model given by its size has its width from the size: then the size is to blame.
        by_size = model is None
        raise InputError(
            "params" if by_size else "seq_len",
            (
                f"a model of {number(float(resolved.shape.params_total[0]))} parameters is too "
                "wide: "
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
    _check_layout(settings, resolved, cluster, result)
    hours, p10, p90 = (
        float(a[0]) for a in (result.gpu_hours, result.gpu_hours_p10, result.gpu_hours_p90)
    )

    def per_day(value: float) -> float | None:
        return None if cluster is None else value / cluster / HOURS_PER_DAY

    def cost(value: float) -> float | None:
        return None if price is None else value * price

    notes = resolved.notes
    degrees = [float(d[0]) for d in result.layout]
    notes = (*notes, layout_note(degrees, default=math.isnan(settings.layout.tensor)))
    if cluster is None:
        low, high = (float(end[0]) for end in result.cluster_range)
        shortest, longest = RUN_DAYS_RANGE
        notes = (
            *notes,
            f"cluster not given: P50 on {float(result.gpus_assumed[0]):,.0f} GPUs; P10-P90 "
            f"span {low:,.0f} to {high:,.0f} GPUs (the run in {longest:.0f} to "
            f"{shortest:.0f} days); give --gpus to narrow it",
        )
    if global_batch_tokens is None:
        rule = fit.batch_rule
        notes = (
            *notes,
            f"global batch from published runs' practice ({rule.coefficient:,.0f}·C^"
            f"{rule.exponent:.3f}, fitted on {rule.runs} runs); give --global-batch-tokens",
        )
    if bool(resolved.shape.is_moe[0]):
        used = float(result.gpus_assumed[0])
        notes = (
            *notes,
            moe_layout_note(
                resolved.shape.moe,
                settings.expert_parallel,
                settings.exposed_all_to_all,
                resolved.gpu,
                used,
            ),
        )
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
        goodput=goodput_for(settings.scope, fit),
        scope=settings.scope,
        global_batch_tokens=float(result.global_batch_tokens[0]),
        software_year=settings.software_year,
        tensor_parallel=degrees[0],
        pipeline_parallel=degrees[1],
        context_parallel=degrees[2],
        data_parallel=degrees[3],
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
        extrapolation_sigma=float(result.extrapolation_sigma[0]),
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
    global_batch_tokens: float | None = None,
    software_year: int | None = None,
    scope: str = DEFAULT_SCOPE,
    tensor_parallel: int | None = None,
    pipeline_parallel: int | None = None,
    context_parallel: int | None = None,
    expert_parallel: int | None = None,
    exposed_all_to_all: float = 1.0,
) -> ImpliedTraining:
    """The reverse question: FLOPs and tokens that ``gpu_hours`` (or ``cost_usd`` at
    ``price_per_gpu_hour``) buy on ``gpu``. Inverts :func:`estimate_training`:
    tokens P50 = GPU-hours × 3600 × peak × MFU ÷ FLOPs per token; a run that needed more
    GPU-hours than P50 (P90 hours) trained fewer tokens (P10 tokens), and vice versa. With
    the default batch rule (which depends on the FLOPs) the tokens are found by fixed-point
    iteration on the MFU. The layout as in :func:`estimate_training`.
    """
    fit = load_utilisation_fit()
    settings = run_settings(
        global_batch_tokens,
        software_year,
        scope,
        fit,
        tensor_parallel=tensor_parallel,
        pipeline_parallel=pipeline_parallel,
        context_parallel=context_parallel,
        expert_parallel=expert_parallel,
        exposed_all_to_all=exposed_all_to_all,
    )
    hours = _positive(gpu_hours, "gpu_hours")
    price = _positive(price_per_gpu_hour, "price_per_gpu_hour")
    dollars = _positive(cost_usd, "cost_usd")
    if hours is None:
        if dollars is None or price is None:
            raise InputError("gpu_hours", "give GPU-hours, or a cost with a price per GPU-hour.")
        hours = dollars / price
    cluster = _positive(gpus, "gpus")
    resolved = _resolve(model, params, active_params, gpu, precision, seq_len, fit)
    tokens = IMPLIED_START_TOKENS
    for _ in range(IMPLIED_ITERATIONS):
        unit = _one_run(resolved, tokens, cluster, settings, fit)
        tokens *= hours / float(unit.gpu_hours[0])
    _check_layout(settings, resolved, cluster, unit)
    low, high = (
        tokens * float(unit.gpu_hours[0] / unit.gpu_hours_p90[0]),
        tokens * float(unit.gpu_hours[0] / unit.gpu_hours_p10[0]),
    )
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
    global_batch_tokens: ArrayLike = math.nan,
    software_year: ArrayLike | None = None,
    scope: str = DEFAULT_SCOPE,
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
    shape = shape.map(lambda column: np.broadcast_to(column, size))
    cluster = np.full(size, math.nan) if gpus is None else np.asarray(gpus, dtype=float)
    return training_arrays(
        shape,
        hardware,
        tokens,
        cluster,
        fit,
        global_batch_tokens=global_batch_tokens,
        software_year=software_year,
        scope=scope,
    )
