"""Utilisation model: the 6ND-MFU a training run reaches, from what drives it.

MFU (model FLOPs utilisation) = model FLOPs per second / dense peak, with model FLOPs in the
PaLM/Megatron convention of :meth:`Architecture.training_flops_per_token` (6·N + attention,
no recomputation; Chowdhery et al. 2022, arXiv:2204.02311 App. B). The model is a time
budget per unit of ideal compute time, so every term is a physical cost:

    1/MFU = [ ( D + s·a_attn·ρ·(P/P_bf16)        D = a + ρ·(b + c·1024/h): matmul and
                                                 memory-bound work per FLOP; attention FLOPs
                                                 cost D plus a_attn·ρ (softmax and tile traffic
                                                 of FlashAttention, run in bf16)
              + f_tp·T_tp ] × (1 + β·(p − 1)/m)   model parallelism: exposed tensor-parallel
                                                 traffic, 1F1B pipeline bubble
            + k_n·π·log2(max(n, 8)/8)            exposed scale-out communication
            + max(0, C − D') + C/L               data-parallel step communication C; D' the
                                                 first line (the step's compute)
            + s_m·(M_g/η_e + M_o)                MoE experts (:mod:`moe_step`): expert GEMMs
                                                 at η_e of the dense rate, permutation, all-to-all
            + t_step / t_ideal ]                 fixed time per optimizer step (optimizer,
                                                 clipping, host sync, launches, data loading)
            × (1 + e·age) × moe^[MoE]            older software stack; MoE routing/all-to-all

ρ = peak FLOP/s ÷ memory bandwidth ÷ 300 FLOP/byte (H100 bf16 ≈ 1): the faster compute is
relative to memory, the longer memory-bound work takes relative to the matmuls. a >= 1:
matmuls never beat the datasheet peak. π = P ÷ 989.4 TFLOP/s (H100 bf16 = 1): the network
between nodes grew less than peak compute, so exposed scale-out communication per ideal FLOP
grows with the peak (the shipped fit holds k_n at 0: the data-parallel part is C below).
h is the hidden width, s the attention share of model FLOPs, n the GPU count, P the peak at
the training precision. C is the per-step gradient reduce-scatter and parameter all-gather
over the network (bandwidth and latency, :mod:`gpuplan.compute.step_communication`), set
from hardware figures and not fitted, in units of the step's ideal compute time. It runs
concurrently with the step's compute D' (the first two terms): the reduce-scatter (4 of its
6 bytes per parameter) under the backward pass (2/3 of the compute), the all-gather (2 of
6) under the forward pass (1/3), so max(0, C − D') is exposed, plus the first all-gather and
the last reduce-scatter (1/L of it, L layers), which nothing overlaps. A small model spread
thinly over many GPUs (short steps) becomes communication-bound. ``age`` = reference year −
the run's software year (0 = today's stack, the default): e is the extra step time per year
of an older stack (kernels, fusion, overlap). T_tp (tensor-parallel all-gathers and
reduce-scatters over the scale-up fabric, in units of the ideal step) and the bubble
(p − 1)/m of a run's layout t × p × c (given, or the default a practitioner must use) are
computed in :mod:`gpuplan.compute.model_parallel`; f_tp in [0, 1] is the share of T_tp not
hidden under compute (fitted), β = 1 (set). t_step (seconds) is a fixed time per optimizer
step that does not shrink with the tokens each GPU processes, t_ideal = F·B/(n·P) the step's
ideal compute time (F FLOPs per token, B the global batch in tokens): small models with few
tokens per GPU per step run short, latency-bound steps. A batch whose spread is unknown
(B = ∞) gets no such cost.

A published GPU-hour figure holds more than steady-state steps; what it holds is its
``scope``: 'step_time' (logged step time: nothing else), 'pretraining' (a lab's pre-training
accounting), 'wall_clock' (GPUs × elapsed days: restarts, evaluation, idle time),
'full_training' (pretraining plus long-context, annealing and post-training stages). A run's
effective MFU = benchmark MFU × goodput(scope) / (1 + λ·n·t_lost): failures arrive at λ per
GPU-hour (Llama 3: 419 unexpected interruptions in 54 days on 16,384 GPUs, arXiv:2407.21783
§3.3.4) and each costs t_lost hours of the whole job (restart + work since the checkpoint).

P10/P90 come from out-of-sample (leave-one-lab-out) residuals of the published runs, as
split-conformal quantiles per model-size class, widened for inputs outside the calibration
data. Coefficients live
in ``data/utilisation_fit.json``, written by ``scripts/fit_utilisation.py``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import date
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

RIDGE_REFERENCE_FLOP_PER_BYTE = 300.0
"""ρ is normalised by 300 FLOP/byte (H100 SXM bf16: 989.4 TFLOP/s ÷ 3.35 TB/s = 295)."""
REFERENCE_PEAK_FLOPS = 989.4e12
"""π is normalised by the H100 SXM dense bf16 peak (NVIDIA H100 datasheet), FLOP/s."""
REFERENCE_WIDTH = 1024.0
"""Hidden width at which the width-dependent memory term equals its coefficient."""
SCALE_OUT_BASE_GPUS = 8.0
"""One scale-up node: communication below it is not counted as scale-out loss."""
FAILURES_PER_GPU_HOUR = 419.0 / (54.0 * 24.0 * 16384.0)
"""λ: unexpected interruptions per GPU-hour, Llama 3 405B pre-training (419 in 54 days on
16,384 H100; arXiv:2407.21783 §3.3.4, Table 5)."""
HOURS_LOST_PER_FAILURE = (1.0 / 0.90 - 1.0) / (419.0 / (54.0 * 24.0))
"""t_lost = 0.34 job-hours per failure, set from Llama 3, not fitted: 'higher than 90%
effective training time' over the same 54 days and 419 unexpected interruptions
(arXiv:2407.21783 §3.3.4), so 1/(1 + λ·n·t_lost) = 0.90 at n = 16,384. An upper bound
(planned interruptions are in the 10% too). The calibration runs cannot fit it: the only
wall-clock runs above 2,048 chips are two TPU runs."""
SCOPES = ("step_time", "pretraining", "wall_clock", "full_training")
"""What a GPU-hour figure covers (module docstring)."""
FULL_TRAINING_OVER_PRETRAINING = 2788.0 / 2664.0
"""'full_training' ÷ 'pretraining' GPU-hours: DeepSeek-V3 pre-training 2,664K + context
extension 119K + post-training 5K H800 GPU-hours (arXiv:2412.19437 Table 1)."""


class UtilisationCoefficients(BaseModel):
    """Coefficients of the time budget in the module docstring (all >= 0)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base: float = Field(ge=0, description="a: matmul time per ideal FLOP time.")
    memory: float = Field(ge=0, description="b: memory-bound time per unit of ρ.")
    memory_width: float = Field(ge=0, description="c: memory-bound time per ρ at h = 1024.")
    attention: float = Field(
        ge=0, description="a_attn: attention's extra time per ideal FLOP over dense work."
    )
    scale_out: float = Field(
        ge=0, description="k_n: exposed communication per GPU doubling at π = 1 (H100 bf16)."
    )
    communication: float = Field(
        ge=0, le=1, description="Share of the physical step communication C counted: 1, set."
    )
    tensor_exposed: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of the tensor-parallel traffic T_tp not hidden under compute.",
    )
    pipeline_bubble: float = Field(
        default=0.0, ge=0, le=1, description="Share of the 1F1B bubble counted: 1, set."
    )
    software_age: float = Field(ge=0, description="e: extra time per year of older software.")
    moe: float = Field(ge=1, description="MoE step time ÷ dense step time at equal FLOPs.")
    moe_step: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Share of the computed MoE costs M_g/η_e + M_o counted: 1, set (0: off).",
    )
    expert_gemm_efficiency: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="η_e: rate of grouped expert GEMMs ÷ the dense GEMM rate (moe_step).",
    )
    hours_lost_per_failure: float = Field(ge=0, description="t_lost: job hours per failure.")
    step_seconds: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="t_step: fixed time per optimizer step, seconds (0: the term held).",
    )


