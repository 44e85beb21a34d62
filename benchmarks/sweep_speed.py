"""Sweep speed: a 200-job plan sweep on 1 and 2 local workers, and on Ray when installed.

Prints wall seconds, jobs per second and the speed-up of 2 workers over 1 (the process pool
spawns its workers, so start-up is included). The jobs are sampled futures of
``benchmarks/data/sweep_small.yaml`` (12 quarters, two offers). Run:
``python3 benchmarks/sweep_speed.py [--jobs 200] [--ray]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from gpuplan.sweep import SweepJob, base_mapping, run_jobs, sampled_jobs

SCENARIO = Path(__file__).with_name("data") / "sweep_small.yaml"


def timed(label: str, jobs: list[SweepJob], **engine: Any) -> float:
    started = time.perf_counter()
    rows = run_jobs(jobs, **engine)
    wall = time.perf_counter() - started
    ok = sum(row["status"] == "optimal" for row in rows)
    print(f"{label:<18} {wall:8.1f} s  {len(jobs) / wall:6.1f} jobs/s  ({ok} optimal)")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--ray", action="store_true", help="also time a local Ray (2 CPUs)")
    args = parser.parse_args()
    jobs = sampled_jobs(base_mapping(SCENARIO), args.jobs, seed=0)
    print(f"{args.jobs} plan jobs of {SCENARIO.name}")
    one = timed("local, 1 worker", jobs)
    two = timed("local, 2 workers", jobs, workers=2)
    print(f"speed-up of 2 workers: {one / two:.2f}x")
    if args.ray:
        ray = timed("ray, 2 CPUs", jobs, engine="ray", workers=2)
        print(f"speed-up of Ray (2 CPUs) over 1 local worker: {one / ray:.2f}x")


if __name__ == "__main__":
    main()
