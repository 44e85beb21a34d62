"""Training estimator error against every usable published run of the calibration data.

Run: ``PYTHONPATH=src python3 benchmarks/training_accuracy.py [CALIBRATION_DIR]``

For each run with usable GPU-hours (shared/reference/calibration plus
scripts/data/training_runs_extra.csv, see scripts/data/calibration_details.csv) the
estimate comes from the estimator's vectorised core (training FLOPs from the run's shape and
tokens; MFU from its GPU, precision, cluster, sequence length, global batch, software year
and the scope of its published figure; a run whose GPU count is not published is estimated
without one, as a user would). Three passes:

1. in-sample: the shipped fit (every run was fitted; shown for reference only);
2. leave-one-run-out: each run predicted by a refit without it;
3. leave-one-lab-out: each lab's runs predicted by a refit without any of that lab's runs.

Passes 2-3 are out of sample. Their P10-P90 band is built as the shipped one (conformal
quantiles of leave-one-lab-out residuals, per size class: 15B parameters or fewer, and
larger) but jackknifed: each run is judged against the quantiles of the *other* runs of its
size class' leave-one-lab-out residuals. Printed per pass: median and
max |error| and the share of runs inside P10-P90. Targets (issue 10): leave-one-out median
|error| <= 15%, coverage >= 80%.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "scripts")]

from fit_utilisation import (  # noqa: E402
    DEFAULT_CALIBRATION,
    CalibrationRow,
    fit_once,
    hours_log_residual,
    load_calibration_rows,
    reference_year,
    size_classes,
)
from gpuplan.compute.utilisation import (  # noqa: E402
    conformal_quantiles,
    load_utilisation_fit,
)


def residuals(
    rows: list[CalibrationRow], group: Callable[[CalibrationRow], str] | None
) -> dict[str, float]:
    """log(published / predicted) per run: shipped fit (``group`` None) or refits without
    each group's runs (out of sample)."""
    runs = [r for r in rows if r.kind == "run_hours"]
    if group is None:
        shipped = load_utilisation_fit()
        return {r.label: hours_log_residual(r, shipped) for r in runs}
    year = reference_year(rows)
    result: dict[str, float] = {}
    for name in sorted({group(r) for r in runs}):
        fit = fit_once([r for r in rows if r.kind != "run_hours" or group(r) != name], year=year)
        for run in (r for r in runs if group(r) == name):
            result[run.label] = hours_log_residual(run, fit)
    return result


def report(
    title: str,
    rows: list[CalibrationRow],
    values: dict[str, float],
    band: dict[str, float] | None,
) -> None:
    """Print each run's error and band membership; ``band`` None = the shipped band."""
    print(f"\n{title}")
    print(f"{'run':<26}{'GPU':<11}{'scope':<12}{'reported':>12}{'predicted':>12}{'error':>8}")
    runs = {r.label: r for r in rows if r.kind == "run_hours"}
    shipped = load_utilisation_fit()
    classes = size_classes(rows)
    inside = []
    for label, value in values.items():
        stratum = shipped.band[classes[label]]
        low, high = (
            (stratum.log_p10, stratum.log_p90)
            if band is None
            else conformal_quantiles(
                [v for k, v in band.items() if k != label and classes[k] == classes[label]]
            )
        )
        ok = low <= value <= high
        inside.append(ok)
        run = runs[label]
        predicted = run.reported_gpu_hours / np.exp(value)
        print(
            f"{label[:25]:<26}{run.gpu:<11}{run.scope:<12}{run.reported_gpu_hours:>12,.0f}"
            f"{predicted:>12,.0f}{np.expm1(-value):>+8.1%}  {'inside' if ok else 'OUTSIDE'}"
        )
    errors = np.abs(np.expm1(-np.array(list(values.values()))))
    print(
        f"median |error| {np.median(errors):.1%}   max |error| {np.max(errors):.1%}   "
        f"inside P10-P90 {np.mean(inside):.0%} ({sum(inside)}/{len(inside)})"
    )


