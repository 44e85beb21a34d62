"""The LP-relaxation bound and a feasible plan from it: sequential relax-and-fix.

HiGHS's own primal heuristics struggle to place many training runs on single clusters, and
re-solving the model from scratch for each step is slow, so everything here re-solves one
LP (:class:`~gpuplan.planning.solve.LpSession`) from its last basis:

1. the LP without the cluster families (runs may spread over clusters), a relaxation that
   solves several times faster; then those rows are added back: the full LP relaxation,
   whose objective is the lower bound;
2. the runs, largest first, are fixed one at a time to the cluster that carries most of
   their energy in the current LP (the other clusters' columns are zeroed and the chosen
   cluster's choice set to 1), re-solving after each, so later runs adapt to earlier ones;
3. each run then holds at least its minimum cluster size in every period it uses and
   nothing in the others (the semi-continuous sizes become plain bounds); a run that may
   not pause is active (binary) from its first to its last used period only. If that LP
   fails (a provider share or cap cannot take a held cluster), the runs are placed again
   one at a time, each held as soon as it is fixed, trying its next clusters by LP energy
   (up to ``CANDIDATES``) when the held one is infeasible.

The last LP's plan is feasible for the full MILP (with ``integer_gpus`` the counts are
then made whole by a MILP with the clusters fixed).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from gpuplan.planning.model.build import PlanModel
from gpuplan.planning.model.training import BOUND_CUTS, CLUSTER_FAMILIES
from gpuplan.planning.solve import LpSession, SolveOutcome, solve_model

ACTIVE = 1e-6
"""GPUs of a run's allocation in a period above which the run holds its cluster then."""


@dataclass(frozen=True)
class RelaxAndFix:
    """The LP relaxation (``relaxed.objective`` is the bound) and the fixed plan (None if
    the model has no training runs or a step failed)."""

    relaxed: SolveOutcome
    fixed: SolveOutcome | None


def _run_cluster_energy(model: PlanModel, values: np.ndarray) -> np.ndarray:
    """(runs x clusters) energy in reference-GPU periods allocated by ``values``."""
    a = model.arrays
    alloc = model.linear.columns["training_allocation"]
    r, o = alloc.keys["workload"], alloc.keys["option"]
    ratio = a.training_reference_hours[r] / np.where(
        a.training_hours[r, o] > 0, a.training_hours[r, o], 1.0
    )
    energy = np.zeros((len(model.problem.training), len(model.clusters)))
    np.add.at(energy, (r, model.option_cluster[o]), values[alloc.start : alloc.stop] * ratio)
    return energy


def _fix_run(session: LpSession, model: PlanModel, run: int, cluster: int) -> None:
    """Zero the run's columns outside ``cluster`` and set its choice of it to 1."""
    cols = model.linear.columns
    alloc = cols["training_allocation"]
    size = cols["training_cluster_size"]
    choice = cols["training_cluster_choice"]
    alloc_cluster = model.option_cluster[alloc.keys["option"]]
    for block, clusters in (
        (alloc, alloc_cluster),
        (size, size.keys["cluster"]),
        (choice, choice.keys["cluster"]),
    ):
        other = (block.keys["workload"] == run) & (clusters != cluster)
        session.col_upper[block.start : block.stop][other] = 0.0
    chosen = (choice.keys["workload"] == run) & (choice.keys["cluster"] == cluster)
    session.col_lower[choice.start : choice.stop][chosen] = 1.0


def _hold_minimum_when_used(
    session: LpSession, model: PlanModel, values: np.ndarray, run: int
) -> None:
    """The run's sizes: at least its minimum where it uses its cluster, zero elsewhere; a
    run that may not pause is active from its first to its last used period only."""
    cols = model.linear.columns
    alloc = cols["training_allocation"]
    size = cols["training_cluster_size"]
    used = np.zeros(size.size)
    np.add.at(used, model.size_of_allocation, values[alloc.start : alloc.stop])
    mine = size.keys["workload"] == run
    active = used > ACTIVE
    minimum = model.linear.col_lower[size.start : size.stop]
    lower = session.col_lower[size.start : size.stop]
    lower[mine] = np.where(active, minimum, 0.0)[mine]
    session.col_upper[size.start : size.stop][mine & ~active] = 0.0
    flag = cols["training_active"]
    steady = flag.keys["workload"] == run
    if steady.any():
        periods = size.keys["period"][mine & active]
        on = steady & (flag.keys["period"] >= periods.min(initial=np.iinfo(np.int64).max))
        on &= flag.keys["period"] <= periods.max(initial=-1)
        session.col_lower[flag.start : flag.stop][on] = 1.0
        session.col_upper[flag.start : flag.stop][steady & ~on] = 0.0


