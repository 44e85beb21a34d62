"""Procurement under uncertainty: a two-stage stochastic plan over sampled futures."""

from gpuplan.planning.stochastic.api import stochastic_plan
from gpuplan.planning.stochastic.extensive import Risk
from gpuplan.planning.stochastic.result import StochasticPlanResult

__all__ = ["Risk", "StochasticPlanResult", "stochastic_plan"]
