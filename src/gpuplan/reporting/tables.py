"""The report's tables as pandas DataFrames, derived from the result objects.

Numbers stay numbers (USD, GPUs, fractions, months); the HTML report formats them with
:mod:`gpuplan.humanize`, the workbook with Excel number formats, CSV writes them raw. Column
names are snake_case with units (``npv_usd``), so :func:`gpuplan.humanize.label` titles them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from gpuplan.planning.result import PlanResult

def fleet_by(result: PlanResult, by: str) -> pd.DataFrame:
    """GPUs in service: one row per period (in plan order), one column per ``by`` value
    (an option without one, e.g. an offer with no country, under ``not stated``)."""
    fleet = result.fleet.assign(**{by: result.fleet[by].replace("", "not stated")})
    table = fleet.pivot_table(index="period", columns=by, values="gpus", aggfunc="sum")
    order = [p for p in result.periods if p in table.index] or sorted(table.index)
    return table.reindex(order).fillna(0.0)


def cost_by_year(result: PlanResult) -> pd.DataFrame:
    """Undiscounted USD: one row per calendar year, one column per cost category."""
    table = result.cost_by_category.pivot_table(
        index="year", columns="category", values="usd", aggfunc="sum"
    )
    return table.fillna(0.0).sort_index()


def optimum_and_baselines(result: PlanResult) -> pd.DataFrame:
    """Rows: the optimum, then each baseline; columns plan, status, npv_usd, saving_usd
    (what the optimum saves against it), saving_fraction (of the baseline's NPV)."""
    rows: list[dict[str, Any]] = [
        {
            "plan": "Optimum",
            "status": result.status,
            "npv_usd": result.npv_usd,
            "saving_usd": 0.0,
            "saving_fraction": 0.0,
        }
    ]
    for b in result.baselines.itertuples():
        rows.append(
            {
                "plan": str(b.name).replace("_", " ").capitalize(),
                "status": b.status,
                "npv_usd": b.npv_usd,
                "saving_usd": b.saving_usd,
                "saving_fraction": b.saving_fraction,
            }
        )
    return pd.DataFrame(rows)


def workload_countries(result: PlanResult) -> pd.DataFrame:
    """GPU-periods per workload (rows) by the country of the data centre (columns)."""
    allocations = result.allocations
    if not len(allocations):
        return pd.DataFrame()
    country = result.fleet.drop_duplicates("option").set_index("option").country
    country = country.replace("", "not stated")
    placed = allocations.assign(country=allocations.option.map(country).fillna("not stated"))
    table = placed.pivot_table(index="workload", columns="country", values="gpus", aggfunc="sum")
    return table.fillna(0.0)


def plan_tables(result: PlanResult) -> dict[str, pd.DataFrame]:
    """The plan's tables for the report, the workbook and CSV (name -> DataFrame)."""
    cost = cost_by_year(result) if len(result.cost_by_category) else pd.DataFrame()
    if len(cost):
        cost = cost.T.rename_axis("category").reset_index()
        cost.columns = [str(c) for c in cost.columns]
        cost["total"] = cost.drop(columns="category").sum(axis=1)
    by_mode = fleet_by(result, "mode") if len(result.fleet) else pd.DataFrame()
    by_mode = by_mode.rename(columns=lambda m: f"{m}_gpus").rename_axis(columns=None)
    return {
        "cost_usd_by_category_and_year": cost,
        "baselines": optimum_and_baselines(result),
        "orders": result.orders,
        "fleet_by_mode": by_mode.reset_index() if len(by_mode) else by_mode,
        "fleet": result.fleet.drop(columns=["option"], errors="ignore"),
        "utilisation": result.utilisation,
        "books": result.ledger,
    }


def _spread_rows(name: str, cell: Mapping[str, Any] | None) -> dict[str, Any]:
    cell = cell or {}
    return {"measure": name, "p10": cell.get("p10"), "p50": cell.get("p50"), "p90": cell.get("p90")}


def simulation_tables(summary: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """The Monte Carlo summary's tables (``simulate(...)`` JSON in, DataFrames out)."""
    outcomes = pd.DataFrame(
        [
            _spread_rows("runway_months", summary["runway_months"]),
            _spread_rows("break_even_month", summary["break_even_month"]),
            _spread_rows("cash_at_horizon_end_usd", summary["cash_at_horizon_end"]),
        ]
    )
    years = pd.DataFrame(
        [
            {
                "year": y["year"],
                "through": y["through"],
                **{f"revenue_usd_{k}": y["revenue"][k] for k in ("p10", "p50", "p90")},
                **{f"net_burn_usd_{k}": y["net_burn"][k] for k in ("p10", "p50", "p90")},
                **{f"gross_margin_{k}": y["gross_margin"][k] for k in ("p10", "p50", "p90")},
                "probability_cash_out": p["probability"],
            }
            for y, p in zip(summary["per_year"], summary["prob_cash_out_by_year"], strict=True)
        ]
    )
    result = {"simulation_outcomes": outcomes, "simulation_by_year": years}
    fan = summary.get("cash_by_month")
    if fan:
        result["cash_by_month"] = pd.DataFrame(
            {
                "month": fan["month"],
                "cash_usd_p10": fan["p10"],
                "cash_usd_p50": fan["p50"],
                "cash_usd_p90": fan["p90"],
            }
        )
    result["tornado"] = pd.DataFrame(
        summary["tornado"],
        columns=[
            "input",
            "low_value",
            "high_value",
            "runway_low",
            "runway_high",
            "swing_months",
            "source",
        ],
    )
    if summary.get("sobol"):
        result["sobol"] = pd.DataFrame(summary["sobol"])
    return result


def sources_table(
    fleet_sources: Sequence[Mapping[str, Any]], scenario_sources: Sequence[str]
) -> pd.DataFrame:
    """Every price the plan uses (option, price, source, as-of) and the scenario's sources."""
    rows = [dict(r) for r in fleet_sources]
    rows += [{"what": "scenario", "source": s} for s in scenario_sources]
    return pd.DataFrame(rows)
