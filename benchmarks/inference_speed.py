"""Speed of the serving model: one estimate (target <= 1 ms) and a full deployment search
(all catalog GPUs x precisions x every (tp, ep) layout x batch 1-4,096, target <= 1 s).

Prints, per case, the best and the median wall time and the median CPU time of the calling
process (the work is single-threaded numpy). On a shared machine the best of many calls is
the idle-machine figure; a wall median above the CPU median is time spent waiting for a
core, and both medians above the best is the other processes' load slowing the core itself
(shared caches and memory bandwidth).

Run: ``PYTHONPATH=src python3 benchmarks/inference_speed.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from gpuplan.compute.deployment_search import search_deployments
from gpuplan.compute.inference import estimate_inference


def timings(call: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """(best wall, median wall, median CPU) seconds of ``repeat`` calls after a warm-up."""
    call()  # warm caches (catalog loading)
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), statistics.median(wall), statistics.median(cpu)


def main() -> None:
    cases = {
        "estimate llama-2-70b h200 tp 1": lambda: estimate_inference(
            "llama-2-70b", "h200", input_tokens=684, output_tokens=294, tp=1
        ),
        "estimate mixtral-8x7b h100 all tp/ep, TPOT 50 ms": lambda: estimate_inference(
            "mixtral-8x7b", "h100", input_tokens=1000, output_tokens=200, max_tpot_ms=50
        ),
        "estimate deepseek-v3 b200 all tp/ep": lambda: estimate_inference(
            "deepseek-v3", "b200", input_tokens=1000, output_tokens=1000
        ),
    }
    for name, call in cases.items():
        low, median, cpu = timings(call, 300)
        print(
            f"{name:<50} best {low * 1e3:5.2f} ms  median {median * 1e3:5.2f} ms  "
            f"CPU {cpu * 1e3:5.2f} ms (target 1 ms)"
        )
    for model in ("llama-2-70b", "deepseek-v3"):
        result = search_deployments(model, max_tpot_ms=50, price_per_gpu_hour=2.0)
        low, median, cpu = timings(
            lambda m=model: search_deployments(m, max_tpot_ms=50, price_per_gpu_hour=2.0), 10
        )
        print(
            f"search {model:<43} best {low * 1e3:5.1f} ms  median {median * 1e3:5.1f} ms  "
            f"CPU {cpu * 1e3:5.1f} ms (target 1 s; {result.configurations_evaluated:,} points)"
        )


if __name__ == "__main__":
    main()