class ExtrapolationPriors(BaseModel):
    """How much wider (log units, per side) the band gets outside the fitted data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fitted_generations: tuple[str, ...]
    fitted_precisions: tuple[str, ...]
    max_fitted_gpus: float
    max_fitted_params: float
    unseen_generation_sigma: float = Field(ge=0)
    unseen_precision_sigma: float = Field(ge=0)
    fp8_sigma: float = Field(ge=0, description="fp8 rests on few benchmark rows only.")
    moe_sigma: float = Field(ge=0, description="MoE rests on few runs.")
    per_doubling_sigma: float = Field(
        ge=0, description="Per doubling of GPUs or params beyond the fitted maximum."
    )


class FitRow(BaseModel):
    """One calibration row as used in the fit, with its residual (log observed/predicted)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    kind: str = Field(description="'run_hours' (published GPU-hours) or 'mfu' (measured MFU).")
    gpu: str
    precision: str
    gpus: float
    observed_mfu: float
    predicted_mfu: float
    log_residual: float
    source: str


class BandStratum(BaseModel):
    """The P10/P90 of one model-size class: split-conformal quantiles of the leave-one-lab-out
    log(published/P50) of that class's runs alone (Mondrian conformal prediction, Vovk et al.
    2005, *Algorithmic Learning in a Random World* §4.5), so each class keeps >= 80%."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    above_params: float = Field(
        ge=0, description="Runs of more total parameters than this (to the next class)."
    )
    runs: int = Field(ge=3, description="Published runs in the class.")
    log_p10: float = Field(lt=0, description="Conformal 10% quantile of log(published/P50).")
    log_p90: float = Field(gt=0, description="Conformal 90% quantile of log(published/P50).")


class UtilisationFit(BaseModel):
    """The fitted utilisation model as stored in ``data/utilisation_fit.json``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fit_date: date
    script: str
    data: str
    formula: str
    coefficients: UtilisationCoefficients
    goodput: dict[str, float] = Field(
        description="Run effective MFU ÷ benchmark MFU (before failures), per scope."
    )
    reference_year: int = Field(description="Software year of 'today's stack' (age 0).")
    run_count: int = Field(ge=3, description="Published runs behind the band.")
    band: tuple[BandStratum, ...] = Field(
        min_length=1, description="P10/P90 per model-size class, smallest first."
    )
    loo_median_abs_error: float = Field(gt=0, description="Leave-one-run-out median |error|.")
    loo_coverage: float = Field(
        ge=0, le=1, description="Leave-one-run-out runs inside the (jackknifed) band."
    )
    lolo_median_abs_error: float = Field(gt=0, description="Leave-one-lab-out median |error|.")
    lolo_coverage: float = Field(
        ge=0, le=1, description="Leave-one-lab-out runs inside the (jackknifed) band."
    )
    benchmark_log_sigma: float = Field(gt=0)
    batch_rule: BatchRule
    max_benchmark_mfu: float = Field(
        gt=0,
        le=1,
        description="Highest steady-state MFU measured in the data: the model never promises "
        "more (a fit with a software-year term would extrapolate an old GPU on today's stack "
        "past anything measured: in the data A100 rows are old and H100 rows new).",
    )
    extrapolation: ExtrapolationPriors
    rows: list[FitRow]


