"""Plan and simulate jobs of the web app: a bounded queue, one worker process per job.

Each job runs in a fresh process (``spawn``) under a CPU-time limit (``RLIMIT_CPU``), writes
its progress, result or error to the run store itself, and exits if the server that started
it dies. The server keeps at most ``max_queued`` jobs waiting or running (a full queue is
refused with :class:`QueueFull`, HTTP 429) and fails a job whose process ends without a
result, with the reason (CPU limit, killed, crashed).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

from gpuplan.store import RunStore, open_store

JOB_KINDS = ("plan", "simulate", "sweep")
MAX_SWEEP_JOBS = 200
"""The most plans or simulations one sweep from the web may hold (each under the job's
CPU-time limit together)."""
HEARTBEAT_SECONDS = 5.0
PROGRESS_INTERVAL_SECONDS = 0.5
"""Progress is written to the store at most this often (the last phase always)."""


class QueueFull(Exception):
    """The job queue holds its maximum of waiting and running jobs."""


def execute(kind: str, request: dict[str, Any], progress: Any) -> dict[str, Any]:
    """Run one job through the public API (the same functions as the CLI)."""
    import inspect

    import gpuplan
    from gpuplan.store.saving import plan_record

    scenario, overrides = request["scenario"], request.get("overrides", [])

    def reporting(function: Any) -> dict[str, Any]:
        """``progress=`` for API functions that take it (the phase is reported either way)."""
        accepts = "progress" in inspect.signature(function).parameters
        return {"progress": progress} if accepts else {}

    if kind == "sweep":
        return sweep(scenario, overrides, request, progress)
    if kind == "plan":
        progress("solving the plan", None)
        return plan_record(gpuplan.plan(scenario, overrides, **reporting(gpuplan.plan)))
    progress("running the Monte Carlo", None)
    return dict(
        gpuplan.simulate(
            scenario, request.get("samples", 10_000), request.get("seed", 0),
            request.get("sobol", False), request.get("sobol_samples", 1024), overrides,
            **reporting(gpuplan.simulate),
        )
    )


def sweep(scenario: dict[str, Any], overrides: list[str], request: dict[str, Any],
          progress: Any) -> dict[str, Any]:
    """A grid (``PATH=V1,V2`` items, as ``gpuplan sweep --grid``) or ``futures`` sampled
    futures of plan or simulate runs, run here one after the other: the summary and rows."""
    from gpuplan.errors import InputError
    from gpuplan.store.saving import sweep_record
    from gpuplan.sweep import results_table, run_jobs, sweep_jobs

    futures = int(request["futures"]) if request.get("futures") else None
    jobs = sweep_jobs(
        scenario, overrides, grid=request.get("grid") or [], futures=futures,
        what=request["what"], samples=request.get("samples", 1000), seed=request.get("seed", 0),
    )  # fmt: skip
    if len(jobs) > MAX_SWEEP_JOBS:
        raise InputError("grid", f"makes {len(jobs):,} jobs; the web app runs at most "
                         f"{MAX_SWEEP_JOBS} per sweep (use 'gpuplan sweep' for more).")
    return sweep_record(results_table(run_jobs(jobs, "local", 1, progress=progress)))


def _exit_with_parent(parent: int) -> None:
    """Stop this worker when the server process that started it is gone."""
    while True:
        if os.getppid() != parent:
            os._exit(3)
        time.sleep(0.5)


def worker_main(url: str, run_id: str, cpu_limit_seconds: int, parent: int) -> None:
    """Entry point of a job's process: run it and write the outcome to the store."""
    from gpuplan.errors import GpuplanError
    from gpuplan.store.saving import RunTimer, resolve_inputs

    resource.setrlimit(resource.RLIMIT_CPU, (cpu_limit_seconds, cpu_limit_seconds + 5))
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    store = open_store(url)
    record = store.get(run_id)
    timer = RunTimer()
    last = 0.0

    def progress(phase: str, fraction: float | None) -> None:
        nonlocal last
        if time.monotonic() - last >= PROGRESS_INTERVAL_SECONDS or fraction == 1.0:
            last = time.monotonic()
            store.progress(run_id, phase, fraction)

    try:
        resolved = resolve_inputs(record.kind, record.request["scenario"],
                                  record.request.get("overrides", []))
        if not store.start(run_id, resolved):
            return
        progress("starting", 0.0)
        result = execute(record.kind, record.request, progress)
        wall, cpu = timer.seconds()
        store.finish(run_id, result, wall, cpu)
    except GpuplanError as error:
        store.fail(run_id, str(error))
    except MemoryError:
        store.fail(run_id, "the job ran out of memory; make the scenario smaller.")
    except Exception as error:  # a bug: record it rather than leave the job running
        store.fail(run_id, f"internal error ({type(error).__name__}: {error}); please report it.")
    finally:
        store.close()


@dataclass
class JobRunner:
    """Starts queued jobs in worker processes, at most ``workers`` at a time."""

    store: RunStore
    url: str
    workers: int = 1
    max_queued: int = 8
    cpu_limit_seconds: int = 600
    _waiting: deque[str] = field(default_factory=deque)
    _running: dict[str, BaseProcess] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="gpuplan-jobs", daemon=True)
        self._thread.start()

    def submit(self, kind: str, label: str, request: dict[str, Any], seed: int | None) -> str:
        """Queue a job; raises :class:`QueueFull` when ``max_queued`` are waiting or running."""
        with self._lock:
            if len(self._waiting) + len(self._running) >= self.max_queued:
                raise QueueFull(
                    f"{self.max_queued} jobs are already waiting or running; try again when "
                    "one finishes."
                )
            run_id = self.store.create(kind, label, request, seed=seed)
            self._waiting.append(run_id)
        return run_id

    def _launch(self, run_id: str) -> None:
        context = multiprocessing.get_context("spawn")
        process = context.Process(
            target=worker_main,
            args=(self.url, run_id, self.cpu_limit_seconds, os.getpid()),
            name=f"gpuplan-job-{run_id[:8]}",
            daemon=True,
        )
        process.start()
        self._running[run_id] = process

    def _reap(self) -> None:
        for run_id, process in list(self._running.items()):
            if process.is_alive():
                continue
            process.join()
            del self._running[run_id]
            code = process.exitcode or 0
            if code == -signal.SIGXCPU or code == -signal.SIGKILL:
                reason = (
                    f"the job used its CPU-time limit of {self.cpu_limit_seconds} s and was "
                    "stopped; make the scenario smaller or raise --job-cpu-seconds."
                )
            else:
                reason = f"the job's process ended without a result (exit code {code})."
            self.store.fail(run_id, reason)  # no-op when the job saved its outcome

    def _loop(self) -> None:
        last_beat = 0.0
        while not self._stop.is_set():
            with self._lock:
                self._reap()
                while self._waiting and len(self._running) < self.workers:
                    self._launch(self._waiting.popleft())
                if time.monotonic() - last_beat > HEARTBEAT_SECONDS:
                    self.store.heartbeat([*self._waiting, *self._running])
                    last_beat = time.monotonic()
            self._stop.wait(0.1)

    def stop(self) -> None:
        """Stop the dispatcher; jobs still queued or running are failed with the reason."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            for process in self._running.values():
                process.terminate()
            for run_id in [*self._waiting, *self._running]:
                self.store.fail(run_id, "the server was stopped before this job finished.")
            self._waiting.clear()
            self._running.clear()
