"""Fit the serving model's efficiency factors jointly on MLPerf Llama 2 70B and the serving
tables, cross-validate them, and store factors, residuals and the uncertainty band.

Rerunnable: ``PYTHONPATH=src python3 scripts/fit_inference.py [--dry-run]`` (a few minutes:
one full fit, then one refit per left-out model and per left-out GPU).

* Fit: least squares on log(predicted / reported) over the cases of
  :mod:`serving_benchmarks` (MLPerf: one case per GPU x precision x scenario x round, the
  median of its rows; tables: one per model x GPU x precision x tp x shape), every factor
  bounded to its physical range (efficiencies in (0, 1]), ShareGPT's mean input length
  fitted alongside (not published; MLPerf's is published, :mod:`serving_benchmarks`), and
  the software speed of each older MLPerf round (v4.1, v5.0) relative to v5.1, in (0, 1],
  from that round's Llama 2 70B rows only (no Mixtral: those rows are held out).
  Multi-start: the objective has kinks where the best tp/batch switches.
* Cross-validation: leave-one-model-out (LOMO) and leave-one-GPU-out (LOGO): refit without
  the model's / GPU's cases (warm start from the full fit) and predict them.
* Uncertainty: split-conformal P10/P90 of measured / predicted (finite-sample quantile
  levels ⌈(n+1)q⌉/n) of the LOMO residuals and of the LOGO residuals; the stored band
  (``uncertainty``) takes the wider end of each, so it covers a new model and a new GPU.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import least_squares

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpuplan.catalog.gpus import get_gpu
from gpuplan.catalog.models import get_model
from gpuplan.compute.serving_calibration import (
    FittedFactors,
    ServingCalibration,
    UncertaintyBand,
    default_calibration,
)
from gpuplan.compute.serving_roofline import power_clock_factor
from serving_benchmarks import (
    DATASET_INPUTS,
    FIT_BATCHES,
    FITTED_INPUTS,
    Case,
    load_cases,
    signed_errors,
)

OUTPUT = Path(__file__).resolve().parents[1] / "src/gpuplan/catalog/data/inference_calibration.json"

VINTAGE_ROUNDS = ("v4.1", "v5.0")
"""MLPerf rounds older than the current one (``serving_benchmarks.CURRENT_ROUND``) whose
software speed relative to it is fitted on their Llama 2 70B rows."""
# name, lower bound, upper bound, scale to SI (overheads are fitted in ms / µs).
PARAMETERS: tuple[tuple[str, float, float, float], ...] = (
    ("compute_efficiency.NVIDIA", 0.2, 1.0, 1.0),
    ("compute_efficiency.AMD", 0.1, 1.0, 1.0),
    ("fp4_gemm_efficiency", 0.2, 1.0, 1.0),
    ("attention_efficiency", 0.05, 1.0, 1.0),
    ("memory_efficiency", 0.3, 1.0, 1.0),
    ("power_clock_exponent", 0.0, 1.0, 1.0),
    ("roofline_sharpness", 1.0, 8.0, 1.0),
    ("step_overhead_s", 0.0, 30.0, 1e-3),
    ("layer_overhead_s", 0.0, 200.0, 1e-6),
    ("sequence_overhead_s", 0.0, 50.0, 1e-6),
    ("allreduce_latency_s", 0.0, 200.0, 1e-6),
    ("link_efficiency", 0.1, 1.0, 1.0),
    ("dispatch_efficiency", 0.01, 1.0, 1.0),
    ("latency_tail_factor", 1.0, 4.0, 1.0),
    ("arrival_headroom", 0.5, 1.0, 1.0),
    *((f"software_vintage.mlperf-{round_}", 0.5, 1.0, 1.0) for round_ in VINTAGE_ROUNDS),
    ("input.sharegpt", 50.0, 1000.0, 1.0),
)
# fmt: off
STARTS = (
    (0.56, 0.39, 0.65, 0.43, 0.80, 1.0, 2.1, 0.03, 58.0, 0.4, 8.6, 0.5, 0.3, 2.3, 1.0,
     0.84, 0.95, 352.0),
    (0.8, 0.6, 0.6, 0.8, 0.8, 0.5, 3.0, 1.0, 5.0, 5.0, 20.0, 0.8, 0.1, 3.0, 0.95,
     0.8, 0.9, 400.0),
)
# fmt: on
"""Two starts (PARAMETERS order; the last three: the v4.1 and v5.0 speeds, ShareGPT's mean
input)."""
BOUNDARY_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Fit:
    calibration: ServingCalibration
    dataset_inputs: dict[str, float]
    vector: np.ndarray


def unpack(
    vector: np.ndarray, base: ServingCalibration
) -> tuple[ServingCalibration, dict[str, float]]:
    """The calibration and dataset mean inputs of a parameter vector (PARAMETERS order)."""
    values = {
        name: float(v) * scale for (name, _, _, scale), v in zip(PARAMETERS, vector, strict=True)
    }
    nvidia, amd = values["compute_efficiency.NVIDIA"], values["compute_efficiency.AMD"]
    fitted = FittedFactors(
        compute_efficiency={"NVIDIA": nvidia, "AMD": amd, "default": min(nvidia, amd)},
        fp4_gemm_efficiency=values["fp4_gemm_efficiency"],
        attention_efficiency=values["attention_efficiency"],
        memory_efficiency=values["memory_efficiency"],
        power_clock_exponent=values["power_clock_exponent"],
        roofline_sharpness=values["roofline_sharpness"],
        step_overhead_s=values["step_overhead_s"],
        layer_overhead_s=values["layer_overhead_s"],
        sequence_overhead_s=values["sequence_overhead_s"],
        allreduce_latency_s=values["allreduce_latency_s"],
        link_efficiency=values["link_efficiency"],
        dispatch_efficiency=values["dispatch_efficiency"],
        latency_tail_factor=values["latency_tail_factor"],
        arrival_headroom=values["arrival_headroom"],
        software_vintage={
            f"mlperf-{round_}": values[f"software_vintage.mlperf-{round_}"]
            for round_ in VINTAGE_ROUNDS
        },
    )
    fitted_inputs = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("input.")}
    return base.model_copy(update={"fitted": fitted}), {**DATASET_INPUTS, **fitted_inputs}


def pack(calibration: ServingCalibration, dataset_inputs: dict[str, float]) -> np.ndarray:
    """The parameter vector (PARAMETERS order) of a calibration and dataset mean inputs."""
    fitted = calibration.fitted.model_dump()
    values = []
    for name, _, _, scale in PARAMETERS:
        head, _, tail = name.partition(".")
        if head == "input":
            values.append(dataset_inputs[tail])
        elif tail:
            values.append(fitted[head][tail] / scale)
        else:
            values.append(fitted[head] / scale)
    return np.array(values, dtype=float)


def shipped_fit() -> Fit:
    """The shipped calibration as a :class:`Fit` (its dataset inputs from the data file)."""
    calibration = default_calibration()
    payload = json.loads(OUTPUT.read_text(encoding="utf-8"))
    stored = payload.get("fit_data", {}).get("mean_input_tokens", {})
    inputs = {**DATASET_INPUTS, **{k: v for k, v in stored.items() if k in FITTED_INPUTS}}
    return Fit(calibration, inputs, pack(calibration, inputs))


def log_residuals(
    cases: Sequence[Case], base: ServingCalibration
) -> Callable[[np.ndarray], np.ndarray]:
    def residuals(vector: np.ndarray) -> np.ndarray:
        calibration, inputs = unpack(vector, base)
        errors = signed_errors(cases, calibration, inputs, FIT_BATCHES)
        return np.log(np.maximum(errors + 1.0, 0.05))

    return residuals


def identified(cases: Sequence[Case]) -> np.ndarray:
    """Which parameters (PARAMETERS order) the cases carry information on: the AMD
    efficiency needs an AMD GPU, the collective latency and link efficiency a tp > 1 case,
    the dispatch efficiency a MoE case, the latency factors a Server/Interactive case, an
    older MLPerf round's speed an MLPerf case from that round, the power exponent a
    power-limited GPU, a dataset's mean input a case from it. The others always."""
    vendors = {get_gpu(c.gpu_id).vendor for c in cases}
    needs = {
        "compute_efficiency.AMD": "AMD" in vendors,
        "allreduce_latency_s": any(max(c.tp_options) > 1 for c in cases),
        "link_efficiency": any(max(c.tp_options) > 1 for c in cases),
        "dispatch_efficiency": any(get_model(c.model).architecture.is_moe for c in cases),
        "power_clock_exponent": any(power_clock_factor(get_gpu(c.gpu_id), 1.0) < 1 for c in cases),
        "latency_tail_factor": any(c.scenario != "Offline" for c in cases),
        "arrival_headroom": any(c.scenario != "Offline" for c in cases),
        **{
            f"software_vintage.mlperf-{round_}": any(
                c.source == "mlperf" and c.round == round_ for c in cases
            )
            for round_ in VINTAGE_ROUNDS
        },
        **{f"input.{name}": any(c.input_dataset == name for c in cases) for name in FITTED_INPUTS},
    }
    return np.array([needs.get(name, True) for name, *_ in PARAMETERS])


