"""What changed between two saved runs: headline numbers, cost, fleet and commitments.

Pure functions over the stored result objects (``PlanResult.to_dict()``, the simulate
summary, estimate objects); no database access. Money in USD, fleets in average GPUs in
service per year (GPU-periods / periods in that year), commitments from the plan's order
schedule (reserve and buy orders).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from gpuplan.store.runs import RunRecord

COMMITMENT_KEYS = ("order_month", "action", "mode", "provider", "gpu")
"""How commitments are told apart in a diff (columns of the plan's ``orders`` table)."""


def _change(a: float | None, b: float | None) -> dict[str, float | None]:
    """``{a, b, change, change_fraction}`` where change = b - a, fraction = change / |a|."""
    known = a is not None and b is not None and math.isfinite(a) and math.isfinite(b)
    change = b - a if known and a is not None and b is not None else None
    fraction = change / abs(a) if change is not None and a else None
    return {"a": a, "b": b, "change": change, "change_fraction": fraction}


def _numbers(result: Mapping[str, Any], nested: bool = True) -> dict[str, float]:
    """Top-level numbers and P50s of percentile cells, by name; with ``nested``, also those
    of mappings one level down (a sweep's ``metrics``)."""
    found: dict[str, float] = {}
    for key, value in result.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            found[key] = float(value)
        elif isinstance(value, Mapping) and isinstance(value.get("p50"), int | float):
            found[f"{key} (P50)"] = float(value["p50"])
        elif isinstance(value, Mapping) and nested:
            found |= {name: number for name, number in _numbers(value, False).items()
                      if name.endswith("(P50)")}
    return found


def _table(a: dict[tuple[Any, ...], float], b: dict[tuple[Any, ...], float],
           names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows keyed by ``names`` that differ between a and b (missing counts as 0)."""
    rows = []
    for key in sorted(set(a) | set(b), key=lambda k: tuple(str(p) for p in k)):
        left, right = a.get(key, 0.0), b.get(key, 0.0)
        if not math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9):
            rows.append(dict(zip(names, key, strict=True)) | _change(left, right))
    return rows


def fleet_by_year(fleet: Iterable[Mapping[str, Any]]) -> dict[tuple[Any, ...], float]:
    """Average GPUs in service per (year, mode, provider, gpu): sum over a year's periods
    divided by the number of periods of that year that appear in the plan."""
    totals: dict[tuple[Any, ...], float] = defaultdict(float)
    periods: dict[str, set[str]] = defaultdict(set)
    for row in fleet:
        year = str(row["period"])[:4]
        periods[year].add(str(row["period"]))
        totals[(year, row["mode"], row["provider"], row["gpu"])] += float(row["gpus"])
    return {key: value / len(periods[key[0]]) for key, value in totals.items()}


def _plan_tables(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    categories = _table(
        {(k,): float(v) for k, v in a.get("cost_by_category", {}).items()},
        {(k,): float(v) for k, v in b.get("cost_by_category", {}).items()},
        ("category",),
    )
    names = ("year", "mode", "provider", "gpu")
    fleet = _table(fleet_by_year(a.get("fleet", [])), fleet_by_year(b.get("fleet", [])), names)
    commitments = _table(committed(a), committed(b), COMMITMENT_KEYS)
    return {"cost_by_category": categories, "fleet": fleet, "commitments": commitments}



def committed(result: Mapping[str, Any]) -> dict[tuple[Any, ...], float]:
    """GPUs reserved or bought per order month, mode, provider and GPU, from the plan's
    order schedule (``orders`` rows whose action is not ``rent``)."""
    totals: dict[tuple[Any, ...], float] = defaultdict(float)
    for row in result.get("orders") or []:
        if row["action"] != "rent":
            totals[tuple(row[k] for k in COMMITMENT_KEYS)] += float(row["gpus"])
    return totals


def committed_usd(result: Mapping[str, Any]) -> float:
    """Undiscounted cash committed by the plan's reserve and buy orders (USD)."""
    return sum(float(r["commitment_usd"]) for r in result.get("orders") or []
               if r["action"] != "rent")


def diff_runs(a: RunRecord, b: RunRecord) -> dict[str, Any]:
    """Run ``b`` against run ``a``: changed headline numbers; for plans, cost by category,
    fleet by year, mode, provider and GPU, and commitments (GPUs reserved or bought, by
    order month; their committed USD among the headline numbers)."""
    left, right = a.result or {}, b.result or {}
    numbers_a, numbers_b = _numbers(left), _numbers(right)
    headline = {
        name: _change(numbers_a.get(name), numbers_b.get(name))
        for name in sorted(set(numbers_a) | set(numbers_b))
        if numbers_a.get(name) != numbers_b.get(name)
    }
    out: dict[str, Any] = {
        "a": a.summary(),
        "b": b.summary(),
        "same_inputs": a.inputs_hash == b.inputs_hash,
        "headline": headline,
    }
    if a.kind == b.kind == "plan":
        out |= _plan_tables(left, right)
        spend = _change(committed_usd(left), committed_usd(right))
        if spend["change"]:
            out["headline"]["committed_usd"] = spend
    return out
