"""Scenario batches: the first stage of many futures from extensive forms of a fixed size.

The futures are split into batches of ``batch_size``; each batch's extensive form gives a
candidate first stage (a sample-average solution: Kleywegt, Shapiro & Homem-de-Mello, *SIAM
J. Optim.* 12, 2002; Linderoth, Shapiro & Wright, *Ann. Oper. Res.* 142, 2006). With the
batches' probability-weighted mean (the consensus of progressive hedging's first step,
Rockafellar & Wets, *Math. Oper. Res.* 16, 1991), the hedge (each commitment at its largest
over the batches: what every batch asked for) and the deterministic plan's first stage, the
candidates are screened on ``batch_size`` futures spread over the whole sample. The caller
evaluates the best of them and the hedge on every future and keeps the better (a first
stage fitted to some batches can leave futures outside them short, which a screen of a few
futures may miss). Every solve has a fixed size, so the work grows linearly with the
futures (the extensive form of all futures grows faster than linearly once large).

With ``workers`` above 1 the batches are solved at once in that many spawned processes;
each rebuilds its futures' models from the scenario and the futures' changes
(:class:`BatchJob`) rather than receiving them (a model holds label functions, which do not
pickle), so the wall time of the batches falls with the cores.

The agreed first stage is feasible in every future but not necessarily the optimum of the
extensive form of all futures: its objective over the futures is an upper bound on that
optimum, and the wait-and-see value a lower bound (the gap is at most the EVPI reported).
The deterministic plan's first stage is kept instead when it does better, so VSS >= 0 holds
here too.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from gpuplan.errors import InfeasibleError
from gpuplan.planning.model.build import PlanModel
from gpuplan.planning.model.linear import INTEGER
from gpuplan.planning.problem import SolverSettings
from gpuplan.planning.stochastic.evaluate import FutureCost, solve_extensive, solve_futures
from gpuplan.planning.stochastic.extensive import (
    Recourse,
    Risk,
    first_stage_columns,
)
from gpuplan.progress import ProgressCallback, silent
from gpuplan.uncertainty.futures import Future

DEFAULT_BATCH_SIZE = 25
"""Futures per batch: an extensive form that solves in seconds on the default scenario."""


@dataclass(frozen=True)
class BatchJob:
    """One batch for a worker process: the scenario (``base``, a mapping) and the changes
    of the batch's futures, to rebuild their models there, and how to solve them."""

    base: Mapping[str, Any]
    changes: Sequence[Future]
    settings: SolverSettings
    decision_period: int
    risk: Risk | None
    recourse: Recourse
    hint: str


def future_models(base: Mapping[str, Any], changes: Sequence[Future]) -> list[PlanModel]:
    """The plan model of each future: ``base`` (a scenario mapping) with its changes."""
    from gpuplan.planning.adapters.tables import build_problem
    from gpuplan.planning.model.build import build_model
    from gpuplan.scenario.loading import load_scenario
    from gpuplan.uncertainty.futures import apply_changes

    return [build_model(build_problem(load_scenario(apply_changes(base, c)))) for c in changes]


def solve_batch(job: BatchJob) -> tuple[np.ndarray, str, dict[str, int]]:
    """A batch's first stage, solver status and problem size (in a worker process)."""
    models = future_models(job.base, job.changes)
    ef, outcome = solve_extensive(models, job.settings, job.decision_period, job.risk,
                                  job.recourse, job.hint)  # fmt: skip
    return outcome.values[ef.first_stage], outcome.status, ef.size