class UtilisationInputs(NamedTuple):
    """Arrays (broadcastable) that the utilisation model reads."""

    ridge: NDArray[np.float64]
    """ρ: peak FLOP/s at the precision ÷ memory bandwidth, ÷ 300 FLOP/byte."""
    hidden_size: NDArray[np.float64]
    attention_share: NDArray[np.float64]
    """Attention FLOPs ÷ model FLOPs per token at the sequence length."""
    gpus: NDArray[np.float64]
    attention_peak_ratio: NDArray[np.float64]
    """Peak at the training precision ÷ bf16 peak (attention kernels run in bf16)."""
    communication: NDArray[np.float64]
    """C: per-step data-parallel communication ÷ the step's ideal compute time."""
    tensor_communication: NDArray[np.float64]
    """T_tp: tensor-parallel traffic ÷ the step's ideal compute time
    (:mod:`gpuplan.compute.model_parallel`)."""
    pipeline_bubble: NDArray[np.float64]
    """1F1B pipeline bubble (p − 1)/m, a share of the step's compute."""
    num_layers: NDArray[np.float64]
    software_age: NDArray[np.float64]
    """Years between the run's software stack and the reference year (>= 0)."""
    is_moe: NDArray[np.bool_]
    compute_ratio: NDArray[np.float64]
    """π: peak FLOP/s at the training precision ÷ REFERENCE_PEAK_FLOPS."""
    ideal_step_seconds: NDArray[np.float64]
    """t_ideal = FLOPs per token × B ÷ (n × P): one step's ideal compute time, s (∞ when
    the batch spread is unknown)."""
    moe_expert_gemm: NDArray[np.float64] | float = 0.0
    """M_g: routed-expert GEMM time at the dense rate ÷ ideal compute time (:mod:`moe_step`)."""
    moe_other: NDArray[np.float64] | float = 0.0
    """M_o: permutation and exposed all-to-all, less the dense GEMM time of the experts'
    FLOPs (already in D), ÷ ideal compute time (:mod:`moe_step`)."""


