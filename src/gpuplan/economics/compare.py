"""The report's section 8 table, side by side, recomputed from preset scenarios.

Numeric rows are computed from each preset's inputs, as a ``low - high`` range: every
uncertain input at its low end, then at its high end (the way the report adds up the ends of
its ranges). Descriptive rows are the report's words (the preset's ``profile``); a cell is
either the report's text or gpuplan's computed value, never both. Where the report's figure
is a number and the computed range differs from it by more than 10% (5 points for shares),
the cell is flagged with the difference and its reason: the preset's ``why`` for that row,
plus any funding round dated after the report. Each column carries the as-of month of its
latest dated input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpuplan.economics.cashflow import InputValues, yearly
from gpuplan.economics.company import CompanySpec, StatedFigure, month_index
from gpuplan.economics.ranges import verdict
from gpuplan.humanize import count, money
from gpuplan.uncertainty.distributions import Distribution
from gpuplan.uncertainty.montecarlo import corners
from gpuplan.uncertainty.sampling import uncertain_inputs

REPORT_DATE = "2025-11-29"
"""'Last updated' date of the reference report."""
TOLERANCE = {"owned_share": 5.0}
"""Gap still not flagged, per row: points for shares, else relative (default 10%)."""
DEFAULT_TOLERANCE = 0.10


def _dollars(value: float) -> str:
    return money(value) if value else "$0"


def _span(low: float, high: float, fmt: Any) -> dict[str, Any]:
    low, high = float(min(low, high)), float(max(low, high))
    text = fmt(low) if fmt(low) == fmt(high) else f"{fmt(low)}-{fmt(high)}"
    return {"low": low, "high": high, "text": text}


def fleet_capex(spec: CompanySpec, values: InputValues) -> np.ndarray:
    """All-in capex of every owned fleet row, including purchases before the horizon, USD."""
    total = np.zeros((values.n, 1))
    for i, row in enumerate(spec.compute.fleet):
        if row.mode == "owned" and row.capex_per_gpu is not None:
            p = f"compute.fleet[{i}]"
            total = total + values(f"{p}.gpus", row.gpus) * values(
                f"{p}.capex_per_gpu", row.capex_per_gpu
            )
    return total[:, 0]


def _total(values: InputValues, terms: list[tuple[str, float | Distribution]]) -> np.ndarray:
    """Sum of inputs, shape (n,)."""
    total = np.zeros(values.n)
    for path, value in terms:
        total = total + np.broadcast_to(np.asarray(values(path, value), float), (values.n, 1))[:, 0]
    return total


def _corner_values(spec: CompanySpec) -> InputValues:
    inputs = uncertain_inputs(spec)
    return InputValues(
        {path: np.array([dist.low, dist.high]) for path, dist in inputs.items()}, n=2
    )


def inputs_as_of(spec: CompanySpec) -> str:
    """The latest month among a preset's dated inputs (start, funding, debt, fleet starts)."""
    months = [spec.start]
    months += [e.month for e in [*spec.funding, *spec.past_funding, *spec.existing_debt]]
    months += [row.start for row in spec.compute.fleet if row.start]
    return max(months, key=month_index)


def preset_figures(spec: CompanySpec) -> dict[str, dict[str, Any]]:
    """The numeric rows of the comparison for one company (year 1 of its horizon)."""
    flow = corners(spec)
    months = min(12, flow.months)
    gpus = flow.gpus[:, :months].mean(axis=1)
    owned = flow.gpus_owned[:, :months].mean(axis=1)
    values = _corner_values(spec)
    raised = _total(
        values,
        [(f"past_funding[{i}].amount", r.amount) for i, r in enumerate(spec.past_funding)]
        + [(f"funding[{i}].amount", e.amount) for i, e in enumerate(spec.funding)],
    )
    headcount = _total(
        values, [(f"people[{i}].headcount", t.headcount) for i, t in enumerate(spec.people)]
    )
    compute_cost = yearly(flow.compute)[:, 0]
    revenue = yearly(flow.revenue)[:, 0]
    total_costs = (yearly(flow.cost_of_revenue) + yearly(flow.operating_costs))[:, 0]
    capex = fleet_capex(spec, values)
    with np.errstate(divide="ignore", invalid="ignore"):
        owned_share = 100 * np.where(gpus > 0, owned / gpus, 0.0)
    funding = (
        {"low": None, "high": None, "text": "parent-funded"}
        if spec.parent_funded
        else _span(raised[0], raised[1], _dollars)
    )
    return {
        "owned_share": _span(owned_share[0], owned_share[1], lambda v: f"{v:.0f}%"),
        "scale": _span(gpus[0], gpus[1], lambda v: f"{count(v)} GPUs"),
        "funding": funding,
        "annual_cost": _span(compute_cost[0], compute_cost[1], _dollars),
        "capex": _span(capex[0], capex[1], _dollars),
        "team": _span(headcount[0], headcount[1], count),
        "revenue": _span(revenue[0], revenue[1], _dollars),
        "total_costs": _span(total_costs[0], total_costs[1], _dollars),
    }


