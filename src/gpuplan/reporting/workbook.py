"""The Excel workbook and the CSV folder of a report: the same tables as the HTML report.

Workbook (xlsxwriter): a summary sheet, then one sheet per table with numbers stored as
numbers, a number format per column (:func:`gpuplan.humanize.kind_of`), frozen
headers, and native Excel charts for the fleet, the cost and the cash. CSV: one file per
table, raw numbers (SI units, USD), UTF-8.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from gpuplan import humanize
from gpuplan.errors import InputError
from gpuplan.reporting.build import Report
from gpuplan.reporting.sections import report_tables

NUMBER_FORMATS = {
    "money": '"$"#,##0.00;-"$"#,##0.00',
    "percent": "0.0%",
    "count": "#,##0",
    "number": "#,##0.###",
}
"""Excel number formats by column kind (values stay full-precision numbers)."""


def sheet_name(name: str) -> str:
    """A table name as an Excel sheet name (at most 31 characters)."""
    return humanize.label(name)[:31]


def summary_rows(report: Report) -> list[tuple[str, Any]]:
    """The header of the report as (field, value) rows."""
    rows: list[tuple[str, Any]] = [
        ("Scenario", report.scenario),
        ("Overrides", ", ".join(report.overrides) or "none"),
        ("gpuplan version", report.version),
        ("Created (UTC)", report.created.strftime("%Y-%m-%d %H:%M")),
    ]
    if report.plan is not None:
        rows += [
            ("Plan status", report.plan.status),
            ("Net present cost (USD)", report.plan.npv_usd),
            ("Solver gap", report.plan.solver_gap),
            ("Above the LP bound", report.plan.integrality_gap),
        ]
    if report.simulation is not None:
        rows += [("Monte Carlo samples", report.samples), ("Seed", report.seed)]
    return rows


def _cell(value: Any) -> Any:
    """A value xlsxwriter writes as a number, text or blank (NaN and None -> blank)."""
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value if isinstance(value, int | float | str | bool) else str(value)


def _write_table(book: Any, name: str, frame: pd.DataFrame) -> Any:
    sheet = book.add_worksheet(sheet_name(name))
    header = book.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
    for col, column in enumerate(frame.columns):
        kind = humanize.kind_of(str(column))
        if kind == "number" and humanize.kind_of(name) == "money":
            kind = "money"
        number = book.add_format({"num_format": NUMBER_FORMATS[kind]})
        sheet.write_string(0, col, humanize.label(str(column)), header)
        for row, value in enumerate(frame[column].tolist(), start=1):
            sheet.write(row, col, _cell(value), number)
        widest = max([len(str(column))] + [len(str(v)) for v in frame[column].head(50)])
        sheet.set_column(col, col, min(max(10, widest + 2), 60))
    sheet.freeze_panes(1, 1)
    return sheet


def _chart(book: Any, kind: str, subtype: str | None, title: str, y_title: str) -> Any:
    chart = book.add_chart({"type": kind, **({"subtype": subtype} if subtype else {})})
    chart.set_title({"name": title})
    chart.set_y_axis({"name": y_title})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 400})
    return chart


def _add_charts(book: Any, frames: dict[str, pd.DataFrame]) -> None:
    """Native charts next to the fleet, cost and cash tables."""
    fleet = frames.get("fleet_by_mode")
    if fleet is not None and len(fleet):
        name, rows = sheet_name("fleet_by_mode"), len(fleet)
        chart = _chart(book, "column", "stacked", "Fleet by mode (GPUs in service)", "GPUs")
        for col in range(1, len(fleet.columns)):
            chart.add_series(
                {
                    "name": [name, 0, col],
                    "categories": [name, 1, 0, rows, 0],
                    "values": [name, 1, col, rows, col],
                }
            )
        book.get_worksheet_by_name(name).insert_chart(1, len(fleet.columns) + 1, chart)
    cost = frames.get("cost_usd_by_category_and_year")
    if cost is not None and len(cost):
        name, years = sheet_name("cost_usd_by_category_and_year"), len(cost.columns) - 2
        chart = _chart(book, "column", "stacked", "Cost by category and year", "USD")
        for row in range(1, len(cost) + 1):
            chart.add_series(
                {
                    "name": [name, row, 0],
                    "categories": [name, 0, 1, 0, years],
                    "values": [name, row, 1, row, years],
                }
            )
        book.get_worksheet_by_name(name).insert_chart(len(cost) + 2, 0, chart)
    cash = frames.get("cash_by_month")
    if cash is not None and len(cash):
        name, rows = sheet_name("cash_by_month"), len(cash)
        chart = _chart(book, "line", None, "Cash by month: P10, median, P90", "USD")
        for col in range(1, 4):
            chart.add_series(
                {
                    "name": [name, 0, col],
                    "categories": [name, 1, 0, rows, 0],
                    "values": [name, 1, col, rows, col],
                }
            )
        book.get_worksheet_by_name(name).insert_chart(1, 5, chart)


def write_workbook(report: Report, path: str | Path) -> Path:
    """Write the report's tables to an .xlsx workbook at ``path``."""
    import xlsxwriter

    target = Path(path)
    frames = report_tables(report)
    try:
        book = xlsxwriter.Workbook(str(target), {"nan_inf_to_errors": True})
        summary = book.add_worksheet("Summary")
        bold = book.add_format({"bold": True})
        for row, (field, value) in enumerate(summary_rows(report)):
            summary.write_string(row, 0, field, bold)
            summary.write(row, 1, _cell(value))
        summary.set_column(0, 1, 28)
        for name, frame in frames.items():
            _write_table(book, name, frame)
        _add_charts(book, frames)
        book.close()
    except OSError as error:
        raise InputError("xlsx", f"cannot write {target}: {error.strerror}.") from None
    return target


def write_csv(report: Report, folder: str | Path) -> list[Path]:
    """Write each table of the report to ``folder/NAME.csv`` (created if missing)."""
    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in report_tables(report).items():
            path = target / f"{name}.csv"
            frame.to_csv(path, index=False)
            written.append(path)
    except OSError as error:
        raise InputError("csv", f"cannot write to {target}: {error.strerror}.") from None
    return written
