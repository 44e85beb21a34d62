"""Published serving results as cases the serving model predicts: MLPerf Llama 2 70B and the
TensorRT-LLM / SGLang / vLLM serving tables.

Shared by ``scripts/fit_inference.py`` (fits the efficiency factors) and
``benchmarks/inference_accuracy.py`` (prints predicted vs reported in and out of sample).
Reads ``/work/shared/reference/calibration/inference_mlperf_llama2_70b.csv`` (MLPerf v4.1
and v5.1), ``scripts/data/inference_mlperf_llama2_70b_v5_0.csv`` (MLPerf v5.0) and
``inference_serving_tables.csv`` (or other paths).

Conventions (each a published fact about the benchmark):

* throughput is output tokens/s per GPU; MLPerf mean output 294.45 tokens per sample
  (mlcommons/inference language/llama2-70b/README.md, "Tokens per sample: 294.45");
* MLPerf Llama 2 70B mean *input* length: 222.3 tokens, the mean ``tok_input_length`` of
  the 24,576 samples of the official set (``open_orca_gpt4_tokenized_llama.sampled_24576``),
  as tabulated per sample in openshift-psap/performance-dashboard
  ``mlperf-data/summaries/llama2-70b-99.csv`` @ 67033ba (read 2026-12-02; the same file
  set's Mixtral summary reproduces the MLCommons README's 144.84 output tokens per
  sample exactly). ShareGPT's mean input in the SGLang runs is not published and is
  fitted with the factors; ShareGPT mean output = output tokens/s ÷ requests/s of the
  same row;
* MLPerf Server limits p99 TTFT 2 s / TPOT 200 ms, Interactive 450 ms / 40 ms;
* v4.1 rows labelled fp16 by NVIDIA and Dell (AMD) ran quantised weights: their
  throughput is above what bf16 can reach at the tensor peak (H100: 3,000 tok/s/GPU needs
  > 1.3 PFLOP/s against a 0.99 PFLOP/s bf16 peak), so Hopper and CDNA3 rows are read
  as fp8 and the B200 preview as fp4 (NVIDIA's MLPerf v4.1 B200 submission used FP4);
* TensorRT-LLM table rows ran at the tp given (accelerators_total), max-throughput with
  requests at infinite rate (offline); MLPerf rows pick the best tp within the node;
* the TensorRT-LLM 0.17 rows (``EXTRA_TABLES_DATA``) are predicted at current software:
  its Llama 3.1 8B and 70B tp 1 rows are within -6%..+5% of the same shapes in the v1.0
  tables (e.g. H200 8B 128/2048 25,399 vs 26,221; 70B/3.3-70B tp 1 1000/1000 2,823 vs
  2,909 tokens/s), so no separate software speed is fitted for them.
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
from gpuplan.compute.serving_grid import BATCH_GRID, LatencyTarget, best_index, evaluate_grid

CALIBRATION_DIR = Path("/work/shared/reference/calibration")
MLPERF_DATA = CALIBRATION_DIR / "inference_mlperf_llama2_70b.csv"
MLPERF_V5_0_DATA = Path(__file__).with_name("data") / "inference_mlperf_llama2_70b_v5_0.csv"
"""MLPerf Inference v5.0 closed datacenter Llama 2 70B (the shared file has v4.1 and v5.1):
every system's llama2-70b-99 Offline and Server result in MLCommons' v5.0 results table
(row IDs 5.0-00NN, as exported in openshift-psap/performance-dashboard
``mlperf-data/mlperf-5.0.csv`` @ 7cd1065d, read 2026-12-02; -99.9 repeats the -99
figures). Spot-checked against the run logs (ntuhpc/mlperf_inference_results_v5.0 @
cf354115, ``closed/NVIDIA/results/*/llama2-70b-99/Offline/performance/run_1/
mlperf_log_summary.txt``): DGX H100 31,306.8 and H200 34,988.2 tokens/s. v5.0's
Interactive runs (a separate benchmark, ``llama2-70b-interactive-99``) are not included:
the round's speed is fitted on the two scenarios of its held-out Mixtral rows, Offline
and Server (with them it was tried: docs/inference.md, The fit). The table gives no
precision: ``weight_dtype`` is NVIDIA's v5.0 llama2-70b configuration
(mlcommons/inference_results_v5.0 ``closed/NVIDIA/configs/llama2-70b/Offline/__init__.py``:
Hopper ``precision = "fp8"``, Blackwell ``precision = 'fp4'``) and FP8 for AMD's CDNA3
submissions, as in v4.1 and v5.1."""
TABLES_DATA = CALIBRATION_DIR / "inference_serving_tables.csv"
EXTRA_TABLES_DATA = Path(__file__).with_name("data") / "inference_serving_tables_extra.csv"
"""Rows added to the shared tables (same layout, each row cited): the TensorRT-LLM 0.17
perf overview's Llama 3.1 70B at tp 2-8 and Mixtral 8x22B at tp 8 (H100/H200 fp8, A100
fp16), the calibration's only tp 4-8 rows; its Llama 3.1 70B tp 1 H100 fp8 rows (70.6 GB
of weights on an 80 GB GPU: the rows where the KV-memory rule sets the batch); and the
three DeepSeek-R1 max-throughput runs of TensorRT-LLM's DeepSeek-R1 best-practice blog
(B200 fp4, H200 fp8; tp 8 with ep 8 and attention data-parallel), its only fine-grained MoE
rows. The 0.17 table's Mixtral 8x7B
and Llama 3.1 405B rows are left out: those models are in the held-out set. A row's
``batch_or_concurrency`` names the settings the run fixed: ``ep N``, ``max_batch_size N
per rank`` (the batch cap of an attention group), ``kv_cache_dtype X``."""
MAPPING = Path(__file__).with_name("benchmark_accelerators.csv")
MLPERF_MEAN_OUTPUT_TOKENS = 294.45
DATASET_INPUTS = {"mlperf-openorca": 222.3, "sharegpt": 250.0}
"""Dataset mean inputs (tokens): MLPerf's published (module note); ShareGPT's a starting
value the fit replaces. Both are stored in the calibration file's
``fit_data.mean_input_tokens``."""
FITTED_INPUTS = ("sharegpt",)
"""Datasets whose mean input is not published and is fitted with the factors."""
MODEL_IDS = {
    "llama2-70b-99": "llama-2-70b",
    "Llama-3.3-70B-Instruct": "llama-3.3-70b",
    "Llama-3.1-8B-Instruct": "llama-3.1-8b",
    "Llama-3.1-70B-Instruct": "llama-3.1-70b",
    "Mixtral-8x22B-v0.1": "mixtral-8x22b",
    "DeepSeek-R1": "deepseek-v3",
    "DeepSeek-R1-0528": "deepseek-v3",
}
"""Published model names -> catalog ids (DeepSeek-R1 and R1-0528 are DeepSeek-V3's
architecture, post-trained)."""
SCENARIO_LIMITS_MS: dict[str, tuple[float | None, float | None]] = {
    "Offline": (None, None),
    "Server": (2000.0, 200.0),
    "Interactive": (450.0, 40.0),
}
CURRENT_ROUND = "v5.1"
FIT_BATCHES = np.unique(np.round(np.geomspace(1, 8192, 160)))
"""Coarser batch grid used while fitting (steps of 6%; the best point moves <= 1-2%)."""
PREFILL_HEAVY, DECODE_HEAVY = 4.0, 0.25
"""Shape classes by input/output tokens: prefill-heavy >= 4, decode-heavy <= 0.25."""


@dataclass(frozen=True)
class Case:
    """One published throughput (median of the rows that share every setting)."""

    source: str
    model: str
    gpu_id: str
    precision: str
    scenario: str
    round: str
    tp_options: tuple[int, ...]
    output_tokens: float
    reported: float
    n_rows: int
    input_tokens: float | None = None
    input_dataset: str | None = None
    ep: int = 1
    max_batch: float | None = None
    """Batch cap per attention group the run set (``max_batch_size`` per rank); None: the
    model's own (``trtllm-bench``'s caps)."""
    kv_precision: str | None = None

    @property
    def label(self) -> str:
        shape = (
            f"{self.input_tokens:g}/{self.output_tokens:g}"
            if self.input_tokens
            else self.input_dataset
        )
        tp = "tp" + "-".join(map(str, self.tp_options[:: max(1, len(self.tp_options) - 1)]))
        tp += f" ep{self.ep}" if self.ep > 1 else ""
        tp += f" kv-{self.kv_precision}" if self.kv_precision else ""
        return (
            f"{self.model} {self.gpu_id} {self.precision} {tp} {self.scenario} {shape} {self.round}"
        )

    def mean_input(self, dataset_inputs: dict[str, float]) -> float:
        if self.input_tokens is not None:
            return self.input_tokens
        assert self.input_dataset is not None
        return dataset_inputs[self.input_dataset]

    def shape_class(self, dataset_inputs: dict[str, float]) -> str:
        ratio = self.mean_input(dataset_inputs) / self.output_tokens
        if ratio >= PREFILL_HEAVY:
            return "prefill-heavy"
        if ratio <= DECODE_HEAVY:
            return "decode-heavy"
        return "balanced"


def load_mapping() -> dict[str, str]:
    with MAPPING.open(encoding="utf-8") as handle:
        return {row["accelerator"]: row["gpu_id"] for row in csv.DictReader(handle)}


def effective_precision(gpu_id: str, reported: str) -> str:
    """The weight precision a row actually ran (see the module note on fp16 labels)."""
    reported = reported.lower()
    if reported in ("fp16", "bf16"):
        return "fp4" if get_gpu(gpu_id).generation.startswith("blackwell") else "fp8"
    return reported


def load_mlperf(path: Path = MLPERF_DATA) -> tuple[list[Case], list[str]]:
    """MLPerf Llama 2 70B cases (the -99 accuracy target only; -99.9 repeats the same runs),
    one per GPU x precision x scenario x round, and the accelerators skipped."""
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
            buckets[(gpu_id, precision, row["scenario"], round_)].append(row)
    cases = []
    for (gpu_id, precision, scenario, round_), rows in sorted(buckets.items()):
        per_node = max(int(r["accelerators_per_node"]) for r in rows)
        max_tp = min(per_node, get_gpu(gpu_id).scaleup_domain, 8)
        cases.append(
            Case(
                source="mlperf",
                model="llama-2-70b",
                gpu_id=gpu_id,
                precision=precision,
                scenario=scenario,
                round=round_,
                tp_options=tuple(range(1, max_tp + 1)),
                output_tokens=MLPERF_MEAN_OUTPUT_TOKENS,
                reported=statistics.median(float(r["throughput_per_accelerator"]) for r in rows),
                n_rows=len(rows),
                input_dataset="mlperf-openorca",
            )
        )
    return cases, sorted(skipped)


def run_settings(text: str) -> dict[str, int | float | str]:
    """The settings a table row's ``batch_or_concurrency`` fixes: ``ep N``,
    ``max_batch_size N per rank`` and ``kv_cache_dtype X`` (absent: the defaults)."""
    settings: dict[str, int | float | str] = {}
    if match := re.search(r"\bep (\d+)", text):
        settings["ep"] = int(match.group(1))
    if match := re.search(r"max_batch_size (\d+) per rank", text):
        settings["max_batch"] = float(match.group(1))
    if match := re.search(r"kv_cache_dtype (\w+)", text):
        settings["kv_precision"] = match.group(1).lower()
    return settings


def load_tables(path: Path = TABLES_DATA) -> list[Case]:
    """TensorRT-LLM max-throughput rows (known shapes) and the SGLang/vLLM offline ShareGPT
    rows (median of the two engines; mean output from tokens/s ÷ requests/s)."""
    mapping = load_mapping()
    buckets: dict[tuple[str, ...], list[dict[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row["throughput_per_accelerator"] or not row["scenario"].startswith("Offline"):
                continue
            key = (
                row["benchmark"],
                MODEL_IDS[row["model"]],
                mapping[row["accelerator"]],
                row["weight_dtype"].lower(),
                row["accelerators_total"],
                row["input_len"],
                row["output_len"],
                tuple(sorted(run_settings(row["batch_or_concurrency"]).items())),
            )
            buckets[key].append(row)
    cases = []
    for (benchmark, model, gpu_id, precision, tp, input_len, output_len, settings), rows in sorted(
        buckets.items()
    ):
        reported = statistics.median(float(r["throughput_per_accelerator"]) for r in rows)
        if input_len.isdigit():
            shape: dict[str, float | str | None] = {"input_tokens": float(input_len)}
            output = float(output_len)
        else:
            rates = [
                float(re.search(r"([\d.]+) req/s", r["batch_or_concurrency"]).group(1))
                for r in rows
            ]  # type: ignore[union-attr]
            totals = [float(r["throughput"]) for r in rows]
            output = statistics.median(t / q for t, q in zip(totals, rates, strict=True))
            shape = {"input_dataset": "sharegpt"}
        cases.append(
            Case(
                source="sglang-vllm" if benchmark.startswith("SGLang") else "trtllm",
                model=model,
                gpu_id=gpu_id,
                precision=precision,
                scenario="Offline",
                round="v0.17" if "v0.17" in benchmark else "current",
                tp_options=(int(tp),),
                output_tokens=output,
                reported=reported,
                n_rows=len(rows),
                **shape,  # type: ignore[arg-type]
                **dict(settings),  # type: ignore[arg-type]
            )
        )
    return cases


def load_cases() -> tuple[list[Case], list[str]]:
    """Every calibration case and the MLPerf accelerators not modelled."""
    mlperf, skipped = load_mlperf()
    mlperf_v5_0, skipped_v5_0 = load_mlperf(MLPERF_V5_0_DATA)
    tables = load_tables() + load_tables(EXTRA_TABLES_DATA)
    return mlperf + mlperf_v5_0 + tables, sorted({*skipped, *skipped_v5_0})


def predict(
    case: Case,
    calibration: ServingCalibration,
    dataset_inputs: dict[str, float],
    batch: np.ndarray | None = None,
) -> float:
    """Predicted output tokens/s per GPU (best tp and batch), 0 if nothing is feasible."""
    config = resolve_config(case.model, case.gpu_id, case.precision, case.kv_precision, calibration)
    allowed = tensor_parallel_options(config.model, config.gpu)
    tp = allowed[np.isin(allowed, case.tp_options)]
    if tp.size == 0:
        tp = np.array([float(t) for t in case.tp_options])
    ttft, tpot = SCENARIO_LIMITS_MS[case.scenario]
    target = LatencyTarget(
        max_ttft_s=ttft / 1e3 if ttft else None, max_tpot_s=tpot / 1e3 if tpot else None
    )
    speed = (
        calibration.fitted.software_vintage.get(f"mlperf-{case.round}", 1.0)
        if case.source == "mlperf" and case.round != CURRENT_ROUND
        else 1.0
    )
    batch = BATCH_GRID if batch is None else batch
    if case.max_batch is not None:
        batch = batch[batch <= case.max_batch]
    grid = evaluate_grid(
        config.costs,
        config.gpu,
        tp,
        case.mean_input(dataset_inputs),
        case.output_tokens,
        target,
        calibration,
        batch=batch,
        speed=speed,
        ep=np.full(tp.shape, float(case.ep)),
    )
    best = best_index(grid)
    return 0.0 if best is None else float(grid.throughput_per_gpu[best])


def signed_errors(
    cases: Sequence[Case],
    calibration: ServingCalibration,
    dataset_inputs: dict[str, float],
    batch: np.ndarray | None = None,
) -> np.ndarray:
    """(predicted - reported) / reported per case."""
    return np.array(
        [predict(c, calibration, dataset_inputs, batch) / c.reported - 1.0 for c in cases]
    )
