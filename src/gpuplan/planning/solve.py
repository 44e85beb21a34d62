"""Solve a built :class:`~gpuplan.planning.linear.LinearModel` with HiGHS (solve only).

The MILP is solved to ``SolverSettings.mip_gap``; :func:`solve_model` with ``relax=True``
drops integrality (binary cluster choices become fractions, semi-continuous cluster sizes
become continuous from zero), giving the LP-relaxation lower bound. Column bounds may be
tightened per call (``upper``), which is how baselines restrict the same model, and a known
feasible point (``start``) may be handed to the MILP as its first incumbent.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from gpuplan.planning.model.linear import INTEGER, SEMI_CONTINUOUS, LinearModel
from gpuplan.planning.problem import SolverSettings
from gpuplan.progress import ProgressCallback

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


def _highs_lp(
    model: LinearModel,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    *,
    integral: bool,
) -> Any:
    """The model as a ``highspy.HighsLp`` with the given bounds (integrality if asked)."""
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_ = model.num_cols
    lp.num_row_ = model.num_rows
    lp.col_cost_ = model.cost
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    matrix = model.matrix
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    if integral:
        types = {
            INTEGER: highspy.HighsVarType.kInteger,
            SEMI_CONTINUOUS: highspy.HighsVarType.kSemiContinuous,
        }
        kinds = model.col_kind
        lp.integrality_ = [types.get(int(k), highspy.HighsVarType.kContinuous) for k in kinds]
    return lp


def _configured_highs(settings: SolverSettings) -> Any:
    highs = _new_highs()
    highs.setOptionValue("mip_rel_gap", settings.mip_gap)
    highs.setOptionValue("time_limit", settings.time_limit_s)
    if settings.threads is not None:
        highs.setOptionValue("threads", settings.threads)
    return highs


def _run(highs: Any, num_cols: int, *, is_mip: bool) -> SolveOutcome:
    """Run HiGHS and collect the outcome."""
    import highspy

    clock = time.perf_counter()
    highs.run()
    seconds = time.perf_counter() - clock
    status = highs.getModelStatus()
    info = highs.getInfo()
    has_values = info.primal_solution_status == 2  # kSolutionStatusFeasible
    values = np.asarray(highs.getSolution().col_value) if has_values else np.zeros(num_cols)
    objective = info.objective_function_value if has_values else float("nan")
    if status == highspy.HighsModelStatus.kOptimal:
        outcome_status: SolveStatus = "optimal"
    elif status == highspy.HighsModelStatus.kTimeLimit and has_values:
        outcome_status = "time_limit"
    else:
        outcome_status = "failed"
    return SolveOutcome(
        status=outcome_status,
        objective=objective,
        values=values,
        bound=info.mip_dual_bound if is_mip else objective,
        gap=info.mip_gap if is_mip else 0.0,
        seconds=seconds,
        message=highs.modelStatusToString(status),
    )


def relaxed_lower(model: LinearModel) -> np.ndarray:
    """Column lower bounds of the LP relaxation: semi-continuous columns start from zero."""
    lower = model.col_lower.copy()
    lower[model.col_kind == SEMI_CONTINUOUS] = 0.0
    return lower


def solve_model(
    model: LinearModel,
    settings: SolverSettings,
    *,
    relax: bool = False,
    upper: np.ndarray | None = None,
    start: np.ndarray | None = None,
    progress: ProgressCallback | None = None,
    phase: str = "solving",
) -> SolveOutcome:
    """Solve ``model``; ``upper`` replaces the column upper bounds (restrictions).

    ``progress`` (MILP only) hears ``"<phase>: best <objective>, gap <gap>"`` each time
    HiGHS finds a better integer plan (its improving-solution callback)."""
    import highspy

    col_upper = model.col_upper if upper is None else upper
    col_lower = relaxed_lower(model) if relax else model.col_lower
    is_mip = model.is_mip and not relax
    lp = _highs_lp(model, col_lower, col_upper, model.row_lower, model.row_upper, integral=is_mip)
    highs = _configured_highs(settings)
    clock = time.perf_counter()
    highs.passModel(lp)
    if is_mip and start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = list(start)
        solution.value_valid = True
        highs.setSolution(solution)
    if is_mip and progress is not None:
        _report_improvements(highs, progress, phase)
    outcome = _run(highs, model.num_cols, is_mip=is_mip)
    seconds = time.perf_counter() - clock
    return dataclasses.replace(outcome, seconds=seconds)


def _report_improvements(highs: Any, progress: ProgressCallback, phase: str) -> None:
    """Tell ``progress`` about every improving integer solution HiGHS finds."""
    from gpuplan.humanize import money, percent

    def improved(event: Any) -> None:
        out = event.data_out
        progress(
            f"{phase}: best {money(out.objective_function_value)}, gap {percent(out.mip_gap, 1)}",
            None,
        )

    highs.cbMipImprovingSolution.subscribe(improved)


class LpSession:
    """The LP relaxation of one model kept in one HiGHS instance, so that each re-solve
    after a change of bounds starts from the previous optimal basis (dual simplex warm
    start) instead of from scratch. Used by relax-and-fix, which re-solves the same LP
    many times with a few columns fixed."""

    def __init__(self, model: LinearModel, settings: SolverSettings) -> None:
        self.model = model
        self.col_lower = relaxed_lower(model)
        self.col_upper = model.col_upper.copy()
        self.row_lower = model.row_lower.copy()
        self.row_upper = model.row_upper.copy()
        self._highs = _configured_highs(settings)
        self._highs.passModel(
            _highs_lp(
                model,
                self.col_lower,
                self.col_upper,
                self.row_lower,
                self.row_upper,
                integral=False,
            )
        )

    def free_rows(self, families: tuple[str, ...]) -> None:
        """Drop the rows of ``families`` (bounds -inf..inf) until :meth:`restore_rows`."""
        for family in families:
            block = self.model.rows.get(family)
            if block is not None:
                self.row_lower[block.start : block.stop] = -np.inf
                self.row_upper[block.start : block.stop] = np.inf
        self._push_rows()

    def restore_rows(self) -> None:
        self.row_lower[:] = self.model.row_lower
        self.row_upper[:] = self.model.row_upper
        self._push_rows()

    def _push_rows(self) -> None:
        index = np.arange(self.model.num_rows, dtype=np.int32)
        self._highs.changeRowsBounds(len(index), index, self.row_lower, self.row_upper)

    def solve(self) -> SolveOutcome:
        """Solve with the current bounds (``col_lower``/``col_upper`` may have been edited)."""
        index = np.arange(self.model.num_cols, dtype=np.int32)
        self._highs.changeColsBounds(len(index), index, self.col_lower, self.col_upper)
        return _run(self._highs, self.model.num_cols, is_mip=False)
