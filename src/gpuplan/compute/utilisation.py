"""Utilisation model: the 6ND-MFU a training run reaches, from what drives it.

MFU (model FLOPs utilisation) = model FLOPs per second / dense peak, with model FLOPs in the
PaLM/Megatron convention of :meth:`Architecture.training_flops_per_token` (6·N + attention,
no recomputation; Chowdhery et al. 2022, arXiv:2204.02311 App. B). The model is a time
budget per unit of ideal compute time, so every term is a physical cost:

    1/MFU = (1 - s)·(a + ρ·(b + c·1024/h))     matmul work and memory-bound work
          + s·a_attn·(P/P_bf16)                attention FLOPs (FlashAttention runs in bf16)
          + k_n·log2(max(n, 8)/8)              exposed scale-out communication
    MFU  *= 1/moe_time_factor for mixture-of-experts (a prior: no MoE run in the data)

with ρ = peak FLOP/s ÷ memory bandwidth ÷ 300 (FLOP per byte; H100 bf16 ≈ 1): the higher
the peak relative to bandwidth, the longer the memory-bound work (norms, activations,
optimiser, casts) takes relative to the matmuls, so newer GPUs and fp8 reach a lower MFU.
h is the hidden width (memory-bound bytes per FLOP fall as 1/h), s the attention share of
model FLOPs at the sequence length, n the GPU count, P the peak at the training precision.

Published GPU-hours also hold restarts, evaluation and downtime that throughput benchmarks do
not, so a run's effective MFU is ``goodput × MFU`` with goodput fitted on runs against
benchmarks. P10/P90 come from the log-normal spread of the runs' residuals, widened for
inputs outside the fitted range (an unseen GPU generation or precision, MoE, larger
clusters or models); with only a dozen runs the band is a Student-t prediction interval.
Coefficients live in ``data/utilisation_fit.json``, written by ``scripts/fit_utilisation.py``.
"""

from __future__ import annotations

import json
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
REFERENCE_WIDTH = 1024.0
"""Hidden width at which the width-dependent memory term equals its coefficient."""
SCALE_OUT_BASE_GPUS = 8.0
"""One scale-up node: communication below it is not counted as scale-out loss."""


class UtilisationCoefficients(BaseModel):
    """Coefficients of the time budget in the module docstring (all >= 0)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base: float = Field(ge=0, description="a: matmul time per ideal FLOP time.")
    memory: float = Field(ge=0, description="b: memory-bound time per unit of ρ.")
    memory_width: float = Field(ge=0, description="c: memory-bound time per ρ at h = 1024.")
    attention: float = Field(ge=0, description="a_attn: attention time per ideal FLOP time.")
    scale_out: float = Field(ge=0, description="k_n: exposed communication per GPU doubling.")


class ExtrapolationPriors(BaseModel):
    """How much wider (log-σ, added in quadrature) the band gets outside the fitted data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fitted_generations: tuple[str, ...]
    fitted_precisions: tuple[str, ...]
    max_fitted_gpus: float
    max_fitted_params: float
    unseen_generation_sigma: float = Field(ge=0)
    unseen_precision_sigma: float = Field(ge=0)
    fp8_sigma: float = Field(ge=0, description="fp8 rests on few benchmark rows only.")
    moe_sigma: float = Field(ge=0)
    per_doubling_sigma: float = Field(
        ge=0, description="Per doubling of GPUs or params beyond the fitted maximum."
    )
    moe_time_factor: float = Field(
        ge=1, description="Prior: MoE step time ÷ dense step time at equal model FLOPs."
    )
    moe_source: str


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


