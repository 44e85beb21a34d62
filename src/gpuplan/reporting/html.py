"""The self-contained HTML report: one file, plotly.js embedded once, opens offline.

Layout: a header (scenario, gpuplan version, date, solver status and gap, seed), a contents
list, one ``<section>`` per :class:`~gpuplan.reporting.sections.Section` with its charts and
key tables, then every price with its source and as-of date and the scenario's assumptions.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs

from gpuplan import humanize
from gpuplan.errors import InputError
from gpuplan.reporting.build import Report
from gpuplan.reporting.sections import report_sections, report_tables

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 2rem;
       color: #222; }
header { border-bottom: 2px solid #4C78A8; margin-bottom: 1rem; }
header dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
header dt { font-weight: 600; } header dd { margin: 0; }
section { margin: 2rem 0; padding-top: 0.5rem; border-top: 1px solid #ddd; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 1rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
td.text { max-width: 30rem; } .table { overflow-x: auto; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
nav ol { columns: 2; }
"""
KEY_COLUMNS = frozenset(
    {"category", "mode", "measure", "pricing_model", "kind", "status", "action", "input"}
)
"""Columns whose values are keys (``on_demand``), shown as labels (``On demand``)."""
TABLE_ROWS = 60
"""Rows shown per table in the HTML (the workbook and CSV have them all)."""


def cell_text(value: Any, column: str, table: str = "", row: str = "") -> str:
    """One table cell as people read it (:mod:`gpuplan.humanize`), by the kind of its column,
    else of its row label, else of its table (``cost_usd_by_category_and_year``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, int | float):
        text = str(value)
        return humanize.label(text) if column in KEY_COLUMNS else humanize.title(text)
    kinds = (humanize.kind_of(column), humanize.kind_of(row), humanize.kind_of(table))
    return humanize.figure(float(value), next((k for k in kinds if k != "number"), "number"))


def table_html(name: str, frame: pd.DataFrame) -> str:
    """A captioned HTML table, numbers formatted, at most :data:`TABLE_ROWS` rows."""
    head = "".join(f"<th>{html.escape(humanize.label(str(c)))}</th>" for c in frame.columns)
    body = []
    for row in frame.head(TABLE_ROWS).itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            kind = "text" if isinstance(value, str) else "number"
            text = html.escape(cell_text(value, str(column), name, str(row[0])))
            cells.append(f'<td class="{kind}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = len(frame) - TABLE_ROWS
    note = f"<p>{more} more rows in the workbook and CSV.</p>" if more > 0 else ""
    return (
        f'<div class="table"><table id="table-{name}">'
        f"<caption>{html.escape(humanize.label(name))}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>{note}"
    )


def _header(report: Report) -> str:
    items = {
        "Scenario": report.scenario
        + (f" (overrides: {', '.join(report.overrides)})" if report.overrides else ""),
        "gpuplan version": report.version,
        "Created": report.created.strftime("%Y-%m-%d %H:%M UTC"),
    }
    if report.plan is not None:
        plan = report.plan
        solver, bound = plan.solver_gap, plan.integrality_gap
        items["Plan"] = (
            f"{plan.status}"
            + (f" (solver gap {humanize.percent(solver, 2)})" if solver is not None else "")
            + f"; net present cost {humanize.money(plan.npv_usd)}"
            + (f"; {humanize.percent(bound, 1)} above the LP bound" if bound is not None else "")
            + f"; solved in {plan.solve_seconds:.1f} s"
        )
    if report.simulation is not None:
        items["Monte Carlo"] = f"{report.samples:,} samples, seed {report.seed}"
    rows = "".join(f"<dt>{k}</dt><dd>{html.escape(v)}</dd>" for k, v in items.items())
    description = f"<p>{html.escape(report.description)}</p>" if report.description else ""
    return (
        f"<header><h1>gpuplan report: {html.escape(report.scenario)}</h1>{description}"
        f"<dl>{rows}</dl></header>"
    )


def render_html(report: Report) -> str:
    """The whole report as one HTML string (plotly.js inline, no network needed)."""
    sections = report_sections(report)
    frames = report_tables(report)
    parts = []
    chart = 0
    for section in sections:
        charts = []
        for figure in section.figures:
            chart += 1
            charts.append(
                pio.to_html(
                    figure,
                    full_html=False,
                    include_plotlyjs=False,
                    div_id=f"chart-{chart}",
                    config={"displaylogo": False, "responsive": True},
                )
            )
        shown = "".join(table_html(n, frames[n]) for n in section.tables if n in frames)
        parts.append(
            f'<section id="{section.id}"><h2>{html.escape(section.title)}</h2>'
            f"<p>{html.escape(section.intro)}</p>"
            f'<div class="charts">{"".join(charts)}</div>{shown}</section>'
        )
    titles = {
        "prices": "Prices and their sources",
        "ownership_inputs": "Ownership cost inputs and their sources",
        "assumptions": "Assumptions and sources",
    }
    extra = [(name, name) for name in titles if name in frames and len(frames[name])]
    for anchor, name in extra:
        parts.append(
            f'<section id="{anchor}"><h2>{titles[name]}</h2>{table_html(name, frames[name])}'
            "</section>"
        )
    toc = [(s.id, s.title) for s in sections] + [(a, titles[n]) for a, n in extra]
    nav = "".join(f'<li><a href="#{a}">{html.escape(t)}</a></li>' for a, t in toc)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>gpuplan report: {html.escape(report.scenario)}</title>"
        f"<style>{STYLE}</style><script>{get_plotlyjs()}</script></head><body>"
        f"{_header(report)}<nav><h2>Contents</h2><ol>{nav}</ol></nav>{''.join(parts)}"
        "</body></html>"
    )


def write_html(report: Report, path: str | Path) -> Path:
    """Write the report to ``path`` (UTF-8); the folder must exist."""
    target = Path(path)
    try:
        target.write_text(render_html(report), encoding="utf-8")
    except OSError as error:
        raise InputError("output", f"cannot write {target}: {error.strerror}.") from None
    return target