def utilisation_inputs(
    *,
    peak_flops: ArrayLike,
    bf16_peak_flops: ArrayLike,
    memory_bandwidth: ArrayLike,
    hidden_size: ArrayLike,
    attention_share: ArrayLike,
    gpus: ArrayLike,
    global_batch_tokens: ArrayLike,
    flops_per_token: ArrayLike,
    num_layers: ArrayLike,
    communication_seconds: ArrayLike = 0.0,
    tensor_communication: ArrayLike = 0.0,
    pipeline_bubble: ArrayLike = 0.0,
    software_age: ArrayLike = 0.0,
    is_moe: ArrayLike = False,
) -> UtilisationInputs:
    """Build the model inputs from GPU figures (FLOP/s, bytes/s), model shape and batch.
    ``communication_seconds``: t_comm per step (:mod:`gpuplan.compute.step_communication`),
    divided here by the step's ideal compute time FLOPs per token × B / (n × P); an infinite
    batch (unknown spread) makes it 0. ``tensor_communication`` and ``pipeline_bubble``:
    the layout's costs (:mod:`gpuplan.compute.model_parallel`), already ratios."""
    peak = np.asarray(peak_flops, dtype=float)
    n = np.asarray(gpus, dtype=float)
    ideal_step = (
        np.asarray(flops_per_token, dtype=float) * np.asarray(global_batch_tokens, dtype=float)
    ) / (n * peak)
    return UtilisationInputs(
        ridge=peak / np.asarray(memory_bandwidth, dtype=float) / RIDGE_REFERENCE_FLOP_PER_BYTE,
        hidden_size=np.asarray(hidden_size, dtype=float),
        attention_share=np.asarray(attention_share, dtype=float),
        gpus=n,
        attention_peak_ratio=peak / np.asarray(bf16_peak_flops, dtype=float),
        communication=np.asarray(communication_seconds, dtype=float) / ideal_step,
        tensor_communication=np.asarray(tensor_communication, dtype=float),
        pipeline_bubble=np.asarray(pipeline_bubble, dtype=float),
        num_layers=np.asarray(num_layers, dtype=float),
        software_age=np.maximum(np.asarray(software_age, dtype=float), 0.0),
        is_moe=np.asarray(is_moe, dtype=bool),
        compute_ratio=peak / REFERENCE_PEAK_FLOPS,
        ideal_step_seconds=ideal_step,
    )


