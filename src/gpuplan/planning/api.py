"""The planner's public entry point: scenario in, :class:`PlanResult` out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gpuplan.planning.adapters.tables import build_problem
from gpuplan.planning.model.build import ExtraConstraints
from gpuplan.planning.optimise import optimise
from gpuplan.planning.result import PlanResult
from gpuplan.progress import ProgressCallback, silent
from gpuplan.scenario.loading import load_scenario
from gpuplan.scenario.schema import Scenario


def plan(
    scenario: str | Path | Mapping[str, Any] | Scenario | None = None,
    overrides: Iterable[str] = (),
    *,
    baselines: bool = True,
    progress: ProgressCallback = silent,
    extra_constraints: Sequence[ExtraConstraints] = (),
) -> PlanResult:
    """Optimal rent / reserve / buy plan of a scenario (YAML path, preset name, mapping or
    :class:`Scenario`; default: the European lab), with the named overrides applied.

    An infeasible scenario returns ``status == "infeasible"`` with ``diagnosis`` rows; call
    :func:`raise_if_infeasible` to turn that into an error. ``progress`` hears each step
    of the solve (see :func:`~gpuplan.planning.optimise.optimise`); ``extra_constraints``
    adds the user's own constraint families to the model (PyPSA's ``extra_functionality``).
    """
    loaded = load_scenario(scenario, overrides)
    progress("reading catalogs and estimating workloads", 0.0)
    result = optimise(
        build_problem(loaded),
        baselines=baselines,
        progress=progress,
        extra_constraints=extra_constraints,
    )
    result.notes = [*result.notes, *loaded.assumptions]
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
