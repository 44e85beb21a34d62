"""The README's main job, timed as a user runs it: ``gpuplan plan`` on a preset.

Runs ``python3 -m gpuplan plan NAME --json`` in a fresh process (imports, catalogs,
estimators, the four baselines and the final MILP all included) ``--repeat`` times and
prints, per run, the wall time, the CPU time of the process (user + system), the NPV and
the solver's step times; then the median wall and CPU. Target: <= 10 s wall on the default
(``european-lab``) on a 2-core machine. Wall above CPU means the machine was shared.
Run: ``python3 benchmarks/planner_default.py [NAME ...] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(name: str) -> tuple[float, float, dict[str, object]]:
    """(wall s, CPU s, the plan's JSON) of one ``gpuplan plan NAME --json`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    clock = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gpuplan", "plan", name, "--json"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - clock
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 2):
        raise SystemExit(f"gpuplan plan {name} failed:\n{done.stderr}")
    return wall, cpu, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=["european-lab"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    for name in args.names:
        walls, cpus = [], []
        for n in range(args.repeat):
            wall, cpu, payload = run_once(name)
            walls.append(wall)
            cpus.append(cpu)
            npv = payload.get("npv_usd")
            print(
                f"{name} run {n + 1}: wall {wall:.1f} s, CPU {cpu:.1f} s, status "
                f"{payload['status']}, NPV {npv / 1e6 if npv is not None else float('nan'):.1f}"
                f" M USD, solver steps {payload['solve_seconds']:.1f} s"
            )
        print(
            f"{name}: median wall {statistics.median(walls):.1f} s, "
            f"median CPU {statistics.median(cpus):.1f} s (target: wall <= 10 s)"
        )


if __name__ == "__main__":
    main()
