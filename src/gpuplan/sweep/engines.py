"""Where a sweep's jobs run: in this process, on a local process pool, or on Ray.

Every engine returns the same table for the same jobs (rows in job order; only the timing
columns differ). A job that raises an unexpected exception, or whose worker dies, is retried
up to ``retries`` times and then recorded as ``failed`` with the reason; the sweep goes on.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
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
    """A pool of warm workers: each is spawned once, imports the planner once and receives
    the sweep's scenarios once (:func:`_start_worker`); jobs then travel as their changes
    only, in chunks. A job that raises is retried; a pool broken by a dying worker is
    replaced and its unfinished jobs retried.

    Workers are spawned, not forked: a fork of a process holding threads (a solver, Ray) can
    deadlock."""
    scenarios: dict[int, Any] = {}
    for job in jobs:
        scenarios.setdefault(id(job.scenario), job.scenario)
    attempts = {job.job_id: 0 for job in jobs}
    pending = list(jobs)
    rows: list[dict[str, Any]] = []
    spawn = multiprocessing.get_context("spawn")
    while pending:
        size = max(1, min(MAX_CHUNK, len(pending) // (workers * CHUNKS_PER_WORKER)))
        chunks = [pending[i : i + size] for i in range(0, len(pending), size)]
        pending = []
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=spawn, initializer=_start_worker,
            initargs=(scenarios,),
        ) as pool:  # fmt: skip
            submitted = [
                (chunk, pool.submit(_run_chunk, [_light(job) for job in chunk]))
                for chunk in chunks
            ]
            for chunk, future in submitted:
                try:
                    answers: list[Any] = future.result()
                except Exception as error:  # the worker died or the chunk did not travel
                    answers = [error] * len(chunk)
                for job, answer in zip(chunk, answers, strict=True):
                    attempts[job.job_id] += 1
                    if isinstance(answer, dict):
                        rows.append({**answer, "attempts": attempts[job.job_id]})
                    elif attempts[job.job_id] > retries:
                        failed = failed_row(job, answer, attempts[job.job_id])
                        rows.append({**failed, "attempts": attempts[job.job_id]})
                    else:
                        pending.append(job)
                _report(progress, len(rows), len(jobs))
    return rows


MAX_CHUNK = 8
"""Most jobs sent to a worker at once (fewer round trips; small enough to balance)."""

CHUNKS_PER_WORKER = 4
"""Chunks per worker at least, so a slow chunk does not leave the other workers idle."""

_SCENARIOS: dict[int, Any] = {}
"""A pool worker's copy of the sweep's scenarios, by the key its jobs carry."""


def _start_worker(scenarios: dict[int, Any]) -> None:
    """Pool initializer: keep the scenarios and import the planner and simulator once."""
    import gpuplan.planning.api
    import gpuplan.uncertainty.montecarlo  # noqa: F401

    _SCENARIOS.update(scenarios)


def _light(job: SweepJob) -> tuple[int, SweepJob]:
    """A job without its scenario (the worker has it): its key and the rest."""
    return id(job.scenario), replace(job, scenario={})


def _run_on(scenario: Any, job: SweepJob) -> dict[str, Any]:
    """Run a job sent without its scenario (a Ray task: Ray hands the stored scenario)."""
    return run_job(replace(job, scenario=scenario))


def _run_chunk(chunk: list[tuple[int, SweepJob]]) -> list[dict[str, Any] | Exception]:
    """Run jobs in a pool worker; a job that raises hands back its exception."""
    answers: list[dict[str, Any] | Exception] = []
    for key, job in chunk:
        try:
            answers.append(run_job(replace(job, scenario=_SCENARIOS[key])))
        except Exception as error:  # retried by the parent
            answers.append(error)
    return answers


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
        task = ray.remote(_run_on).options(max_retries=retries, retry_exceptions=True)
        stored = {id(job.scenario): ray.put(job.scenario) for job in jobs}  # sent once
        refs = {task.remote(stored[key], light): job for job, (key, light) in
                zip(jobs, map(_light, jobs), strict=True)}  # fmt: skip
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