def _chips_modelled(spec: CompanySpec) -> str:
    modes: dict[str, set[str]] = {}
    for row in spec.compute.fleet:
        modes.setdefault(row.gpu, set()).add(row.mode)
    return ", ".join(f"{gpu} ({', '.join(sorted(m))})" for gpu, m in sorted(modes.items()))


def _late_rounds(spec: CompanySpec) -> str | None:
    """Funding rounds counted by gpuplan but dated after the report."""
    late = [
        f"{e.name} ({e.month}, {money(float(e.amount))})"
        for e in [*spec.past_funding, *spec.funding]
        if isinstance(e.amount, int | float) and month_index(e.month) > month_index(REPORT_DATE[:7])
    ]
    return (
        f"includes rounds after the report's date ({REPORT_DATE}): {', '.join(late)}"
        if late
        else None
    )


def flag(key: str, cell: dict[str, Any], stated: StatedFigure, spec: CompanySpec) -> dict | None:
    """The difference between a computed cell and the report's number, with its reason;
    None when they agree within the row's tolerance or the report gives no number."""
    if stated.low is None or cell.get("low") is None:
        return None
    high = stated.high if stated.high is not None else stated.low
    unit = "%" if key == "owned_share" else "USD"
    scale = 100.0 if key == "owned_share" else 1.0
    tolerance = TOLERANCE.get(key, DEFAULT_TOLERANCE)
    agree, gap = verdict(
        (stated.low * scale, high * scale), (cell["low"], cell["high"]), unit, tolerance
    )
    if agree:
        return None
    if stated.low == high == 0:
        gap = f"{money(cell['low'])}-{money(cell['high'])} against $0"
    reasons = [r for r in (stated.why, _late_rounds(spec) if key == "funding" else None) if r]
    return {"difference": gap, "reason": "; ".join(reasons) or "no reason recorded"}


ROWS: list[tuple[str, str, str]] = [
    ("as_of", "Inputs as of (latest dated input)", "as_of"),
    ("infrastructure", "Infrastructure (report)", "text"),
    ("owned_share", "Owned share of GPUs (year-1 average)", "number"),
    ("chips", "Chips (report)", "text"),
    ("chips_modelled", "Chips modelled (mode)", "chips"),
    ("scale", "Scale (GPUs in service, year-1 average)", "number"),
    ("funding", "Funding (raised to date + in horizon)", "number"),
    ("annual_cost", "Annual cost (compute, year 1, incl. depreciation)", "number"),
    ("capex", "CapEx (owned fleet, all-in)", "number"),
    ("geography", "Geography (report)", "text"),
    ("team", "Team size (at start)", "number"),
    ("advantage", "Advantage (report)", "text"),
    ("disadvantage", "Disadvantage (report)", "text"),
    ("open_source", "Open-Source (report)", "text"),
    ("revenue_model", "Revenue model (report)", "text"),
    ("revenue", "Revenue (year 1)", "number"),
    ("total_costs", "Total costs (year 1)", "number"),
    ("regulatory_focus", "Regulatory focus (report)", "text"),
]
"""(key, label, kind): the report's section 8 rows, plus owned share, revenue, total costs."""


def _stated(spec: CompanySpec, key: str) -> StatedFigure | None:
    value = spec.profile.stated.get(key) if spec.profile else None
    return StatedFigure(text=value) if isinstance(value, str) else value


def _cell(spec: CompanySpec, figures: dict[str, dict[str, Any]], key: str, kind: str) -> dict:
    if kind == "as_of":
        return {"text": inputs_as_of(spec)}
    if kind == "chips":
        return {"text": _chips_modelled(spec) or "spend only (no fleet rows)"}
    if kind == "text":
        return {"text": getattr(spec.profile, key) if spec.profile else "-"}
    cell = dict(figures[key])
    stated = _stated(spec, key)
    cell["stated"] = stated.text if stated else None
    cell["flag"] = flag(key, cell, stated, spec) if stated else None
    return cell


def compare_presets(names: list[str]) -> dict[str, Any]:
    """Side-by-side table of presets (names or scenario paths):
    ``{"presets", "report_date", "rows"}``.

    Each row has ``dimension``, ``key``, ``kind`` (``computed`` or ``text``) and ``values``
    per preset; computed cells carry ``low``/``high``/``text``, the report's ``stated``
    figure and a ``flag`` ({difference, reason}) where they differ from it.
    """
    from gpuplan.errors import InputError
    from gpuplan.presets import load_company

    if not names:
        raise InputError("presets", "name at least one preset or scenario file to compare.")
    specs = {name: load_company(name) for name in names}
    figures = {name: preset_figures(spec) for name, spec in specs.items()}
    rows = [
        {
            "dimension": label,
            "key": key,
            "kind": "text" if kind == "text" else "computed",
            "values": {name: _cell(spec, figures[name], key, kind) for name, spec in specs.items()},
        }
        for key, label, kind in ROWS
    ]
    return {"presets": [specs[n].name for n in names], "report_date": REPORT_DATE, "rows": rows}
