"""Turn a :class:`Scenario` into the planner's plain tables (:class:`PlanningProblem`).

This is the only planning module that reads catalogs and calls estimators:

* offers: :func:`gpuplan.catalog.offers.load_offers`, filtered and adjusted by the scenario,
  priced per GPU-period (USD/GPU-hour x hours per period); among offers with the same
  provider, region, GPU and terms only the cheapest is kept (they differ only by instance
  shape); pay-per-use capacity blocks count as on-demand;
* ownership: :func:`gpuplan.economics.ownership.ownership_cost` for every figure a site does
  not set (capex, annual opex, lead time, life, residual value);
* training GPU-hours: :func:`gpuplan.estimate_training` per allowed GPU type (P10/P50/P90);
* inference GPUs: :func:`gpuplan.estimate_fleet` per allowed GPU type at the workload's
  largest volume, scaled linearly to each period's volume with a floor of one replica (the
  LP counts GPUs continuously, so whole replicas are kept only at that floor).

Uncertain inputs enter at their nominal value (:func:`~gpuplan.uncertainty.distributions.nominal`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
from pydantic import ValidationError

from gpuplan.errors import InputError
from gpuplan.humanize import plain
from gpuplan.planning.adapters.lookups import field_errors, gpu_id
from gpuplan.planning.adapters.supply import (
    offer_options,
    ownership_options,
    site_power_kw,
    slipped,
)
from gpuplan.planning.periods import PeriodGrid, add_months, months_between
from gpuplan.planning.problem import (
    InferenceNeed,
    PlanningProblem,
    Rules,
    SolverSettings,
    TrainingNeed,
)
from gpuplan.scenario.errors import explain_validation_error
from gpuplan.scenario.schema import (
    InferenceWorkload,
    Scenario,
    StepRow,
    TokensRow,
    TrainingRun,
)
from gpuplan.uncertainty.distributions import nominal
from gpuplan.units import LARGEST_INPUT
from gpuplan.userfiles import user_path

REFERENCE_GPU = "h100-sxm"
"""Needs are quoted in H100-equivalents where the H100 is allowed (else the first type)."""


def _reference(gpus: Sequence[str]) -> str:
    return REFERENCE_GPU if REFERENCE_GPU in gpus else gpus[0]


def _step_series(
    grid: PeriodGrid, rows: Sequence[Any], value: Callable[[Any], float], *, peak: bool = False
) -> np.ndarray:
    """Values per period from a step table (rows with ``from_``); 0 before the first row.

    A period takes the value in force in its last month (a step inside a period applies
    from that period); with ``peak`` the largest value in force in any of its months, so a
    drop mid-period does not cut the capacity its first months need."""
    monthly = np.zeros(grid.count * grid.months)
    for row in sorted(rows, key=lambda r: r.from_):
        first = months_between(grid.start, row.from_)
        monthly[max(0, first) :] = value(row)
    per_period = monthly.reshape(grid.count, grid.months)
    return per_period.max(axis=1) if peak else per_period[:, -1]


def _read_tokens_csv(path: str, where: str) -> list[TokensRow]:
    from gpuplan.catalog.tables import csv_records

    file = user_path(path, where)
    if not file.is_file():
        raise InputError(where, f"CSV file {path} does not exist.")
    header, records = field_errors(where, lambda: csv_records(file))
    if not {"from", "tokens_per_day"} <= set(header):
        raise InputError(where, f"{path} needs the columns from,tokens_per_day.")
    rows = []
    for line, raw in records:
        try:
            rows.append(TokensRow.model_validate(raw))
        except ValidationError as error:
            raise explain_validation_error(
                error, raw, TokensRow, where=where, source=f"{path} line {line}",
                limit=1, by_id=False,
            ) from None  # fmt: skip
    return rows


def token_series(grid: PeriodGrid, workload: InferenceWorkload, where: str) -> np.ndarray:
    """Tokens per day to serve in each period: the peak within it, so the capacity of a
    period serves all of it. A growing volume peaks at the period's end (80 %/year growth
    is 1.8 ** 0.25 - 1 = 16 % higher at the end of a quarter than at its start); a step
    table's period takes its largest value in force."""
    if workload.table is not None or workload.csv is not None:
        rows = (
            workload.table
            if workload.table is not None
            else _read_tokens_csv(workload.csv or "", f"{where}.csv")
        )
        return _step_series(grid, rows, lambda r: nominal(r.tokens_per_day), peak=True)
    start = nominal(workload.tokens_per_day or 0.0)
    if workload.growth is None:
        return np.full(grid.count, start)
    years = np.arange(1, grid.count + 1) * grid.months / 12
    if workload.growth.until is not None:
        years = np.minimum(years, max(0, months_between(grid.start, workload.growth.until)) / 12)
    rate = nominal(workload.growth.annual_growth)
    log_final = np.log(max(start, 1.0)) + years[-1] * np.log1p(rate)
    if log_final > np.log(LARGEST_INPUT):  # compounding past any volume: refuse, not overflow
        raise InputError(
            f"{where}.growth.annual_growth",
            f"{plain(rate)} a year for {plain(years[-1])} years takes {plain(start)} tokens per "
            "day past "
            f"{plain(LARGEST_INPUT)}; check the rate (0.8 = +80 % a year).",
        )
    return start * (1.0 + rate) ** years


