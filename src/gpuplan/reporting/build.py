"""Run everything a report shows for one scenario: the plan, the Monte Carlo, the compute and
rent-or-own estimates of its workloads and sites, and (for the reference report's presets)
the report check. Only calls the Python API; the files are written by
:mod:`~gpuplan.reporting.html` and :mod:`~gpuplan.reporting.workbook`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from gpuplan.errors import GpuplanError
from gpuplan.progress import ProgressCallback, silent

if TYPE_CHECKING:
    from gpuplan.compute.deployment_search import DeploymentSearch
    from gpuplan.compute.inference import InferenceEstimate
    from gpuplan.compute.training import TrainingEstimate
    from gpuplan.economics.rent_vs_own import RentVsOwn
    from gpuplan.planning.result import PlanResult
    from gpuplan.scenario.schema import Scenario

TCO_UTILISATION = 0.8
"""Utilisation at which the rent-or-own section prices each ownership site (the chart spans
10-100 %)."""


@dataclass
class Report:
    """Everything one report shows; the plan and simulation are the library's own results."""

    scenario: str
    description: str
    overrides: list[str]
    version: str
    created: dt.datetime
    samples: int
    seed: int | None
    plan: PlanResult | None = None
    simulation: dict[str, Any] | None = None
    training: dict[str, list[TrainingEstimate]] = field(default_factory=dict)
    inference: dict[str, InferenceEstimate] = field(default_factory=dict)
    deployments: dict[str, DeploymentSearch] = field(default_factory=dict)
    tco: list[RentVsOwn] = field(default_factory=list)
    check: list[dict[str, Any]] | None = None
    assumptions: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    prices: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: list[str] = field(default_factory=list)
    """Estimates that could not be made, each with the reason (shown in the report)."""


def price_table(scenario: Scenario, result: PlanResult) -> pd.DataFrame:
    """Each supply option the plan uses: price per GPU-hour (USD), upfront capex per GPU and
    the source with its as-of date."""
    from gpuplan.planning.adapters.tables import build_problem

    problem = build_problem(scenario)
    used = set(result.fleet.option) if len(result.fleet) else set()
    rows = [
        {
            "option": o.id,
            "provider": o.provider,
            "region": o.region,
            "country": o.country,
            "gpu": o.gpu,
            "mode": o.mode,
            "price_per_gpu_hour_usd": o.cost_per_gpu_period / problem.grid.hours,
            "upfront_per_gpu_usd": o.upfront_per_gpu,
            "source": o.source,
        }
        for o in problem.options
        if o.id in used
    ]
    return pd.DataFrame(rows)


def _estimates(scenario: Scenario, report: Report) -> None:
    """Training bands, serving curves, deployment fronts and rent-or-own per site."""
    from gpuplan.compute.deployment_search import search_deployments
    from gpuplan.compute.inference import estimate_inference
    from gpuplan.compute.training import estimate_training
    from gpuplan.economics.rent_vs_own import rent_vs_own
    from gpuplan.uncertainty.distributions import nominal

    for run in scenario.training:
        estimates = []
        for gpu in run.gpus:
            try:
                estimates.append(
                    estimate_training(
                        run.model,
                        tokens=nominal(run.tokens),
                        gpu=gpu,
                        precision=run.precision,
                        gpus=run.min_cluster_gpus,
                        seq_len=run.seq_len,
                    )
                )
            except GpuplanError as error:
                report.skipped.append(f"training {run.id} on {gpu}: {error}")
        report.training[run.id] = estimates
    for w in scenario.inference:
        tokens_in, tokens_out = nominal(w.input_tokens), nominal(w.output_tokens)
        try:
            report.inference[w.id] = estimate_inference(
                w.model,
                w.gpus[0],
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                precision=w.precision,
                max_ttft_ms=w.max_ttft_ms,
                max_tpot_ms=w.max_tpot_ms,
            )
            report.deployments[w.id] = search_deployments(
                w.model,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                gpus=w.gpus,
                top=60,
                max_ttft_ms=w.max_ttft_ms,
                max_tpot_ms=w.max_tpot_ms,
            )
        except GpuplanError as error:
            report.skipped.append(f"serving {w.id}: {error}")
    for gpu, country in dict.fromkeys((s.gpu, s.country) for s in scenario.supply.ownership):
        try:
            report.tco.append(rent_vs_own(gpu, country, utilisation=TCO_UTILISATION))
        except GpuplanError as error:
            report.skipped.append(f"rent or own {gpu} in {country}: {error}")


def build_report(
    scenario: str | Path | Mapping[str, Any],
    overrides: Iterable[str] = (),
    *,
    samples: int = 10_000,
    seed: int | None = 0,
    sobol: bool = False,
    progress: ProgressCallback = silent,
    plan_result: PlanResult | None = None,
    simulation: dict[str, Any] | None = None,
    parts: tuple[str, ...] = ("plan", "finance"),
) -> Report:
    """Plan (when the scenario has workloads) and simulate (when it has a company) a
    scenario file, preset name or mapping, and gather what its report shows.

    ``plan_result`` / ``simulation``: results already computed (``gpuplan plan --report``)
    are used instead of solving again; ``parts`` leaves out the plan or the finance section.
    """
    from gpuplan import __version__
    from gpuplan.planning.api import plan
    from gpuplan.presets import company_from_mapping
    from gpuplan.scenario.loading import load_scenario, scenario_mapping
    from gpuplan.uncertainty.montecarlo import simulate

    overrides = list(overrides)
    data, label = scenario_mapping(scenario, overrides)
    report = Report(
        scenario=str(data.get("name") or label),
        description=" ".join(str(data.get("description") or "").split()),
        overrides=overrides,
        version=__version__,
        created=dt.datetime.now(dt.UTC).replace(microsecond=0),
        samples=int(simulation["samples"]) if simulation else samples,
        seed=simulation["seed"] if simulation else seed,
        assumptions=[str(a) for a in data.get("assumptions") or []],
        sources=[str(s) for s in data.get("sources") or []],
    )
    if "plan" in parts and (data.get("inference") or data.get("training")):
        loaded = load_scenario(scenario, overrides)
        if plan_result is None:
            progress("solving the procurement plan (optimum and baselines)", None)
            plan_result = plan(loaded, progress=progress)
        report.plan = plan_result
        report.prices = price_table(loaded, plan_result)
        progress("estimating training, serving and rent-or-own", None)
        _estimates(loaded, report)
    if "finance" in parts and simulation is not None:
        report.simulation = simulation
    elif "finance" in parts and data.get("company"):
        spec = company_from_mapping(data["company"])
        if spec.compute.plan is not None and not spec.compute.plan.months:
            from gpuplan.economics.plan_link import company_with_plan

            linked = report.plan or plan(scenario, overrides, baselines=False)
            spec = company_with_plan(spec, linked)
        report.simulation = simulate(spec, samples, seed, sobol, progress=progress)
    if report.scenario in _checked_presets():
        progress("recomputing the reference report's figures", None)
        from gpuplan.report.check_report import check_report

        report.check = check_report()
    return report


def _checked_presets() -> set[str]:
    from gpuplan.report.check_report import report_figures

    return {str(f["preset"]) for f in report_figures() if f.get("preset")}
