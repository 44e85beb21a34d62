"""``gpuplan report``: a scenario's plan and Monte Carlo as an HTML report, workbook and CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gpuplan.cli import app
from gpuplan.cli.common import handle_errors, whole_number
from gpuplan.cli.progress_display import progress_display


def check_output_folders(*paths: Path | None) -> None:
    """Fail before the (long) computation when a file's folder does not exist."""
    from gpuplan.errors import InputError

    for path in paths:
        if path is not None and not path.resolve().parent.is_dir():
            raise InputError(
                "output", f"the folder of {path} does not exist; create it or write elsewhere."
            )


def write_report_files(
    report: Any, html: Path | None, xlsx: Path | None = None, csv: Path | None = None
) -> None:
    """Write the requested files of a built report and say where they are (on stderr)."""
    from gpuplan.reporting.html import write_html
    from gpuplan.reporting.workbook import write_csv, write_workbook

    if html is not None:
        written = write_html(report, html)
        size = written.stat().st_size / 1e6
        typer.echo(f"Report written to {written} ({size:.1f} MB, opens offline).", err=True)
    if xlsx is not None:
        typer.echo(f"Workbook written to {write_workbook(report, xlsx)}.", err=True)
    if csv is not None:
        typer.echo(f"{len(write_csv(report, csv))} CSV tables written to {csv}/.", err=True)


@app.command("report")
@handle_errors
def report_command(
    scenario: str = typer.Argument(..., help="Scenario file or preset name (e.g. mistral)."),
    output: Path = typer.Option(
        Path("report.html"), "--output", "-o", help="HTML report to write (self-contained)."
    ),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="Also write an Excel workbook."),
    csv: Path | None = typer.Option(None, "--csv", help="Also write one CSV per table here."),
    override: list[str] = typer.Option(
        [], "--override", help="Named override of the scenario (repeatable)."
    ),
    samples: str = typer.Option("10000", "--samples", "-n", help="Monte Carlo samples."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same numbers)."),
    sobol: bool = typer.Option(False, "--sobol", help="Also compute Sobol indices."),
) -> None:
    """Plan and simulate a scenario into one HTML report (charts, tables, sources), and
    optionally an Excel workbook and CSV tables."""
    from gpuplan.reporting.build import build_report

    count = whole_number(samples, "samples")
    check_output_folders(output, xlsx)
    with progress_display(f"Report {scenario}") as progress:
        report = build_report(
            scenario, override, samples=count, seed=seed, sobol=sobol, progress=progress
        )
        write_report_files(report, output, xlsx, csv)
