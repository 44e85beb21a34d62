"""What a saved run records besides its result: resolved inputs and timings.

Shared by the CLI's ``--save`` and the web app's jobs, so both store the same thing: for a
plan, the validated scenario after ``extends`` and overrides; for simulate, the company; for
an estimate, its arguments.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ScenarioSource = str | Path | Mapping[str, Any]


def resolve_inputs(
    kind: str, scenario: ScenarioSource | None, overrides: Sequence[str] = ()
) -> dict[str, Any] | None:
    """The resolved scenario (plan) or company (simulate) a run used; None for estimates,
    whose arguments are their own resolved inputs."""
    import gpuplan

    if kind == "plan":
        loaded = gpuplan.load_scenario(scenario, overrides)
        return dict(loaded.model_dump(mode="json", by_alias=True, exclude_none=True))
    if kind == "simulate":
        assert scenario is not None  # simulate always names a scenario
        company = gpuplan.load_company(scenario, overrides)
        return dict(company.model_dump(mode="json", exclude_none=True))
    return None


@dataclass
class RunTimer:
    """Wall-clock and CPU seconds since it was made (``time.perf_counter`` /
    ``time.process_time``)."""

    wall_start: float = field(default_factory=time.perf_counter)
    cpu_start: float = field(default_factory=time.process_time)

    def seconds(self) -> tuple[float, float]:
        """(wall, cpu) seconds elapsed."""
        return time.perf_counter() - self.wall_start, time.process_time() - self.cpu_start


def plan_record(result: Any) -> dict[str, Any]:
    """What a saved plan keeps: ``PlanResult.to_dict()`` with the fleet's option ids and the
    allocations of workloads to options, so charts can be drawn again from the store."""
    record = dict(result.to_dict())
    record["fleet"] = result.fleet.to_dict(orient="records")
    record["allocations"] = result.allocations.to_dict(orient="records")
    return record


def plan_from_record(record: Mapping[str, Any]) -> Any:
    """A :class:`~gpuplan.planning.result.PlanResult` read back from :func:`plan_record`."""
    import pandas as pd

    from gpuplan.planning.result import PlanResult

    def frame(key: str) -> pd.DataFrame:
        return pd.DataFrame(record.get(key) or [])

    return PlanResult(
        scenario=record["scenario"],
        status=record["status"],
        npv_usd=record["npv_usd"],
        total_cost_usd=record["total_cost_usd"],
        cost_by_category=frame("cost_by_category_and_year"),
        fleet=frame("fleet"),
        utilisation=frame("utilisation"),
        ledger=frame("ledger"),
        allocations=frame("allocations"),
        baselines=frame("baselines"),
        diagnosis=frame("diagnosis_rows"),
        solve_seconds=record["solve_seconds"],
        lp_bound_usd=record.get("lp_bound_usd"),
        integrality_gap=record.get("integrality_gap"),
        solver_gap=record.get("solver_gap"),
        periods=list(record.get("periods") or []),
        currency=record.get("currency", "USD"),
        notes=list(record.get("notes") or []),
    )
