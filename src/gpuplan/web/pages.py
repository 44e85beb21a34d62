"""Server-rendered pages (Jinja2): editor, runs list, run page, comparison, catalog.

Pages read through the same store and API functions as the JSON API; the editor validates
through ``/api/scenarios/validate`` as you type and submits a plain form (CSRF-checked).
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from gpuplan import humanize
from gpuplan.store import RunStore, diff_runs
from gpuplan.web.security import check_form_token

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _number(value: Any, key: str = "") -> str:
    """A table cell for people: money for ``*_usd``, percent for fractions, counts else;
    a P10/P50/P90 cell as ``P10 / P50 / P90``."""
    if isinstance(value, dict) and {"p10", "p50", "p90"} <= set(value):
        return " / ".join(_number(value[k], key) for k in ("p10", "p50", "p90"))
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "-" if value is None else str(value)
    if not math.isfinite(value):
        return "-"
    if key.endswith(("usd", "cost")) or key.startswith("cost"):
        return humanize.money(value)
    if key.endswith(("fraction", "share", "utilisation", "gap")):
        return humanize.percent(value, 1)
    return humanize.count(value)


templates.env.filters["number"] = _number
templates.env.filters["money"] = lambda v: "-" if v is None else humanize.money(v)
templates.env.filters["label"] = humanize.label


def _store(request: Request) -> RunStore:
    store: RunStore = request.app.state.store
    return store


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context |= {"csrf": getattr(request.state, "csrf", "")}
    return templates.TemplateResponse(request, name, context, status_code=status)


def error_page(request: Request, field: str, message: str, status: int) -> HTMLResponse:
    """The bad-input paragraph as a page."""
    return _page(request, "error.html", status, field=field, message=message)


def tables_of(result: dict[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """The result's row tables (lists of mappings), by name."""
    return {
        key: value for key, value in (result or {}).items()
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value)
    }


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    from gpuplan.web.api import presets

    return _page(request, "index.html", presets=presets(), runs=_store(request).list(limit=10))


@router.get("/editor", response_class=HTMLResponse)
def editor(request: Request, preset: str = Query("european-lab", max_length=100)) -> Response:
    from gpuplan.web.api import presets
    from gpuplan.web.scenario_input import preset_text

    return _page(request, "editor.html", preset=preset, text=preset_text(preset),
                 presets=[p.name for p in presets()])


@router.post("/runs")
def submit(
    request: Request,
    kind: str = Form(..., max_length=16),
    yaml: str = Form(..., max_length=1_000_000),
    overrides: str = Form("", max_length=1000),
    samples: int = Form(10_000, ge=1, le=1_000_000),
    grid: str = Form("", max_length=2000),
    csrf: str = Form("", max_length=100),
) -> Response:
    """The editor's Plan / Simulate / Sweep buttons: queue the job and go to its page."""
    from gpuplan.web.api import queue_job
    from gpuplan.web.jobs import QueueFull
    from gpuplan.web.schemas import JobRequest

    if not check_form_token(request.cookies, csrf):
        return error_page(request, "csrf", "the form's CSRF token is missing or stale; "
                          "reload the editor and submit again.", 403)
    names = [n.strip() for n in overrides.split(",") if n.strip()]
    try:
        items = [item.strip() for item in grid.replace("\n", ";").split(";") if item.strip()]
        job = JobRequest.model_validate({"kind": kind, "yaml": yaml, "overrides": names,
                                         "samples": samples, "grid": items})
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "form"
        return error_page(request, field, str(first["msg"]), 400)
    try:
        run_id = queue_job(job, request)
    except QueueFull as error:
        return error_page(request, "queue", str(error), 429)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.get("/runs", response_class=HTMLResponse)
def runs(request: Request, q: str | None = Query(None, max_length=200)) -> HTMLResponse:
    return _page(request, "runs.html", q=q or "", runs=_store(request).list(q, limit=200))


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run(request: Request, run_id: str) -> HTMLResponse:
    record = _store(request).get(run_id)
    return _page(request, "run.html", run=record, tables=tables_of(record.result),
                 charts=_charts(record))


@router.get("/runs/{run_id}/result.json")
def download_json(request: Request, run_id: str) -> Response:
    record = _store(request).get(run_id)
    return Response(json.dumps(record.to_dict(), indent=2), media_type="application/json",
                    headers={"Content-Disposition":
                             f'attachment; filename="gpuplan-{record.id[:12]}.json"'})


