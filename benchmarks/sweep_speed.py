"""Sweep speed: a 200-job plan sweep on 1 and 2 local workers, and on Ray when installed.

Prints wall seconds, jobs per second, the speed-up of 2 workers over 1, and how busy the
workers were: the seconds spent inside jobs over workers x wall (1.0: no time lost to
start-up, transfers or idling). The process pool spawns its workers, so their start-up
(importing numpy, pandas, HiGHS and gpuplan once per worker) is included. The machine's load
average is printed before and after: on a shared machine both the wall times and the
speed-up are upper and lower bounds. The jobs are sampled futures of
``benchmarks/data/sweep_small.yaml`` (60 months, a training run, two offers, an owned site).
Run: ``python3 benchmarks/sweep_speed.py [--jobs 200] [--ray]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from gpuplan.sweep import SweepJob, base_mapping, run_jobs, sampled_jobs

SCENARIO = Path(__file__).with_name("data") / "sweep_small.yaml"


def timed(label: str, jobs: list[SweepJob], workers: int = 1, **engine: Any) -> float:
    started = time.perf_counter()
    rows = run_jobs(jobs, workers=workers, **engine)
    wall = time.perf_counter() - started
    ok = sum(row["status"] == "optimal" for row in rows)
    busy = sum(row["seconds"] for row in rows) / (workers * wall)
    print(
        f"{label:<18} {wall:8.1f} s  {len(jobs) / wall:6.1f} jobs/s  workers busy {busy:4.0%}"
        f"  ({ok} optimal)",
        flush=True,
    )
    return wall


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--ray", action="store_true", help="also time a local Ray (2 CPUs)")
    args = parser.parse_args()
    jobs = sampled_jobs(base_mapping(SCENARIO), args.jobs, seed=0)
    print(f"{args.jobs} plan jobs of {SCENARIO.name}; {os.cpu_count()} CPUs, {load()}")
    one = timed("local, 1 worker", jobs)
    two = timed("local, 2 workers", jobs, workers=2)
    print(f"speed-up of 2 workers: {one / two:.2f}x")
    if args.ray:
        ray = timed("ray, 2 CPUs", jobs, engine="ray", workers=2)
        print(f"speed-up of Ray (2 CPUs) over 1 local worker: {one / ray:.2f}x")
    print(load())


if __name__ == "__main__":
    main()
