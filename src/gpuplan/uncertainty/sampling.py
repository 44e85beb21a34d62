"""Find the uncertain inputs of a scenario and draw them, correlated by a Gaussian copula.

Every :class:`~gpuplan.uncertainty.distributions.Distribution` in a (nested) pydantic model is
an input, named by its field path, e.g. ``revenue.api[0].tokens_per_day``. Draws are made on
uniforms: independent standard normals are correlated with the Cholesky factor of the
declared correlation matrix, mapped to uniforms by the normal CDF, then to each input by its
quantile function (Iman & Conover 1982; Vose, *Risk Analysis*, 2008 §13.3). The same seed
gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel
from scipy import special

from gpuplan.errors import InputError
from gpuplan.uncertainty.distributions import Distribution

_EDGE = 1e-12
"""Uniforms are kept within (EDGE, 1 - EDGE) so unbounded shapes stay finite."""


def uncertain_inputs(
    model: BaseModel, prefix: str = "", keyed: bool = False
) -> dict[str, Distribution]:
    """Every distribution inside ``model``, keyed by field path, in field order; with
    ``keyed``, also those in mappings keyed by name (``supply.price_trend.gpus.h100-sxm``)."""
    found: dict[str, Distribution] = {}

    def visit(value: object, path: str) -> None:
        if isinstance(value, Distribution):
            found[path] = value
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                visit(getattr(value, name), f"{path}.{name}" if path else name)
        elif keyed and isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{path}.{key}")
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                visit(item, f"{path}[{i}]")

    visit(model, prefix)
    return found


def correlation_matrix(
    paths: Sequence[str], pairs: Sequence[tuple[tuple[str, str], float]]
) -> np.ndarray:
    """Correlation matrix over ``paths`` from declared ``((path_a, path_b), rho)`` pairs."""
    index = {path: i for i, path in enumerate(paths)}
    matrix = np.eye(len(paths))
    for n, ((a, b), rho) in enumerate(pairs):
        for path in (a, b):
            if path not in index:
                raise InputError(
                    f"correlations[{n}].inputs",
                    f"'{path}' is not an uncertain input of this scenario; uncertain inputs are: "
                    f"{', '.join(paths) or 'none'}.",
                )
        if a == b:
            raise InputError(f"correlations[{n}].inputs", "an input cannot correlate with itself.")
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = rho
    if len(paths) and np.linalg.eigvalsh(matrix).min() <= 1e-10:
        raise InputError(
            "correlations",
            "the declared correlations are not jointly possible (the matrix is not positive "
            "definite); weaken some of them.",
        )
    return matrix


def draw_uniforms(n: int, correlation: np.ndarray, seed: int | None) -> np.ndarray:
    """``(n, k)`` uniforms whose normal scores have the given correlation matrix."""
    k = correlation.shape[0]
    normals = np.random.default_rng(seed).standard_normal((n, k))
    if k and not np.allclose(correlation, np.eye(k)):
        normals = normals @ np.linalg.cholesky(correlation).T
    return np.clip(special.ndtr(normals), _EDGE, 1 - _EDGE)


def quantiles(inputs: dict[str, Distribution], uniforms: np.ndarray) -> dict[str, np.ndarray]:
    """Map column ``j`` of ``uniforms`` through the quantile function of input ``j``."""
    return {path: dist.ppf(uniforms[:, j]) for j, (path, dist) in enumerate(inputs.items())}


def sample_inputs(
    model: BaseModel,
    n: int,
    seed: int | None,
    correlations: Sequence[tuple[tuple[str, str], float]] = (),
) -> dict[str, np.ndarray]:
    """``n`` draws of every uncertain input of ``model``, keyed by field path."""
    inputs = uncertain_inputs(model)
    uniforms = draw_uniforms(n, correlation_matrix(list(inputs), correlations), seed)
    return quantiles(inputs, uniforms)