def fit(
    cases: Sequence[Case],
    base: ServingCalibration,
    starts: Sequence[Sequence[float]] = STARTS,
    pinned: dict[str, float] | None = None,
) -> Fit:
    """Least squares on log error from each start; the lowest cost wins. Parameters the
    cases carry no information on (:func:`identified`) stay at the start's value, except
    the AMD efficiency, which then takes the NVIDIA one (what an unseen vendor gets);
    ``pinned`` parameters (name -> value in PARAMETERS units) are held at that value."""
    lower = np.array([p[1] for p in PARAMETERS])
    upper = np.array([p[2] for p in PARAMETERS])
    names = [p[0] for p in PARAMETERS]
    pinned = pinned or {}
    free = identified(cases) & np.array([name not in pinned for name in names])
    pinned_at = np.array([pinned.get(name, np.nan) for name in names])
    full_residuals = log_residuals(cases, base)

    def complete(start: np.ndarray, values: np.ndarray) -> np.ndarray:
        vector = start.copy()
        vector[free] = values
        if not free[names.index("compute_efficiency.AMD")]:
            vector[names.index("compute_efficiency.AMD")] = vector[
                names.index("compute_efficiency.NVIDIA")
            ]
        return vector

    results = []
    for start in starts:
        start_vector = np.clip(np.array(start, dtype=float), lower, upper)
        start_vector = np.where(np.isnan(pinned_at), start_vector, pinned_at)
        result = least_squares(
            lambda values, s=start_vector: full_residuals(complete(s, values)),
            start_vector[free],
            bounds=(lower[free], upper[free]),
            diff_step=1e-3,
            max_nfev=60 * len(PARAMETERS),
        )
        results.append((float(result.cost), complete(start_vector, result.x)))
    best = min(results, key=lambda r: r[0])[1]
    calibration, inputs = unpack(best, base)
    return Fit(calibration, inputs, best)


