"""Fit the serving model's efficiency factors on MLPerf Inference Llama 2 70B results.

Rerunnable: ``PYTHONPATH=src python3 scripts/fit_inference.py [--data CSV] [--dry-run]``.
Minimises the squared log error of predicted vs reported per-accelerator throughput over the
groups of :mod:`mlperf_llama2` (one group per GPU x precision x scenario x round, the median
of its rows, so a GPU with 15 submissions weighs as much as one with 1). Writes the factors,
the fit date, the data used and every residual to
``src/gpuplan/catalog/data/inference_calibration.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import least_squares

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpuplan.compute.serving_calibration import (
    FittedFactors,
    ServingCalibration,
    default_calibration,
)
from mlperf_llama2 import (
    CURRENT_ROUND,
    DEFAULT_DATA,
    MLPERF_MEAN_INPUT_TOKENS,
    MLPERF_MEAN_OUTPUT_TOKENS,
    Group,
    load_groups,
    signed_errors,
)

OUTPUT = Path(__file__).resolve().parents[1] / "src/gpuplan/catalog/data/inference_calibration.json"

# name, lower bound, upper bound. Compute efficiency may exceed 1 by the ratio of maximum boost
# clock to the clock of the datasheet peak (H100 SXM: 1,980 / 1,830 MHz = 1.08).
PARAMETERS = (
    ("compute_efficiency.NVIDIA", 0.2, 1.08),
    ("compute_efficiency.AMD", 0.1, 1.0),
    ("fp4_compute_ratio", 0.3, 1.2),
    ("memory_efficiency", 0.5, 0.95),
    ("roofline_sharpness", 1.0, 8.0),
    ("latency_tail_factor", 1.0, 4.0),
    ("arrival_headroom", 0.6, 1.0),
    ("software_vintage.mlperf-v4.1", 0.5, 1.2),
)


def calibration_from(vector: np.ndarray, base: ServingCalibration) -> ServingCalibration:
    """A calibration whose fitted factors are ``vector`` (in PARAMETERS order)."""
    values = dict(zip((p[0] for p in PARAMETERS), vector, strict=True))
    nvidia, amd = values["compute_efficiency.NVIDIA"], values["compute_efficiency.AMD"]
    fitted = FittedFactors(
        compute_efficiency={"NVIDIA": nvidia, "AMD": amd, "default": min(nvidia, amd)},
        fp4_compute_ratio=values["fp4_compute_ratio"],
        memory_efficiency=values["memory_efficiency"],
        roofline_sharpness=values["roofline_sharpness"],
        latency_tail_factor=values["latency_tail_factor"],
        arrival_headroom=values["arrival_headroom"],
        software_vintage={"mlperf-v4.1": values["software_vintage.mlperf-v4.1"]},
    )
    return base.model_copy(update={"fitted": fitted})


def fit(groups: list[Group], base: ServingCalibration) -> ServingCalibration:
    """Least squares on log(predicted / reported); infeasible predictions count as -100%."""

    def residuals(vector: np.ndarray) -> np.ndarray:
        errors = signed_errors(groups, calibration_from(vector, base))
        return np.log(np.maximum(errors + 1.0, 0.05))

    lower = np.array([p[1] for p in PARAMETERS])
    upper = np.array([p[2] for p in PARAMETERS])
    # The objective has kinks (best batch and tp switch), so start from several points.
    starts = (
        [0.7, 0.5, 0.7, 0.8, 2.0, 1.5, 0.9, 0.85],
        [0.9, 0.6, 0.8, 0.8, 4.0, 2.5, 0.95, 0.85],
        [1.0, 0.7, 0.75, 0.7, 1.5, 3.0, 1.0, 0.8],
        [0.8, 0.7, 0.9, 0.9, 8.0, 2.0, 0.9, 0.9],
    )
    results = [
        least_squares(residuals, np.array(start), bounds=(lower, upper), diff_step=1e-3)
        for start in starts
    ]
    result = min(results, key=lambda r: float(r.cost))
    return calibration_from(result.x, base)


def report(groups: list[Group], calibration: ServingCalibration) -> dict[str, Any]:
    errors = signed_errors(groups, calibration)
    rows = [
        {
            "group": g.label,
            "accelerator": g.accelerator,
            "rows": g.n_rows,
            "reported_tokens_per_s_per_gpu": round(g.reported, 1),
            "predicted_tokens_per_s_per_gpu": round(g.reported * (1 + e), 1),
            "signed_error": round(float(e), 4),
        }
        for g, e in zip(groups, errors, strict=True)
    ]
    current = [abs(e) for g, e in zip(groups, errors, strict=True) if g.round == CURRENT_ROUND]
    return {
        "median_abs_error": round(float(np.median(np.abs(errors))), 4),
        "max_abs_error": round(float(np.max(np.abs(errors))), 4),
        "median_abs_error_current_round": round(float(np.median(current)), 4),
        "residuals": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--dry-run", action="store_true", help="Print, do not write.")
    args = parser.parse_args()
    groups, skipped = load_groups(args.data)
    base = default_calibration()
    calibration = fit(groups, base)
    summary = report(groups, calibration)
    payload = json.loads(OUTPUT.read_text(encoding="utf-8"))
    payload.update(
        {
            "fit_date": date.today().isoformat(),
            "fitted": calibration.fitted.model_dump(),
            "fit_data": {
                "file": "shared/reference/calibration/inference_mlperf_llama2_70b.csv",
                "model": "llama-2-70b (MLPerf llama2-70b-99)",
                "mean_input_tokens": MLPERF_MEAN_INPUT_TOKENS,
                "mean_output_tokens": MLPERF_MEAN_OUTPUT_TOKENS,
                "groups": len(groups),
                "accelerators_skipped": skipped,
                "script": "scripts/fit_inference.py",
            },
            "fit_quality": summary,
        }
    )
    text = json.dumps(payload, indent=2) + "\n"
    for row in summary["residuals"]:
        print(
            f"{row['group']:<34} reported {row['reported_tokens_per_s_per_gpu']:>8.0f} "
            f"predicted {row['predicted_tokens_per_s_per_gpu']:>8.0f} {row['signed_error']:+.1%}"
        )
    print(json.dumps(calibration.fitted.model_dump(), indent=2))
    print(f"median |error| {summary['median_abs_error']:.1%}, max {summary['max_abs_error']:.1%}")
    if not args.dry_run:
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
