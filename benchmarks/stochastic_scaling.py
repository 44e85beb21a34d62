"""Stochastic plan scaling: time and problem size of the extensive form as futures grow.

Solves ``gpuplan plan --futures N`` on the default scenario (european-lab: training tokens
and inference volumes sampled from their declared ranges) for N = 10, 50, 200 by default,
and prints wall seconds (sampling, building, the extensive form, and the VSS and EVPI
re-solves of every future), columns, rows and non-zeros. Run:
``python3 benchmarks/stochastic_scaling.py [N ...]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from gpuplan.planning.stochastic import stochastic_plan


def main(counts: list[int]) -> None:
    print(f"{'futures':>8} {'wall s':>8} {'columns':>10} {'rows':>10} {'nonzeros':>11}  VSS, EVPI")
    for n in counts:
        clock = time.perf_counter()
        result = stochastic_plan(None, futures=n, seed=0)
        wall = time.perf_counter() - clock
        size = result.problem_size
        print(
            f"{n:>8} {wall:>8.1f} {size['columns']:>10,} {size['rows']:>10,} "
            f"{size['nonzeros']:>11,}  ${result.vss:,.0f}, ${result.evpi:,.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 50, 200])
