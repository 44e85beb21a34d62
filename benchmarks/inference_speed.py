"""Speed of the serving model: one estimate (target <= 2 ms) and a full deployment search
(all catalog GPUs x precisions x tp 1, 2, 4, 8 x batch 1-8,192, target <= 1 s).

Run: ``PYTHONPATH=src python3 benchmarks/inference_speed.py``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from gpuplan.compute.deployment_search import search_deployments
from gpuplan.compute.inference import estimate_inference


def best_time(call: Callable[[], object], repeat: int) -> float:
    call()  # warm caches (catalog loading)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times), sorted(times)[len(times) // 2]


def main() -> None:
    cases = {
        "estimate llama-2-70b h200 tp 1": lambda: estimate_inference(
            "llama-2-70b", "h200", input_tokens=684, output_tokens=294, tp=1
        ),
        "estimate mixtral-8x7b h100 all tp, TPOT 50 ms": lambda: estimate_inference(
            "mixtral-8x7b", "h100", input_tokens=1000, output_tokens=200, max_tpot_ms=50
        ),
    }
    for name, call in cases.items():
        low, median = best_time(call, 200)
        print(f"{name:<48} best {low * 1e3:6.2f} ms  median {median * 1e3:6.2f} ms (target 1 ms)")
    for model in ("llama-2-70b", "deepseek-v3"):
        result = search_deployments(model, max_tpot_ms=50, price_per_gpu_hour=2.0)
        low, median = best_time(
            lambda m=model: search_deployments(m, max_tpot_ms=50, price_per_gpu_hour=2.0), 10
        )
        print(
            f"search {model:<41} best {low * 1e3:6.1f} ms  median {median * 1e3:6.1f} ms "
            f"(target 1 s; {result.configurations_evaluated:,} points)"
        )


if __name__ == "__main__":
    main()
