"""Solve one future: alone (wait-and-see), or with the first stage fixed (recourse only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gpuplan.planning.model.build import PlanModel
from gpuplan.planning.problem import SolverSettings
from gpuplan.planning.readback import cost_table, read_solution
from gpuplan.planning.solve import SolveOutcome, solve_model
from gpuplan.planning.stochastic.extensive import (
    ExtensiveForm,
    Recourse,
    Risk,
    extensive_form,
    first_stage_columns,
    recourse_model,
    with_first_stage_fixed,
)


@dataclass(frozen=True)
class FutureCost:
    """One future's answer. ``objective``: net present cost with penalties (what the
    optimiser minimises); ``npv_usd``: without them; ``unmet``: reference GPU-periods of
    demand left unserved (penalised); ``cost_by_year``: undiscounted USD per calendar year."""

    objective: float
    npv_usd: float
    unmet: float
    cost_by_year: dict[int, float]
    first_stage: np.ndarray


def future_cost(model: PlanModel, values: np.ndarray, first_stage: np.ndarray) -> FutureCost:
    """Read a solved future back from its column values; ``first_stage``: the column
    indices of its first-stage decisions."""
    solution = read_solution(model, values)
    costs = cost_table(model, solution)
    unmet = float(sum(np.sum(x) for x in (solution.unmet_inference, solution.unmet_training)))
    years = costs.groupby("year")["usd"].sum() if len(costs) else pd.Series(dtype=float)
    return FutureCost(
        objective=float(model.linear.cost @ values),
        npv_usd=float(solution.npv_usd),
        unmet=unmet,
        cost_by_year={int(str(y)): float(v) for y, v in years.items()},
        first_stage=values[first_stage],
    )


def solve_future(
    model: PlanModel,
    settings: SolverSettings,
    decision_period: int,
    fixed: np.ndarray | None = None,
    recourse: Recourse = Recourse(),
) -> FutureCost:
    """Solve one future modelled as in the extensive form (``recourse``); with ``fixed`` the
    first-stage columns are held at those values (the recourse problem of a given plan)."""
    stage = first_stage_columns(model, decision_period)
    linear = recourse_model(model.linear, stage, recourse)
    if fixed is not None:
        linear = with_first_stage_fixed(linear, stage, fixed)
    outcome = solve_model(linear, settings)
    if outcome.status == "failed":
        from gpuplan.errors import InfeasibleError

        raise InfeasibleError(
            f"A future of the stochastic plan could not be solved ({outcome.message}); "
            "every future keeps its unmet-demand slack, so this is a solver failure: "
            "try fewer futures or a longer solver time limit."
        )
    return future_cost(model, outcome.values, stage)


def solve_futures(
    models: Sequence[PlanModel],
    settings: SolverSettings,
    decision_period: int,
    fixed: np.ndarray | None = None,
    recourse: Recourse = Recourse(),
) -> list[FutureCost]:
    """:func:`solve_future` for each model."""
    return [solve_future(m, settings, decision_period, fixed, recourse) for m in models]


def solve_extensive(
    models: Sequence[PlanModel],
    settings: SolverSettings,
    decision_period: int,
    risk: Risk | None,
    recourse: Recourse,
    hint: str,
) -> tuple[ExtensiveForm, SolveOutcome]:
    """Build and solve the extensive form of ``models``; one that does not solve is an
    error naming ``futures`` with ``hint`` (what to try)."""
    ef = extensive_form(models, decision_period, risk=risk, recourse=recourse)
    outcome = solve_model(ef.linear, settings)
    if outcome.status == "failed":
        from gpuplan.errors import InputError

        raise InputError(
            "futures",
            f"the extensive form of {len(models)} futures did not solve ({outcome.message}); "
            f"{hint}",
        )
    return ef, outcome
