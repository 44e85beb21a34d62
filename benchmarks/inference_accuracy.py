"""Predicted vs reported MLPerf Llama 2 70B throughput per accelerator, precision, scenario.

Run: ``PYTHONPATH=src python3 benchmarks/inference_accuracy.py`` (needs
/work/shared/reference/calibration/inference_mlperf_llama2_70b.csv). Prints the signed error
of every group with the shipped calibration, the median and max |error|, then a
leave-one-accelerator-out figure: the factors refitted without each accelerator predict it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "scripts")]

from fit_inference import fit  # noqa: E402
from gpuplan.compute.serving_calibration import default_calibration  # noqa: E402
from mlperf_llama2 import CURRENT_ROUND, load_groups, signed_errors  # noqa: E402


def main() -> None:
    groups, skipped = load_groups()
    calibration = default_calibration()
    errors = signed_errors(groups, calibration)
    print(
        f"{'accelerator / precision / scenario / round':<40} {'reported':>9} {'predicted':>9} error"
    )
    for group, error in zip(groups, errors, strict=True):
        predicted = group.reported * (1 + error)
        print(f"{group.label:<40} {group.reported:>9.0f} {predicted:>9.0f} {error:+6.1%}")
    absolute = np.abs(errors)
    current = np.array(
        [abs(e) for g, e in zip(groups, errors, strict=True) if g.round == CURRENT_ROUND]
    )
    print(
        f"\nin-sample: median |error| {np.median(absolute):.1%}, max {absolute.max():.1%} "
        f"over {len(groups)} groups; {CURRENT_ROUND} median {np.median(current):.1%}"
    )
    print(f"not modelled: {', '.join(skipped)}")

    held_out = []
    for gpu_id in sorted({g.gpu_id for g in groups}):
        train = [g for g in groups if g.gpu_id != gpu_id]
        test = [g for g in groups if g.gpu_id == gpu_id]
        refit = fit(train, calibration)
        test_errors = signed_errors(test, refit)
        held_out.extend(test_errors)
        print(f"leave out {gpu_id:<10} median |error| {np.median(np.abs(test_errors)):.1%}")
    held = np.abs(np.array(held_out))
    print(f"leave-one-accelerator-out: median |error| {np.median(held):.1%}, max {held.max():.1%}")


if __name__ == "__main__":
    main()
