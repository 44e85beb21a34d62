"""``gpuplan simulate``, ``gpuplan compare`` and ``gpuplan check-report``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gpuplan import humanize
from gpuplan.cli import app
from gpuplan.cli.common import (
    JSON,
    OVERRIDE,
    handle_errors,
    print_json,
    print_table,
    say,
    whole_number,
)
from gpuplan.cli.progress_display import progress_display
from gpuplan.cli.report_commands import check_output_folders, write_report_files
from gpuplan.cli.runs_commands import DB, SAVE, save_run


def _months(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _spread(cell: dict[str, Any] | None, fmt: Any = _months) -> str:
    if cell is None:
        return "never"
    return " / ".join(fmt(cell[k]) for k in ("p10", "p50", "p90"))


def input_label(path: str) -> str:
    """An uncertain input's path as a row label: ``revenue.api[0].price_per_million`` ->
    ``Revenue api[0] price per million``."""
    return humanize.label(path.replace(".", " "))


def _share(value: float) -> str:
    """A Sobol index as a share of variance; estimates below zero (sampling noise) read 0%."""
    return humanize.percent(max(0.0, value))


@app.command("simulate")
@handle_errors
def simulate_command(
    scenario: str = typer.Argument(..., help="Scenario file or preset name (e.g. mistral)."),
    samples: str = typer.Option("10000", "--samples", "-n", help="Monte Carlo samples."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same numbers)."),
    sobol: bool = typer.Option(False, "--sobol", help="Also compute Sobol indices (SALib)."),
    sobol_samples: int = typer.Option(1024, help="Sobol base samples (a power of two)."),
    override: list[str] = OVERRIDE,
    as_json: bool = JSON,
    futures: str | None = typer.Option(
        None,
        "--futures",
        help="Keep the commitments of the stochastic plan over N sampled futures (see "
        "'gpuplan plan --futures') instead of the deterministic plan's.",
    ),
    report: Path | None = typer.Option(
        None, "--report", help="Also write the simulation as a self-contained HTML report here."
    ),
    save: bool = SAVE,
    db: str | None = DB,
) -> None:
    """Monte Carlo of a company's cash: runway, burn, margin, break-even, cash-out risk."""
    from gpuplan.humanize import money
    from gpuplan.store.saving import RunTimer
    from gpuplan.uncertainty.montecarlo import simulate

    count = whole_number(samples, "samples")
    check_output_folders(report)
    timer = RunTimer()
    kept: list[Any] = []
    with progress_display(f"Simulating {scenario}") as progress:
        if futures is not None:
            from gpuplan.planning.stochastic import stochastic_plan

            progress(f"solving the stochastic plan over {futures} futures", None)
            stochastic = stochastic_plan(
                scenario,
                override,
                futures=whole_number(futures, "--futures"),
                seed=seed,
                progress=progress,
            )
            kept.append(stochastic.commitments_kept())
        result = simulate(
            scenario, count, seed, sobol, sobol_samples, override, kept, progress=progress
        )
        if futures is not None:
            result["plan"] = {**result.get("plan", {}), "stochastic_futures": int(futures)}
        if report is not None:
            from gpuplan.reporting.build import build_report

            built = build_report(
                scenario, override, simulation=result, parts=("finance",), progress=progress
            )
            write_report_files(built, report)
    if save:
        request = {"scenario": scenario, "overrides": override, "samples": count,
                   "seed": seed, "sobol": sobol, "sobol_samples": sobol_samples,
                   "futures": futures}
        save_run(db, "simulate", result["company"], request, result, timer,
                 scenario=scenario, overrides=override, seed=seed)
    if as_json:
        print_json(result)
        return
    title = f"{result['company']}: {result['samples']:,} samples, seed {result['seed']}"
    if "plan" in result:
        title += (
            f"; compute from the scenario's {result['plan']['status']} plan "
            f"(NPV {money(result['plan']['npv_usd'])})"
        )
    if result["parent_funded"]:
        title += " (parent-funded: no runway limit)"
    be = result["break_even_month"]
    print_table(
        title,
        ["measure", "P10 / P50 / P90"],
        [
            ["Runway, months", _spread(result["runway_months"])],
            ["Runway beyond horizon (share)", f"{result['runway_beyond_horizon_share']:.1%}"],
            ["Break-even month", _spread(be)],
            ["Reaching break-even (share)", f"{result['break_even_share']:.1%}"],
            ["Cash at horizon end", _spread(result["cash_at_horizon_end"], money)],
        ],
    )
    print_table(
        "By year",
        ["year", "through", "revenue", "net burn", "gross margin", "P(cash out)"],
        [
            [
                y["year"],
                y["through"],
                _spread(y["revenue"], money),
                _spread(y["net_burn"], money),
                _spread(y["gross_margin"], lambda v: "-" if v is None else humanize.percent(v)),
                f"{p['probability']:.1%}",
            ]
            for y, p in zip(result["per_year"], result["prob_cash_out_by_year"], strict=True)
        ],
    )
    print_table(
        "Tornado: runway (months) with each input at its low / high end, others nominal",
        ["input", "low", "high", "runway at low", "runway at high", "swing"],
        [
            [
                input_label(r["input"]),
                humanize.figure(r["low_value"], humanize.kind_of(r["input"])),
                humanize.figure(r["high_value"], humanize.kind_of(r["input"])),
                _months(r["runway_low"]),
                _months(r["runway_high"]),
                r["swing_months"],
            ]
            for r in result["tornado"][:12]
        ],
    )
    if result["sobol"]:
        print_table(
            "Sobol indices of runway: share of its variance (inputs independent)",
            ["input", "first order", "total"],
            [
                [input_label(r["input"]), _share(r["first_order"]), _share(r["total"])]
                for r in result["sobol"][:12]
            ],
        )
    if result.get("inputs_fx"):
        typer.echo(f"Company inputs converted to USD: {result['inputs_fx']}")


