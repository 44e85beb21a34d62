"""The report: charts over hand-checkable results, the HTML file, the workbook and CSV read
back against the JSON result, and the HTML drawn in a real browser."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gpuplan.planning.api import plan
from gpuplan.presets import company_from_mapping
from gpuplan.reporting import charts_finance, charts_plan
from gpuplan.reporting.build import Report, build_report
from gpuplan.reporting.html import render_html, write_html
from gpuplan.reporting.sections import report_sections
from gpuplan.reporting.style import money_axis
from gpuplan.reporting.workbook import write_csv, write_workbook
from gpuplan.uncertainty.montecarlo import simulate
from report_scenario import report_scenario
from test_planner_scenarios import tiny


@pytest.fixture(scope="session")
def artifact_dir() -> Path:
    """``build/test-artifacts`` at the repository root (ignored by git), created."""
    folder = Path(__file__).resolve().parents[1] / "build" / "test-artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser_page(chromium_executable: str) -> Iterator[Any]:
    """A headless page (1300 x 900) whose console errors and page errors are collected in
    ``page.errors`` (a list of strings)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.errors = errors
        try:
            yield page
        finally:
            browser.close()


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(report_scenario(), samples=4000, seed=3)


@pytest.fixture(scope="module")
def html_file(report: Report, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_html(report, tmp_path_factory.mktemp("report") / "report.html")


def test_tiny_plan_charts_carry_the_hand_computed_numbers() -> None:
    """100 GPUs at $2/h for 4 quarters of 2,190 h: $1,752,000 of on-demand cost in 2026, and
    100 GPUs in every period of the fleet chart (tests/test_planner_scenarios.py)."""
    result = plan(tiny(), baselines=False)
    cost = charts_plan.cost_chart(result)
    assert [t.name for t in cost.data] == ["On demand"]
    assert list(cost.data[0].y) == pytest.approx([1_752_000.0])
    fleet = charts_plan.fleet_chart(result, "provider")
    assert [t.name for t in fleet.data] == ["Nebius"]
    assert list(fleet.data[0].y) == pytest.approx([100.0] * 4)
    schedule = charts_plan.schedule_chart(result)
    assert "commits to nothing" in schedule.layout.annotations[0].text
    assert list(result.orders.action) == ["rent"] * 4  # 100 GPUs rented each quarter


def test_money_axis_ticks_are_round_and_humanized() -> None:
    """Extremes -2.3B and 4.1B: span 6.4B / 5 = 1.28B -> step 2B (1, 2, 2.5, 5 x 10^k)."""
    axis = money_axis([-2.3e9, 4.1e9])
    assert axis["tickvals"] == [-4e9, -2e9, 0.0, 2e9, 4e9, 6e9]
    assert axis["ticktext"] == ["\u2212$4B", "\u2212$2B", "$0", "$2B", "$4B", "$6B"]


def test_cash_fan_and_runway_histogram_match_analytic_percentiles() -> None:
    """Opening cash ~ U(600k, 1.2M), $10k a month of costs, nothing else: cash after m months
    is U(600k, 1.2M) - 10k m, so P10 = 660k - 10k m, P90 = 1.14M - 10k m; runway ~ U(60, 120)
    months, so each one-month bin from 60 to 119 holds 1/60 of the samples."""
    spec = company_from_mapping(
        {
            "name": "Burner",
            "start": "2025-01",
            "horizon_months": 130,
            "opening_cash": {"low": 600_000, "high": 1_200_000, "shape": "uniform"},
            "operating": {"rd_operations_per_year": 120_000},
        }
    )
    summary = simulate(spec, samples=20_000, seed=1)
    fan = summary["cash_by_month"]
    assert fan["month"][0] == "2025-01" and len(fan["month"]) == 130
    for m in (0, 30, 59):  # cash at the end of month m+1
        assert fan["p10"][m] == pytest.approx(660_000 - 10_000 * (m + 1), abs=6_000)
        assert fan["p90"][m] == pytest.approx(1_140_000 - 10_000 * (m + 1), abs=6_000)
    counts = summary["runway_histogram"]["counts"]
    assert sum(counts[:60]) == 0 and sum(counts[120:]) == 0
    assert sum(counts[60:120]) == 20_000
    assert max(counts[60:120]) / 20_000 == pytest.approx(1 / 60, abs=0.004)
    figure = charts_finance.cash_fan_chart(summary)
    assert [t.name for t in figure.data] == ["P90", "P10-P90", "Median"]


def test_report_sections_draw_every_part(report: Report) -> None:
    sections = {s.id: s for s in report_sections(report)}
    assert list(sections) == ["plan", "finance", "compute", "tco"]
    assert len(sections["plan"].figures) == 9  # cost, baselines, 4 fleet views, use, where, when
    assert report.plan is not None and report.plan.status == "optimal"
    assert report.simulation is not None and report.simulation["samples"] == 4000
    assert not report.skipped


def test_html_is_self_contained_and_small(report: Report, html_file: Path) -> None:
    text = html_file.read_text(encoding="utf-8")
    assert html_file.stat().st_size < 10e6
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"http", text)  # nothing fetched
    assert text.count("plotly.js v") == 1  # the library embedded once
    assert report.plan is not None
    for expected in ("report-test", report.version, "seed 3", "optimal", "test offer"):
        assert expected in text
    assert text.count('class="plotly-graph-div"') == sum(
        len(s.figures) for s in report_sections(report)
    )