def held_out_errors(
    cases: Sequence[Case],
    full: Fit,
    key: Callable[[Case], str],
    pinned: dict[str, float] | None = None,
) -> dict[str, tuple[list[Case], np.ndarray]]:
    """For each value of ``key`` (model or GPU): refit without its cases (warm start from
    the full fit) and return its cases' signed errors. Parameters without training data
    stay at the full-fit value (:func:`fit`): a dataset's mean input, the MLPerf latency
    factors and software speed are properties of the benchmark, not of the left-out model
    or GPU; an AMD GPU left out of every training case gets the NVIDIA efficiency."""
    out: dict[str, tuple[list[Case], np.ndarray]] = {}
    for value in sorted({key(c) for c in cases}):
        train = [c for c in cases if key(c) != value]
        test = [c for c in cases if key(c) == value]
        refit = fit(train, full.calibration, starts=[full.vector], pinned=pinned)
        out[value] = (test, signed_errors(test, refit.calibration, refit.dataset_inputs))
    return out


def conformal_band(errors: np.ndarray, source: str) -> UncertaintyBand:
    """P10/P90 of measured / predicted = 1 / (1 + error), split-conformal quantile levels."""
    ratios = np.sort(1.0 / np.maximum(1.0 + np.asarray(errors), 1e-9))
    n = ratios.size
    upper_rank = min(n, math.ceil((n + 1) * 0.9)) - 1
    lower_rank = max(0, math.floor((n + 1) * 0.1) - 1)
    return UncertaintyBand(
        p10_ratio=float(ratios[lower_rank]),
        p90_ratio=float(ratios[upper_rank]),
        residuals=n,
        source=source,
    )


def envelope(first: UncertaintyBand, second: UncertaintyBand) -> UncertaintyBand:
    """The wider ends of two bands: a band that covers a new model and a new GPU alike."""
    return UncertaintyBand(
        p10_ratio=min(first.p10_ratio, second.p10_ratio),
        p90_ratio=max(first.p90_ratio, second.p90_ratio),
        residuals=first.residuals + second.residuals,
        source="envelope of the split-conformal bands of the leave-one-model-out and "
        "leave-one-GPU-out residuals",
    )


def at_bounds(vector: np.ndarray) -> list[str]:
    """Parameters that ended on a bound (the data push past the physical range)."""
    names = []
    for (name, lower, upper, _), value in zip(PARAMETERS, vector, strict=True):
        span = upper - lower
        if value <= lower + BOUNDARY_TOLERANCE * span or value >= upper - BOUNDARY_TOLERANCE * span:
            names.append(name)
    return names


