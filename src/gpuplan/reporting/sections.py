"""What a report shows, in order: sections of charts and tables built from a :class:`Report`.

The HTML report draws every section; the workbook and CSV take :func:`report_tables` (one
table per sheet or file) so the three outputs never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from gpuplan.reporting import charts_compute, charts_finance, charts_plan, tables
from gpuplan.reporting.build import Report


@dataclass
class Section:
    """One part of the report: a title, a sentence of context, charts and tables by name."""

    id: str
    title: str
    intro: str
    figures: list[go.Figure] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)


def report_tables(report: Report) -> dict[str, pd.DataFrame]:
    """Every table of the report by sheet name (numbers as numbers, units in column names)."""
    out: dict[str, pd.DataFrame] = {}
    if report.plan is not None:
        out |= tables.plan_tables(report.plan)
        out["prices"] = report.prices
    if report.simulation is not None:
        out |= tables.simulation_tables(report.simulation)
    if report.training:
        out["training"] = pd.DataFrame(
            [
                {
                    "run": run,
                    "gpu": e.gpu,
                    "precision": e.precision,
                    "tokens": e.tokens,
                    "training_flops": e.training_flops,
                    "mfu": e.mfu,
                    "gpu_hours_p10": e.gpu_hours_p10,
                    "gpu_hours_p50": e.gpu_hours,
                    "gpu_hours_p90": e.gpu_hours_p90,
                    "wall_clock_days": e.wall_clock_days,
                }
                for run, estimates in report.training.items()
                for e in estimates
            ]
        )
    if report.deployments:
        out["deployments"] = pd.DataFrame(
            [
                {"workload": w, **o.model_dump()}
                for w, search in report.deployments.items()
                for o in search.options
            ]
        )
    if report.tco:
        out["rent_or_own"] = pd.DataFrame(
            [
                {
                    "gpu": r.ownership.gpu,
                    "country": r.ownership.country,
                    "owned_usd_per_useful_gpu_hour": r.ownership.cost_per_gpu_hour,
                    "utilisation": r.ownership.utilisation,
                    "pricing_model": a.pricing_model,
                    "provider": a.provider,
                    "region": a.region,
                    "price_per_gpu_hour_usd": a.price_per_gpu_hour,
                    "markup": a.markup_over_owning,
                    "break_even_utilisation": a.break_even_utilisation,
                    "as_of": a.as_of,
                    "source": a.source,
                }
                for r in report.tco
                for a in r.alternatives
            ]
        )
    if report.tco:
        out["ownership_inputs"] = pd.DataFrame(
            [
                {
                    "gpu": r.ownership.gpu,
                    "country": r.ownership.country,
                    "input": i.name,
                    "value": i.value,
                    "unit": i.unit,
                    "estimate": i.is_estimate,
                    "as_of": i.as_of,
                    "source": i.source,
                }
                for r in report.tco
                for i in r.ownership.inputs
            ]
        )
    if report.check:
        out["report_check"] = pd.DataFrame(
            [
                {
                    "section": r["section"],
                    "id": r["id"],
                    "claim": r["claim"],
                    "unit": r["unit"],
                    "stated_low": r["stated"][0],
                    "stated_high": r["stated"][1],
                    "recomputed_low": r["recomputed"][0],
                    "recomputed_high": r["recomputed"][1],
                    "verdict": r["verdict"],
                    "difference": r["difference"],
                    "note": r["note"],
                }
                for r in report.check
            ]
        )
    out["assumptions"] = pd.DataFrame(
        [{"kind": "assumption", "text": a} for a in report.assumptions]
        + [{"kind": "source", "text": s} for s in report.sources]
        + [{"kind": "not estimated", "text": s} for s in report.skipped],
        columns=["kind", "text"],
    )
    return {name: frame for name, frame in out.items() if len(frame.columns)}


def report_sections(report: Report) -> list[Section]:
    """The report's sections with their figures, in reading order."""
    sections: list[Section] = []
    result = report.plan
    if result is not None:
        sections.append(
            Section(
                "plan",
                "Procurement plan",
                "What to rent, reserve or buy each period at least net present cost, under the "
                "scenario's residency and sovereignty rules.",
                [charts_plan.cost_chart(result), charts_plan.baselines_chart(result)]
                + [
                    charts_plan.fleet_chart(result, by)
                    for by in ("mode", "provider", "country", "gpu")
                ]
                + [
                    charts_plan.utilisation_chart(result),
                    charts_plan.sovereignty_chart(result),
                    charts_plan.schedule_chart(result),
                ],
                ["cost_usd_by_category_and_year", "baselines", "orders"],
            )
        )
    if report.simulation is not None:
        summary = report.simulation
        sections.append(
            Section(
                "finance",
                "Company cash under uncertainty",
                f"Monte Carlo of {summary['samples']:,} samples (seed {summary['seed']}) over "
                "every uncertain input: cash, runway, break-even and what moves them.",
                [
                    charts_finance.cash_fan_chart(summary),
                    charts_finance.runway_chart(summary),
                    charts_finance.break_even_chart(summary),
                    charts_finance.tornado_chart(summary),
                ]
                + ([charts_finance.sobol_chart(summary)] if summary.get("sobol") else []),
                ["simulation_outcomes", "simulation_by_year", "tornado"],
            )
        )
    if report.training or report.inference:
        figures = [
            charts_compute.training_chart(estimates, f"Training run {run}: GPU-hours by GPU")
            for run, estimates in report.training.items()
        ]
        for workload, estimate in report.inference.items():
            figures.append(charts_compute.inference_curve_chart(estimate))
            if workload in report.deployments:
                figures.append(charts_compute.deployment_chart(report.deployments[workload]))
        sections.append(
            Section(
                "compute",
                "Compute estimates",
                "Training GPU-hours of each run on each allowed GPU (P10-P90 band from the "
                "utilisation model's out-of-sample residuals); serving curves and deployment "
                "fronts of each inference workload.",
                figures,
                ["training"],
            )
        )
    if report.tco:
        sections.append(
            Section(
                "tco",
                "Rent or own",
                "Cost per useful GPU-hour of owning at each site against the cheapest rental "
                "of each pricing model, as utilisation varies.",
                [charts_compute.tco_chart(r) for r in report.tco],
                ["rent_or_own"],
            )
        )
    if report.check:
        sections.append(
            Section(
                "check",
                "The reference report's figures, recomputed",
                "Each derived figure of the reference report recomputed from its presets.",
                [charts_finance.findings_chart(report.check)],
                ["report_check"],
            )
        )
    return sections
