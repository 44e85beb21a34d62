"""Monte Carlo over a company's uncertain inputs: percentiles, cash-out risk, sensitivity.

All samples are evaluated at once by the vectorised cash flow
(:func:`gpuplan.economics.cashflow.cash_flow`); large runs are cut into chunks of samples
(not one Python iteration per sample) so memory stays bounded. Sensitivity:

* tornado: each input alone at its ``low`` and ``high`` (P05/P95 for lognormal), all others
  at their nominal value; rows sorted by how far they move runway;
* Sobol indices (Saltelli 2010 estimators via SALib, independent inputs): first-order and
  total share of the variance of runway explained by each input.

Runway beyond the horizon counts as the horizon in the sensitivity measures; in percentiles
it is reported as ``None`` with the share of samples beyond the horizon.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gpuplan.economics.cashflow import CashFlow, InputValues, cash_flow, yearly
from gpuplan.economics.company import CompanySpec, month_label
from gpuplan.errors import InputError, InvariantError
from gpuplan.humanize import number
from gpuplan.progress import ProgressCallback, silent
from gpuplan.uncertainty.sampling import (
    correlation_matrix,
    draw_uniforms,
    quantiles,
    uncertain_inputs,
)

CHUNK = 4096
"""Samples evaluated per vectorised batch (small enough to stay in cache; bounds memory)."""
FAN_SAMPLES = 50_000
"""Samples whose monthly cash is kept for the fan chart (the first ones drawn: the draws are
independent, so they are a random subsample; P10/P90 to within ~0.3 percentile points)."""
MAX_SAMPLES = 10_000_000
"""Most Monte Carlo samples (or Sobol base samples) one run takes: the uniforms are held in
memory (samples x inputs x 8 bytes)."""
MEMORY_BUDGET_BYTES = 4 * 2**30
"""Most memory one simulation may plan to use (4 GiB)."""
MC_FLOATS_PER_SAMPLE = (2, 2)
"""float64 values held per Monte Carlo sample: (per uncertain input, per month). Measured
with tracemalloc on the mistral preset (23 inputs, 60 months): 856 bytes per sample against
the 1,328 this bound assumes."""
SOBOL_FLOATS_PER_EVALUATION_MONTH = 40
"""float64 values held per Sobol evaluation and month (all evaluations run at once). Measured
on the mistral preset: 21 to 39 (166 to 316 bytes) for 1,024 and 256 base samples."""


def probability_problems(summary: Any, key: str = "") -> list[str]:
    """Probabilities and shares (keys ``probability``, ``*_share``) outside [0, 1]."""
    if isinstance(summary, dict):
        return [p for k, v in summary.items() for p in probability_problems(v, str(k))]
    if isinstance(summary, list):
        return [p for v in summary for p in probability_problems(v, key)]
    is_probability = key == "probability" or key.endswith("_share")
    if is_probability and not (isinstance(summary, float | int) and 0 <= summary <= 1):
        return [f"{key} = {summary} is not a probability in [0, 1]"]
    return []


def memory_needed(spec: CompanySpec, samples: int, sobol_samples: int | None) -> int:
    """Bytes a run of ``samples`` draws (and ``sobol_samples`` Sobol base samples) holds."""
    inputs = len(uncertain_inputs(spec))
    per_input, per_month = MC_FLOATS_PER_SAMPLE
    total = samples * 8 * (per_input * inputs + per_month * spec.horizon_months)
    if sobol_samples is not None:
        evaluations = sobol_samples * (inputs + 2)
        total = max(
            total, evaluations * spec.horizon_months * SOBOL_FLOATS_PER_EVALUATION_MONTH * 8
        )
    return total


def check_memory(spec: CompanySpec, samples: int, sobol_samples: int | None) -> None:
    """An :class:`InputError` naming the sample count whose run would pass the memory budget,
    with the memory it would need and the largest count that fits."""
    budget = MEMORY_BUDGET_BYTES / 2**30
    needed = memory_needed(spec, samples, None)
    if needed > MEMORY_BUDGET_BYTES:
        largest = samples * MEMORY_BUDGET_BYTES // needed
        raise InputError(
            "samples",
            f"{number(samples)} samples of this company need about {needed / 2**30:.1f} GiB of "
            f"memory, more than the {budget:g} GiB a run may use; use at most {number(largest)} "
            "(100,000 already give percentiles to within a month).",
        )
    if sobol_samples is not None and memory_needed(spec, 0, sobol_samples) > MEMORY_BUDGET_BYTES:
        needed = memory_needed(spec, 0, sobol_samples)
        largest = sobol_samples
        while largest > 2 and memory_needed(spec, 0, largest) > MEMORY_BUDGET_BYTES:
            largest //= 2
        raise InputError(
            "sobol_samples",
            f"{number(sobol_samples)} Sobol base samples of this company need about "
            f"{needed / 2**30:.1f} GiB of memory, more than the {budget:g} GiB a run may use; "
            f"use at most {number(largest)}.",
        )


def percentiles(values: np.ndarray) -> dict[str, float | None]:
    """P10/P50/P90 (inverted-CDF, so no interpolation across 'never'); NaN and inf -> None."""
    clean = np.where(np.isnan(values), np.inf, values)
    p10, p50, p90 = np.quantile(clean, [0.1, 0.5, 0.9], method="inverted_cdf")
    if not p10 <= p50 <= p90:
        raise InvariantError("Percentiles", [f"P10 {p10} <= P50 {p50} <= P90 {p90} fails"])
    return {
        name: float(v) if np.isfinite(v) else None
        for name, v in (("p10", p10), ("p50", p50), ("p90", p90))
    }


@dataclass
class _Metrics:
    """Per-sample outputs kept from each chunk (small: no month dimension except years)."""

    runway: list[np.ndarray] = field(default_factory=list)
    break_even: list[np.ndarray] = field(default_factory=list)
    revenue: list[np.ndarray] = field(default_factory=list)
    net_burn: list[np.ndarray] = field(default_factory=list)
    gross_margin: list[np.ndarray] = field(default_factory=list)
    break_even_revenue: list[np.ndarray] = field(default_factory=list)
    cash_end: list[np.ndarray] = field(default_factory=list)
    cash_monthly: list[np.ndarray] = field(default_factory=list)
    kept: int = 0

    def add(self, flow: CashFlow) -> None:
        revenue = yearly(flow.revenue)
        self.runway.append(flow.runway_months)
        self.break_even.append(flow.break_even_month)
        self.revenue.append(revenue)
        self.net_burn.append(yearly(flow.net_burn))
        with np.errstate(divide="ignore", invalid="ignore"):
            margin = np.where(revenue > 0, 1 - yearly(flow.cost_of_revenue) / revenue, np.nan)
        self.gross_margin.append(margin)
        self.break_even_revenue.append(flow.break_even_revenue_per_year)
        self.cash_end.append(flow.cash[:, -1])
        if self.kept < FAN_SAMPLES:
            self.cash_monthly.append(flow.cash[: FAN_SAMPLES - self.kept])
            self.kept += self.cash_monthly[-1].shape[0]

    def joined(self, name: str) -> np.ndarray:
        return np.concatenate(getattr(self, name))


@dataclass(frozen=True)
class SimulationResult:
    """What ``gpuplan simulate`` reports; :meth:`to_dict` is its JSON."""

    company: str
    samples: int
    seed: int | None
    horizon_months: int
    year_ends: list[str]
    inputs: list[str]
    runway: np.ndarray
    break_even: np.ndarray
    revenue: np.ndarray
    net_burn: np.ndarray
    gross_margin: np.ndarray
    break_even_revenue: np.ndarray
    cash_end: np.ndarray
    parent_funded: bool
    tornado: list[dict[str, Any]]
    sobol: list[dict[str, Any]] | None
    month_labels: list[str] = field(default_factory=list)
    cash_monthly: np.ndarray | None = None
    """Monthly cash (USD) of the first :data:`FAN_SAMPLES` samples, shape (n, months)."""

    def cash_fan(self) -> dict[str, Any] | None:
        """P10/P50/P90 of cash at each month end (USD), from ``cash_monthly``."""
        if self.cash_monthly is None or not self.cash_monthly.size:
            return None
        p10, p50, p90 = np.quantile(self.cash_monthly, [0.1, 0.5, 0.9], axis=0)
        return {
            "month": self.month_labels,
            "p10": p10.tolist(),
            "p50": p50.tolist(),
            "p90": p90.tolist(),
            "samples": int(self.cash_monthly.shape[0]),
        }

    def histogram(self, values: np.ndarray) -> dict[str, Any]:
        """Counts of ``values`` (months) in one-month bins over the horizon; samples beyond
        the horizon (or never) are counted apart."""
        finite = values[np.isfinite(values)]
        counts, edges = np.histogram(finite, bins=np.arange(self.horizon_months + 1))
        return {
            "edges": edges.tolist(),
            "counts": counts.tolist(),
            "beyond_horizon": int(values.size - finite.size),
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary; its probabilities and shares are checked to lie in [0, 1]."""
        summary = self._summary()
        problems = probability_problems(summary)
        if problems:
            raise InvariantError(f"The simulation of '{self.company}'", problems)
        return summary

    def _summary(self) -> dict[str, Any]:
        reached = np.isfinite(self.break_even)
        years = range(len(self.year_ends))
        return {
            "company": self.company,
            "samples": self.samples,
            "seed": self.seed,
            "horizon_months": self.horizon_months,
            "parent_funded": self.parent_funded,
            "uncertain_inputs": len(self.inputs),
            "runway_months": percentiles(self.runway),
            "runway_beyond_horizon_share": float(np.mean(~np.isfinite(self.runway))),
            "break_even_month": percentiles(self.break_even) if reached.any() else None,
            "break_even_share": float(np.mean(reached)),
            "prob_cash_out_by_year": [
                {
                    "year": y + 1,
                    "through": self.year_ends[y],
                    "probability": float(
                        np.mean(self.runway < min(12 * (y + 1), self.horizon_months))
                    ),
                }
                for y in years
            ],
            "per_year": [
                {
                    "year": y + 1,
                    "through": self.year_ends[y],
                    "revenue": percentiles(self.revenue[:, y]),
                    "net_burn": percentiles(self.net_burn[:, y]),
                    "gross_margin": percentiles(self.gross_margin[:, y]),
                    "break_even_revenue": percentiles(self.break_even_revenue[:, y]),
                }
                for y in years
            ],
            "cash_at_horizon_end": percentiles(self.cash_end),
            "cash_by_month": self.cash_fan(),
            "runway_histogram": self.histogram(self.runway),
            "break_even_histogram": self.histogram(self.break_even),
            "tornado": self.tornado,
            "sobol": self.sobol,
        }


