"""Shared state of one model build (builder, problem arrays, labels) and the built model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gpuplan.planning.model.costs import UnitCashFlows, unit_cash_flows
from gpuplan.planning.model.linear import Block, LinearModel, ModelBuilder
from gpuplan.planning.model.masks import WorkloadArrays, workload_arrays
from gpuplan.planning.modes import mode_mask
from gpuplan.planning.problem import PlanningProblem


@dataclass
class PlanModel:
    """The built model plus what read-back needs to interpret its columns."""

    problem: PlanningProblem
    arrays: WorkloadArrays
    cash: UnitCashFlows
    linear: LinearModel
    clusters: list[tuple[str, str, str]]
    option_cluster: np.ndarray
    penalty: float
    size_of_allocation: np.ndarray
    """Per ``training_allocation`` column: its ``training_cluster_size`` column offset."""


class BuildContext:
    """Shared state of one build: builder, problem, arrays and readable labels."""

    def __init__(self, problem: PlanningProblem) -> None:
        self.problem = problem
        self.builder = ModelBuilder()
        self.arrays = workload_arrays(problem)
        self.cash = unit_cash_flows(problem)
        self.horizon = problem.grid.count
        self.n_options = len(problem.options)
        self.labels = problem.grid.labels
        self.option_ids = [o.id for o in problem.options]
        self.mode = np.array([o.mode for o in problem.options])
        self.owned = mode_mask(self.mode, billing="own")
        self.third_party = mode_mask(self.mode, third_party=True)
        self.clusters = sorted({o.cluster_key for o in problem.options})
        cluster_index = {key: i for i, key in enumerate(self.clusters)}
        self.option_cluster = np.array(
            [cluster_index[o.cluster_key] for o in problem.options], dtype=np.int64
        )
        discount = problem.grid.discount_factors(self.cash.periods)
        self.unit_cost = self.cash.unit_npv(discount)
        self.penalty = 0.0
        self.blocks: dict[str, Block] = {}
        self.training_size_of_allocation = np.zeros(0, dtype=np.int64)
        self.training_choice_of_size = np.zeros(0, dtype=np.int64)
        self.training_size_upper = np.zeros(0)

    def option_period(self, key: dict[str, Any]) -> str:
        return f"{self.option_ids[int(key['option'])]},{self.labels[int(key['period'])]}"