class UtilisationFit(BaseModel):
    """The fitted utilisation model as stored in ``data/utilisation_fit.json``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fit_date: date
    script: str
    data: str
    formula: str
    coefficients: UtilisationCoefficients
    goodput: float = Field(gt=0, le=1.5, description="Run effective MFU ÷ benchmark MFU.")
    run_log_sigma: float = Field(gt=0, description="Log-residual SD of the published runs.")
    run_count: int = Field(ge=3, description="Published runs behind run_log_sigma.")
    band_z: float = Field(
        gt=0, description="Student-t 90% quantile (run_count - 1 dof) for the P10/P90 band."
    )
    benchmark_log_sigma: float = Field(gt=0)
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
    is_moe: NDArray[np.bool_]


def utilisation_inputs(
    *,
    peak_flops: ArrayLike,
    bf16_peak_flops: ArrayLike,
    memory_bandwidth: ArrayLike,
    hidden_size: ArrayLike,
    attention_share: ArrayLike,
    gpus: ArrayLike,
    is_moe: ArrayLike = False,
) -> UtilisationInputs:
    """Build the model inputs from GPU figures (FLOP/s, bytes/s) and model shape."""
    peak = np.asarray(peak_flops, dtype=float)
    return UtilisationInputs(
        ridge=peak / np.asarray(memory_bandwidth, dtype=float) / RIDGE_REFERENCE_FLOP_PER_BYTE,
        hidden_size=np.asarray(hidden_size, dtype=float),
        attention_share=np.asarray(attention_share, dtype=float),
        gpus=np.asarray(gpus, dtype=float),
        attention_peak_ratio=peak / np.asarray(bf16_peak_flops, dtype=float),
        is_moe=np.asarray(is_moe, dtype=bool),
    )


def inverse_mfu(x: UtilisationInputs, k: UtilisationCoefficients) -> NDArray[np.float64]:
    """Time per unit of ideal compute time (1/MFU) of a dense model: the docstring formula."""
    share = x.attention_share
    dense_work = k.base + x.ridge * (k.memory + k.memory_width * REFERENCE_WIDTH / x.hidden_size)
    attention = k.attention * x.attention_peak_ratio
    scale_out = k.scale_out * np.log2(np.maximum(x.gpus, SCALE_OUT_BASE_GPUS) / SCALE_OUT_BASE_GPUS)
    result: NDArray[np.float64] = (1.0 - share) * dense_work + share * attention + scale_out
    return result


def benchmark_mfu(x: UtilisationInputs, fit: UtilisationFit) -> NDArray[np.float64]:
    """Steady-state MFU (what a throughput benchmark measures), MoE prior applied."""
    moe = np.where(x.is_moe, fit.extrapolation.moe_time_factor, 1.0)
    result: NDArray[np.float64] = 1.0 / (inverse_mfu(x, fit.coefficients) * moe)
    return result


def run_mfu(x: UtilisationInputs, fit: UtilisationFit) -> NDArray[np.float64]:
    """Effective MFU over a whole run (P50): benchmark MFU × goodput."""
    return benchmark_mfu(x, fit) * fit.goodput


def log_sigma(
    x: UtilisationInputs,
    fit: UtilisationFit,
    *,
    generation_fitted: ArrayLike,
    precision_class: ArrayLike,
    params: ArrayLike,
) -> NDArray[np.float64]:
    """Log-normal σ of run GPU-hours, widened in quadrature for extrapolation.

    The base is the predictive SD of a new run, ``run_log_sigma·sqrt(1 + 1/run_count)``;
    P10/P90 = P50·exp(∓band_z·σ) with the Student-t quantile ``band_z``.
    ``precision_class``: 0 = fitted (bf16/fp16), 1 = fp8, 2 = not in the data (fp4...).
    Extrapolation grows with each doubling of GPUs or parameters beyond the fitted maximum.
    """
    e = fit.extrapolation
    cls = np.asarray(precision_class)
    beyond = np.maximum(0.0, np.log2(x.gpus / e.max_fitted_gpus)) + np.maximum(
        0.0, np.log2(np.asarray(params, dtype=float) / e.max_fitted_params)
    )
    variance = (
        fit.run_log_sigma**2 * (1.0 + 1.0 / fit.run_count)
        + np.where(np.asarray(generation_fitted, dtype=bool), 0.0, e.unseen_generation_sigma**2)
        + np.select([cls == 1, cls == 2], [e.fp8_sigma**2, e.unseen_precision_sigma**2], 0.0)
        + np.where(x.is_moe, e.moe_sigma**2, 0.0)
        + (e.per_doubling_sigma * beyond) ** 2
    )
    result: NDArray[np.float64] = np.sqrt(variance)
    return result


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


def fit_coefficients(
    x: UtilisationInputs,
    observed_mfu: Sequence[float] | NDArray[np.float64],
    is_run: Sequence[bool] | NDArray[np.bool_],
    weights: Sequence[float] | NDArray[np.float64],
) -> tuple[UtilisationCoefficients, float]:
    """Weighted least squares on log MFU (dense rows); returns coefficients and goodput.

    Run rows (published GPU-hours) are predicted as goodput × MFU; benchmark rows as MFU.
    All coefficients are bounded >= 0 so each term keeps its physical sign.
    """
    from scipy.optimize import least_squares

    observed = np.log(np.asarray(observed_mfu, dtype=float))
    runs = np.asarray(is_run, dtype=bool)
    root_w = np.sqrt(np.asarray(weights, dtype=float))

    def residuals(p: NDArray[np.float64]) -> NDArray[np.float64]:
        k = UtilisationCoefficients.model_construct(
            base=p[0], memory=p[1], memory_width=p[2], attention=p[3], scale_out=p[4]
        )
        predicted = -np.log(inverse_mfu(x, k)) + np.where(runs, p[5], 0.0)
        return root_w * (observed - predicted)

    start = np.array([1.0, 1.0, 0.2, 2.0, 0.03, -0.1])
    lower = [0.0, 0.0, 0.0, 0.0, 0.0, -1.0]
    upper = [10.0, 10.0, 10.0, 20.0, 1.0, 0.4]
    solution = least_squares(residuals, start, bounds=(lower, upper))
    p = solution.x
    coefficients = UtilisationCoefficients(
        base=float(p[0]),
        memory=float(p[1]),
        memory_width=float(p[2]),
        attention=float(p[3]),
        scale_out=float(p[4]),
    )
    return coefficients, float(np.exp(p[5]))