def inference_need(grid: PeriodGrid, workload: InferenceWorkload, where: str) -> InferenceNeed:
    """GPUs per period and GPU type for one inference workload."""
    from gpuplan.catalog.models import get_model

    model = field_errors(f"{where}.model", lambda: get_model(workload.model))
    tokens = token_series(grid, workload, where)
    gpus = [gpu_id(f"{where}.gpus", g) for g in workload.gpus]
    peak = float(tokens.max(initial=0.0))
    needs: dict[str, tuple[float, ...]] = {}
    for gpu, given in zip(gpus, workload.gpus, strict=True):
        if workload.gpus_per_billion_tokens_per_day is not None:
            table = {
                gpu_id(f"{where}.gpus_per_billion_tokens_per_day", k): v
                for k, v in workload.gpus_per_billion_tokens_per_day.items()
            }
            if gpu not in table:
                raise InputError(
                    f"{where}.gpus_per_billion_tokens_per_day",
                    f"has no entry for {given}; give one per GPU type in gpus.",
                )
            series = tokens / 1e9 * nominal(table[gpu])
        elif peak <= 0:
            series = np.zeros(grid.count)
        else:
            from gpuplan import estimate_fleet

            def fleet_estimate(gpu: str = gpu) -> Any:
                return estimate_fleet(
                    model,
                    gpu,
                    tokens_per_day=peak,
                    peak_factor=nominal(workload.peak_factor),
                    max_ttft_ms=workload.max_ttft_ms,
                    max_tpot_ms=workload.max_tpot_ms,
                    input_tokens=nominal(workload.input_tokens),
                    output_tokens=nominal(workload.output_tokens),
                    precision=workload.precision,
                )

            fleet = field_errors(where, fleet_estimate)
            suffix = "" if workload.estimate == "p50" else f"_{workload.estimate}"
            total, replicas = getattr(fleet, f"gpus{suffix}"), getattr(fleet, f"replicas{suffix}")
            replica = total / max(1, replicas)
            series = np.where(tokens > 0, np.maximum(replica, total * tokens / peak), 0.0)
        needs[gpu] = tuple(float(x) for x in series)
    return InferenceNeed(
        workload=workload.id,
        model=model.id,
        zone=workload.residency,
        sovereignty=workload.sovereignty,
        interruptible=workload.interruptible,
        gpus=needs,
        reference_gpu=_reference(gpus),
        load_factor=min(1.0, 1.0 / nominal(workload.peak_factor)),
    )