def residual_rows(
    cases: Sequence[Case],
    errors: np.ndarray,
    inputs: dict[str, float],
    lomo: dict[str, float],
    logo: dict[str, float],
) -> list[dict[str, Any]]:
    """One row per case: in-sample, leave-one-model-out and leave-one-GPU-out errors."""
    return [
        {
            "case": c.label,
            "source": c.source,
            "model": c.model,
            "gpu": c.gpu_id,
            "shape_class": c.shape_class(inputs),
            "reported_tokens_per_s_per_gpu": round(c.reported, 1),
            "predicted_tokens_per_s_per_gpu": round(c.reported * (1 + e), 1),
            "signed_error": round(float(e), 4),
            "lomo_signed_error": round(lomo[c.label], 4),
            "logo_signed_error": round(logo[c.label], 4),
        }
        for c, e in zip(cases, errors, strict=True)
    ]


def by_label(folds: dict[str, tuple[list[Case], np.ndarray]]) -> dict[str, float]:
    return {
        c.label: float(e)
        for test, errors in folds.values()
        for c, e in zip(test, errors, strict=True)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="Print, do not write.")
    parser.add_argument(
        "--pin",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="Hold a parameter at a value (PARAMETERS name and units), e.g. a kernel "
        "measurement: --pin attention_efficiency=0.87.",
    )
    args = parser.parse_args()
    pinned = {name: float(value) for name, _, value in (p.partition("=") for p in args.pin)}
    unknown = sorted(set(pinned) - {p[0] for p in PARAMETERS})
    if unknown:
        parser.error(f"--pin: unknown parameter(s) {unknown}; one of {[p[0] for p in PARAMETERS]}")
    cases, skipped = load_cases()
    base = default_calibration()
    full = fit(cases, base, pinned=pinned)
    errors = signed_errors(cases, full.calibration, full.dataset_inputs)
    lomo = held_out_errors(cases, full, lambda c: c.model, pinned)
    logo = held_out_errors(cases, full, lambda c: c.gpu_id, pinned)
    band = envelope(
        conformal_band(np.concatenate([e for _, e in lomo.values()]), "LOMO"),
        conformal_band(np.concatenate([e for _, e in logo.values()]), "LOGO"),
    )
    calibration = full.calibration.model_copy(update={"uncertainty": band})
    payload = json.loads(OUTPUT.read_text(encoding="utf-8"))
    payload.update(
        {
            "fit_date": date.today().isoformat(),
            "fitted": calibration.fitted.model_dump(),
            "uncertainty": band.model_dump(),
            "fit_data": {
                "files": [
                    "shared/reference/calibration/inference_mlperf_llama2_70b.csv",
                    "scripts/data/inference_mlperf_llama2_70b_v5_0.csv",
                    "shared/reference/calibration/inference_serving_tables.csv",
                    "scripts/data/inference_serving_tables_extra.csv",
                ],
                "models": sorted({c.model for c in cases}),
                "cases": len(cases),
                "mean_input_tokens": {k: round(v, 1) for k, v in full.dataset_inputs.items()},
                "parameters_at_bounds": at_bounds(full.vector),
                "parameters_pinned": pinned,
                "accelerators_skipped": skipped,
                "script": "scripts/fit_inference.py",
            },
            "fit_quality": {
                "median_abs_error": round(float(np.median(np.abs(errors))), 4),
                "max_abs_error": round(float(np.max(np.abs(errors))), 4),
                "lomo_median_abs_error": round(
                    float(np.median(np.abs(np.concatenate([e for _, e in lomo.values()])))), 4
                ),
                "logo_median_abs_error": round(
                    float(np.median(np.abs(np.concatenate([e for _, e in logo.values()])))), 4
                ),
                "residuals": residual_rows(
                    cases, errors, full.dataset_inputs, by_label(lomo), by_label(logo)
                ),
            },
        }
    )
    payload.pop("fixed", None)
    payload = {"fixed": base.fixed.model_dump(), **payload}
    for row in payload["fit_quality"]["residuals"]:
        print(
            f"{row['case']:<62} {row['reported_tokens_per_s_per_gpu']:>8.0f} "
            f"{row['predicted_tokens_per_s_per_gpu']:>8.0f} {row['signed_error']:+.1%}"
        )
    print(json.dumps({k: v for k, v in payload.items() if k != "fit_quality"}, indent=2))
    quality = payload["fit_quality"]
    print(
        f"in-sample median |error| {quality['median_abs_error']:.1%}; LOMO "
        f"{quality['lomo_median_abs_error']:.1%}; LOGO {quality['logo_median_abs_error']:.1%}"
    )
    if not args.dry_run:
        OUTPUT.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
