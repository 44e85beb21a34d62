"""Run one sweep job and turn its answer into one flat row of the results table.

A job that fails on bad input says why in its row (``error``) and the sweep goes on; an
unexpected exception is raised to the engine, which retries the job and records the failure
when the retries are spent.
"""

from __future__ import annotations

import time
from typing import Any

from gpuplan.errors import GpuplanError
from gpuplan.sweep.jobs import SweepJob
from gpuplan.uncertainty.futures import apply_changes

TIMING_COLUMNS = ("seconds", "attempts")
"""Columns that differ between two runs of the same jobs (everything else is reproducible)."""


def run_job(job: SweepJob) -> dict[str, Any]:
    """The results row of ``job``: its id, its changes, ``status``, ``error`` and the metrics
    of its plan or simulation."""
    started = time.perf_counter()
    row: dict[str, Any] = {"job": job.job_id, "what": job.what}
    row.update({f"set:{path}": value for path, value in job.changes.items()})
    try:
        scenario = apply_changes(job.scenario, job.changes)
        row.update(status="", error="")
        row.update(_plan_metrics(scenario) if job.what == "plan" else _simulate(job, scenario))
    except GpuplanError as error:
        row.update(status="error", error=str(error))
    row["seconds"] = time.perf_counter() - started
    return row


def failed_row(job: SweepJob, error: BaseException, attempts: int) -> dict[str, Any]:
    """The row of a job whose every attempt raised an unexpected exception."""
    row: dict[str, Any] = {"job": job.job_id, "what": job.what}
    row.update({f"set:{path}": value for path, value in job.changes.items()})
    row.update(
        status="failed",
        error=f"{type(error).__name__}: {error} (after {attempts} attempts)",
        seconds=float("nan"),
    )
    return row


def _plan_metrics(scenario: dict[str, Any]) -> dict[str, Any]:
    """Status, NPV, undiscounted cost, integrality gap, peak GPUs (all, owned) of the plan."""
    from gpuplan.planning.api import plan

    result = plan(scenario, baselines=False)
    if result.status == "infeasible":
        return {"status": "infeasible", "error": " ".join(result.messages[:2])}
    by_period = result.fleet.groupby("period")["gpus"].sum()
    owned = result.fleet[result.fleet["mode"] == "owned"].groupby("period")["gpus"].sum()
    return {
        "status": result.status,
        "npv_usd": result.npv_usd,
        "total_cost_usd": result.total_cost_usd,
        "integrality_gap": result.integrality_gap,
        "peak_gpus": float(by_period.max()) if len(by_period) else 0.0,
        "peak_owned_gpus": float(owned.max()) if len(owned) else 0.0,
    }


def _simulate(job: SweepJob, scenario: dict[str, Any]) -> dict[str, Any]:
    """Runway percentiles, cash-out probability over the horizon, break-even share, end cash."""
    from gpuplan.uncertainty.montecarlo import simulate

    result = simulate(scenario, job.samples, job.seed)
    runway = result["runway_months"]
    last_year = result["prob_cash_out_by_year"][-1]
    return {
        "status": "ok",
        "runway_months_p10": runway["p10"],
        "runway_months_p50": runway["p50"],
        "runway_months_p90": runway["p90"],
        "prob_cash_out": last_year["probability"],
        "break_even_share": result["break_even_share"],
        "cash_at_horizon_end_p50": result["cash_at_horizon_end"]["p50"],
    }
