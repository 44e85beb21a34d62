"""Solve a built :class:`~gpuplan.planning.linear.LinearModel` with HiGHS (solve only).

The MILP is solved to ``SolverSettings.mip_gap``; :func:`solve_model` with ``relax=True``
drops integrality (binary cluster choices become fractions, semi-continuous cluster sizes
become continuous from zero), giving the LP-relaxation lower bound. Column bounds may be
tightened per call (``upper``), which is how baselines restrict the same model, and a known
feasible point (``start``) may be handed to the MILP as its first incumbent.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from gpuplan.planning.linear import INTEGER, SEMI_CONTINUOUS, LinearModel
from gpuplan.planning.problem import SolverSettings

SolveStatus = Literal["optimal", "time_limit", "failed"]

_FIRST_INSTANCE = True


@dataclass(frozen=True)
class SolveOutcome:
    """What HiGHS returned: status, objective (penalties included), column values, the
    best bound (MILP dual bound, or the objective for an LP) and the relative gap."""

    status: SolveStatus
    objective: float
    values: np.ndarray
    bound: float
    gap: float
    seconds: float
    message: str = ""


def _new_highs() -> Any:
    """A silent HiGHS instance (the first one constructed prints a banner on stdout, which
    would corrupt ``--json`` output, so that one is built with stdout closed)."""
    import highspy

    global _FIRST_INSTANCE
    if not _FIRST_INSTANCE:
        highs = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        try:
            highs = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _FIRST_INSTANCE = False
    highs.setOptionValue("output_flag", False)
    return highs


def solve_model(
    model: LinearModel,
    settings: SolverSettings,
    *,
    relax: bool = False,
    upper: np.ndarray | None = None,
    start: np.ndarray | None = None,
) -> SolveOutcome:
    """Solve ``model``; ``upper`` replaces the column upper bounds (restrictions)."""
    import highspy

    col_upper = model.col_upper if upper is None else upper
    col_lower = model.col_lower.copy()
    kinds = model.col_kind
    if relax:
        col_lower[kinds == SEMI_CONTINUOUS] = 0.0
    lp = highspy.HighsLp()
    lp.num_col_ = model.num_cols
    lp.num_row_ = model.num_rows
    lp.col_cost_ = model.cost
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = model.row_lower
    lp.row_upper_ = model.row_upper
    matrix = model.matrix
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    is_mip = model.is_mip and not relax
    if is_mip:
        types = {
            INTEGER: highspy.HighsVarType.kInteger,
            SEMI_CONTINUOUS: highspy.HighsVarType.kSemiContinuous,
        }
        lp.integrality_ = [types.get(int(k), highspy.HighsVarType.kContinuous) for k in kinds]
    highs = _new_highs()
    highs.setOptionValue("mip_rel_gap", settings.mip_gap)
    highs.setOptionValue("time_limit", settings.time_limit_s)
    if settings.threads is not None:
        highs.setOptionValue("threads", settings.threads)
    clock = time.perf_counter()
    highs.passModel(lp)
    if is_mip and start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = list(start)
        solution.value_valid = True
        highs.setSolution(solution)
    highs.run()
    seconds = time.perf_counter() - clock
    status = highs.getModelStatus()
    info = highs.getInfo()
    has_values = info.primal_solution_status == 2  # kSolutionStatusFeasible
    values = np.asarray(highs.getSolution().col_value) if has_values else np.zeros(model.num_cols)
    objective = info.objective_function_value if has_values else float("nan")
    if status == highspy.HighsModelStatus.kOptimal:
        outcome_status: SolveStatus = "optimal"
    elif status == highspy.HighsModelStatus.kTimeLimit and has_values:
        outcome_status = "time_limit"
    else:
        outcome_status = "failed"
    bound = info.mip_dual_bound if is_mip else objective
    gap = info.mip_gap if is_mip else 0.0
    return SolveOutcome(
        status=outcome_status,
        objective=objective,
        values=values,
        bound=bound,
        gap=gap,
        seconds=seconds,
        message=highs.modelStatusToString(status),
    )
