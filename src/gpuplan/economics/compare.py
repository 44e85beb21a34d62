"""The report's section 8 table, side by side, recomputed from preset scenarios.

Numeric rows are computed from each preset's inputs, as a ``low - high`` range: every
uncertain input at its low end, then at its high end (the way the report adds up the ends of
its ranges). Descriptive rows come from the preset's ``profile``. The report's own figure for
each numeric row travels along as ``stated``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gpuplan.economics.cashflow import InputValues, yearly
from gpuplan.economics.company import CompanySpec
from gpuplan.uncertainty.distributions import Distribution
from gpuplan.uncertainty.montecarlo import corners
from gpuplan.uncertainty.sampling import uncertain_inputs


def money(value: float | None) -> str:
    """$70M, $8.4B, $640K; '-' for no value (a percentile that is 'never')."""
    if value is None or not math.isfinite(value):
        return "-"
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"${value / size:.3g}{suffix}"
    return f"${value:.0f}"


def count(value: float) -> str:
    """4.7K, 230K, 1.3M."""
    for size, suffix in ((1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.0f}"


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
        owned_share = np.where(gpus > 0, owned / gpus, 0.0)
    funding = (
        {"low": None, "high": None, "text": "parent-funded"}
        if spec.parent_funded
        else _span(raised[0], raised[1], money)
    )
    return {
        "scale": _span(gpus[0], gpus[1], lambda v: f"{count(v)} GPUs"),
        "owned_share": _span(owned_share[0], owned_share[1], lambda v: f"{100 * v:.0f}% owned"),
        "funding": funding,
        "annual_cost": _span(compute_cost[0], compute_cost[1], money),
        "capex": _span(capex[0], capex[1], money),
        "team": _span(headcount[0], headcount[1], count),
        "revenue": _span(revenue[0], revenue[1], money),
        "total_costs": _span(total_costs[0], total_costs[1], money),
    }


ROWS: list[tuple[str, str, str]] = [
    ("infrastructure", "Infrastructure", "text+owned_share"),
    ("chips", "Chips", "text+gpus"),
    ("scale", "Scale (GPUs in service, year-1 average)", "number"),
    ("funding", "Funding (raised to date + in horizon)", "number"),
    ("annual_cost", "Annual cost (compute, year 1, incl. depreciation)", "number"),
    ("capex", "CapEx (owned fleet, all-in)", "number"),
    ("geography", "Geography", "text"),
    ("team", "Team size (at start)", "number"),
    ("advantage", "Advantage", "text"),
    ("disadvantage", "Disadvantage", "text"),
    ("open_source", "Open-Source", "text"),
    ("revenue_model", "Revenue model", "text"),
    ("revenue", "Revenue (year 1)", "number"),
    ("total_costs", "Total costs (year 1)", "number"),
    ("regulatory_focus", "Regulatory focus", "text"),
]
"""(key, label, kind): the report's section 8 rows, plus revenue and total costs."""


def compare_presets(names: list[str]) -> dict[str, Any]:
    """Side-by-side table of presets (names or scenario paths): ``{"presets", "rows"}``.

    Each row has ``dimension``, ``kind`` (``computed`` or ``text``) and ``values`` per
    preset; computed rows carry ``low``/``high``/``text`` and the report's ``stated`` figure.
    """
    from gpuplan.errors import InputError
    from gpuplan.presets import load_company

    if not names:
        raise InputError("presets", "name at least one preset or scenario file to compare.")
    specs = {name: load_company(name) for name in names}
    figures = {name: preset_figures(spec) for name, spec in specs.items()}
    rows = []
    for key, label, kind in ROWS:
        values: dict[str, Any] = {}
        for name, spec in specs.items():
            profile = spec.profile
            if kind == "number":
                cell = dict(figures[name][key])
                cell["stated"] = profile.stated.get(key) if profile else None
            else:
                text = getattr(profile, key) if profile else "-"
                if kind == "text+owned_share":
                    text = f"{text}; {figures[name]['owned_share']['text']}"
                elif kind == "text+gpus":
                    chips = sorted({row.gpu for row in spec.compute.fleet})
                    text = f"{text}; modelled: {', '.join(chips) or 'spend only'}"
                cell = {"text": text}
            values[name] = cell
        rows.append(
            {
                "dimension": label,
                "key": key,
                "kind": "computed" if kind != "text" else "text",
                "values": values,
            }
        )
    return {"presets": [specs[n].name for n in names], "rows": rows}