def constant_mfu_baseline(rows: list[CalibrationRow]) -> None:
    """The yardstick: one constant run MFU (the median of the *other* runs' effective MFU),
    leave-one-run-out. The utilisation model has to beat this to earn its terms."""
    runs = [r for r in rows if r.kind == "run_hours"]
    errors = []
    for run in runs:
        others = np.median([r.observed_mfu for r in runs if r is not run])
        errors.append(abs(run.observed_mfu / others - 1.0))
    print(
        f"\nConstant-MFU baseline (median of the other runs), leave-one-run-out: "
        f"median |error| {np.median(errors):.1%}   max |error| {np.max(errors):.1%}"
    )


NUMERIC_DRIVERS: dict[str, Callable[[CalibrationRow], float]] = {
    "parameters": lambda r: r.params,
    "software year": lambda r: r.year,
    "GPUs": lambda r: r.gpus,
    "tokens per replica per step": lambda r: r.global_batch_tokens * r.gpus_per_replica / r.gpus,
    "tokens per GPU per step": lambda r: r.global_batch_tokens / r.gpus,
    "run days (hours / GPUs)": lambda r: r.reported_gpu_hours / r.gpus / 24.0,
    "hidden width": lambda r: r.hidden_size,
    "sequence length": lambda r: r.seq_len,
}
GROUP_DRIVERS: dict[str, Callable[[CalibrationRow], str]] = {
    "GPU": lambda r: r.gpu,
    "precision": lambda r: r.precision,
    "lab": lambda r: r.org,
    "scope": lambda r: r.scope,
    "MoE": lambda r: "MoE" if r.is_moe else "dense",
    "GPU count stated": lambda r: "stated" if r.gpus_stated else "assumed",
}


def variance_share(groups: list[str], values: np.ndarray) -> tuple[float, float]:
    """(R², adjusted R²) of a one-way grouping of ``values``: 1 − within-group ÷ total sum
    of squares, and the same with each divided by its degrees of freedom."""
    total = float(np.sum((values - values.mean()) ** 2))
    keys = sorted(set(groups))
    within = sum(
        float(np.sum((members - members.mean()) ** 2))
        for members in (values[[g == key for g in groups]] for key in keys)
    )
    n, k = len(values), len(keys)
    return 1.0 - within / total, 1.0 - (within / (n - k)) / (total / (n - 1))


def residual_drivers(rows: list[CalibrationRow], values: dict[str, float]) -> None:
    """What the out-of-sample residuals still follow: Spearman rank correlation of
    log(published / predicted) with each numeric candidate, and the median signed error per
    group of each categorical one (a driver the model misses shows as a strong correlation
    or groups of opposite sign)."""
    from scipy.stats import spearmanr

    runs = {r.label: r for r in rows if r.kind == "run_hours"}
    labels = list(values)
    residual = np.array([values[k] for k in labels])
    print("\nLeave-one-run-out error (estimate / published - 1) against candidate drivers")
    for name, value in NUMERIC_DRIVERS.items():
        result = spearmanr([value(runs[k]) for k in labels], -residual)
        print(f"  {name:<30} Spearman {result.statistic:+.2f} (p = {result.pvalue:.2f})")
    for name, group in GROUP_DRIVERS.items():
        members: dict[str, list[float]] = {}
        for label, value in zip(labels, residual, strict=True):
            members.setdefault(group(runs[label]), []).append(float(np.expm1(-value)))
        cells = ", ".join(
            f"{key} {np.median(errors):+.0%} (n={len(errors)})"
            for key, errors in sorted(members.items(), key=lambda item: -len(item[1]))
        )
        share, adjusted = variance_share([group(runs[k]) for k in labels], residual)
        print(f"  {name:<30} {share:.0%} of variance ({adjusted:.0%} adjusted): {cells}")


def main() -> None:
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CALIBRATION
    rows = load_calibration_rows(directory)
    constant_mfu_baseline(rows)
    lab = residuals(rows, lambda r: r.org)
    report("In-sample (shipped fit and band):", rows, residuals(rows, None), None)
    loo = residuals(rows, lambda r: r.label)
    report("Leave-one-run-out (refit without the run):", rows, loo, lab)
    report("Leave-one-lab-out (refit without the lab):", rows, lab, lab)
    residual_drivers(rows, loo)


if __name__ == "__main__":
    main()
