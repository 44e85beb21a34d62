"""From a procurement plan to the company's books: the plan's months as :class:`PlanMonth`.

The Monte Carlo keeps what the plan committed to (reservations, owned GPUs and their power
and operations, purchases) in every sample and buys any demand above that committed fleet on
demand at the sampled price; it never re-solves the plan. A planning period of a quarter is
spread evenly over its three months (capex falls in its first month).

At the plan's nominal inputs the books reproduce the plan's own cash: committed cost + the
plan's pay-per-use GPU-hours x their average price = the plan's rent, reservation and
operations spend, period by period in total.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gpuplan.economics.company import CompanySpec, PlanMonth, PlannedCompute
from gpuplan.errors import InputError
from gpuplan.units import HOURS_PER_MONTH

if TYPE_CHECKING:
    from gpuplan.planning.result import PlanResult


def _next_month(month: str, step: int) -> str:
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + step
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def plan_months(result: PlanResult) -> list[PlanMonth]:
    """The plan's ledger month by month (USD; GPU-hours at 730 hours a month)."""
    months = []
    for row in result.ledger.to_dict(orient="records"):
        length = int(row["months"])
        committed = float(row["committed_gpus"])
        in_use = committed + float(row["pay_per_use_gpus"])
        for step in range(length):
            months.append(
                PlanMonth(
                    month=_next_month(str(row["start_month"]), step),
                    committed_cost=max(0.0, float(row["committed_usd"]) / length),
                    capex=float(row["capex_usd"]) if step == 0 else 0.0,
                    depreciation=float(row["depreciation_usd"]) / length,
                    capacity_gpu_hours=committed * HOURS_PER_MONTH,
                    demand_gpu_hours=in_use * HOURS_PER_MONTH,
                )
            )
    return months


def average_pay_per_use_price(result: PlanResult) -> float:
    """USD per GPU-hour the plan pays for on-demand and spot GPUs, on average."""
    ledger = result.ledger
    hours = float((ledger["pay_per_use_gpus"] * ledger["months"]).sum()) * HOURS_PER_MONTH
    return float(ledger["pay_per_use_usd"].sum()) / hours if hours > 0 else 0.0


def company_with_plan(spec: CompanySpec, result: PlanResult) -> CompanySpec:
    """``spec`` with its ``compute.plan`` months taken from a solved plan.

    The on-demand price stays the scenario's declared one, or becomes the plan's average
    pay-per-use price when none is declared.
    """
    planned = spec.compute.plan
    if planned is None:
        return spec
    if result.status == "infeasible":
        reasons = "; ".join(result.messages) or "see 'gpuplan plan'"
        raise InputError(
            "company.compute.plan",
            f"the scenario's procurement plan is infeasible, so it cannot price the "
            f"company's compute: {reasons}",
        )
    price = planned.on_demand_price_per_gpu_hour
    filled = PlannedCompute.model_validate(
        {
            **planned.model_dump(),
            "months": plan_months(result),
            "on_demand_price_per_gpu_hour": (
                average_pay_per_use_price(result) if price is None else price
            ),
        }
    )
    compute = spec.compute.model_copy(update={"plan": filled})
    return spec.model_copy(update={"compute": compute})
