"""A feasible starting plan for the MILP: relax, fix each run's cluster, re-solve.

HiGHS's own primal heuristics struggle to place many training runs on single clusters, so
the MILP gets a first incumbent from "relax and fix": solve the LP relaxation, keep for each
run only the cluster that carries most of its relaxed energy (zeroing the other clusters'
columns), and solve that much smaller MILP. Its plan is feasible for the full model.
"""

from __future__ import annotations

import numpy as np

from gpuplan.planning.model import PlanModel
from gpuplan.planning.solve import SolveOutcome, solve_model


def relax_and_fix(model: PlanModel, relaxed: SolveOutcome) -> SolveOutcome | None:
    """A feasible plan with every run fixed to the cluster its LP relaxation (``relaxed``)
    favours; None if the model has no training runs or the fixed problem fails."""
    linear = model.linear
    choice = linear.columns.get("training_cluster_choice")
    if choice is None or choice.size == 0 or relaxed.status == "failed":
        return None
    settings = model.problem.solver
    bounds = linear.col_upper.copy()
    size = linear.columns["training_cluster_size"]
    sizes = relaxed.values[size.start : size.stop]
    runs, clusters = size.keys["workload"], size.keys["cluster"]
    weight: dict[tuple[int, int], float] = {}
    for r, c, value in zip(runs.tolist(), clusters.tolist(), sizes.tolist(), strict=True):
        weight[(r, c)] = weight.get((r, c), 0.0) + value
    best: dict[int, int] = {}
    for (r, c), value in weight.items():
        if r not in best or value > weight[(r, best[r])]:
            best[r] = c
    keep_choice = np.array(
        [
            best.get(r) == c
            for r, c in zip(choice.keys["workload"], choice.keys["cluster"], strict=True)
        ]
    )
    keep_size = np.array([best.get(r) == c for r, c in zip(runs, clusters, strict=True)])
    bounds[choice.start : choice.stop][~keep_choice] = 0.0
    bounds[size.start : size.stop][~keep_size] = 0.0
    alloc = linear.columns["training_allocation"]
    alloc_cluster = model.option_cluster[alloc.keys["option"]]
    keep_alloc = np.array(
        [best.get(r) == c for r, c in zip(alloc.keys["workload"], alloc_cluster, strict=True)]
    )
    bounds[alloc.start : alloc.stop][~keep_alloc] = 0.0
    fixed = solve_model(linear, settings, upper=bounds)
    return None if fixed.status == "failed" else fixed
