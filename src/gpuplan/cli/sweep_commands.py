"""``gpuplan sweep``: many plan or simulate jobs over a grid or sampled inputs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer

from gpuplan.cli import app
from gpuplan.cli.common import JSON, OVERRIDE, handle_errors, print_json, print_table, whole_number
from gpuplan.cli.runs_commands import DB, SAVE, save_run

if TYPE_CHECKING:
    from gpuplan.sweep.engines import Engine
    from gpuplan.sweep.jobs import SweepJob, What


@app.command("sweep")
@handle_errors
def sweep_command(
    scenario: str = typer.Argument(..., help="Scenario YAML or preset name."),
    grid: list[str] = typer.Option(
        [],
        "--grid",
        "-g",
        help="PATH=V1,V2,... (repeatable): every combination becomes a job, e.g. "
        "--grid horizon.discount_rate=0.08,0.12 --grid inference.chat-eu.peak_factor=1.5,2.",
    ),
    samples: str | None = typer.Option(
        None,
        "--samples",
        "-n",
        help="Instead of a grid: N jobs, each with the scenario's declared ranges "
        "(outside 'company') fixed to one seeded draw.",
    ),
    what: str = typer.Option("plan", "--what", help="What each job runs: plan or simulate."),
    engine: str = typer.Option(
        "local", "--engine", help="local (process pool) or ray (needs gpuplan[ray])."
    ),
    workers: str = typer.Option("1", "--workers", "-w", help="Local processes or Ray CPUs."),
    address: str | None = typer.Option(
        None, "--address", help="A running Ray cluster (e.g. ray://host:10001); with --engine ray."
    ),
    retries: int = typer.Option(2, "--retries", help="Retries of a job that crashes."),
    seed: int = typer.Option(0, "--seed", help="Seed of the sampled inputs and of simulate."),
    mc_samples: str = typer.Option(
        "1000", "--mc-samples", help="Monte Carlo samples of each simulate job."
    ),
    override: list[str] = OVERRIDE,
    out: Path | None = typer.Option(
        None, "--out", help="Results table: .parquet (with a .csv twin) or .csv."
    ),
    as_json: bool = JSON,
    save: bool = SAVE,
    db: str | None = DB,
) -> None:
    """Run many plan or simulate jobs (what-if grids, sampled futures) on a local process pool
    or on Ray; a job that fails says why in its row and the sweep goes on."""
    from gpuplan.errors import InputError
    from gpuplan.humanize import label
    from gpuplan.store.saving import RunTimer, sweep_record
    from gpuplan.sweep import results_table, summary, sweep_jobs, write_table

    if what not in ("plan", "simulate"):
        raise InputError("--what", f"must be plan or simulate (got '{what}').")
    if engine not in ("local", "ray"):
        raise InputError("--engine", f"must be local or ray (got '{engine}').")
    if bool(grid) == (samples is not None):
        raise InputError("--grid/--samples", "give either --grid PATH=V1,V2 or --samples N.")
    if seed < 0:
        raise InputError("--seed", f"must be a non-negative integer (got {seed}).")
    timer = RunTimer()
    kind = cast("What", what)
    futures = whole_number(samples, "--samples") if samples is not None else None
    mc = whole_number(mc_samples, "--mc-samples")
    jobs = sweep_jobs(scenario, override, grid=grid, futures=futures, what=kind, samples=mc,
                      seed=seed)  # fmt: skip
    count = whole_number(workers, "--workers")
    rows = _run_with_progress(jobs, cast("Engine", engine), count, retries, address)
    table = results_table(rows)
    written = write_table(table, out) if out is not None else []
    result = summary(table)
    if save:
        request = {"scenario": scenario, "grid": grid, "futures": futures, "what": what,
                   "samples": mc, "seed": seed, "overrides": override}
        save_run(db, "sweep", f"sweep of {scenario}", request, sweep_record(table), timer,
                 scenario=scenario, overrides=override, seed=seed)
    if as_json:
        print_json({**result, "files": [str(p) for p in written], "rows": table.to_dict("records")})
        return
    print_table(
        f"Sweep of {scenario}: {result['jobs']:,} {what} jobs on {engine}",
        ["status", "jobs"],
        sorted(result["by_status"].items()),
    )
    if any(q["p50"] is not None for q in result["metrics"].values()):
        print_table(
            "Metrics over the jobs that ran (P10 / P50 / P90)",
            ["metric", "P10", "P50", "P90"],
            [
                [label(name), *(_metric_text(name, q[k]) for k in ("p10", "p50", "p90"))]
                for name, q in result["metrics"].items()
            ],
        )
    failed = table[~table["status"].isin(["optimal", "time_limit", "ok"])]
    if len(failed):
        print_table(
            "Jobs that did not run",
            ["job", "status", "why"],
            failed[["job", "status", "error"]].head(10).values.tolist(),
        )
    for path in written:
        typer.echo(f"Wrote {path}")


def _metric_text(name: str, value: float | None) -> str:
    """Money as ``$1.2B``, shares as ``98%``, months and gaps as read."""
    from gpuplan import humanize

    if value is None:
        return "-"
    if name.endswith("_usd") or name.startswith("cash"):
        return humanize.money(value)
    if name.startswith(("prob", "break_even_share", "integrality_gap")):
        return humanize.percent(value, 1)
    if name.startswith("runway"):
        return f"{value:.1f} months"
    return humanize.count(value)


def _run_with_progress(
    jobs: list[SweepJob], engine: Engine, workers: int, retries: int, address: str | None
) -> list[dict[str, Any]]:
    """Run the jobs with a progress bar on standard error (when it is a terminal)."""
    from gpuplan.cli.progress_display import progress_display
    from gpuplan.sweep import run_jobs

    with progress_display(f"sweep of {len(jobs):,} jobs") as show:
        return run_jobs(jobs, engine, workers, retries, address, show)
