"""Stochastic plan scaling: time and problem size as the futures grow, with and without the
batch decomposition.

Solves ``gpuplan plan --futures N`` on the default scenario (european-lab: training tokens,
the estimators' bands and inference volumes sampled from their declared ranges) for N = 10,
50, 200 by default, once as one extensive form, once in batches of 25
(``--decomposition batches``) and once in batches solved two at a time in two processes
(``--workers 2``), and prints wall seconds (sampling, building, the
deterministic plan, the stochastic plan, and the VSS and EVPI re-solves of every future) and
the CPU seconds of this process (on a shared machine, close to the wall time it would take
alone; the worker processes' CPU is not counted),
the size of the largest single solve (columns, rows, non-zeros), RP, VSS and EVPI. Run:
``python3 benchmarks/stochastic_scaling.py [N ...]``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from gpuplan.humanize import money
from gpuplan.planning.stochastic import stochastic_plan


def main(counts: list[int]) -> None:
    print("load average " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(
        f"{'futures':>8} {'method':>12} {'wall s':>8} {'CPU s':>7} {'columns':>10} {'rows':>10} "
        f"{'nonzeros':>11} {'RP':>9}  VSS, EVPI"
    )
    for n in counts:
        for method, workers in (("extensive", 1), ("batches", 1), ("batches", 2)):
            clock, cpu = time.perf_counter(), time.process_time()
            result = stochastic_plan(None, futures=n, seed=0, decomposition=method,
                                     workers=workers)  # fmt: skip
            wall, cpu = time.perf_counter() - clock, time.process_time() - cpu
            size = result.problem_size
            worth = result.worth()
            vss, evpi = (
                "n/a" if worth[k] is None else money(worth[k]) for k in ("vss_usd", "evpi_usd")
            )
            if worth["vss_usd"] is None and worth["notes"]:
                vss += f" (deterministic plan short in {result.short(result.expected_value_plan)})"
            name = method + (f" x{workers}" if workers > 1 else "")
            print(
                f"{n:>8} {name:>12} {wall:>8.1f} {cpu:>7.1f} {size['columns']:>10,} "
                f"{size['rows']:>10,} {size['nonzeros']:>11,} "
                f"{money(result.recourse_problem):>9}  {vss}, {evpi}",
                flush=True,
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 50, 200])