def training_need(grid: PeriodGrid, run: TrainingRun, where: str) -> TrainingNeed:
    """GPU-hours and minimum cluster per GPU type for one training run."""
    from gpuplan.catalog.models import get_model

    model = field_errors(f"{where}.model", lambda: get_model(run.model))
    gpus = [gpu_id(f"{where}.gpus", g) for g in run.gpus]
    hours: dict[str, float] = {}
    band: dict[str, tuple[float, float, float]] = {}
    minimum: dict[str, float] = {}
    for gpu in gpus:
        if run.gpu_hours is not None:
            table = {gpu_id(f"{where}.gpu_hours", k): v for k, v in run.gpu_hours.items()}
            if gpu not in table:
                raise InputError(
                    f"{where}.gpu_hours", f"has no entry for {gpu}; give one per GPU type."
                )
            hours[gpu] = nominal(table[gpu])
            minimum[gpu] = float(run.min_cluster_gpus or 1)
            continue
        from gpuplan import estimate_training

        def training_estimate(gpu: str = gpu) -> Any:
            return estimate_training(
                model, tokens=nominal(run.tokens), gpu=gpu, gpus=run.min_cluster_gpus,
                precision=run.precision, seq_len=run.seq_len,
            )  # fmt: skip

        estimate = field_errors(where, training_estimate)
        band[gpu] = (estimate.gpu_hours_p10, estimate.gpu_hours, estimate.gpu_hours_p90)
        hours[gpu] = band[gpu][("p10", "p50", "p90").index(run.estimate)]
        minimum[gpu] = float(run.min_cluster_gpus or estimate.min_gpus_for_memory or 1)
    earliest = grid.index_of(run.earliest_start)
    if grid.index_of(run.deadline) < 0:
        raise InputError(
            f"{where}.deadline",
            f"{run.deadline:%Y-%m} is before the horizon start {grid.start:%Y-%m}.",
        )
    deadline = grid.index_of(add_months(run.deadline, -run.slack_months))
    earliest = max(0, earliest)
    if run.slack_months and deadline < earliest:
        raise InputError(
            f"{where}.slack_months",
            f"{run.slack_months} months of slack before the deadline {run.deadline:%Y-%m} leave "
            f"no period after earliest_start {run.earliest_start:%Y-%m}; lower the slack.",
        )
    return TrainingNeed(
        workload=run.id,
        model=model.id,
        gpu_hours=hours,
        gpu_hours_band=band,
        planned_on="given" if run.gpu_hours is not None else run.estimate,
        min_gpus=minimum,
        earliest=earliest,
        deadline=max(earliest, min(deadline, grid.count - 1)),
        interruptible=run.interruptible,
        may_pause=run.may_pause,
        sovereignty=run.sovereignty,
        reference_gpu=_reference(gpus),
    )


def _per_period(grid: PeriodGrid, value: float | list[StepRow] | None) -> tuple[float, ...] | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return (float(value),) * grid.count
    return tuple(float(x) for x in _step_series(grid, value, lambda r: r.value))


def planning_rules(scenario: Scenario, grid: PeriodGrid) -> Rules:
    from gpuplan.catalog.places import get_provider

    rules = scenario.rules
    share = {}
    for name, value in rules.provider_share.items():
        provider = field_errors(f"rules.provider_share.{name}", partial(get_provider, name))
        share[provider.provider] = nominal(value)
    budget = rules.capex_budget_per_period_usd
    return Rules(
        max_provider_share=nominal(rules.max_provider_share)
        if rules.max_provider_share is not None
        else None,
        provider_share=share,
        capex_budget=(nominal(budget),) * grid.count if budget is not None else None,
        min_owned_gpus=_per_period(grid, rules.min_owned_gpus),
        max_owned_gpus=_per_period(grid, rules.max_owned_gpus),
        site_power_kw=site_power_kw(scenario),
    )


def build_problem(scenario: Scenario) -> PlanningProblem:
    """The plain planning tables of ``scenario`` (catalog lookups and estimates done here)."""
    horizon = scenario.horizon
    grid = PeriodGrid(
        horizon.start, horizon.periods, horizon.period, nominal(horizon.discount_rate)
    )
    inference = [inference_need(grid, w, f"inference.{w.id}") for w in scenario.inference]
    training = [training_need(grid, r, f"training.{r.id}") for r in scenario.training]
    gpus = {g for n in inference for g in n.gpus} | {g for r in training for g in r.gpu_hours}
    options = slipped(
        scenario,
        grid,
        offer_options(scenario, grid, gpus)
        + [o for o in ownership_options(scenario, grid) if o.gpu in gpus],
    )
    if not options:
        raise InputError(
            "supply",
            "no offer or ownership option is left for the GPU types the workloads allow; "
            "add offers or relax the supply filters.",
        )
    solver = scenario.solver
    return PlanningProblem(
        grid=grid,
        options=tuple(options),
        inference=tuple(inference),
        training=tuple(training),
        rules=planning_rules(scenario, grid),
        solver=SolverSettings(
            mip_gap=solver.mip_gap,
            time_limit_s=solver.time_limit_s,
            integer_gpus=solver.integer_gpus,
            whole_servers=solver.whole_servers,
        ),
        name=scenario.name,
    )
