"""Calibration rows for the utilisation fit: published runs, paper MFUs, llm-foundry.

Reads ``training_runs.csv`` and ``training_throughput_benchmarks.csv`` (shared calibration
directory), ``data/training_runs_extra.csv`` (further cited runs, same layout),
``data/calibration_details.csv`` (shapes, sequence lengths, GPU counts and whether they are
stated, batch, software year, scope; each with its source) and ``data/mpt_shapes.csv``.
Used by ``fit_utilisation.py`` and ``benchmarks/training_accuracy.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from gpuplan.catalog.gpus import get_gpu
from gpuplan.compute.training_memory import min_gpus_for_memory
from gpuplan.compute.utilisation import BatchRule, default_global_batch_tokens, fit_batch_rule

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CALIBRATION = next(
    (
        parent / "shared" / "reference" / "calibration"
        for parent in ROOT.parents
        if (parent / "shared" / "reference" / "calibration").is_dir()
    ),
    ROOT.parent / "shared" / "reference" / "calibration",
)
"""The nearest ``shared/reference/calibration`` above the repository (../shared)."""
DETAILS = Path(__file__).resolve().parent / "data"
FOUNDRY_GPU = {"h100_80gb": "h100-sxm", "a100_80gb": "a100-80gb", "a100_40gb": "a100-40gb"}
FOUNDRY_YEAR = 2023
"""llm-foundry benchmark table (commit 49521837, 2023)."""
PAPER_MFU_PARAMS = {
    # Parameters of the 'mfu' rows that training_runs.csv leaves blank or states per row.
    "Megatron-Core GPT-3 175B strong scaling (benchmark) 96": 175e9,
    "Megatron-Core GPT-3 175B strong scaling (benchmark) 4608": 175e9,
}


@dataclass(frozen=True)
class CalibrationRow:
    """One row ready for the fit: its inputs and its observed (effective) MFU."""

    label: str
    org: str
    kind: str
    scope: str
    gpu: str
    precision: str
    generation: str
    peak_flops: float
    bf16_peak_flops: float
    memory_bandwidth: float
    hidden_size: float
    attention_share: float
    gpus: float
    gpus_per_replica: float
    global_batch_tokens: float
    year: int
    is_moe: bool
    params: float
    observed_mfu: float
    source: str
    matmul_params: float
    flops_per_token: float
    num_layers: float
    vocab_size: float
    seq_len: float
    tokens: float
    """Tokens trained (run rows; NaN for MFU rows)."""
    reported_gpu_hours: float
    """Published GPU-hours (run rows; NaN for MFU rows)."""
    gpus_stated: bool = True
    """False where the source gives no GPU count (the row's ``gpus`` is an assumption)."""
    batch_stated: bool = True
    """False where the source gives no batch (``global_batch_tokens`` from the batch rule)."""
    tensor_parallel: float = float("nan")
    """Published layout (``data/parallel_layouts.csv``); NaN = not published: the default
    layout of :mod:`gpuplan.compute.model_parallel`."""
    pipeline_parallel: float = float("nan")
    context_parallel: float = float("nan")
    micro_batch_sequences: float = float("nan")
    """Sequences per micro-batch where the source states it (NaN: 1)."""


def _flops_per_token(
    params: float, hidden: float, layers: float, vocab: float, tied: bool, seq_len: float
) -> tuple[float, float]:
    """(training FLOPs per token, matmul params): 6·N_matmul + 12·L·h·s."""
    matmul = params if tied else params - vocab * hidden
    return 6.0 * matmul + 12.0 * layers * hidden * seq_len, matmul


def _replica_gpus(
    gpu_id: str, params: float, hidden: float, layers: float, vocab: float, seq_len: float
) -> float:
    """GPUs per data-parallel replica: the memory minimum (ZeRO-3 state + activations)."""
    gpu = get_gpu(gpu_id)
    return float(
        min_gpus_for_memory(
            params_total=params,
            hidden_size=hidden,
            num_layers=layers,
            vocab_size=vocab,
            seq_len=seq_len,
            gpu_memory_bytes=gpu.memory_bytes,
            scaleup_domain=float(gpu.scaleup_domain),
        )
    )


LAYOUT_COLUMNS = ("tensor_parallel", "pipeline_parallel", "context_parallel")


@cache
def parallel_layouts_table() -> pd.DataFrame:
    """``data/parallel_layouts.csv`` as published, read once (degrees blank where unstated)."""
    return pd.read_csv(DETAILS / "parallel_layouts.csv")


def published_layouts() -> dict[str, dict[str, float]]:
    """Each run's published layout by run name (``data/parallel_layouts.csv``): degrees
    left blank in a stated layout are 1; rows stating no degree (sharding only) are left
    out, so those runs take the default layout."""
    layouts = {}
    for item in parallel_layouts_table().itertuples():
        degrees = {c: getattr(item, c) for c in LAYOUT_COLUMNS}
        if all(pd.isna(v) for v in degrees.values()):
            continue
        layouts[str(item.run)] = {c: 1.0 if pd.isna(v) else float(v) for c, v in degrees.items()}
        layouts[str(item.run)]["micro_batch_sequences"] = float(item.micro_batch_sequences)
    return layouts


def _published_runs(directory: Path) -> pd.DataFrame:
    shared = pd.read_csv(directory / "training_runs.csv")
    extra = pd.read_csv(DETAILS / "training_runs_extra.csv")
    return pd.concat([shared, extra], ignore_index=True).set_index("model")


def load_calibration_rows(directory: Path = DEFAULT_CALIBRATION) -> list[CalibrationRow]:
    """Every usable calibration row (paper runs, paper MFUs, llm-foundry benchmarks)."""
    runs = _published_runs(directory)
    details = pd.read_csv(DETAILS / "calibration_details.csv", keep_default_na=False)
    rows: list[CalibrationRow] = []
    for item in details.itertuples():
        if item.usable != "yes":
            continue
        gpu = get_gpu(str(item.gpu))
        run = runs.loc[item.key] if item.key in runs.index else None
        if item.kind == "run_hours":
            assert run is not None
            hours = float(run.gpu_hours if pd.notna(run.gpu_hours) else run.derived_gpu_hours)
            tokens = float(run.tokens_trained)
            source = str(run.source)
        else:
            source = str(item.source)
            hours = tokens = float("nan")
        params = PAPER_MFU_PARAMS.get(item.key) or float(run.params_total_b) * 1e9  # type: ignore[union-attr]
        active = (
            float(run.params_active_b) * 1e9
            if run is not None and pd.notna(run.params_active_b)
            else params
        )
        hidden, layers, vocab = (
            float(item.hidden_size),
            float(item.num_layers),
            float(item.vocab_size),
        )
        seq_len = float(item.seq_len)
        flops, matmul = _flops_per_token(
            active, hidden, layers, vocab, item.tied_embeddings == "true", seq_len
        )
        peak = gpu.peak_flops(str(item.precision))
        observed = (
            flops * tokens / (peak * hours * 3600.0)
            if item.kind == "run_hours"
            else float(item.mfu)
        )
        batch = float(item.global_batch_tokens) if item.global_batch_tokens else np.nan
        rows.append(
            CalibrationRow(
                label=str(item.key),
                org=str(run.org) if run is not None else "NVIDIA",
                kind=str(item.kind),
                scope=str(item.scope),
                gpu=gpu.id,
                precision=str(item.precision),
                generation=gpu.generation,
                peak_flops=peak,
                bf16_peak_flops=gpu.peak_flops("bf16"),
                memory_bandwidth=gpu.memory_bandwidth_bytes_per_s,
                hidden_size=hidden,
                attention_share=1.0 - 6.0 * matmul / flops,
                gpus=float(item.gpus),
                gpus_per_replica=_replica_gpus(gpu.id, params, hidden, layers, vocab, seq_len),
                global_batch_tokens=batch,
                year=int(item.year),
                is_moe=active < params,
                params=params,
                observed_mfu=observed,
                source=source,
                matmul_params=matmul,
                flops_per_token=flops,
                num_layers=layers,
                vocab_size=vocab,
                seq_len=seq_len,
                tokens=tokens,
                reported_gpu_hours=hours,
                gpus_stated=item.gpus_stated == "yes",
                batch_stated=bool(item.global_batch_tokens),
            )
        )
    rows.extend(_foundry_rows(directory))
    layouts = published_layouts()
    rows = [replace(r, **layouts[r.label]) if r.label in layouts else r for r in rows]
    rule = batch_rule(rows)
    return [
        r
        if r.batch_stated
        else replace(
            r,
            global_batch_tokens=float(
                default_global_batch_tokens(r.flops_per_token * r.tokens, rule)
            ),
        )
        for r in rows
    ]


def batch_rule(rows: list[CalibrationRow]) -> BatchRule:
    """B = k·C^α fitted on the published runs that state their batch."""
    stated = [r for r in rows if r.kind == "run_hours" and r.batch_stated]
    k, alpha = fit_batch_rule(
        [r.flops_per_token * r.tokens for r in stated], [r.global_batch_tokens for r in stated]
    )
    return BatchRule(coefficient=k, exponent=alpha, runs=len(stated))


def _foundry_rows(directory: Path) -> list[CalibrationRow]:
    bench = pd.read_csv(directory / "training_throughput_benchmarks.csv")
    shapes = pd.read_csv(DETAILS / "mpt_shapes.csv").set_index("model")
    rows = []
    for item in bench.itertuples():
        shape = shapes.loc[item.model]
        gpu = get_gpu(FOUNDRY_GPU[str(item.gpu)])
        precision = "fp8" if "fp8" in str(item.precision) else "bf16"
        hidden, layers, vocab = (
            float(shape.hidden_size),
            float(shape.num_layers),
            float(shape.vocab_size),
        )
        # llm-foundry's MFU counts 6·N (N with embeddings, tied) + 12·L·h·s: same convention.
        flops, matmul = _flops_per_token(
            float(item.num_params), hidden, layers, vocab, True, float(item.seq_len)
        )
        rows.append(
            CalibrationRow(
                label=f"llm-foundry {item.model} {item.gpu} {precision} s={item.seq_len} "
                f"n={item.num_gpus}",
                org="MosaicML",
                kind="mfu",
                scope="step_time",
                gpu=gpu.id,
                precision=precision,
                generation=gpu.generation,
                peak_flops=gpu.peak_flops(precision),
                bf16_peak_flops=gpu.peak_flops("bf16"),
                memory_bandwidth=gpu.memory_bandwidth_bytes_per_s,
                hidden_size=hidden,
                attention_share=1.0 - 6.0 * matmul / flops,
                gpus=float(item.num_gpus),
                gpus_per_replica=_replica_gpus(
                    gpu.id, float(item.num_params), hidden, layers, vocab, float(item.seq_len)
                ),
                global_batch_tokens=float(item.global_batch_tokens),
                year=FOUNDRY_YEAR,
                is_moe=False,
                params=float(item.num_params),
                observed_mfu=float(item.mfu_pct) / 100.0,
                source=str(item.source),
                matmul_params=matmul,
                flops_per_token=flops,
                num_layers=layers,
                vocab_size=vocab,
                seq_len=float(item.seq_len),
                tokens=float("nan"),
                reported_gpu_hours=float("nan"),
            )
        )
    return rows


def reference_year(rows: list[CalibrationRow]) -> int:
    """Today's stack: the newest software year in the data."""
    return max(r.year for r in rows)
