"""MLPerf Inference Llama 2 70B rows, grouped and predicted with the serving model.

Shared by ``scripts/fit_inference.py`` (fits the efficiency factors) and
``benchmarks/inference_accuracy.py`` (prints predicted vs reported). Reads
``/work/shared/reference/calibration/inference_mlperf_llama2_70b.csv`` (or ``--data``).

Conventions (each a published fact about the benchmark):

* throughput is output tokens/s; mean output 294.45 tokens per sample
  (mlcommons/inference language/llama2-70b/README.md, "Tokens per sample: 294.45");
* mean input tokens: ``MLPERF_MEAN_INPUT_TOKENS`` (see its note);
* Server limits p99 TTFT 2 s / TPOT 200 ms, Interactive 450 ms / 40 ms (MLPerf rules, and
  the calibration file's ``latency_constraints`` column);
* v4.1 rows labelled fp16 by NVIDIA and Dell (AMD) ran quantised weights: their
  throughput is above what bf16 can reach at the tensor peak (H100: 3,000 tok/s/GPU needs
  > 1.3 PFLOP/s against a 0.99 PFLOP/s bf16 peak), so Hopper, Ada and CDNA3 rows are read
  as fp8 and the B200 preview as fp4 (NVIDIA's MLPerf v4.1 B200 submission used FP4).
"""

from __future__ import annotations

import csv
import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gpuplan.catalog.gpus import get_gpu
from gpuplan.compute.serving_calibration import ServingCalibration
from gpuplan.compute.serving_config import resolve_config, tensor_parallel_options
from gpuplan.compute.serving_grid import LatencyTarget, best_index, evaluate_grid

DEFAULT_DATA = Path("/work/shared/reference/calibration/inference_mlperf_llama2_70b.csv")
MAPPING = Path(__file__).with_name("mlperf_accelerators.csv")
MODEL = "llama-2-70b"
MLPERF_MEAN_OUTPUT_TOKENS = 294.45
MLPERF_MEAN_INPUT_TOKENS = 684.0
"""Mean prompt length of the 24,576-sample OpenOrca set (processorca.py, max 1,024 input
tokens). Figure as given in the project brief for the MLCommons Llama 2 70B benchmark; not
re-derived here (it needs the gated dataset)."""

SCENARIO_LIMITS_MS: dict[str, tuple[float | None, float | None]] = {
    "Offline": (None, None),
    "Server": (2000.0, 200.0),
    "Interactive": (450.0, 40.0),
}
CURRENT_ROUND = "v5.1"


@dataclass(frozen=True)
class Group:
    """Median per-accelerator throughput of the rows sharing gpu, precision, scenario, round."""

    gpu_id: str
    precision: str
    scenario: str
    round: str
    max_tp: int
    reported: float
    n_rows: int
    accelerator: str

    @property
    def label(self) -> str:
        return f"{self.gpu_id} {self.precision} {self.scenario} {self.round}"


def load_mapping() -> dict[str, str]:
    with MAPPING.open(encoding="utf-8") as handle:
        return {row["accelerator"]: row["gpu_id"] for row in csv.DictReader(handle)}


def effective_precision(gpu_id: str, reported: str) -> str:
    """The weight precision a row actually ran (see the module note on fp16 labels)."""
    reported = reported.lower()
    if reported in ("fp16", "bf16"):
        return "fp4" if get_gpu(gpu_id).generation.startswith("blackwell") else "fp8"
    return reported


def load_groups(path: Path = DEFAULT_DATA) -> tuple[list[Group], list[str]]:
    """Grouped rows (the -99 accuracy target only; -99.9 repeats the same runs) and the
    accelerators skipped with the reason."""
    mapping = load_mapping()
    buckets: dict[tuple[str, str, str, str], list[dict[str, str]]] = defaultdict(list)
    skipped: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["model"] != "llama2-70b-99":
                continue
            gpu_id = mapping.get(row["accelerator"])
            if not gpu_id:
                skipped.add(row["accelerator"])
                continue
            match = re.search(r"v(\d+\.\d+)", row["benchmark"])
            round_ = f"v{match.group(1)}" if match else "unknown"
            precision = effective_precision(gpu_id, row["weight_dtype"])
            key = (gpu_id, precision, row["scenario"], round_)
            buckets[key].append(row)
    groups = []
    for (gpu_id, precision, scenario, round_), rows in sorted(buckets.items()):
        per_node = max(int(r["accelerators_per_node"]) for r in rows)
        groups.append(
            Group(
                gpu_id=gpu_id,
                precision=precision,
                scenario=scenario,
                round=round_,
                max_tp=min(per_node, get_gpu(gpu_id).scaleup_domain),
                reported=statistics.median(float(r["throughput_per_accelerator"]) for r in rows),
                n_rows=len(rows),
                accelerator=rows[0]["accelerator"],
            )
        )
    return groups, sorted(skipped)


def predict(group: Group, calibration: ServingCalibration) -> float:
    """Predicted output tokens/s per accelerator for a group (best tp and batch), 0 if
    nothing is feasible."""
    config = resolve_config(MODEL, group.gpu_id, group.precision, None, calibration)
    tp = tensor_parallel_options(config.model, config.gpu)
    tp = tp[tp <= group.max_tp]
    ttft, tpot = SCENARIO_LIMITS_MS[group.scenario]
    target = LatencyTarget(
        max_ttft_s=ttft / 1e3 if ttft else None, max_tpot_s=tpot / 1e3 if tpot else None
    )
    speed = (
        1.0
        if group.round == CURRENT_ROUND
        else calibration.fitted.software_vintage.get(f"mlperf-{group.round}", 1.0)
    )
    grid = evaluate_grid(
        config.costs,
        config.gpu,
        tp,
        MLPERF_MEAN_INPUT_TOKENS,
        MLPERF_MEAN_OUTPUT_TOKENS,
        target,
        calibration,
        speed=speed,
    )
    best = best_index(grid)
    return 0.0 if best is None else float(grid.throughput_per_gpu[best])


def signed_errors(groups: Sequence[Group], calibration: ServingCalibration) -> np.ndarray:
    """(predicted - reported) / reported per group."""
    return np.array([predict(g, calibration) / g.reported - 1.0 for g in groups])