def evaluate(spec: CompanySpec, samples: dict[str, np.ndarray], n: int) -> CashFlow:
    """Cash flow for ``n`` input sets (sampled paths as arrays, the rest nominal)."""
    return cash_flow(spec, InputValues(samples, n))


def _runway_capped(spec: CompanySpec, samples: dict[str, np.ndarray], n: int) -> np.ndarray:
    runway = evaluate(spec, samples, n).runway_months
    return np.minimum(runway, spec.horizon_months)


def evaluate_at(spec: CompanySpec, points: Sequence[Mapping[str, float]]) -> CashFlow:
    """Cash flow at given input values, one row per point; inputs a point does not name take
    their nominal value."""
    inputs = uncertain_inputs(spec)
    unknown = sorted(set().union(*points) - set(inputs)) if points else []
    if unknown:
        raise InputError(
            "inputs", f"{unknown} are not uncertain inputs; valid: {', '.join(inputs)}."
        )
    samples = {
        path: np.array([point.get(path, dist.mean) for point in points])
        for path, dist in inputs.items()
    }
    return evaluate(spec, samples, len(points))


def corners(spec: CompanySpec) -> CashFlow:
    """Two rows: every uncertain input at its ``low``, then every one at its ``high`` (the
    way a report adds up the ends of its ranges)."""
    inputs = uncertain_inputs(spec)
    return evaluate_at(
        spec,
        [
            {path: dist.low for path, dist in inputs.items()},
            {path: dist.high for path, dist in inputs.items()},
        ],
    )


