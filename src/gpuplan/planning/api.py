"""The planner's public entry point: scenario in, :class:`PlanResult` out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gpuplan.planning.inputs import build_problem
from gpuplan.planning.loader import load_scenario
from gpuplan.planning.optimise import optimise
from gpuplan.planning.result import PlanResult
from gpuplan.planning.scenario import Scenario


def plan(
    scenario: str | Path | Mapping[str, Any] | Scenario | None = None,
    overrides: Iterable[str] = (),
    *,
    baselines: bool = True,
) -> PlanResult:
    """Optimal rent / reserve / buy plan of a scenario (YAML path, preset name, mapping or
    :class:`Scenario`; default: the European lab), with the named overrides applied.

    An infeasible scenario returns ``status == "infeasible"`` with ``diagnosis`` rows; call
    :func:`raise_if_infeasible` to turn that into an error.
    """
    loaded = load_scenario(scenario, overrides)
    problem = build_problem(loaded)
    result = optimise(problem, baselines=baselines)
    result.notes = [*loaded.assumptions, *(need.band_note() for need in problem.training)]
    return result


def raise_if_infeasible(result: PlanResult) -> PlanResult:
    """Raise :class:`~gpuplan.errors.InfeasiblePlanError` with the diagnosis if infeasible."""
    from gpuplan.errors import InfeasiblePlanError

    if result.status == "infeasible":
        raise InfeasiblePlanError(result.messages)
    return result


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files."""
    return Scenario.model_json_schema(by_alias=True)