def _run_report(record: Any) -> Any:
    """The HTML/Excel report of a succeeded plan or simulate run, from what the store kept
    (:func:`gpuplan.reporting.build.build_report`; nothing is solved again)."""
    from gpuplan.errors import InputError
    from gpuplan.reporting.build import build_report
    from gpuplan.store.saving import plan_from_record

    if record.status != "succeeded" or record.kind not in ("plan", "simulate"):
        raise InputError("run", "only a succeeded plan or simulate run has a report.")
    if record.kind == "plan":
        return build_report(
            record.resolved, plan_result=plan_from_record(record.result), parts=("plan",)
        )
    company = {"name": record.label, "company": record.resolved}
    return build_report(company, simulation=record.result, parts=("finance",))


@router.get("/runs/{run_id}/report.html", response_class=HTMLResponse)
def download_report(request: Request, run_id: str) -> HTMLResponse:
    from gpuplan.reporting.html import render_html

    record = _store(request).get(run_id)
    return HTMLResponse(render_html(_run_report(record)), headers={
        "Content-Disposition": f'attachment; filename="gpuplan-{record.id[:12]}.html"'})


@router.get("/runs/{run_id}/workbook.xlsx")
def download_workbook(request: Request, run_id: str) -> Response:
    import tempfile

    from gpuplan.reporting.workbook import write_workbook

    record = _store(request).get(run_id)
    report = _run_report(record)
    with tempfile.TemporaryDirectory() as folder:
        content = write_workbook(report, Path(folder) / "book.xlsx").read_bytes()
    return Response(content, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="gpuplan-{record.id[:12]}.xlsx"'})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/runs/{run_id}/{table}.csv")
def download_csv(request: Request, run_id: str, table: str) -> Response:
    from gpuplan.errors import UnknownIdError

    record = _store(request).get(run_id)
    found = tables_of(record.result)
    if table not in found:
        raise UnknownIdError("table", table, found)
    rows = found[table]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
    writer.writeheader()
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="gpuplan-{record.id[:12]}-{table}.csv"'})


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request, a: str = Query(..., max_length=64),
            b: str = Query(..., max_length=64)) -> HTMLResponse:
    store = _store(request)
    left, right = store.get(a), store.get(b)
    return _page(request, "compare.html", a=left, b=right, diff=diff_runs(left, right))


@router.get("/catalog", response_class=HTMLResponse)
def catalog(
    request: Request,
    gpu: str | None = Query(None, max_length=50),
    region_group: str | None = Query(None, max_length=10),
    pricing: str | None = Query(None, max_length=30),
    provider: str | None = Query(None, max_length=100),
) -> HTMLResponse:
    from gpuplan.web.api import gpus, offers

    def blank(value: str | None) -> str | None:
        return value or None

    found = offers(gpu=blank(gpu), region_group=blank(region_group), pricing=blank(pricing),
                   provider=blank(provider), jurisdiction=None, country=None)
    filters = {"gpu": gpu or "", "region_group": region_group or "", "pricing": pricing or "",
               "provider": provider or ""}
    return _page(request, "catalog.html", gpus=gpus(), offers=found, filters=filters)


def _charts(record: Any) -> list[str]:
    """HTML of the report's charts for a succeeded plan or simulate run (the figure builders
    of :mod:`gpuplan.reporting`); plotly's script is embedded once, so the page works
    offline. Other runs have none."""
    if record.status != "succeeded" or not record.result:
        return []
    if record.kind == "plan":
        from gpuplan.reporting import charts_plan
        from gpuplan.store.saving import plan_from_record

        result = plan_from_record(record.result)
        if result.status == "infeasible":
            return []
        figures = [
            charts_plan.fleet_chart(result, "mode"),
            charts_plan.cost_chart(result),
            charts_plan.baselines_chart(result),
            charts_plan.utilisation_chart(result),
        ]
    elif record.kind == "simulate":
        from gpuplan.reporting import charts_finance

        figures = [
            charts_finance.cash_fan_chart(record.result),
            charts_finance.runway_chart(record.result),
            charts_finance.tornado_chart(record.result),
        ]
    else:
        return []
    return [
        figure.to_html(full_html=False, include_plotlyjs=n == 0)
        for n, figure in enumerate(figures)
    ]