class BatchRule(BaseModel):
    """Global batch (tokens) used when a run gives none: B = k·C^α, C the training FLOPs,
    least squares in log-log on the calibration runs' published batches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    coefficient: float = Field(gt=0, description="k (tokens per FLOP^α).")
    exponent: float = Field(ge=0, lt=1, description="α.")
    runs: int = Field(ge=3, description="Published runs with a stated batch behind the fit.")


def fit_batch_rule(training_flops: ArrayLike, batch_tokens: ArrayLike) -> tuple[float, float]:
    """(k, α) of B = k·C^α by least squares on log B against log C."""
    slope, intercept = np.polyfit(
        np.log(np.asarray(training_flops, dtype=float)),
        np.log(np.asarray(batch_tokens, dtype=float)),
        1,
    )
    return float(np.exp(intercept)), float(slope)


def default_global_batch_tokens(training_flops: ArrayLike, rule: BatchRule) -> NDArray[np.float64]:
    """Global batch (tokens) when none is given: the fitted practice B = k·C^α. Published
    runs keep 2-6M tokens over four decades of compute (k = 1.3e3, α = 0.15 on 28 runs:
    5.6M at LLaMA-65B's 5.7e23 FLOPs, which used 4.2M); DeepSeek LLM's optimal-batch rule
    0.292·C^0.3271 (arXiv:2401.02954 §3.1), used before 2026-12-02, gives 3-7× more for
    C > 1e23."""
    result: NDArray[np.float64] = (
        rule.coefficient * np.asarray(training_flops, dtype=float) ** rule.exponent
    )
    return result


def inverse_mfu(x: UtilisationInputs, k: UtilisationCoefficients) -> NDArray[np.float64]:
    """Time per unit of ideal compute time (1/MFU): the docstring formula. Data-parallel
    communication overlaps compute (max), less one layer's collectives at the ends of the
    step; the exposed tensor-parallel share adds to each stage's compute, which the pipeline
    bubble stretches; the fixed time per step adds t_step ÷ t_ideal."""
    share = x.attention_share
    dense_work = k.base + x.ridge * (k.memory + k.memory_width * REFERENCE_WIDTH / x.hidden_size)
    attention_extra = k.attention * x.ridge * x.attention_peak_ratio
    doublings = np.log2(np.maximum(x.gpus, SCALE_OUT_BASE_GPUS) / SCALE_OUT_BASE_GPUS)
    scale_out = k.scale_out * x.compute_ratio * doublings
    compute = (
        dense_work
        + share * attention_extra
        + k.moe_step * (x.moe_expert_gemm / k.expert_gemm_efficiency + x.moe_other)
    )
    stage = compute + k.tensor_exposed * x.tensor_communication
    communication = k.communication * x.communication
    exposed = np.maximum(communication - compute, 0.0) + communication / x.num_layers
    step_latency = k.step_seconds / x.ideal_step_seconds
    steady = (
        stage * (1.0 + k.pipeline_bubble * x.pipeline_bubble) + scale_out + exposed + step_latency
    )
    result: NDArray[np.float64] = (
        steady * (1.0 + k.software_age * x.software_age) * np.where(x.is_moe, k.moe, 1.0)
    )
    return result


def benchmark_mfu(x: UtilisationInputs, fit: UtilisationFit) -> NDArray[np.float64]:
    """Steady-state MFU (what a throughput benchmark measures), at most the best measured."""
    result: NDArray[np.float64] = np.minimum(
        1.0 / inverse_mfu(x, fit.coefficients), fit.max_benchmark_mfu
    )
    return result


def goodput_for(scope: str, fit: UtilisationFit) -> float:
    """Run MFU ÷ benchmark MFU (before failures) for a scope; raises KeyError if unknown."""
    if scope == "step_time":
        return 1.0
    if scope == "full_training":
        return fit.goodput["pretraining"] / FULL_TRAINING_OVER_PRETRAINING
    return fit.goodput[scope]


def failure_factor(gpus: ArrayLike, hours_lost: float) -> NDArray[np.float64]:
    """Useful fraction of job time left by failures: 1 / (1 + λ·n·t_lost)."""
    result: NDArray[np.float64] = 1.0 / (
        1.0 + FAILURES_PER_GPU_HOUR * np.asarray(gpus, dtype=float) * hours_lost
    )
    return result


def run_mfu(
    x: UtilisationInputs, fit: UtilisationFit, scope: str | Sequence[str]
) -> NDArray[np.float64]:
    """Effective MFU over a run (P50): benchmark MFU × goodput(scope) × failure factor, the
    failure factor applying to every scope but 'step_time'. ``scope``: one or one per row."""
    scopes = np.asarray(scope)
    goodput = np.vectorize(lambda s: goodput_for(str(s), fit), otypes=[float])(scopes)
    failures = np.where(
        scopes != "step_time", failure_factor(x.gpus, fit.coefficients.hours_lost_per_failure), 1.0
    )
    result: NDArray[np.float64] = benchmark_mfu(x, fit) * goodput * failures
    return result


def extrapolation_sigma(
    x: UtilisationInputs,
    fit: UtilisationFit,
    *,
    generation_fitted: ArrayLike,
    precision_class: ArrayLike,
    params: ArrayLike,
) -> NDArray[np.float64]:
    """Extra log-width per side for inputs outside the data, terms added in quadrature.

    ``precision_class``: 0 = fitted (bf16/fp16), 1 = fp8, 2 = not in the data (fp4...).
    Grows with each doubling of GPUs or parameters beyond the fitted maximum.
    """
    e = fit.extrapolation
    cls = np.asarray(precision_class)
    beyond = np.maximum(0.0, np.log2(x.gpus / e.max_fitted_gpus)) + np.maximum(
        0.0, np.log2(np.asarray(params, dtype=float) / e.max_fitted_params)
    )
    variance = (
        np.where(np.asarray(generation_fitted, dtype=bool), 0.0, e.unseen_generation_sigma**2)
        + np.select([cls == 1, cls == 2], [e.fp8_sigma**2, e.unseen_precision_sigma**2], 0.0)
        + np.where(x.is_moe, e.moe_sigma**2, 0.0)
        + (e.per_doubling_sigma * beyond) ** 2
    )
    result: NDArray[np.float64] = np.sqrt(variance)
    return result


Z_80 = 1.2815515655446004
"""Standard normal 90% quantile: an extrapolation σ widens each side by Z_80·σ."""


def size_class(params: ArrayLike, above_params: Sequence[float]) -> NDArray[np.int64]:
    """Index of the size class of each parameter count: the last class whose lower bound
    (``above_params``, ascending, the first 0) it exceeds."""
    result: NDArray[np.int64] = (
        np.searchsorted(np.asarray(above_params, float), np.asarray(params, float), "left") - 1
    )
    return np.maximum(result, 0)


def band_factors(
    extra_sigma: ArrayLike, params: ArrayLike, fit: UtilisationFit
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(P10 ÷ P50, P90 ÷ P50) of GPU-hours: the conformal quantiles of the model's size class
    (``params`` total parameters) widened by Z_80·σ_extra."""
    widen = Z_80 * np.asarray(extra_sigma, dtype=float)
    index = size_class(params, [stratum.above_params for stratum in fit.band])
    low = np.array([stratum.log_p10 for stratum in fit.band])[index]
    high = np.array([stratum.log_p90 for stratum in fit.band])[index]
    return np.exp(low - widen), np.exp(high + widen)


def conformal_quantiles(residuals: Sequence[float] | NDArray[np.float64]) -> tuple[float, float]:
    """Split-conformal 10%/90% quantiles of out-of-sample log residuals: the
    ⌊0.1·(n+1)⌋-th and ⌈0.9·(n+1)⌉-th order statistics (Lei et al. 2018,
    arXiv:1604.04173 §2.2), so a new exchangeable run falls inside with >= 80% chance."""
    ordered = np.sort(np.asarray(residuals, dtype=float))
    n = ordered.size
    low = max(1, math.floor(0.1 * (n + 1)))
    high = min(n, math.ceil(0.9 * (n + 1)))
    return float(ordered[low - 1]), float(ordered[high - 1])


def precision_class(precision: str, fit: UtilisationFit) -> int:
    """0 if the fit saw this precision on equal terms, 1 for fp8, 2 otherwise."""
    if precision in fit.extrapolation.fitted_precisions:
        return 0
    return 1 if precision in {"fp8", "int8"} else 2


FIT_FILE = "utilisation_fit.json"


@cache
def load_utilisation_fit() -> UtilisationFit:
    """The shipped fit (``gpuplan/compute/data/utilisation_fit.json``), read once."""
    text = (resources.files("gpuplan.compute") / "data" / FIT_FILE).read_text(encoding="utf-8")
    return UtilisationFit.model_validate(json.loads(text))
