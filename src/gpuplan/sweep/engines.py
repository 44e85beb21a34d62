"""Where a sweep's jobs run: in this process, on a local process pool, or on Ray.

Every engine returns the same table for the same jobs (rows in job order; only the timing
columns differ). A job that raises an unexpected exception, or whose worker dies, is retried
up to ``retries`` times and then recorded as ``failed`` with the reason; the sweep goes on.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal

from gpuplan.errors import InputError
from gpuplan.progress import ProgressCallback, silent
from gpuplan.sweep.jobs import SweepJob
from gpuplan.sweep.run import failed_row, run_job

Engine = Literal["local", "ray"]


def run_jobs(
    jobs: Sequence[SweepJob],
    engine: Engine = "local",
    workers: int = 1,
    retries: int = 2,
    address: str | None = None,
    progress: ProgressCallback = silent,
) -> list[dict[str, Any]]:
    """The results rows of ``jobs`` in job order, run on ``engine`` with ``workers``
    processes (local) or on the Ray cluster at ``address`` (a local one when ``None``)."""
    if workers < 1:
        raise InputError("workers", f"must be at least 1 (got {workers}).")
    if retries < 0:
        raise InputError("retries", f"must be 0 or more (got {retries}).")
    if engine == "ray":
        rows = _run_ray(jobs, workers, retries, address, progress)
    elif address is not None:
        raise InputError("address", "names a Ray cluster; use it with --engine ray.")
    elif workers == 1:
        rows = _run_here(jobs, retries, progress)
    else:
        rows = _run_pool(jobs, workers, retries, progress)
    return sorted(rows, key=lambda row: row["job"])


def _report(progress: ProgressCallback, done: int, total: int) -> None:
    progress(f"{done:,} of {total:,} jobs", done / total)


def _run_here(
    jobs: Sequence[SweepJob], retries: int, progress: ProgressCallback
) -> list[dict[str, Any]]:
    rows = []
    for n, job in enumerate(jobs):
        for attempt in range(1, retries + 2):
            try:
                rows.append({**run_job(job), "attempts": attempt})
                break
            except Exception as error:  # recorded in the job's row
                if attempt > retries:
                    rows.append({**failed_row(job, error, attempt), "attempts": attempt})
        _report(progress, n + 1, len(jobs))
    return rows


def _run_pool(
    jobs: Sequence[SweepJob], workers: int, retries: int, progress: ProgressCallback
) -> list[dict[str, Any]]:
    """A process pool; a pool broken by a dying worker is replaced and its jobs retried.

    Workers are spawned, not forked: a fork of a process holding threads (a solver, Ray) can
    deadlock."""
    attempts = {job.job_id: 0 for job in jobs}
    pending = list(jobs)
    rows: list[dict[str, Any]] = []
    while pending:
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
            futures: list[tuple[SweepJob, Future[dict[str, Any]]]] = [
                (job, pool.submit(run_job, job)) for job in pending
            ]
            pending = []
            for job, future in futures:
                attempts[job.job_id] += 1
                try:
                    rows.append({**future.result(), "attempts": attempts[job.job_id]})
                except Exception as error:  # retried, then recorded
                    if attempts[job.job_id] > retries:
                        rows.append(
                            {
                                **failed_row(job, error, attempts[job.job_id]),
                                "attempts": attempts[job.job_id],
                            }
                        )
                    else:
                        pending.append(job)
                    if isinstance(error, BrokenProcessPool):
                        continue
                _report(progress, len(rows), len(jobs))
    return rows


def _run_ray(
    jobs: Sequence[SweepJob],
    workers: int,
    retries: int,
    address: str | None,
    progress: ProgressCallback,
) -> list[dict[str, Any]]:
    """Ray tasks with Ray's own retries (``max_retries`` for dead workers,
    ``retry_exceptions`` for raised ones); a local Ray of ``workers`` CPUs when no address."""
    try:
        import ray
    except ImportError:
        raise InputError(
            "engine",
            "ray is not installed; install the optional extra with "
            "pip install 'gpuplan[ray]', or use --engine local.",
        ) from None
    started_here = not ray.is_initialized()
    if started_here:
        options: dict[str, Any] = {"address": address, "log_to_driver": False}
        if address is None:
            options.update(num_cpus=workers, include_dashboard=False, runtime_env=_same_gpuplan())
        try:
            ray.init(**options)
        except ConnectionError as error:
            raise InputError(
                "address", f"cannot reach a Ray cluster at {address}: {error}"
            ) from None
    try:
        task = ray.remote(run_job).options(max_retries=retries, retry_exceptions=True)
        refs = {task.remote(job): job for job in jobs}
        rows: list[dict[str, Any]] = []
        waiting = list(refs)
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1)
            job = refs[ready[0]]
            try:
                rows.append({**ray.get(ready[0]), "attempts": None})
            except Exception as error:  # Ray's retries are spent
                rows.append({**failed_row(job, error, retries + 1), "attempts": retries + 1})
            _report(progress, len(rows), len(jobs))
        return rows
    finally:
        if started_here:
            ray.shutdown()


def _same_gpuplan() -> dict[str, Any]:
    """Ray's runtime environment that makes a local cluster's workers import the gpuplan this
    process runs (a checkout or an install), not whichever one their interpreter finds first.
    A remote cluster needs gpuplan installed on its nodes."""
    import os
    from pathlib import Path

    import gpuplan

    root = str(Path(gpuplan.__file__).resolve().parents[1])
    paths = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}}
