"""What a stochastic plan reports: first-stage commitments, cost spread, VSS, EVPI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gpuplan.planning.model.build import ExtraConstraints, PlanModel
from gpuplan.planning.stochastic.evaluate import FutureCost
from gpuplan.planning.stochastic.extensive import Risk, keep_commitments

ACTIVE = 1e-6
"""GPUs below which a first-stage commitment is read as none."""


def cvar(costs: np.ndarray | list[float], alpha: float) -> float:
    """CVaR at ``alpha`` of equally likely ``costs``: min over eta of
    eta + E[(cost - eta)+] / (1 - alpha) (Rockafellar & Uryasev, *J. Risk* 2000); the
    minimum lies at one of the costs, so it is exact on a sample."""
    values = np.asarray(costs, dtype=float)
    return float(min(eta + np.mean(np.maximum(values - eta, 0.0)) / (1 - alpha) for eta in values))


def plan_objective(costs: list[FutureCost], risk: Risk) -> float:
    """Expected cost plus weight x CVaR over equally likely futures (penalties included), USD."""
    values = [c.objective for c in costs]
    extra = risk.weight * cvar(values, risk.alpha) if risk.weight else 0.0
    return float(np.mean(values)) + extra


def percentiles(values: list[float]) -> dict[str, float]:
    """P10 / P50 / P90 and the mean."""
    array = np.asarray(values, dtype=float)
    p10, p50, p90 = np.percentile(array, [10, 50, 90])
    return {"p10": float(p10), "p50": float(p50), "p90": float(p90), "mean": float(array.mean())}


def commitments_table(model: PlanModel, columns: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """The first stage as an order list: what to sign or order in which period, with its
    unit price (USD per GPU-period, and upfront per GPU for purchases)."""
    block = model.linear.columns["new_units"]
    grid = model.problem.grid
    records = []
    for column, gpus in zip(columns, values, strict=True):
        if gpus <= ACTIVE:
            continue
        key = block.key_of(int(column))
        option = model.problem.options[int(key["option"])]
        records.append(
            {
                "period": grid.label(int(key["period"])),
                "provider": option.provider,
                "region": option.region,
                "country": option.country,
                "gpu": option.gpu,
                "mode": option.mode,
                "gpus": float(gpus),
                "term_periods": option.term_periods,
                "usd_per_gpu_period": option.cost_per_gpu_period,
                "upfront_usd_per_gpu": option.upfront_per_gpu,
                "option": option.id,
            }
        )
    columns_out = [
        "period", "provider", "region", "country", "gpu", "mode", "gpus", "term_periods",
        "usd_per_gpu_period", "upfront_usd_per_gpu", "option",
    ]  # fmt: skip
    return pd.DataFrame.from_records(records, columns=columns_out)


@dataclass
class StochasticPlanResult:
    """A two-stage plan and its figures (see :mod:`gpuplan.planning.stochastic.api`).

    ``stochastic``, ``expected_value_plan``, ``wait_and_see``: one :class:`FutureCost` per
    sampled future under the stochastic plan, the deterministic plan's first stage, and
    perfect foresight; ``out_of_sample``: ``{"stochastic": [...], "deterministic": [...]}``
    on fresh futures (empty when not asked for).
    """

    scenario: str
    futures: int
    seed: int
    decision_point: str
    decision_period: int
    first_stage: np.ndarray
    risk: Risk
    status: str
    solver_gap: float
    commitments: pd.DataFrame
    stochastic: list[FutureCost]
    expected_value_plan: list[FutureCost]
    wait_and_see: list[FutureCost]
    out_of_sample: dict[str, list[FutureCost]]
    problem_size: dict[str, int]
    seconds: float
    decomposition: str = "extensive"
    integer_recourse: bool = False

    def commitments_kept(self) -> ExtraConstraints:
        """The first stage as a constraint family: ``plan(scenario,
        extra_constraints=[result.commitments_kept()])`` is a single plan that keeps these
        commitments and adapts everything else to the scenario's nominal inputs."""
        return keep_commitments(self.decision_period, self.first_stage)

    def objective(self, costs: list[FutureCost]) -> float:
        """Expected cost plus weight x CVaR over futures (penalties included), USD."""
        return plan_objective(costs, self.risk)

    @property
    def recourse_problem(self) -> float:
        """RP: the stochastic plan's objective over the sampled futures."""
        return self.objective(self.stochastic)

    @property
    def vss(self) -> float:
        """Value of the stochastic solution: EEV - RP (>= 0), USD."""
        return self.objective(self.expected_value_plan) - self.recourse_problem

    def short(self, costs: list[FutureCost]) -> int:
        """Futures in which a plan leaves demand unmet (its cost then holds the penalty)."""
        return int(sum(c.unmet > ACTIVE for c in costs))

    def worth(self) -> dict[str, Any]:
        """VSS and EVPI in USD, or ``None`` with the reason where a plan leaves demand unmet
        in some futures: the penalty that stands in for unmet demand is no price anyone
        pays, so a difference of penalties is no value."""
        notes = []
        vss: float | None = self.vss
        evpi: float | None = self.evpi
        short_eev = self.short(self.expected_value_plan)
        short_rp = self.short(self.stochastic)
        if short_eev and not short_rp:
            vss = None
            notes.append(
                f"The deterministic plan's commitments leave demand unmet in {short_eev} of "
                f"{self.futures} futures, which the stochastic plan serves: its value is "
                "not a finite sum of money."
            )
        if short_rp:
            vss = evpi = None
            notes.append(
                f"The stochastic plan leaves demand unmet in {short_rp} of {self.futures} "
                "futures (capacity caps or deadlines bind there): VSS and EVPI are not "
                "reported."
            )
        return {"vss_usd": vss, "evpi_usd": evpi, "notes": notes}

    @property
    def evpi(self) -> float:
        """Expected value of perfect information: RP - WS (>= 0), USD."""
        return self.recourse_problem - self.objective(self.wait_and_see)

    def to_dict(self) -> dict[str, Any]:
        """One JSON-ready object (``gpuplan plan --futures N --json``)."""
        years = sorted({y for c in self.stochastic for y in c.cost_by_year})

        def spread(costs: list[FutureCost]) -> dict[str, Any]:
            npv = [c.npv_usd for c in costs]
            objective = [c.objective for c in costs]
            return {
                "npv_usd": percentiles(npv),
                "objective_usd": self.objective(costs),
                "cvar_npv_usd": cvar(npv, self.risk.alpha),
                "futures_with_unmet_demand": int(sum(c.unmet > 1e-6 for c in costs)),
                "worst_objective_usd": float(max(objective)),
            }

        return {
            "scenario": self.scenario,
            "futures": self.futures,
            "seed": self.seed,
            "decision_point": self.decision_point,
            "risk": {"cvar_alpha": self.risk.alpha, "cvar_weight": self.risk.weight},
            "status": self.status,
            "solver_gap": self.solver_gap,
            "commitments": self.commitments.to_dict(orient="records"),
            "stochastic_plan": spread(self.stochastic),
            "cost_by_year": [
                {
                    "year": year,
                    **percentiles([c.cost_by_year.get(year, 0.0) for c in self.stochastic]),
                }
                for year in years
            ],
            "deterministic_plan_in_these_futures": spread(self.expected_value_plan),
            "wait_and_see": spread(self.wait_and_see),
            "recourse_problem_usd": self.recourse_problem,
            **self.worth(),
            "out_of_sample": {name: spread(costs) for name, costs in self.out_of_sample.items()},
            "decomposition": self.decomposition,
            "integer_recourse": self.integer_recourse,
            "problem_size": self.problem_size,
            "seconds": self.seconds,
        }
