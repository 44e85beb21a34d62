"""Uncertain inputs: a number, or a declared distribution over a ``[low, high]`` range.

Any numeric scenario input may be written either as a plain number or as::

    {low: 0.5, high: 1.0, shape: pert, mode: 0.7, source: "report §6.2"}

(``range: [0.5, 1.0]`` may replace ``low``/``high``). Shapes:

* ``uniform``: flat on [low, high];
* ``triangular``: mode defaults to the midpoint;
* ``pert``: Beta-PERT (Malcolm et al. 1959; Vose, *Risk Analysis*, 2008 §9.1.4), mode defaults
  to the midpoint, weight 4;
* ``lognormal``: ``low`` and ``high`` are the 5th and 95th percentiles (the way ranges such as
  "$70M-$200M" are usually meant), so the median is sqrt(low·high).

Deterministic code (the planner's LP) uses :func:`nominal`, the distribution's mean. The Monte
Carlo engine draws through :meth:`Distribution.ppf` so that correlations can be imposed with a
Gaussian copula on the uniforms.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    FiniteFloat,
    Tag,
    model_validator,
)

from gpuplan.humanize import plain
from gpuplan.schema import check_magnitude, human_number, parse_human_numbers
from gpuplan.units import LARGEST_INPUT

Shape = Literal["uniform", "triangular", "pert", "lognormal"]

Z95 = 1.6448536269514722
"""Standard normal 95th percentile: lognormal ranges are read as P05-P95."""
Z_TAIL = 7.0344869100478356
"""Standard normal quantile of 1 - 1e-12, the most extreme uniform the samplers draw."""


class Distribution(BaseModel):
    """A range with a declared shape."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    low: float = Field(description="Lower end of the range (P05 for lognormal).")
    high: float = Field(description="Upper end of the range (P95 for lognormal).")
    shape: Shape = Field(description="uniform, triangular, pert or lognormal.")
    mode: float | None = Field(
        default=None, description="Most likely value (triangular, pert); default midpoint."
    )
    source: str | None = Field(default=None, description="Where the range comes from.")

    @model_validator(mode="before")
    @classmethod
    def _expand_range(cls, data: Any) -> Any:
        if isinstance(data, dict) and "range" in data:
            data = dict(data)
            bounds = data.pop("range")
            if not isinstance(bounds, list | tuple) or len(bounds) != 2:
                raise ValueError("range must be a list [low, high]")
            data["low"], data["high"] = (human_number(b) for b in bounds)
        return parse_human_numbers(cls, data)

    @model_validator(mode="after")
    def _check(self) -> Distribution:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if self.low > self.high:
            raise ValueError(
                f"low ({plain(self.low)}) is greater than high ({plain(self.high)}); swap them"
            )
        if self.mode is not None and not self.low <= self.mode <= self.high:
            raise ValueError(f"mode ({plain(self.mode)}) must lie within [low, high]")
        for bound in (self.low, self.high):
            check_magnitude(bound)
        if self.shape == "lognormal":
            if self.low <= 0:
                raise ValueError("a lognormal range needs low > 0")
            mu, sigma = self._lognormal_params
            if mu + Z_TAIL * sigma > math.log(LARGEST_INPUT):
                raise ValueError(
                    f"a lognormal from {plain(self.low)} to {plain(self.high)} (P05-P95) spans "
                    f"too many orders of magnitude: its upper tail passes {plain(LARGEST_INPUT)}; "
                    "narrow the range or use shape: uniform"
                )
        return self

    @property
    def most_likely(self) -> float:
        return self.mode if self.mode is not None else 0.5 * (self.low + self.high)

    @property
    def _lognormal_params(self) -> tuple[float, float]:
        mu = 0.5 * (math.log(self.low) + math.log(self.high))
        sigma = (math.log(self.high) - math.log(self.low)) / (2 * Z95)
        return mu, sigma

    @property
    def _pert_ab(self) -> tuple[float, float]:
        width = self.high - self.low
        return (
            1 + 4 * (self.most_likely - self.low) / width,
            1 + 4 * (self.high - self.most_likely) / width,
        )

    @property
    def mean(self) -> float:
        """Expected value (the analytic mean of the shape)."""
        if self.low == self.high:
            return self.low
        match self.shape:
            case "uniform":
                return 0.5 * (self.low + self.high)
            case "triangular":
                return (self.low + self.most_likely + self.high) / 3
            case "pert":
                return (self.low + 4 * self.most_likely + self.high) / 6
            case "lognormal":
                mu, sigma = self._lognormal_params
                return math.exp(mu + 0.5 * sigma**2)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function: maps uniforms in (0, 1) to values of this distribution."""
        from scipy import stats

        u = np.asarray(u, dtype=float)
        if self.low == self.high:
            return np.full_like(u, self.low)
        width = self.high - self.low
        match self.shape:
            case "uniform":
                return self.low + u * width
            case "triangular":
                c = (self.most_likely - self.low) / width
                return np.asarray(stats.triang.ppf(u, c, loc=self.low, scale=width))
            case "pert":
                a, b = self._pert_ab
                return np.asarray(stats.beta.ppf(u, a, b, loc=self.low, scale=width))
            case "lognormal":
                mu, sigma = self._lognormal_params
                return np.exp(mu + sigma * stats.norm.ppf(u))


def nominal(value: float | Distribution) -> float:
    """The number deterministic code uses: the value itself, or the distribution's mean."""
    return value.mean if isinstance(value, Distribution) else float(value)


def _lower_bound(minimum: float, strict: bool) -> AfterValidator:
    def check(value: float | Distribution) -> float | Distribution:
        lowest = value.low if isinstance(value, Distribution) else value
        if lowest < minimum or (strict and lowest == minimum):
            relation = ">" if strict else ">="
            raise ValueError(f"must be {relation} {plain(minimum)} (got {plain(lowest)})")
        return value

    return AfterValidator(check)


def _fraction(value: float | Distribution) -> float | Distribution:
    low, high = (value.low, value.high) if isinstance(value, Distribution) else (value, value)
    if low < 0 or high > 1:
        got = plain(low) if low == high else f"{plain(low)}..{plain(high)}"
        raise ValueError(f"must lie within [0, 1] (got {got}); write 0.12 for 12%")
    return value


def _kind(value: Any) -> str:
    return "distribution" if isinstance(value, dict | Distribution) else "number"


Uncertain = Annotated[
    Annotated[FiniteFloat, Tag("number")] | Annotated[Distribution, Tag("distribution")],
    Discriminator(_kind),
    BeforeValidator(human_number),
]
"""Any finite real number (``15T``, ``60%`` as in the CLI, also as a mapping's value), or a
distribution (a mapping is always read as a distribution, so its errors name the
distribution's own fields)."""
NonNegativeUncertain = Annotated[Uncertain, _lower_bound(0.0, strict=False)]
PositiveUncertain = Annotated[Uncertain, _lower_bound(0.0, strict=True)]
FractionUncertain = Annotated[Uncertain, AfterValidator(_fraction)]