@app.command("compare")
@handle_errors
def compare_command(
    presets: list[str] = typer.Argument(..., help="Preset names or scenario files."),
    as_json: bool = JSON,
) -> None:
    """The report's section 8 table, side by side; numeric rows computed from the presets."""
    from gpuplan.economics.compare import compare_presets

    table = compare_presets(presets)
    if as_json:
        print_json(table)
        return
    rows = []
    for row in table["rows"]:
        cells = []
        for cell in row["values"].values():
            text = cell["text"]
            if cell.get("stated"):
                text += f"\n(report: {cell['stated']})"
            if cell.get("flag"):
                text += f"\nDIFFERS {cell['flag']['difference']}: {cell['flag']['reason']}"
            cells.append(text)
        rows.append([row["dimension"], *cells])
    print_table(
        f"Procurement models against the report ({table['report_date']}): computed ranges, "
        "every input at its low then high end; 'DIFFERS' marks a gap to the report's figure",
        ["dimension", *table["presets"]],
        rows,
    )


@app.command("check-report")
@handle_errors
def check_report_command(
    as_json: bool = JSON,
    paths: bool = typer.Option(
        False, "--paths", help="Also plan the §9.3 paths (slow: a few minutes of plan solves)."
    ),
) -> None:
    """Recompute the report's figures and contradictions: consistent or not, by how much."""
    from gpuplan.humanize import money, number
    from gpuplan.report.check_report import check_report

    with progress_display("gpuplan check-report") as progress:
        progress("recomputing the report's figures", None)
        rows = check_report()
        if paths:
            from gpuplan.report.paths import check_paths

            rows += check_paths(progress)
    if as_json:
        print_json({"figures": rows})
        return

    def show(values: list[float], unit: str) -> str:
        def figure(v: float) -> str:
            return f"{v:.0f}" if unit == "year" else number(v)

        fmt = money if unit == "USD" else figure
        low, high = (fmt(v) for v in values)
        suffix = "" if unit == "USD" else f" {unit}"
        return (low if low == high else f"{low}-{high}") + suffix

    print_table(
        "The report's derived figures, recomputed",
        ["section", "claim", "stated", "recomputed", "verdict", "by how much", "note"],
        [
            [
                r["section"],
                "\n".join([r["claim"], *(f'{q["section"]}: "{q["text"]}"' for q in r["quotes"])]),
                show(r["stated"], r["unit"]),
                show(r["recomputed"], r["unit"]),
                r["verdict"],
                "; ".join(x for x in (r["difference"], r["separation"]) if x),
                r["note"],
            ]
            for r in rows
        ],
    )
    bad = sum(not r["consistent"] for r in rows)
    apart = sum(r["verdict"] == "contradicted" for r in rows)
    say(
        f"{len(rows) - bad} of {len(rows)} figures consistent, {bad} not "
        f"({apart} contradicted: no combination of the report's inputs gives them)."
    )