CANDIDATES = 4
"""Clusters tried per run, in order of the LP energy they carry, until one can hold it."""


def _place_run(
    session: LpSession, model: PlanModel, run: int, values: np.ndarray
) -> SolveOutcome | None:
    """Fix ``run`` to the first of its best clusters (by LP energy) on which it can be held
    (its minimum size in the periods it uses; one stretch if it may not pause); None if
    none can. Failed tries are undone."""
    choice = model.linear.columns["training_cluster_choice"]
    candidates = np.unique(choice.keys["cluster"][choice.keys["workload"] == run])
    energy = _run_cluster_energy(model, values)[run]
    for cluster in candidates[np.argsort(-energy[candidates], kind="stable")][:CANDIDATES]:
        saved = session.col_lower.copy(), session.col_upper.copy()
        _fix_run(session, model, run, int(cluster))
        step = session.solve()
        if step.status != "failed":
            _hold_minimum_when_used(session, model, step.values, run)
            step = session.solve()
            if step.status != "failed":
                return step
        session.col_lower[:], session.col_upper[:] = saved
    return None


def _fix_then_hold(
    session: LpSession, model: PlanModel, order: list[int], relaxed: SolveOutcome
) -> SolveOutcome | None:
    """The fast path: fix each run to the cluster carrying most of its LP energy (one LP
    each), then hold every run's minimum in the periods it uses (one LP); None if an LP
    fails."""
    values = relaxed.values
    choice = model.linear.columns["training_cluster_choice"]
    for run in order:
        candidates = np.unique(choice.keys["cluster"][choice.keys["workload"] == run])
        energy = _run_cluster_energy(model, values)[run]
        _fix_run(session, model, run, int(candidates[np.argmax(energy[candidates])]))
        step = session.solve()
        if step.status == "failed":
            return None
        values = step.values
    session.restore_rows()
    for run in order:
        _hold_minimum_when_used(session, model, values, run)
    step = session.solve()
    return None if step.status == "failed" else step


def relax_and_fix(model: PlanModel, upper: np.ndarray | None = None) -> RelaxAndFix:
    """The LP-relaxation bound and a feasible plan with every run on one cluster;
    ``upper`` replaces the column upper bounds (a baseline's restriction)."""
    linear = model.linear
    settings = model.problem.solver
    session = LpSession(linear, settings, upper)
    session.free_rows(CLUSTER_FAMILIES)
    coarse = session.solve()
    session.restore_rows()
    # The bound cuts make every warm re-solve ~30 % slower and only tighten the bound;
    # they stay out until the last LP (so the plan meets them) and the MILP.
    session.free_rows(BOUND_CUTS)
    relaxed = session.solve()
    relaxed = dataclasses.replace(relaxed, seconds=coarse.seconds + relaxed.seconds)
    choice = linear.columns.get("training_cluster_choice")
    if choice is None or choice.size == 0 or relaxed.status == "failed":
        return RelaxAndFix(relaxed, None)
    clock = time.perf_counter()
    order = [
        int(run)
        for run in np.argsort(-model.arrays.training_reference_hours, kind="stable")
        if np.any(choice.keys["workload"] == run)
    ]
    saved = session.col_lower.copy(), session.col_upper.copy()
    fixed = _fix_then_hold(session, model, order, relaxed)
    if fixed is None:  # a held cluster broke a rule: place the runs one at a time
        session.col_lower[:], session.col_upper[:] = saved
        session.restore_rows()
        fixed = relaxed
        for run in order:
            placed = _place_run(session, model, run, fixed.values)
            if placed is None:
                return RelaxAndFix(relaxed, None)
            fixed = placed
    if settings.integer_gpus or settings.whole_servers:
        fixed = solve_model(linear, settings, upper=session.col_upper, start=fixed.values)
        if fixed.status == "failed":
            return RelaxAndFix(relaxed, None)
    return RelaxAndFix(relaxed, dataclasses.replace(fixed, seconds=time.perf_counter() - clock))
