"""``gpuplan plan`` and ``gpuplan schema``: the procurement planner on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gpuplan.cli import app
from gpuplan.cli.common import handle_errors, print_json, print_table
from gpuplan.cli.report_commands import check_output_folders, write_report_files


@app.command("plan")
@handle_errors
def plan_command(
    scenario: str = typer.Argument(
        None, help="Scenario YAML or preset name (default: the European lab, 'european-lab')."
    ),
    override: list[str] = typer.Option(
        [], "--override", "-o", help="Apply a named override of the scenario (repeatable)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    no_baselines: bool = typer.Option(False, "--no-baselines", help="Skip the baselines."),
    report: Path | None = typer.Option(
        None, "--report", help="Also write the plan as a self-contained HTML report here."
    ),
) -> None:
    """Optimal rent / reserve / buy plan: cost by category and year, fleet, savings vs
    baselines. Exits 2 with a diagnosis when the scenario is infeasible."""
    from gpuplan.planning.api import plan, raise_if_infeasible

    check_output_folders(report)
    result = plan(scenario, override, baselines=not no_baselines)
    if report is not None and result.status != "infeasible":
        from gpuplan.reporting.build import build_report

        built = build_report(scenario, override, plan_result=result, parts=("plan",))
        write_report_files(built, report)
    if as_json:
        print_json(result.to_dict())
        if result.status == "infeasible":
            raise typer.Exit(code=2)
        return
    raise_if_infeasible(result)
    _print_summary(result)


def _print_summary(result: Any) -> None:
    import pandas as pd

    gap = result.integrality_gap
    typer.echo(
        f"Plan '{result.scenario}': {result.status}. Net present cost {result.npv_usd / 1e6:,.1f} "
        f"M USD; undiscounted {result.total_cost_usd / 1e6:,.1f} M USD; solved in "
        f"{result.solve_seconds:.2f} s"
        + (f"; LP bound {result.lp_bound_usd / 1e6:,.1f} M USD (gap {gap:.2%})." if gap else ".")
    )
    costs = result.cost_by_category
    if len(costs):
        table = costs.pivot_table(index="category", columns="year", values="usd", aggfunc="sum")
        table = table.fillna(0.0) / 1e6
        years = [str(y) for y in table.columns]
        print_table(
            "Cost by category and year (M USD, undiscounted; residual value is a credit)",
            ["category", *years, "total"],
            [[c, *row.tolist(), float(row.sum())] for c, row in table.iterrows()],
        )
    fleet = result.fleet
    if len(fleet):
        fleet = fleet.assign(year=fleet.period.str[:4])
        periods_per_year = fleet.groupby("year").period.nunique()
        grouped = fleet.groupby(["year", "mode", "provider", "region", "gpu"]).gpus.sum()
        average = grouped / periods_per_year.reindex(grouped.index.get_level_values("year")).values
        print_table(
            "Fleet: average GPUs in service by year",
            ["year", "mode", "provider", "region", "gpu", "GPUs"],
            [[*key, float(v)] for key, v in average.items()],
        )
    use = result.utilisation
    if len(use):
        use = use.assign(year=use.period.str[:4])
        by_year = use.groupby(["year", "mode"])[["fleet_gpus", "used_gpus"]].sum()
        print_table(
            "Utilisation (GPU-periods used / in fleet)",
            ["year", "mode", "utilisation"],
            [[*k, float(r.used_gpus / r.fleet_gpus)] for k, r in by_year.iterrows()],
        )
    base = result.baselines
    if len(base):
        print_table(
            "Baselines: same scenario, fewer options",
            ["baseline", "status", "NPV M USD", "optimal saves M USD", "saving"],
            [
                [
                    r.name,
                    r.status,
                    r.npv_usd / 1e6 if pd.notna(r.npv_usd) else None,
                    r.saving_usd / 1e6 if pd.notna(r.saving_usd) else None,
                    f"{r.saving_fraction:.1%}" if pd.notna(r.saving_fraction) else "-",
                ]
                for r in base.itertuples()
            ],
        )
        for r in base.itertuples():
            if isinstance(r.why_infeasible, str):
                typer.echo(f"Baseline {r.name} is infeasible: {r.why_infeasible}")
    for note in result.notes:
        typer.echo(f"Assumption: {note}")


@app.command("schema")
@handle_errors
def schema_command(
    markdown: bool = typer.Option(
        False, "--markdown", help="A readable field reference instead of JSON Schema."
    ),
) -> None:
    """Print the JSON Schema of scenario files (field descriptions included)."""
    from gpuplan.planning.api import scenario_schema

    if markdown:
        from gpuplan.reporting.schema_doc import schema_markdown

        typer.echo(schema_markdown(scenario_schema()))
        return
    print_json(scenario_schema())
