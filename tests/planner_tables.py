"""Hand-built planning tables for the planner tests (no catalogs, no estimators)."""

from __future__ import annotations

from datetime import date
from typing import Any

from gpuplan.planning.checks import check_plan
from gpuplan.planning.optimise import SolvedPlan, solve_plan
from gpuplan.planning.periods import PeriodGrid
from gpuplan.planning.problem import (
    InferenceNeed,
    PlanningProblem,
    Rules,
    SupplyOption,
    TrainingNeed,
)

GPU = "h100-sxm"


def offer(id: str, price: float, **fields: Any) -> SupplyOption:
    """A rental offer (on-demand unless ``mode`` says otherwise), EU / US operator."""
    base: dict[str, Any] = {
        "id": id,
        "provider": id.split("-")[0],
        "region": "eu-west",
        "country": "NL",
        "jurisdiction": "US",
        "region_group": "EU",
        "gpu": GPU,
        "mode": "on_demand",
        "cost_per_gpu_period": price,
    }
    return SupplyOption(**{**base, **fields})


def owned(id: str, capex: float, opex: float, life: int, **fields: Any) -> SupplyOption:
    base: dict[str, Any] = {
        "id": id,
        "provider": "owned",
        "region": "paris-1",
        "country": "FR",
        "jurisdiction": "EU",
        "region_group": "EU",
        "gpu": GPU,
        "mode": "owned",
        "cost_per_gpu_period": opex,
        "upfront_per_gpu": capex,
        "term_periods": life,
    }
    return SupplyOption(**{**base, **fields})


def inference(series: list[float], **fields: Any) -> InferenceNeed:
    base: dict[str, Any] = {
        "workload": "chat",
        "model": "mixtral-8x7b",
        "zone": "EU",
        "gpus": {GPU: tuple(series)},
        "reference_gpu": GPU,
    }
    return InferenceNeed(**{**base, **fields})


def training(
    gpu_periods: float, minimum: float, earliest: int, deadline: int, **fields: Any
) -> TrainingNeed:
    """A run needing ``gpu_periods`` H100-months (730 h each)."""
    base: dict[str, Any] = {
        "workload": "pretrain",
        "model": "mistral-7b",
        "gpu_hours": {GPU: gpu_periods * 730.0},
        "min_gpus": {GPU: minimum},
        "earliest": earliest,
        "deadline": deadline,
        "reference_gpu": GPU,
    }
    return TrainingNeed(**{**base, **fields})


def problem(
    options: list[SupplyOption],
    *,
    periods: int = 12,
    rate: float = 0.0,
    inference_needs: tuple[InferenceNeed, ...] = (),
    training_needs: tuple[TrainingNeed, ...] = (),
    rules: Rules | None = None,
) -> PlanningProblem:
    return PlanningProblem(
        grid=PeriodGrid(date(2025, 1, 1), periods, "month", rate),
        options=tuple(options),
        inference=inference_needs,
        training=training_needs,
        rules=rules or Rules(),
        name="test",
    )


def solve_checked(p: PlanningProblem) -> SolvedPlan:
    """Solve and re-check every constraint on the solution."""
    solved = solve_plan(p)
    assert solved.outcome.status == "optimal"
    issues = check_plan(p, solved.solution)
    assert issues == [], issues
    return solved
