"""``stochastic_plan``: what to commit now, given sampled futures; and what that is worth.

Figures (all on the same relaxed-recourse model, see :mod:`.extensive`; costs are net present
costs with the unmet-demand penalty, USD):
* RP, the stochastic plan's objective: expected cost (plus weight x CVaR) over the futures,
  first stage shared;
* EEV: the deterministic plan's first stage (solved on the scenario with every range at its
  nominal value) kept in every future, recourse adapting: VSS = EEV - RP >= 0;
* WS, wait-and-see: each future solved alone with perfect foresight: EVPI = RP - WS >= 0;
* out of sample: both first stages evaluated on fresh futures (another seed), so the figures
  are not flattered by the sample the plan was fitted to.
Birge & Louveaux (2011), §4.1-4.2 (EVPI, VSS).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from gpuplan.errors import InfeasibleError, InputError
from gpuplan.planning.model.build import PlanModel, build_model
from gpuplan.planning.problem import SolverSettings
from gpuplan.planning.stochastic.batches import (
    DEFAULT_BATCH_SIZE,
    batched_first_stage,
    future_models,
)
from gpuplan.planning.stochastic.evaluate import (
    FutureCost,
    future_cost,
    solve_extensive,
    solve_futures,
)
from gpuplan.planning.stochastic.extensive import (
    Recourse,
    Risk,
    first_stage_columns,
    training_schedule,
)
from gpuplan.planning.stochastic.result import (
    ACTIVE,
    StochasticPlanResult,
    commitments_table,
    plan_objective,
)
from gpuplan.progress import ProgressCallback, silent
from gpuplan.uncertainty.futures import Future, sample_futures

Decomposition = Literal["extensive", "batches"]
DECOMPOSITIONS = get_args(Decomposition)

INTEGER_RECOURSE_FUTURES = 10
"""Up to this many futures the recourse keeps whole GPUs and instances by default (a MILP
per future, and one extensive-form MILP); beyond, it is relaxed to an LP."""

MAX_FUTURES = 500
"""The most futures in one extensive form (each copies the whole recourse model)."""

OUT_OF_SAMPLE_SEED_OFFSET = 1_000_003
"""Fresh futures are drawn with ``seed + OUT_OF_SAMPLE_SEED_OFFSET``."""


def stochastic_plan(
    scenario: str | Path | Mapping[str, Any] | None = None,
    overrides: Iterable[str] = (),
    *,
    futures: int | Sequence[Future] = 20,
    seed: int = 0,
    decision_point: str | None = None,
    risk: Risk | None = None,
    out_of_sample: int = 0,
    decomposition: Decomposition = "extensive",
    batch_size: int = DEFAULT_BATCH_SIZE,
    integer_recourse: bool | None = None,
    workers: int = 1,
    progress: ProgressCallback = silent,
) -> StochasticPlanResult:
    """The two-stage stochastic plan of a scenario over ``futures`` (a count to sample from
    its declared ranges with ``seed``, or the futures themselves as path changes).

    ``decision_point`` (``2027-01`` or ``2027-Q1``; default one year after the start): the
    commitments started before it form the first stage. ``risk``: CVaR term (default
    risk-neutral). ``out_of_sample``: how many fresh futures evaluate the plans afterwards.
    ``decomposition``: ``extensive`` solves one model of all futures (the optimum);
    ``batches`` agrees the first stage from extensive forms of ``batch_size`` futures
    (:mod:`.batches`: linear growth, an upper bound on the optimum). ``integer_recourse``:
    keep whole GPUs and instances in every future's second stage (default: with at most
    :data:`INTEGER_RECOURSE_FUTURES` futures; relaxed beyond, see :mod:`.extensive`).
    ``workers``: with ``batches``, processes solving batches at once (one per core).
    """
    from gpuplan.planning.adapters.tables import build_problem
    from gpuplan.scenario.loading import load_scenario, scenario_mapping

    clock = time.perf_counter()
    base, label = scenario_mapping(scenario, overrides)
    count = futures if isinstance(futures, int) else len(futures)
    if not 1 <= count <= MAX_FUTURES:
        raise InputError("futures", f"must be between 1 and {MAX_FUTURES} (got {count}).")
    if not 0 <= out_of_sample <= MAX_FUTURES:
        raise InputError(
            "out_of_sample", f"must be between 0 and {MAX_FUTURES} (got {out_of_sample})."
        )
    if risk is not None and not (0 < risk.alpha < 1 and risk.weight >= 0):
        raise InputError("risk", "CVaR needs 0 < alpha < 1 and a weight of 0 or more.")
    if decomposition not in DECOMPOSITIONS:
        raise InputError(
            "decomposition",
            f"'{decomposition}' is not one of {', '.join(DECOMPOSITIONS)}.",
        )
    if batch_size < 1:
        raise InputError("batch_size", f"must be at least 1 (got {batch_size}).")
    if workers < 1:
        raise InputError("workers", f"must be at least 1 (got {workers}).")
    sampled = sample_futures(base, futures, seed) if isinstance(futures, int) else list(futures)
    nominal_problem = build_problem(load_scenario(base))
    nominal = build_model(nominal_problem)
    decision = _decision_period(nominal, decision_point)
    progress("the deterministic plan (training schedule)", 0.0)
    whole = count <= INTEGER_RECOURSE_FUTURES if integer_recourse is None else integer_recourse
    recourse = Recourse(schedule=_training_schedule(nominal), integral=whole)

    def models_of(changes: Sequence[Future]) -> list[PlanModel]:
        models = future_models(base, changes)
        for model in models:
            _check_same_options(nominal, model)
        return models

    progress("building the futures", 0.0)
    models = models_of(sampled)
    settings = nominal.problem.solver
    deterministic = solve_futures([nominal], settings, decision, recourse=recourse)[0].first_stage
    chosen = risk or Risk()
    progress("the deterministic plan in every future (VSS)", 0.1)
    eev = solve_futures(models, settings, decision, fixed=deterministic, recourse=recourse)
    if decomposition == "batches":
        progress(f"solving {count} futures in batches of {batch_size}", 0.2)
        candidates, size = batched_first_stage(
            models, settings, decision, lambda costs: plan_objective(costs, chosen),
            deterministic, batch_size=batch_size, risk=risk, recourse=recourse,
            workers=workers, rebuild=(base, sampled),
        )  # fmt: skip
        tried = [(deterministic, eev)]
        for candidate in candidates:  # the screened best, then the hedge if the best is short
            try:
                kept = solve_futures(models, settings, decision, fixed=candidate, recourse=recourse)
            except InfeasibleError:  # some future cannot keep it (a budget, a cap)
                continue
            tried.append((candidate, kept))
            if all(c.unmet <= ACTIVE for c in kept):
                break
        first_stage, stochastic = min(tried, key=lambda pair: plan_objective(pair[1], chosen))
        status, gap = "time_limit" if size["batches_at_time_limit"] else "optimal", 0.0
    else:
        progress(f"solving the extensive form ({count} futures)", 0.2)
        first_stage, stochastic, status, gap, size = _extensive(
            models, settings, decision, risk, recourse
        )
    progress("each future with perfect foresight (EVPI)", 0.7)
    wait_and_see = solve_futures(models, settings, decision, recourse=recourse)
    fresh: dict[str, list[FutureCost]] = {}
    if out_of_sample:
        progress(f"out of sample ({out_of_sample} fresh futures)", 0.85)
        others = models_of(sample_futures(base, out_of_sample, seed + OUT_OF_SAMPLE_SEED_OFFSET))
        fresh = {
            name: solve_futures(others, settings, decision, fixed=kept, recourse=recourse)
            for name, kept in (("stochastic", first_stage), ("deterministic", deterministic))
        }
    progress("done", 1.0)
    return StochasticPlanResult(
        scenario=label,
        futures=count,
        seed=seed,
        decision_point=nominal.problem.grid.label(decision),
        decision_period=decision,
        first_stage=first_stage,
        risk=chosen,
        status=status,
        solver_gap=gap,
        commitments=commitments_table(nominal, first_stage_columns(nominal, decision), first_stage),
        stochastic=stochastic,
        expected_value_plan=eev,
        wait_and_see=wait_and_see,
        out_of_sample=fresh,
        problem_size={**size, "first_stage_columns": len(first_stage)},
        seconds=time.perf_counter() - clock,
        decomposition=decomposition,
        integer_recourse=whole,
    )


def _extensive(
    models: Sequence[PlanModel],
    settings: SolverSettings,
    decision: int,
    risk: Risk | None,
    recourse: Recourse,
) -> tuple[np.ndarray, list[FutureCost], str, float, dict[str, int]]:
    """The extensive form of all futures solved: first stage, each future's cost, status,
    solver gap and problem size."""
    ef, outcome = solve_extensive(
        models, settings, decision, risk, recourse,
        "try fewer futures, --decomposition batches or a longer solver.time_limit_s.",
    )  # fmt: skip
    costs = [
        future_cost(m, outcome.values[cols], first_stage_columns(m, decision))
        for m, cols in zip(models, ef.columns, strict=True)
    ]
    status = "optimal" if outcome.status == "optimal" else "time_limit"
    return outcome.values[ef.first_stage], costs, status, outcome.gap, ef.size


def _training_schedule(nominal: PlanModel) -> np.ndarray | None:
    """Where the deterministic plan (the full MILP at nominal inputs) trains each run; the
    futures keep those clusters and periods, so the relaxed recourse does not spread runs
    over clusters as the LP relaxation would."""
    from gpuplan.planning.optimise import optimise

    if not nominal.problem.training:
        return None
    result = optimise(nominal.problem, baselines=False)
    if result.solution is None or result.status == "infeasible":
        return None
    return training_schedule(nominal, result.solution.training)


def _decision_period(model: PlanModel, decision_point: str | None) -> int:
    """Index of the first period after the first stage (default: one year in)."""
    from gpuplan.planning.periods import parse_month

    grid = model.problem.grid
    if decision_point is None:
        return min(grid.count, max(1, 12 // grid.months))
    try:
        index = grid.index_of(parse_month(decision_point))
    except (ValueError, TypeError) as error:
        raise InputError("decision_point", f"'{decision_point}': {error}") from None
    if not 1 <= index <= grid.count:
        raise InputError(
            "decision_point",
            f"'{decision_point}' is outside the horizon ({grid.label(0)} to "
            f"{grid.label(grid.count - 1)}); the first stage needs at least one period.",
        )
    return index


def _check_same_options(nominal: PlanModel, model: PlanModel) -> None:
    """Futures must share the supply options (their first-stage columns are one decision)."""
    ours = [o.id for o in nominal.problem.options]
    theirs = [o.id for o in model.problem.options]
    if ours != theirs:
        missing = sorted(set(ours) ^ set(theirs))[:3]
        raise InputError(
            "futures",
            f"a sampled future changes which supply options exist ({', '.join(missing)}); "
            "ranges may change prices and volumes, not the offers themselves.",
        )
