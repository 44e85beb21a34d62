"""Training estimator error against every usable published run of the calibration data.

Run: ``PYTHONPATH=src python3 benchmarks/training_accuracy.py [CALIBRATION_DIR]``

For each run with usable GPU-hours (see scripts/data/calibration_details.csv) the estimate
comes from the estimator's vectorised core (training FLOPs from the run's shape, tokens, GPU,
cluster size, sequence length) and the shipped utilisation fit. Printed: predicted vs
reported GPU-hours, signed error, inside P10-P90; then median and max |error| and the share
inside. A second pass refits the utilisation model without each run (leave-one-out) and
predicts it, so the out-of-sample error is visible too. Targets (issue 2): median |error|
<= 15%, >= 80% of runs inside P10-P90.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "scripts")]

from fit_utilisation import (  # noqa: E402
    DEFAULT_CALIBRATION,
    CalibrationRow,
    fit_rows,
    load_calibration_rows,
)
from gpuplan.catalog.gpus import get_gpu  # noqa: E402
from gpuplan.compute.training import (  # noqa: E402
    ModelShape,
    hardware_arrays,
    training_arrays,
)
from gpuplan.compute.utilisation import UtilisationFit, load_utilisation_fit  # noqa: E402


def predict(row: CalibrationRow, fit: UtilisationFit) -> tuple[float, float, float]:
    """(P10, P50, P90) GPU-hours for a run through the estimator's core: FLOPs from the
    run's shape and tokens, MFU from its GPU, precision, cluster and sequence length."""

    def one(value: float) -> np.ndarray:
        return np.array([value], dtype=float)

    shape = ModelShape(
        matmul_params=one(row.matmul_params),
        params_total=one(row.params),
        attention_flops_per_token=one(row.flops_per_token - 6.0 * row.matmul_params),
        hidden_size=one(row.hidden_size),
        num_layers=one(row.num_layers),
        vocab_size=one(row.vocab_size),
        seq_len=one(row.seq_len),
        is_moe=np.array([False]),
    )
    hardware = hardware_arrays([get_gpu(row.gpu)], [row.precision], fit)
    result = training_arrays(shape, hardware, row.tokens, one(row.gpus), fit)
    return (
        float(result.gpu_hours_p10[0]),
        float(result.gpu_hours[0]),
        float(result.gpu_hours_p90[0]),
    )


def report(title: str, rows: list[CalibrationRow], fits: list[UtilisationFit]) -> None:
    print(f"\n{title}")
    print(f"{'run':<26}{'GPU':<11}{'reported':>12}{'predicted':>12}{'error':>8}  P10-P90")
    errors, inside = [], []
    for row, fit in zip(rows, fits, strict=True):
        low, mid, high = predict(row, fit)
        reported = row.reported_gpu_hours
        error = mid / reported - 1.0
        ok = low <= reported <= high
        errors.append(error)
        inside.append(ok)
        print(
            f"{row.label[:25]:<26}{row.gpu:<11}{reported:>12,.0f}{mid:>12,.0f}{error:>+8.1%}  "
            f"{'inside ' if ok else 'OUTSIDE'} [{low:,.0f} - {high:,.0f}]"
        )
    magnitude = np.abs(errors)
    print(
        f"median |error| {np.median(magnitude):.1%}   max |error| {np.max(magnitude):.1%}   "
        f"inside P10-P90 {np.mean(inside):.0%} ({sum(inside)}/{len(inside)})"
    )


def main() -> None:
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CALIBRATION
    rows = load_calibration_rows(directory)
    runs = [r for r in rows if r.kind == "run_hours"]
    shipped = load_utilisation_fit()
    report("In-sample (shipped fit):", runs, [shipped] * len(runs))
    loo = [fit_rows([r for r in rows if r is not run]) for run in runs]
    report("Leave-one-out (refit without the run):", runs, loo)


if __name__ == "__main__":
    main()