def _sheet(book: Any, name: str) -> list[dict[str, Any]]:
    rows = list(book[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_workbook_numbers_equal_the_json_result(report: Report, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = write_workbook(report, tmp_path / "book.xlsx")
    book = load_workbook(path)
    assert report.plan is not None and report.simulation is not None
    result = report.plan.to_dict()
    baselines = _sheet(book, "Baselines")
    assert baselines[0]["NPV USD"] == pytest.approx(result["npv_usd"], rel=1e-12)
    assert isinstance(baselines[0]["NPV USD"], float)
    by_json: dict[tuple[str, str], float] = {}
    for row in result["cost_by_category_and_year"]:
        by_json[(row["category"], str(row["year"]))] = row["usd"]
    for row in _sheet(book, "Cost USD by category and year"):
        for year, usd in row.items():
            if year not in ("Category", "Total"):
                assert usd == pytest.approx(by_json.get((row["Category"], year), 0.0))
    fleet = _sheet(book, "Fleet")
    assert sum(r["GPUs"] for r in fleet) == pytest.approx(sum(r["gpus"] for r in result["fleet"]))
    fan = _sheet(book, "Cash by month")
    assert [r["Cash USD P50"] for r in fan] == pytest.approx(
        report.simulation["cash_by_month"]["p50"]
    )
    for name in ("Fleet by mode", "Cost USD by category and year", "Cash by month"):
        assert book[name].freeze_panes == "B2"
        assert len(book[name]._charts) == 1  # native Excel chart
    assert book["Cost USD by category and year"]["B2"].number_format.startswith('"$"')


def test_csv_tables_equal_the_workbook_tables(report: Report, tmp_path: Path) -> None:
    written = {p.stem: p for p in write_csv(report, tmp_path / "csv")}
    assert {"cost_usd_by_category_and_year", "fleet", "prices", "cash_by_month"} <= set(written)
    assert report.plan is not None
    with written["baselines"].open(encoding="utf-8") as handle:
        first = next(csv.DictReader(handle))
    assert float(first["npv_usd"]) == pytest.approx(report.plan.npv_usd, rel=1e-12)


@pytest.mark.slow
def test_html_report_draws_in_chromium(
    report: Report, html_file: Path, browser_page: Any, artifact_dir: Path
) -> None:
    """Every chart becomes an SVG, no console error, one screenshot per section."""
    page = browser_page
    page.goto(html_file.as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
    charts = page.locator(".js-plotly-plot")
    expected = sum(len(s.figures) for s in report_sections(report))
    assert charts.count() == expected
    for index in range(expected):
        assert charts.nth(index).locator(".main-svg").count() >= 1
        assert charts.nth(index).locator(".main-svg").first.bounding_box()["height"] > 100
    sections = page.locator("section")
    folder = artifact_dir / "report"
    folder.mkdir(exist_ok=True)
    for index in range(sections.count()):
        section = sections.nth(index)
        section.screenshot(path=str(folder / f"{section.get_attribute('id')}.png"))
    assert page.errors == []
    assert len(list(folder.glob("*.png"))) == sections.count() >= 5


def test_render_without_a_company_or_plan_still_has_a_header() -> None:
    report = build_report({**tiny(), "company": None}, samples=10)
    text = render_html(report)
    assert "gpuplan report: tiny" in text and "Monte Carlo" not in text


def test_every_ownership_figure_has_a_source_and_date(
    report: Report, html_file: Path, tmp_path: Path
) -> None:
    """The rent-or-own section's owned cost rests on sourced inputs (server price, power,
    PUE, ...): each is listed with its as-of date and source, in the HTML and the CSV."""
    written = {p.stem: p for p in write_csv(report, tmp_path / "csv")}
    with written["ownership_inputs"].open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {"server_usd_per_gpu", "pue", "electricity_price_per_kwh"} <= {r["input"] for r in rows}
    assert all(r["source"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["as_of"]) for r in rows)
    text = html_file.read_text(encoding="utf-8")
    assert "Ownership cost inputs and their sources" in text and ">PUE<" in text


def test_report_check_findings_chart_places_each_figure_by_its_ratio() -> None:
    """Stated $100M-$200M against recomputed $300M-$600M: midpoints 150 and 450, ratio 3
    (log x); a figure stated as 0 has no ratio and is left out; the section is drawn."""
    rows = [
        {"section": "§5.2", "id": "spend", "claim": "spend", "stated": [100e6, 200e6],
         "recomputed": [300e6, 600e6], "verdict": "contradicted"},
        {"section": "§5.3", "id": "burn", "claim": "burn", "stated": [10.0, 10.0],
         "recomputed": [10.0, 10.0], "verdict": "consistent"},
        {"section": "§9", "id": "zero", "claim": "none", "stated": [0.0, 0.0],
         "recomputed": [1.0, 1.0], "verdict": "inconsistent"},
    ]  # fmt: skip
    figure = charts_finance.findings_chart(rows)
    points = {trace.name: list(trace.x) for trace in figure.data}
    assert points["contradicted"] == [pytest.approx(3.0)]
    assert points["consistent"] == [pytest.approx(1.0)]
    assert points["inconsistent"] == []
    assert figure.layout.xaxis.type == "log"
    checked = Report("x", "", [], "0", dt.datetime.now(dt.UTC), 0, None)
    checked.check = [{**r, "unit": "USD", "difference": "", "note": ""} for r in rows]
    assert [s.id for s in report_sections(checked)] == ["check"]