def tornado(spec: CompanySpec) -> list[dict[str, Any]]:
    """One-at-a-time sensitivity of runway: each input at low and high, others nominal."""
    inputs = uncertain_inputs(spec)
    if not inputs:
        return []
    points = [{path: end} for path, dist in inputs.items() for end in (dist.low, dist.high)]
    runway = evaluate_at(spec, points).runway_months
    capped = np.minimum(runway, spec.horizon_months)
    rows = [
        {
            "input": path,
            "low_value": dist.low,
            "high_value": dist.high,
            "runway_low": float(runway[2 * j]) if np.isfinite(runway[2 * j]) else None,
            "runway_high": float(runway[2 * j + 1]) if np.isfinite(runway[2 * j + 1]) else None,
            "swing_months": float(abs(capped[2 * j + 1] - capped[2 * j])),
            "source": dist.source,
        }
        for j, (path, dist) in enumerate(inputs.items())
    ]
    return sorted(rows, key=lambda row: -row["swing_months"])


def sobol_indices(
    spec: CompanySpec, base_samples: int = 1024, seed: int | None = 0
) -> list[dict[str, Any]]:
    """First-order and total Sobol indices of runway (capped at the horizon), via SALib.

    Inputs are treated as independent (declared correlations are ignored here); SALib's
    Sobol sequence needs ``base_samples`` a power of two and makes ``base_samples x (k + 2)``
    evaluations.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    inputs = uncertain_inputs(spec)
    if not inputs:
        return []
    names = list(inputs)
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    uniforms = sobol_sample.sample(problem, base_samples, calc_second_order=False, seed=seed)
    uniforms = np.clip(uniforms, 1e-12, 1 - 1e-12)
    runway = _runway_capped(spec, quantiles(inputs, uniforms), uniforms.shape[0])
    if np.ptp(runway) == 0:
        return [{"input": name, "first_order": 0.0, "total": 0.0} for name in names]
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        result = sobol_analyze.analyze(
            problem, runway, calc_second_order=False, seed=seed, print_to_console=False
        )
    rows = [
        {
            "input": name,
            "first_order": float(result["S1"][j]),
            "first_order_conf": float(result["S1_conf"][j]),
            "total": float(result["ST"][j]),
            "total_conf": float(result["ST_conf"][j]),
        }
        for j, name in enumerate(names)
    ]
    return sorted(rows, key=lambda row: -row["total"])


def simulate_spec(
    spec: CompanySpec,
    samples: int = 10_000,
    seed: int | None = 0,
    sobol: bool = False,
    sobol_samples: int = 1024,
    *,
    progress: ProgressCallback = silent,
) -> SimulationResult:
    """Run ``samples`` Monte Carlo draws of ``spec`` (vectorised, chunked); ``progress``
    hears after each chunk."""
    inputs = uncertain_inputs(spec)
    pairs = [(c.inputs, c.rho) for c in spec.correlations]
    uniforms = draw_uniforms(samples, correlation_matrix(list(inputs), pairs), seed)
    metrics = _Metrics()
    for begin in range(0, samples, CHUNK):
        block = uniforms[begin : begin + CHUNK]
        metrics.add(evaluate(spec, quantiles(inputs, block), block.shape[0]))
        done = begin + block.shape[0]
        progress(f"{number(done)} of {number(samples)} samples", done / samples)
    if sobol:
        progress(f"Sobol indices ({number(sobol_samples)} base samples)", None)
    probe = cash_flow(spec)
    return SimulationResult(
        company=spec.name,
        samples=samples,
        seed=seed,
        horizon_months=spec.horizon_months,
        year_ends=probe.year_end_labels(),
        inputs=list(inputs),
        runway=metrics.joined("runway"),
        break_even=metrics.joined("break_even"),
        revenue=metrics.joined("revenue"),
        net_burn=metrics.joined("net_burn"),
        gross_margin=metrics.joined("gross_margin"),
        break_even_revenue=metrics.joined("break_even_revenue"),
        cash_end=metrics.joined("cash_end"),
        parent_funded=spec.parent_funded,
        tornado=tornado(spec),
        sobol=sobol_indices(spec, sobol_samples, seed) if sobol else None,
        month_labels=[month_label(probe.start_index + m) for m in range(probe.months)],
        cash_monthly=np.concatenate(metrics.cash_monthly) if metrics.cash_monthly else None,
    )


def simulate(
    scenario: str | Mapping[str, Any] | CompanySpec,
    samples: int = 10_000,
    seed: int | None = 0,
    sobol: bool = False,
    sobol_samples: int = 1024,
    overrides: Sequence[str] = (),
    plan_constraints: Sequence[Any] = (),
    *,
    progress: ProgressCallback = silent,
) -> dict[str, Any]:
    """Monte Carlo of a preset name, a scenario file path or mapping, or a :class:`CompanySpec`.

    When the company's compute comes from a plan without months, the scenario's own
    procurement plan is solved once (at nominal inputs, with ``plan_constraints``: e.g. a
    stochastic plan's kept commitments) and its commitments kept in every sample. Returns
    the JSON-ready summary (see :meth:`SimulationResult.to_dict`).
    """
    from gpuplan.presets import load_company

    if not 1 <= samples <= MAX_SAMPLES:
        raise InputError(
            "samples",
            f"must be between 1 and {number(MAX_SAMPLES)} (got {number(samples)}); the draws "
            "are held in memory, and 100,000 already give percentiles to within a month.",
        )
    if seed is not None and seed < 0:
        raise InputError("seed", f"must be a non-negative integer (got {seed}).")
    if sobol and (
        sobol_samples < 2 or sobol_samples & (sobol_samples - 1) or sobol_samples > MAX_SAMPLES
    ):
        raise InputError(
            "sobol_samples",
            f"must be a power of two up to {number(MAX_SAMPLES)} (got {number(sobol_samples)}).",
        )
    spec = scenario if isinstance(scenario, CompanySpec) else load_company(scenario, overrides)
    check_memory(spec, samples, sobol_samples if sobol else None)
    plan_summary: dict[str, Any] | None = None
    if spec.compute.plan is not None and not spec.compute.plan.months:
        if isinstance(scenario, CompanySpec):
            raise InputError(
                "compute.plan.months",
                "a company given without its scenario needs the plan's months; pass the "
                "scenario file or preset instead.",
            )
        from gpuplan.economics.plan_link import company_with_plan
        from gpuplan.planning.api import plan

        progress("solving the scenario's procurement plan", None)
        result = plan(
            scenario,
            overrides,
            baselines=False,
            extra_constraints=plan_constraints,
            progress=progress,
        )
        spec = company_with_plan(spec, result)
        plan_summary = {"status": result.status, "npv_usd": result.npv_usd}
    summary = simulate_spec(spec, samples, seed, sobol, sobol_samples, progress=progress).to_dict()
    if plan_summary is not None:
        summary["plan"] = plan_summary
    if spec.fx_note:
        summary["inputs_fx"] = spec.fx_note
    return summary
