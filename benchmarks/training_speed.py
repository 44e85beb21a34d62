"""Training estimator speed: one estimate, 100,000 vectorised estimates, `gpuplan --help`.

Run: ``PYTHONPATH=src python3 benchmarks/training_speed.py``. Targets (issue 2): a single
estimate <= 1 ms in-process, 100,000 varied estimates <= 1 s, ``gpuplan --help`` <= 0.5 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from gpuplan.compute.training import estimate_training, estimate_training_batch  # noqa: E402


def best_of(repeats: int, func: object) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    estimate_training("mixtral-8x7b", tokens=8e12, gpu="h100", gpus=1024)  # warm caches
    single = best_of(
        200, lambda: estimate_training("mixtral-8x7b", tokens=8e12, gpu="h100", gpus=1024)
    )
    print(f"single estimate (catalog model): {single * 1e3:.3f} ms")
    rng = np.random.default_rng(0)
    n = 100_000
    inputs = {
        "params": rng.uniform(1e8, 2e12, n),
        "tokens": rng.uniform(1e10, 3e13, n),
        "gpu": rng.choice(["h100-sxm", "a100-80gb", "b200", "mi300x", "h200", "tpu-v5p"], n),
        "gpus": rng.integers(8, 32768, n).astype(float),
        "precision": "bf16",
        "seq_len": rng.choice([2048, 4096, 8192, 32768], n),
    }
    batch = best_of(5, lambda: estimate_training_batch(**inputs))  # type: ignore[arg-type]
    print(f"100,000 vectorised estimates: {batch:.3f} s")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "gpuplan", "--help"]
    subprocess.run(command, env=env, capture_output=True, check=True)
    wall = best_of(5, lambda: subprocess.run(command, env=env, capture_output=True, check=True))
    print(f"gpuplan --help wall clock: {wall:.3f} s (best of 5)")


if __name__ == "__main__":
    main()
