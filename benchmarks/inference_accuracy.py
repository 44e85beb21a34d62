"""Accuracy of the serving model in and out of sample, per shape class, and on held-out rows.

Run: ``PYTHONPATH=src python3 benchmarks/inference_accuracy.py [--refit]`` (needs
/work/shared/reference/calibration/ for the calibration cases). Prints, for the shipped
calibration (``scripts/fit_inference.py``):

* every calibration case: reported, predicted in sample, signed error, and its
  leave-one-model-out (LOMO) and leave-one-GPU-out (LOGO) errors: the factors refitted
  without the case's model / GPU predict it (stored by the fit; ``--refit`` recomputes
  them, a few minutes);
* per shape class (prefill-heavy: input/output >= 4, decode-heavy: <= 0.25, balanced) and
  overall: median and max |error|, signed median and P10-P90 coverage (share of cases
  whose measured / predicted lies inside the shipped band) for each of the three;
* the held-out rows of ``benchmarks/data/heldout_inference.csv`` (never fitted), separately;
  MLPerf rows at their round's fitted software speed and at current software.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "scripts"), str(ROOT / "benchmarks")]

from fit_inference import OUTPUT, by_label, held_out_errors, shipped_fit  # noqa: E402
from gpuplan.compute.serving_calibration import UncertaintyBand  # noqa: E402
from heldout_validation import inference_rows  # noqa: E402
from serving_benchmarks import load_cases, signed_errors  # noqa: E402

CLASSES = ("prefill-heavy", "balanced", "decode-heavy")


def inside(errors: np.ndarray, band: UncertaintyBand) -> np.ndarray:
    ratio = 1.0 / np.maximum(1.0 + errors, 1e-9)  # an infeasible prediction (-100%) is outside
    return (ratio >= band.p10_ratio) & (ratio <= band.p90_ratio)


def summary(name: str, errors: np.ndarray, band: UncertaintyBand) -> str:
    if errors.size == 0:
        return f"  {name:<14} (no cases)"
    absolute = np.abs(errors)
    return (
        f"  {name:<14} n {errors.size:>3}  median |error| {np.median(absolute):6.1%}  "
        f"max {absolute.max():6.1%}  signed median {np.median(errors):+6.1%}  "
        f"P10-P90 coverage {inside(errors, band).mean():4.0%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--refit", action="store_true", help="Recompute LOMO/LOGO by refitting.")
    args = parser.parse_args()
    cases, skipped = load_cases()
    full = shipped_fit()
    band = full.calibration.uncertainty
    inputs = full.dataset_inputs
    errors = signed_errors(cases, full.calibration, inputs)
    if args.refit:
        lomo = by_label(held_out_errors(cases, full, lambda c: c.model))
        logo = by_label(held_out_errors(cases, full, lambda c: c.gpu_id))
    else:
        stored = json.loads(OUTPUT.read_text(encoding="utf-8"))["fit_quality"]["residuals"]
        lomo = {row["case"]: row["lomo_signed_error"] for row in stored}
        logo = {row["case"]: row["logo_signed_error"] for row in stored}
    print(f"{'case':<64} {'reported':>9} {'predicted':>9}  in-sample   LOMO   LOGO")
    for case, error in zip(cases, errors, strict=True):
        print(
            f"{case.label:<64} {case.reported:>9.0f} {case.reported * (1 + error):>9.0f}  "
            f"{error:+8.1%} {lomo[case.label]:+6.1%} {logo[case.label]:+6.1%}"
        )
    print(f"\nnot modelled: {', '.join(skipped)}")
    print(
        f"band (measured / predicted): P10 {band.p10_ratio:.3f}, P90 {band.p90_ratio:.3f} "
        f"from {band.residuals} {band.source}; dataset mean inputs fitted: "
        + ", ".join(f"{k} {v:.0f} tokens" for k, v in inputs.items())
    )
    classes = np.array([c.shape_class(inputs) for c in cases])
    for title, values in (
        ("In sample", errors),
        ("Leave-one-model-out", np.array([lomo[c.label] for c in cases])),
        ("Leave-one-GPU-out", np.array([logo[c.label] for c in cases])),
    ):
        print(f"\n{title}")
        for name in CLASSES:
            print(summary(name, values[classes == name], band))
        print(summary("overall", values, band))
        if title != "In sample":
            key = (lambda c: c.model) if "model" in title else (lambda c: c.gpu_id)
            for group in sorted({key(c) for c in cases}):
                mask = np.array([key(c) == group for c in cases])
                print(
                    f"    left out {group:<16} median |error| {np.median(np.abs(values[mask])):.1%}"
                )
    print("\nHeld-out (never fitted): benchmarks/data/heldout_inference.csv")
    inference_rows()


if __name__ == "__main__":
    main()
