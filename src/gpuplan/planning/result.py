"""The planner's answer: a :class:`PlanResult` of DataFrames, and its JSON form."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

if TYPE_CHECKING:
    from gpuplan.planning.problem import PlanningProblem
    from gpuplan.planning.readback import PlanSolution

PlanStatus = Literal["optimal", "infeasible", "time_limit"]


@dataclass
class PlanResult:
    """The optimal plan of a scenario with its costs, fleet, baselines and diagnosis.

    Money in USD: ``npv_usd`` is the net present cost at the scenario's discount rate;
    ``total_cost_usd`` the undiscounted sum of all cash flows (residual values negative);
    both are NaN (``null`` in JSON) when the plan is infeasible: there is no plan to price.
    ``cost_by_category`` rows: category, year, usd (undiscounted). ``fleet`` rows: period,
    provider, region, country, gpu, mode, option, gpus. ``baselines`` rows: name,
    description, status, npv_usd, saving_usd, saving_fraction (of the baseline's NPV),
    why_infeasible (the first shortfall, when infeasible). ``orders``: the order schedule
    (:func:`~gpuplan.planning.readback.orders_table`: what to rent, reserve or buy in which
    month, whole servers, unit price, service period, committed cash).
    ``diagnosis`` rows (infeasible plans): workload, kind, period, rule, need, supply,
    shortfall, unit, message. ``ledger`` rows (per period): what the company's books take
    from the plan (see :func:`gpuplan.planning.readback.ledger_table`). ``lp_bound_usd``:
    the LP relaxation's optimum (a lower bound);
    ``integrality_gap``: (npv - bound) / npv; ``solver_gap``: HiGHS's own relative MIP gap
    (how far the plan may be from the optimum). ``problem`` and ``solution``: the tables
    solved and the plan as arrays, for :func:`~gpuplan.planning.checks.check_plan`.
    """

    scenario: str
    status: PlanStatus
    npv_usd: float
    total_cost_usd: float
    cost_by_category: pd.DataFrame
    fleet: pd.DataFrame
    utilisation: pd.DataFrame
    ledger: pd.DataFrame
    allocations: pd.DataFrame
    orders: pd.DataFrame
    baselines: pd.DataFrame
    diagnosis: pd.DataFrame
    solve_seconds: float
    lp_bound_usd: float | None = None
    integrality_gap: float | None = None
    solver_gap: float | None = None
    periods: list[str] = field(default_factory=list)
    currency: str = "USD"
    notes: list[str] = field(default_factory=list)
    problem: PlanningProblem | None = field(default=None, repr=False, compare=False)
    solution: PlanSolution | None = field(default=None, repr=False, compare=False)

    @property
    def messages(self) -> list[str]:
        """The diagnosis as sentences (empty for a feasible plan)."""
        return [str(m) for m in self.diagnosis.get("message", pd.Series(dtype=str))]

    def to_dict(self) -> dict[str, Any]:
        """One JSON-ready object (``gpuplan plan --json``)."""

        def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [{str(k): v for k, v in r.items()} for r in frame.to_dict(orient="records")]

        by_category = (
            self.cost_by_category.groupby("category")["usd"].sum().to_dict()
            if len(self.cost_by_category)
            else {}
        )
        return {
            "scenario": self.scenario,
            "status": self.status,
            "currency": self.currency,
            "npv_usd": _number_or_none(self.npv_usd),
            "total_cost_usd": _number_or_none(self.total_cost_usd),
            "cost_by_category": by_category,
            "cost_by_category_and_year": rows(self.cost_by_category),
            "fleet": rows(self.fleet.drop(columns=["option"], errors="ignore")),
            "utilisation": rows(self.utilisation),
            "ledger": rows(self.ledger),
            "orders": rows(self.orders),
            "baselines": rows(self.baselines),
            "diagnosis": self.messages if self.status == "infeasible" else [],
            "diagnosis_rows": rows(self.diagnosis),
            "solve_seconds": self.solve_seconds,
            "lp_bound_usd": self.lp_bound_usd,
            "integrality_gap": self.integrality_gap,
            "solver_gap": self.solver_gap,
            "periods": self.periods,
            "notes": self.notes,
        }


def _number_or_none(value: float) -> float | None:
    return None if math.isnan(value) else value
