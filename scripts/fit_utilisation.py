"""Fit gpuplan's utilisation model on the calibration data and write its JSON.

Usage (from the repository root)::

    PYTHONPATH=src python3 scripts/fit_utilisation.py [CALIBRATION_DIR] [--check]

CALIBRATION_DIR defaults to the nearest shared/reference/calibration above the repository.
Rows used:

* ``training_runs.csv`` rows with usable GPU-hours (reported or derived) become 'run_hours'
  rows: effective MFU = training FLOPs ÷ (peak × GPU-hours × 3600); rows with a measured MFU
  become 'mfu' rows. Model shapes, sequence lengths and GPU counts the CSV lacks come from
  ``scripts/data/calibration_details.csv`` (each with its source; assumptions are labelled);
  that file also says which rows are not usable and why.
* ``training_throughput_benchmarks.csv`` (llm-foundry) rows are 'mfu' rows; their shapes are
  in ``scripts/data/mpt_shapes.csv``.

Training FLOPs use the estimator's convention (6·N_matmul + 12·layers·width·sequence, i.e.
:meth:`Architecture.training_flops_per_token`), so the fitted MFU is the one the estimator
divides by. ``--check`` refits and exits 1 if the shipped JSON differs (used by a test).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from gpuplan.catalog.gpus import get_gpu
from gpuplan.compute.utilisation import (
    ExtrapolationPriors,
    FitRow,
    UtilisationFit,
    UtilisationInputs,
    benchmark_mfu,
    fit_coefficients,
    utilisation_inputs,
)

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
OUTPUT = ROOT / "src" / "gpuplan" / "compute" / "data" / "utilisation_fit.json"
DETAILS = Path(__file__).resolve().parent / "data"
FOUNDRY_GPU = {"h100_80gb": "h100-sxm", "a100_80gb": "a100-80gb", "a100_40gb": "a100-40gb"}
PAPER_MFU_PARAMS = {
    # Parameters of the 'mfu' rows that training_runs.csv leaves blank or states per row.
    "Megatron-Core GPT-3 175B strong scaling (benchmark) 96": 175e9,
    "Megatron-Core GPT-3 175B strong scaling (benchmark) 4608": 175e9,
}
FIT_DATE = date(2026, 11, 29)

# Priors for what the data cannot show (labelled assumptions; see docs/training.md).
PRIORS = {
    "unseen_generation_sigma": 0.10,
    "unseen_precision_sigma": 0.25,
    "fp8_sigma": 0.10,
    "moe_sigma": 0.15,
    "per_doubling_sigma": 0.05,
    "moe_time_factor": 1.2,
    "moe_source": (
        "ASSUMPTION: no MoE run in the calibration data. Expert all-to-all, load imbalance "
        "and grouped GEMMs are taken to cost +20% step time over a dense model of equal "
        "model FLOPs, with +0.15 log-sigma."
    ),
}


@dataclass(frozen=True)
class CalibrationRow:
    """One row ready for the fit: its inputs and its observed (effective) MFU."""

    label: str
    kind: str
    gpu: str
    precision: str
    generation: str
    peak_flops: float
    bf16_peak_flops: float
    memory_bandwidth: float
    hidden_size: float
    attention_share: float
    gpus: float
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


def _flops_per_token(
    params: float, hidden: float, layers: float, vocab: float, tied: bool, seq_len: float
) -> tuple[float, float]:
    """(training FLOPs per token, matmul params): 6·N_matmul + 12·L·h·s."""
    matmul = params if tied else params - vocab * hidden
    return 6.0 * matmul + 12.0 * layers * hidden * seq_len, matmul


def load_calibration_rows(directory: Path = DEFAULT_CALIBRATION) -> list[CalibrationRow]:
    """Every usable calibration row (paper runs, paper MFUs, llm-foundry benchmarks)."""
    runs = pd.read_csv(directory / "training_runs.csv").set_index("model")
    details = pd.read_csv(DETAILS / "calibration_details.csv", keep_default_na=False)
    rows: list[CalibrationRow] = []
    for item in details.itertuples():
        if item.usable != "yes":
            continue
        gpu = get_gpu(str(item.gpu))
        if item.kind == "run_hours":
            run = runs.loc[item.key]
            params = float(run.params_total_b) * 1e9
            hours = float(run.gpu_hours if pd.notna(run.gpu_hours) else run.derived_gpu_hours)
            tokens = float(run.tokens_trained)
            source = str(run.source)
        else:
            params = (
                PAPER_MFU_PARAMS.get(item.key) or float(runs.loc[item.key].params_total_b) * 1e9
            )
            source = str(item.source)
            hours = tokens = float("nan")
        flops, matmul = _flops_per_token(
            params,
            float(item.hidden_size),
            float(item.num_layers),
            float(item.vocab_size),
            item.tied_embeddings == "true",
            float(item.seq_len),
        )
        peak = gpu.peak_flops(str(item.precision))
        observed = (
            flops * tokens / (peak * hours * 3600.0)
            if item.kind == "run_hours"
            else float(item.mfu)
        )
        rows.append(
            CalibrationRow(
                label=str(item.key),
                kind=str(item.kind),
                gpu=gpu.id,
                precision=str(item.precision),
                generation=gpu.generation,
                peak_flops=peak,
                bf16_peak_flops=gpu.peak_flops("bf16"),
                memory_bandwidth=gpu.memory_bandwidth_bytes_per_s,
                hidden_size=float(item.hidden_size),
                attention_share=1.0 - 6.0 * matmul / flops,
                gpus=float(item.gpus),
                params=params,
                observed_mfu=observed,
                source=source,
                matmul_params=matmul,
                flops_per_token=flops,
                num_layers=float(item.num_layers),
                vocab_size=float(item.vocab_size),
                seq_len=float(item.seq_len),
                tokens=tokens,
                reported_gpu_hours=hours,
            )
        )
    rows.extend(_foundry_rows(directory))
    return rows


def _foundry_rows(directory: Path) -> list[CalibrationRow]:
    bench = pd.read_csv(directory / "training_throughput_benchmarks.csv")
    shapes = pd.read_csv(DETAILS / "mpt_shapes.csv").set_index("model")
    rows = []
    for item in bench.itertuples():
        shape = shapes.loc[item.model]
        gpu = get_gpu(FOUNDRY_GPU[str(item.gpu)])
        precision = "fp8" if "fp8" in str(item.precision) else "bf16"
        # llm-foundry's MFU counts 6·N (N with embeddings, tied) + 12·L·h·s: same convention.
        flops, matmul = _flops_per_token(
            float(item.num_params),
            float(shape.hidden_size),
            float(shape.num_layers),
            float(shape.vocab_size),
            True,
            float(item.seq_len),
        )
        rows.append(
            CalibrationRow(
                label=f"llm-foundry {item.model} {item.gpu} {precision} s={item.seq_len} "
                f"n={item.num_gpus}",
                kind="mfu",
                gpu=gpu.id,
                precision=precision,
                generation=gpu.generation,
                peak_flops=gpu.peak_flops(precision),
                bf16_peak_flops=gpu.peak_flops("bf16"),
                memory_bandwidth=gpu.memory_bandwidth_bytes_per_s,
                hidden_size=float(shape.hidden_size),
                attention_share=1.0 - 6.0 * matmul / flops,
                gpus=float(item.num_gpus),
                params=float(item.num_params),
                observed_mfu=float(item.mfu_pct) / 100.0,
                source=str(item.source),
                matmul_params=matmul,
                flops_per_token=flops,
                num_layers=float(shape.num_layers),
                vocab_size=float(shape.vocab_size),
                seq_len=float(item.seq_len),
                tokens=float("nan"),
                reported_gpu_hours=float("nan"),
            )
        )
    return rows


def rows_to_inputs(rows: list[CalibrationRow]) -> UtilisationInputs:
    return utilisation_inputs(
        peak_flops=[r.peak_flops for r in rows],
        bf16_peak_flops=[r.bf16_peak_flops for r in rows],
        memory_bandwidth=[r.memory_bandwidth for r in rows],
        hidden_size=[r.hidden_size for r in rows],
        attention_share=[r.attention_share for r in rows],
        gpus=[r.gpus for r in rows],
    )


def fit_rows(rows: list[CalibrationRow], data: str = "calibration") -> UtilisationFit:
    """Fit the coefficients and goodput on ``rows`` and measure the residual spreads."""
    x = rows_to_inputs(rows)
    is_run = np.array([r.kind == "run_hours" for r in rows])
    observed = np.array([r.observed_mfu for r in rows])
    coefficients, goodput = fit_coefficients(x, observed, is_run, np.ones(len(rows)))
    priors = ExtrapolationPriors(
        fitted_generations=tuple(sorted({r.generation for r in rows})),
        fitted_precisions=("bf16", "fp16"),
        max_fitted_gpus=max(r.gpus for r in rows),
        max_fitted_params=max(r.params for r in rows),
        **PRIORS,  # type: ignore[arg-type]
    )
    draft = UtilisationFit(
        fit_date=FIT_DATE,
        script="scripts/fit_utilisation.py",
        data=data,
        formula="see gpuplan.compute.utilisation module docstring",
        coefficients=coefficients,
        goodput=goodput,
        run_log_sigma=1.0,
        run_count=int(is_run.sum()),
        band_z=float(student_t.ppf(0.9, int(is_run.sum()) - 1)),
        benchmark_log_sigma=1.0,
        extrapolation=priors,
        rows=[],
    )
    predicted = benchmark_mfu(x, draft) * np.where(is_run, goodput, 1.0)
    residual = np.log(observed / predicted)
    fit_rows_out = [
        FitRow(
            label=r.label,
            kind=r.kind,
            gpu=r.gpu,
            precision=r.precision,
            gpus=r.gpus,
            observed_mfu=round(r.observed_mfu, 5),
            predicted_mfu=round(float(p), 5),
            log_residual=round(float(e), 5),
            source=r.source,
        )
        for r, p, e in zip(rows, predicted, residual, strict=True)
    ]
    return draft.model_copy(
        update={
            "run_log_sigma": float(np.std(residual[is_run], ddof=1)),
            "benchmark_log_sigma": float(np.std(residual[~is_run], ddof=1)),
            "rows": fit_rows_out,
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("calibration", nargs="?", type=Path, default=DEFAULT_CALIBRATION)
    parser.add_argument("--check", action="store_true", help="compare with the shipped JSON")
    args = parser.parse_args(argv)
    rows = load_calibration_rows(args.calibration)
    fit = fit_rows(rows, data=f"{len(rows)} rows of shared/reference/calibration")
    text = json.dumps(fit.model_dump(mode="json"), indent=1) + "\n"
    if args.check:
        shipped = json.loads(OUTPUT.read_text(encoding="utf-8"))
        same = np.allclose(
            list(shipped["coefficients"].values()),
            list(fit.coefficients.model_dump().values()),
            rtol=1e-3,
        )
        print("shipped fit matches a refit" if same else "shipped fit differs from a refit")
        return 0 if same else 1
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    k = fit.coefficients
    print(f"wrote {OUTPUT.relative_to(ROOT)} from {len(rows)} rows")
    print(
        f"a={k.base:.3f} b={k.memory:.3f} c={k.memory_width:.3f} a_attn={k.attention:.3f} "
        f"k_n={k.scale_out:.4f} goodput={fit.goodput:.3f} run sigma={fit.run_log_sigma:.3f} "
        f"benchmark sigma={fit.benchmark_log_sigma:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
