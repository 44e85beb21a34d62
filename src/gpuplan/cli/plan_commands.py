"""``gpuplan plan`` and ``gpuplan schema``: the procurement planner on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gpuplan.cli import app
from gpuplan.cli.common import JSON, OVERRIDE, handle_errors, print_json, print_table, say
from gpuplan.cli.report_commands import check_output_folders, write_report_files
from gpuplan.cli.runs_commands import DB, SAVE, save_run


@app.command("plan")
@handle_errors
def plan_command(
    scenario: str = typer.Argument(
        None, help="Scenario YAML or preset name (default: the European lab, 'european-lab')."
    ),
    override: list[str] = OVERRIDE,
    as_json: bool = JSON,
    no_baselines: bool = typer.Option(False, "--no-baselines", help="Skip the baselines."),
    futures: str | None = typer.Option(
        None,
        "--futures",
        help="Plan under uncertainty: N futures sampled from the scenario's ranges; "
        "commitments before --decision-point are shared, the rest adapts per future.",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the sampled futures."),
    risk: str | None = typer.Option(
        None, "--risk", help="With --futures: cvar:ALPHA:WEIGHT, e.g. cvar:0.9:0.5."
    ),
    decision_point: str | None = typer.Option(
        None,
        "--decision-point",
        help="With --futures: first month decided later (YYYY-MM or YYYY-Qn; default: one "
        "year after the start).",
    ),
    out_of_sample: str = typer.Option(
        "0", "--out-of-sample", help="With --futures: fresh futures to evaluate the plans on."
    ),
    decomposition: str = typer.Option(
        "extensive",
        "--decomposition",
        help="With --futures: 'extensive' (one model of all futures: the optimum) or "
        "'batches' (first stage agreed from models of --batch-size futures: linear growth).",
    ),
    batch_size: str = typer.Option(
        "25", "--batch-size", help="With --decomposition batches: futures per batch."
    ),
    workers: str = typer.Option(
        "1", "--workers", help="With --decomposition batches: processes solving batches at "
        "once (one per core)."
    ),
    orders: bool = typer.Option(
        False, "--orders", help="Print the order schedule: what to rent, reserve or buy, when."
    ),
    report: Path | None = typer.Option(
        None, "--report", help="Also write the plan as a self-contained HTML report here."
    ),
    save: bool = SAVE,
    db: str | None = DB,
) -> None:
    """Optimal rent / reserve / buy plan: cost by category and year, fleet, savings vs
    baselines. Exits 2 with a diagnosis when the scenario is infeasible. With --futures N:
    the two-stage stochastic plan (commit now, adapt later), with VSS and EVPI."""
    from gpuplan.cli.progress_display import progress_display
    from gpuplan.planning.api import plan, raise_if_infeasible
    from gpuplan.scenario.loading import DEFAULT_PRESET

    check_output_folders(report)
    if futures is not None:
        from gpuplan.cli.stochastic_output import run_stochastic_plan

        if save:
            from gpuplan.errors import InputError

            raise InputError("--save", "saves the deterministic plan; leave out --futures.")

        run_stochastic_plan(
            scenario, override, futures, seed, risk, decision_point, out_of_sample, as_json,
            decomposition=decomposition, batch_size=batch_size, workers=workers,
        )  # fmt: skip
        return
    stochastic_only = (risk, decision_point, out_of_sample, decomposition, batch_size, workers)
    if stochastic_only != (None, None, "0", "extensive", "25", "1"):
        from gpuplan.errors import InputError

        raise InputError(
            "--futures",
            "--risk, --decision-point, --out-of-sample, --decomposition, --batch-size and "
            "--workers need --futures N.",
        )

    if save:  # the run store (SQLAlchemy) is imported only when a run is saved
        from gpuplan.store.saving import RunTimer, plan_record

        timer = RunTimer()
    with progress_display("gpuplan plan") as progress:
        result = plan(scenario, override, baselines=not no_baselines, progress=progress)
        if report is not None and result.status != "infeasible":
            from gpuplan.reporting.build import build_report

            built = build_report(
                scenario, override, plan_result=result, parts=("plan",), progress=progress
            )
            write_report_files(built, report)
    if save:
        request = {"scenario": scenario, "overrides": override, "baselines": not no_baselines}
        save_run(db, "plan", result.scenario, request, plan_record(result), timer,
                 scenario=scenario or DEFAULT_PRESET, overrides=override)
    if as_json:
        print_json(result.to_dict())
        if result.status == "infeasible":
            raise typer.Exit(code=2)
        return
    raise_if_infeasible(result)
    _print_summary(result)
    if orders:
        _print_orders(result)


def _print_orders(result: Any) -> None:
    from gpuplan.humanize import money, percent

    def amount(row: Any) -> str:
        return f"{row.power_mw:.3g} MW" if row.power_mw else f"{row.gpus:,.0f}"

    print_table(
        "Order schedule (whole servers or instances, 8 GPUs unless the offer says; rentals "
        "repeat each period they are used; power added to a site is kept to the horizon end)",
        ["order by", "action", "provider", "region", "gpu", "GPUs / power", "servers",
         "unit price", "price trend", "in service", "until", "commits"],
        [
            [r.order_month, r.action, r.provider, r.region, r.gpu, amount(r), r.servers or "",
             f"{money(r.unit_price_usd)} {r.unit.removeprefix('USD ')}",
             f"{percent(r.price_trend)}/y" if r.price_trend else "",
             r.in_service, r.until, money(r.commitment_usd)]
            for r in result.orders.itertuples()
        ],
    )  # fmt: skip


def plan_header(result: Any) -> str:
    """The first line: status with the solver's own gap, the cost, and the LP bound named
    for what it is (an integrality gap of the model, not slack in the solve)."""
    from gpuplan.humanize import money, percent

    solver_gap = result.solver_gap or 0.0
    if result.status == "optimal":
        status = f"optimal (HiGHS: within {percent(solver_gap, 2)} of the best plan)"
    else:
        status = (
            f"stopped at the time limit (may be up to {percent(solver_gap, 1)} dearer than "
            "the best plan)"
        )
    text = (
        f"Plan '{result.scenario}': {status}. Net present cost {money(result.npv_usd)}; "
        f"undiscounted {money(result.total_cost_usd)}; solved in {result.solve_seconds:.1f} s."
    )
    gap = result.integrality_gap
    if gap:
        text += (
            f" The LP relaxation ({money(result.lp_bound_usd)}) is {percent(gap)} lower: "
            "the cost of whole training clusters, not slack in the solve."
        )
    return text


def _print_summary(result: Any) -> None:
    import pandas as pd

    from gpuplan.humanize import label, money, percent

    say(plan_header(result))
    costs = result.cost_by_category
    if len(costs):
        table = costs.pivot_table(index="category", columns="year", values="usd", aggfunc="sum")
        table = table.fillna(0.0)
        years = [str(y) for y in table.columns]
        print_table(
            "Cost by category and year (undiscounted; residual value is a credit)",
            ["category", *years, "total"],
            [[label(c), *row.tolist(), float(row.sum())] for c, row in table.iterrows()],
            formats=dict.fromkeys(range(1, len(years) + 2), money),
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
        by_year = use.groupby(["year", "mode"])[
            ["fleet_gpus", "busy_gpus", "idle_gpus", "idle_cost_usd"]
        ].sum()
        print_table(
            "Utilisation (busy GPU-periods / in fleet; inference busy 1 / peak factor) and "
            "idle committed capacity",
            ["year", "mode", "utilisation", "idle GPU-periods", "idle cost"],
            [
                [*k, f"{r.busy_gpus / r.fleet_gpus:.0%}", r.idle_gpus, money(r.idle_cost_usd)]
                for k, r in by_year.iterrows()
            ],
        )
    base = result.baselines
    if len(base):
        print_table(
            "Baselines: same scenario, fewer options",
            ["baseline", "status", "net present cost", "the optimum saves", "saving"],
            [
                [
                    r.name,
                    r.status,
                    r.npv_usd if pd.notna(r.npv_usd) else None,
                    r.saving_usd if pd.notna(r.saving_usd) else None,
                    percent(r.saving_fraction, 1) if pd.notna(r.saving_fraction) else "-",
                ]
                for r in base.itertuples()
            ],
            formats={2: money, 3: money},
        )
        for r in base.itertuples():
            if isinstance(r.why_infeasible, str):
                say(f"Baseline {label(r.name)} is infeasible: {r.why_infeasible}")
    for note in result.notes:
        say(f"Note: {note}")


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
