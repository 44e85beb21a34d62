"""The planning pipeline on plain tables: build, solve, read back, baselines, diagnosis.

:func:`optimise` takes a :class:`PlanningProblem` (no scenario files, no catalogs) so it can
be tested on hand-built tables. Order: build the model once; solve each baseline (same model,
restricted upper bounds); solve the LP relaxation (the bound) and fix each training run to
the cluster it favours (:mod:`~gpuplan.planning.heuristics`); solve the full MILP from the
best of those plans (so the optimum can never be reported dearer than a baseline).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gpuplan.errors import InvariantError
from gpuplan.planning.baselines import BASELINES, restricted_upper
from gpuplan.planning.checks import check_plan
from gpuplan.planning.diagnose import diagnose, solver_failure
from gpuplan.planning.heuristics import relax_and_fix
from gpuplan.planning.model.build import ExtraConstraints, PlanModel, build_model
from gpuplan.planning.problem import PlanningProblem
from gpuplan.planning.readback import (
    PlanSolution,
    allocation_table,
    cost_table,
    fleet_table,
    ledger_table,
    orders_table,
    read_solution,
    utilisation_table,
)
from gpuplan.planning.result import PlanResult, PlanStatus
from gpuplan.planning.solve import SolveOutcome, solve_model
from gpuplan.progress import ProgressCallback, silent

DIAGNOSIS_COLUMNS = [
    "workload", "kind", "period", "rule", "need", "supply", "shortfall", "unit", "message",
]  # fmt: skip


@dataclass
class SolvedPlan:
    """A solved model with its read-back solution (kept for checks and benchmarks)."""

    model: PlanModel
    outcome: SolveOutcome
    solution: PlanSolution


def _status(outcome: SolveOutcome, solution: PlanSolution) -> PlanStatus:
    if outcome.status == "failed" or not solution.feasible:
        return "infeasible"
    return "optimal" if outcome.status == "optimal" else "time_limit"


def solve_plan(
    problem: PlanningProblem,
    model: PlanModel | None = None,
    *,
    upper: np.ndarray | None = None,
    start: np.ndarray | None = None,
    relax: bool = False,
    progress: ProgressCallback | None = None,
    phase: str = "solving",
) -> SolvedPlan:
    """Build (unless given), solve and read back one model."""
    model = model or build_model(problem)
    outcome = solve_model(
        model.linear,
        problem.solver,
        upper=upper,
        start=start,
        relax=relax,
        progress=progress,
        phase=phase,
    )
    return SolvedPlan(model, outcome, read_solution(model, outcome.values))


def _check_solved(problem: PlanningProblem, solved: SolvedPlan, what: str, feasible: bool) -> None:
    """Every feasible solved plan passes :func:`check_plan`, or it is a bug (InvariantError)."""
    if feasible:
        problems = check_plan(problem, solved.solution)
        if problems:
            raise InvariantError(f"The {what} of '{problem.name}'", problems)


def _at(progress: ProgressCallback, fraction: float) -> ProgressCallback:
    """``progress`` with the solver's messages pinned at ``fraction`` of the steps."""

    def report(phase: str, _: float | None) -> None:
        progress(phase, fraction)

    return report


