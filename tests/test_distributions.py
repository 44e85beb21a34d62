"""Declared distributions: analytic means and quantiles, and input errors."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import BaseModel, ValidationError

from gpuplan.uncertainty.distributions import (
    Distribution,
    FractionUncertain,
    PositiveUncertain,
    nominal,
)


class _Inputs(BaseModel):
    price: PositiveUncertain
    share: FractionUncertain = 0.5


def test_pert_mean_is_weighted_mode() -> None:
    """Beta-PERT mean = (low + 4·mode + high) / 6 = (1 + 4·1.2 + 2) / 6 = 1.3."""
    dist = Distribution(low=1, high=2, shape="pert", mode=1.2)
    assert dist.mean == pytest.approx(1.3)


def test_lognormal_range_is_p05_p95() -> None:
    """P05 = 70, P95 = 200: median sqrt(70·200) = 118.32."""
    dist = Distribution(low=70, high=200, shape="lognormal")
    assert float(dist.ppf(np.array([0.5]))[0]) == pytest.approx(np.sqrt(70 * 200))
    assert float(dist.ppf(np.array([0.05]))[0]) == pytest.approx(70)
    assert float(dist.ppf(np.array([0.95]))[0]) == pytest.approx(200)


def test_triangular_quantile_matches_closed_form() -> None:
    """Triangular(0, 1, mode 1): F(x) = x², so the median is sqrt(0.5)."""
    dist = Distribution(low=0, high=1, shape="triangular", mode=1)
    assert float(dist.ppf(np.array([0.5]))[0]) == pytest.approx(np.sqrt(0.5))
    assert dist.mean == pytest.approx(2 / 3)


def test_numbers_and_ranges_parse() -> None:
    assert nominal(_Inputs.model_validate({"price": 3}).price) == 3
    parsed = _Inputs.model_validate({"price": {"range": [2, 4], "shape": "uniform"}})
    assert nominal(parsed.price) == pytest.approx(3)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"price": -1}, "must be > 0"),
        ({"price": {"low": 3, "high": 1, "shape": "uniform"}}, "greater than high"),
        ({"price": {"low": 1, "high": 3}}, "shape"),
        ({"price": 1, "share": {"low": 0.5, "high": 1.5, "shape": "uniform"}}, r"\[0, 1\]"),
    ],
)
def test_bad_distributions_name_the_problem(payload: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _Inputs.model_validate(payload)
