"""Time and peak memory of 100,000 Monte Carlo samples of the mistral preset over 60 months.

Run: ``python3 benchmarks/montecarlo_speed.py`` (targets: <= 2 s on 2 cores, < 2 GB).
Prints the best of three runs (after one warm-up) in wall-clock and in CPU seconds (the
process's own time: the fair figure when other jobs share the cores), the peak Python heap
during a run (tracemalloc: numpy allocations included) and the process's peak resident
memory.
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from gpuplan.presets import load_company
from gpuplan.uncertainty.montecarlo import simulate_spec

SAMPLES = 100_000


def main() -> None:
    spec = load_company("mistral")
    simulate_spec(spec, 1_000, seed=0)  # warm-up: imports, scipy caches
    times, cpu = [], []
    for run in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = simulate_spec(spec, SAMPLES, seed=run)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    tracemalloc.start()
    simulate_spec(spec, SAMPLES, seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    runway = result.to_dict()["runway_months"]
    print(
        f"mistral preset: {SAMPLES:,} samples x {spec.horizon_months} months, "
        f"{len(result.inputs)} uncertain inputs"
    )
    print(
        f"time: best {min(times):.2f} s, runs {', '.join(f'{t:.2f}' for t in times)} s; "
        f"CPU: best {min(cpu):.2f} s (target <= 2 s)"
    )
    print(
        f"peak traced memory during a run: {peak / 1e6:.0f} MB; "
        f"process peak RSS: {rss_mb:.0f} MB (target < 2 GB)"
    )
    print(
        f"runway P10/P50/P90: {runway['p10']:.1f} / {runway['p50']:.1f} / "
        f"{runway['p90']:.1f} months"
    )


if __name__ == "__main__":
    main()