def optimise(
    problem: PlanningProblem,
    *,
    baselines: bool = True,
    progress: ProgressCallback = silent,
    extra_constraints: Sequence[ExtraConstraints] = (),
) -> PlanResult:
    """The optimal plan of ``problem`` with baselines, LP bound and diagnosis.

    ``progress`` hears each step (``"baseline all owned (2/4)"``, ``"LP bound and
    relax-and-fix"``, ``"final MILP: best $164M, gap 3%"``) with the fraction of steps done.
    ``extra_constraints``: a user's constraint families (see
    :func:`~gpuplan.planning.model.build.build_model`), applied to the plan and baselines."""
    clock = time.perf_counter()
    model = build_model(problem, extra_constraints)
    build_seconds = time.perf_counter() - clock
    steps = (len(BASELINES) if baselines else 0) + 2
    baseline_plans = []
    if baselines:
        for n, baseline in enumerate(BASELINES):
            phase = f"baseline {baseline.name.replace('_', ' ')} ({n + 1}/{len(BASELINES)})"
            progress(phase, n / steps)
            solved = solve_plan(
                problem,
                model,
                upper=restricted_upper(model, baseline),
                progress=_at(progress, n / steps),
                phase=phase,
            )
            baseline_plans.append((baseline, solved))
    progress("LP bound and relax-and-fix", (steps - 2) / steps)
    relax_fix = relax_and_fix(model) if model.linear.is_mip else None
    relaxed = relax_fix.relaxed if relax_fix is not None else None
    fixed = relax_fix.fixed if relax_fix is not None else None
    candidates = [s.outcome for _, s in baseline_plans if s.outcome.status != "failed"]
    candidates += [fixed] if fixed is not None else []
    start = min(candidates, key=lambda o: o.objective) if candidates else None
    if (
        fixed is not None
        and relaxed is not None
        and start is fixed
        and fixed.objective - relaxed.objective <= problem.solver.mip_gap * abs(fixed.objective)
    ):
        # The relax-and-fix plan is proven within the MIP gap by the LP bound.
        best = SolvedPlan(model, fixed, read_solution(model, fixed.values))
    else:
        progress("final MILP", (steps - 1) / steps)
        best = solve_plan(
            problem,
            model,
            start=start.values if start is not None else None,
            progress=_at(progress, (steps - 1) / steps),
            phase="final MILP",
        )
    progress("reading the plan back", 1.0)
    status = _status(best.outcome, best.solution)
    npv = best.solution.npv_usd if status != "infeasible" else math.nan
    rows = []
    for baseline, solved in baseline_plans:
        ok = _status(solved.outcome, solved.solution) != "infeasible"
        _check_solved(problem, solved, f"baseline {baseline.name}", ok)
        value = solved.solution.npv_usd if ok else math.nan
        why = (
            []
            if ok
            else diagnose(
                model,
                solved.outcome.values,
                solved.solution,
                upper=restricted_upper(model, baseline),
                limit=f"the {baseline.name} baseline ({baseline.description})",
            )
        )
        rows.append(
            {
                "name": baseline.name,
                "description": baseline.description,
                "status": _status(solved.outcome, solved.solution),
                "npv_usd": value,
                "saving_usd": value - npv if ok else math.nan,
                "saving_fraction": (value - npv) / value if ok and value else math.nan,
                "why_infeasible": why[0].as_dict()["message"] if why else None,
            }
        )
    _check_solved(problem, best, "optimal plan", status != "infeasible")
    shortfalls = diagnose(model, best.outcome.values, best.solution)
    if status == "infeasible" and not shortfalls:
        shortfalls = [solver_failure(model, best.outcome.message)]
    costs = cost_table(model, best.solution)
    bound = relaxed.objective if relaxed is not None else best.outcome.objective
    gap = (npv - bound) / abs(npv) if relaxed is not None and npv else 0.0
    return PlanResult(
        scenario=problem.name,
        status=status,
        npv_usd=npv,
        total_cost_usd=(
            math.nan if status == "infeasible" else float(costs["usd"].sum()) if len(costs) else 0.0
        ),
        cost_by_category=costs,
        fleet=fleet_table(model, best.solution),
        utilisation=utilisation_table(model, best.solution),
        ledger=ledger_table(model, best.solution),
        allocations=allocation_table(model, best.solution),
        orders=orders_table(model, best.solution),
        baselines=pd.DataFrame.from_records(
            rows,
            columns=[
                "name",
                "description",
                "status",
                "npv_usd",
                "saving_usd",
                "saving_fraction",
                "why_infeasible",
            ],
        ),
        diagnosis=pd.DataFrame.from_records(
            [s.as_dict() for s in shortfalls], columns=DIAGNOSIS_COLUMNS
        ),
        solve_seconds=build_seconds
        + (best.outcome.seconds if best.outcome is not fixed else 0.0)
        + (relaxed.seconds if relaxed is not None else 0.0)
        + (fixed.seconds if fixed is not None else 0.0),
        lp_bound_usd=bound if status != "infeasible" else None,
        integrality_gap=gap if status != "infeasible" else None,
        solver_gap=best.outcome.gap,
        periods=problem.grid.labels,
        problem=problem,
        solution=best.solution,
        notes=planner_notes(problem),
    )


def planner_notes(problem: PlanningProblem) -> list[str]:
    """What the plan could not consider, said plainly (a scenario without ownership sites
    never buys, which a new user would otherwise not notice), and which percentile of each
    training run's (P10, P50, P90) GPU-hours it planned on."""
    notes = []
    if not any(o.billing == "own" for o in problem.options):
        notes.append(
            "No ownership sites (supply.ownership) for the GPU types the workloads allow: "
            "buying GPUs was not an option. Add a site to compare owning with renting."
        )
    notes.extend(need.band_note() for need in problem.training)
    return notes