def batched_first_stage(
    models: Sequence[PlanModel],
    settings: SolverSettings,
    decision_period: int,
    objective: Callable[[list[FutureCost]], float],
    deterministic: np.ndarray,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    risk: Risk | None = None,
    recourse: Recourse = Recourse(),
    progress: ProgressCallback = silent,
    workers: int = 1,
    rebuild: tuple[Mapping[str, Any], Sequence[Future]] | None = None,
) -> tuple[list[np.ndarray], dict[str, int]]:
    """The first stages to agree on for ``models`` (equally likely futures): the screened
    best and the hedge (every batch's commitments at their largest), for the caller to
    evaluate on every future; and the size of the largest single solve (``columns``,
    ``rows``, ``nonzeros``, ``batches``, ``candidates``, ``batches_at_time_limit``).

    ``objective``: the plan objective of a list of future costs (mean, plus CVaR when
    ``risk`` has weight); ``deterministic``: the deterministic plan's first stage;
    ``workers``: processes solving batches at once, given ``rebuild`` (the scenario mapping
    and every future's changes, in the order of ``models``).
    """
    n = len(models)
    batches = [list(range(start, min(n, start + batch_size))) for start in range(0, n, batch_size)]
    candidates: list[np.ndarray] = []
    size = {"columns": 0, "rows": 0, "nonzeros": 0}
    stopped = 0  # batches that hit the solver's time limit
    hints = [f"batch {b + 1} of {len(batches)}; try a smaller --batch-size or a longer "
             "solver.time_limit_s." for b in range(len(batches))]  # fmt: skip
    if workers > 1 and len(batches) > 1 and rebuild is not None:
        base, changes = rebuild
        jobs = [BatchJob(base, [changes[i] for i in batch], settings, decision_period, risk,
                         recourse, hint) for batch, hint in zip(batches, hints, strict=True)]
        progress(f"{len(batches)} batches in {workers} processes", 0.0)
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=spawn) as pool:
            solved = list(pool.map(solve_batch, jobs))
    else:
        solved = []
        for b, batch in enumerate(batches):
            progress(f"batch {b + 1} of {len(batches)} ({len(batch)} futures)", b / len(batches))
            ef, outcome = solve_extensive([models[i] for i in batch], settings, decision_period,
                                          risk, recourse, hints[b])  # fmt: skip
            solved.append((outcome.values[ef.first_stage], outcome.status, ef.size))
    for first_stage, status, ef_size in solved:
        candidates.append(first_stage)
        stopped += status == "time_limit"
        size = {key: max(size[key], value) for key, value in ef_size.items()}
    weights = np.array([len(batch) for batch in batches], dtype=float) / n
    consensus = _whole(models[0], decision_period, weights @ np.array(candidates))
    hedge = np.max(candidates, axis=0)
    distinct = _distinct([*candidates, consensus, hedge, deterministic])
    screen = [models[i] for i in np.linspace(0, n - 1, min(n, batch_size)).round().astype(int)]
    progress(f"screening {len(distinct)} candidate first stages", 0.9)
    scores = [_score(screen, settings, decision_period, c, recourse, objective) for c in distinct]
    best = distinct[int(np.argmin(scores))]
    counts = {"batches": len(batches), "candidates": len(distinct)}
    return _distinct([best, hedge]), {**size, **counts, "batches_at_time_limit": stopped}


def _score(
    models: Sequence[PlanModel],
    settings: SolverSettings,
    decision_period: int,
    candidate: np.ndarray,
    recourse: Recourse,
    objective: Callable[[list[FutureCost]], float],
) -> float:
    """The objective of ``candidate`` over ``models``; infinite where some future cannot
    keep it (a first stage that breaks a budget or a cap)."""
    try:
        fixed = solve_futures(models, settings, decision_period, fixed=candidate,
                              recourse=recourse)  # fmt: skip
    except InfeasibleError:
        return float("inf")
    return objective(fixed)


def _whole(model: PlanModel, decision_period: int, values: np.ndarray) -> np.ndarray:
    """``values`` with the first-stage columns that must be whole GPUs rounded."""
    kinds = model.linear.col_kind[first_stage_columns(model, decision_period)]
    return np.where(kinds == INTEGER, np.round(values), values)


def _distinct(candidates: list[np.ndarray]) -> list[np.ndarray]:
    """Candidates without repeats (equal to 1e-6 GPUs), in order."""
    kept: list[np.ndarray] = []
    for candidate in candidates:
        if not any(np.allclose(candidate, k, atol=1e-6, rtol=0) for k in kept):
            kept.append(candidate)
    return kept
