"""What a saved run records besides its result: resolved inputs and timings.

Shared by the CLI's ``--save`` and the web app's jobs, so both store the same thing: for a
plan, the validated scenario after ``extends`` and overrides; for simulate, the company; for
an estimate, its arguments.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ScenarioSource = str | Path | Mapping[str, Any]


def resolve_inputs(
    kind: str, scenario: ScenarioSource | None, overrides: Sequence[str] = ()
) -> dict[str, Any] | None:
    """The resolved scenario (plan), its mapping with overrides applied (sweep) or the
    company (simulate) a run used; None for estimates, whose arguments are their own
    resolved inputs."""
    import gpuplan

    if kind == "plan":
        loaded = gpuplan.load_scenario(scenario, overrides)
        return dict(loaded.model_dump(mode="json", by_alias=True, exclude_none=True))
    if kind == "sweep":
        from gpuplan.sweep import base_mapping

        assert scenario is not None  # a sweep always names a scenario
        return base_mapping(scenario, overrides)
    if kind == "simulate":
        assert scenario is not None  # simulate always names a scenario
        company = gpuplan.load_company(scenario, overrides)
        return dict(company.model_dump(mode="json", exclude_none=True))
    return None


@dataclass
class RunTimer:
    """Wall-clock and CPU seconds since it was made (``time.perf_counter`` /
    ``cpu_clock``: the process's CPU time by default, ``time.thread_time`` for a computation
    that shares its process with others, as a server's requests do)."""

    cpu_clock: Callable[[], float] = time.process_time
    wall_start: float = field(default_factory=time.perf_counter)
    cpu_start: float = field(init=False)

    def __post_init__(self) -> None:
        self.cpu_start = self.cpu_clock()

    def seconds(self) -> tuple[float, float]:
        """(wall, cpu) seconds elapsed."""
        return time.perf_counter() - self.wall_start, self.cpu_clock() - self.cpu_start


def plan_record(result: Any) -> dict[str, Any]:
    """What a saved plan keeps: ``PlanResult.to_dict()`` with the fleet's option ids and the
    allocations of workloads to options, so charts can be drawn again from the store."""
    record = dict(result.to_dict())
    record["fleet"] = result.fleet.to_dict(orient="records")
    record["allocations"] = result.allocations.to_dict(orient="records")
    return record


def sweep_record(table: Any) -> dict[str, Any]:
    """What a saved sweep keeps: the sweep summary (jobs by status, P10/P50/P90 of each
    metric) and one row per job (``gpuplan.sweep.results_table``)."""
    from gpuplan.sweep import summary

    return {**summary(table), "rows": table.to_dict(orient="records")}


RECORD_KEYS = {"cost_by_category": "cost_by_category_and_year", "diagnosis": "diagnosis_rows"}
"""PlanResult fields stored under another key by ``PlanResult.to_dict()``."""


def plan_from_record(record: Mapping[str, Any]) -> Any:
    """A :class:`~gpuplan.planning.result.PlanResult` read back from :func:`plan_record`:
    its table fields as DataFrames, the others as stored (defaults where absent)."""
    import dataclasses

    import pandas as pd

    from gpuplan.planning.result import PlanResult

    values: dict[str, Any] = {}
    for field_ in dataclasses.fields(PlanResult):
        key = RECORD_KEYS.get(field_.name, field_.name)
        if field_.type in ("pd.DataFrame", pd.DataFrame):
            values[field_.name] = pd.DataFrame(record.get(key) or [])
        elif key in record:
            values[field_.name] = record[key]
    return PlanResult(**values)
