"""Fitting the utilisation model's coefficients (:mod:`gpuplan.compute.utilisation`) to
calibration rows: bounded least squares on log MFU (scipy.optimize.least_squares), used by
``scripts/fit_utilisation.py``. Pure: arrays in, coefficients out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from gpuplan.compute.utilisation import (
    FULL_TRAINING_OVER_PRETRAINING,
    UtilisationCoefficients,
    UtilisationInputs,
    failure_factor,
    inverse_mfu,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

FIT_TERMS = (
    "memory_width", "scale_out", "communication", "model_parallel", "software_age", "moe",
    "moe_step", "failures", "scope", "step_latency",
)
"""Terms the fit can switch off to show what each buys (``fit_coefficients(without=...)``)."""


def fit_coefficients(
    x: UtilisationInputs,
    observed_mfu: Sequence[float] | NDArray[np.float64],
    scope: Sequence[str],
    *,
    weights: Sequence[float] | NDArray[np.float64] | None = None,
    without: frozenset[str] = frozenset(),
    fixed: dict[str, float] | None = None,
    loss: str = "linear",
    f_scale: float = 1.0,
    goodput: dict[str, float] | None = None,
) -> tuple[UtilisationCoefficients, dict[str, float]]:
    """Least squares on log MFU; returns coefficients and the goodput per fitted scope.

    Rows with scope 'step_time' are predicted as benchmark MFU, others as benchmark MFU ×
    goodput(scope) × failure factor ('full_training' rows use the 'pretraining' goodput as
    :func:`goodput_for` does). Bounds keep each term's physical sign. ``without``
    names terms of :data:`FIT_TERMS` held at zero ('scope': one goodput for every scope;
    'moe_step': the computed MoE costs of :mod:`moe_step` left out, η_e held);
    ``fixed`` holds coefficients (by field name) at a value set outside the fit. ``loss``
    and ``f_scale``: scipy's robust loss on the weighted log residuals (default: squares).
    ``goodput`` holds the goodput per scope at these values instead of fitting it.
    """
    from scipy.optimize import least_squares

    observed = np.log(np.asarray(observed_mfu, dtype=float))
    root_w = np.sqrt(np.ones_like(observed) if weights is None else np.asarray(weights, float))
    # 'full_training' rows share the 'pretraining' goodput, less the stages it adds.
    full = np.asarray(scope) == "full_training"
    scopes = np.where(full, "pretraining", np.asarray(scope))
    stages = np.where(full, -np.log(FULL_TRAINING_OVER_PRETRAINING), 0.0)
    run_scopes = sorted({s for s in scopes if s != "step_time"})
    pooled = "scope" in without
    goodput_index = np.array(
        [-1 if s == "step_time" else (0 if pooled else run_scopes.index(s)) for s in scopes]
    )
    names = list(UtilisationCoefficients.model_fields)
    frozen = {
        "failures": {"hours_lost_per_failure"},
        "model_parallel": {"tensor_exposed", "pipeline_bubble"},
        "moe_step": {"moe_step", "expert_gemm_efficiency"},  # no MoE costs: η_e rests at 1
        "step_latency": {"step_seconds"},
    }
    switched_off = {
        name for term in without if term != "scope" for name in frozen.get(term, {term})
    }
    held = {n: v for n, v in (fixed or {}).items() if n not in switched_off}
    fixed_names = switched_off | set(held)
    start = dict.fromkeys(names, 0.05) | {"base": 1.0, "memory": 1.0, "attention": 0.5}
    start |= {"moe": 1.2, "expert_gemm_efficiency": 0.5, "hours_lost_per_failure": 0.5}
    start |= {"tensor_exposed": 0.5, "pipeline_bubble": 0.5}
    upper = dict.fromkeys(names, 10.0) | {"attention": 20.0, "software_age": 1.0, "moe": 3.0}
    upper |= {"tensor_exposed": 1.0, "pipeline_bubble": 1.0, "step_seconds": 1.0}
    upper |= {"expert_gemm_efficiency": 1.0, "moe_step": 1.0}
    lower = dict.fromkeys(names, 0.0) | {"moe": 1.0, "base": 1.0, "expert_gemm_efficiency": 0.02}
    free = [n for n in names if n not in fixed_names]
    ones = {"moe", "expert_gemm_efficiency"}
    resting = {n: (1.0 if n in ones else 0.0) for n in fixed_names} | held
    goodputs = 0 if goodput is not None else 1 if pooled else len(run_scopes)
    held_log_g = np.log([(goodput or {}).get(s, 1.0) for s in run_scopes] or [1.0])

    def coefficients(p: NDArray[np.float64]) -> UtilisationCoefficients:
        values = resting | {n: float(v) for n, v in zip(free, p, strict=False)}
        return UtilisationCoefficients.model_validate(values)

    def residuals(p: NDArray[np.float64]) -> NDArray[np.float64]:
        k = coefficients(p)
        fitted_log_g = held_log_g if goodput is not None else p[len(free) :]
        log_g = np.append(fitted_log_g, 0.0)[goodput_index]
        failures = np.where(
            goodput_index >= 0, failure_factor(x.gpus, k.hours_lost_per_failure), 1.0
        )
        predicted = -np.log(inverse_mfu(x, k)) + log_g + stages + np.log(failures)
        return root_w * (observed - predicted)

    solution = least_squares(
        residuals,
        np.array([start[n] for n in free] + [-0.1] * goodputs),
        bounds=(
            [lower[n] for n in free] + [-1.5] * goodputs,
            [upper[n] for n in free] + [0.0] * goodputs,
        ),
        loss=loss,
        f_scale=f_scale,
    )
    p = solution.x
    if goodput is not None:
        return coefficients(p), dict(goodput)
    log_goodput = p[len(free) :]
    fitted: dict[str, float] = {
        s: float(np.exp(log_goodput[0 if pooled else i])) for i, s in enumerate(run_scopes)
    }
    return coefficients(p), fitted
