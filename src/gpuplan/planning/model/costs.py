"""Cash flows of one unit of each supply option started in each period, by cost category.

One table feeds both the objective (discounted) and the read-back (cost by category and
year), so the plan's NPV and its cash-flow report cannot disagree. Payments fall at the
start of a period. For a unit of option ``o`` started in period ``s`` (lead ``L``, term
``K``, price ``p`` per GPU-period, upfront ``U``, residual fraction ``rf``; horizon ``T``):

* on-demand / spot: ``p`` at ``s``;
* reserved: upfront at ``s`` and ``p`` at each of ``s .. s+K-1``, also past the horizon
  (a reservation cannot be resold);
* owned: capex ``U`` at ``s``; power and operations ``p`` at ``s+L .. s+L+K-1`` within the
  horizon; a credit at ``min(s+L+K, T)`` of the straight-line book value
  ``U * (1 - (1 - rf) * age / K)`` (``rf * U`` at end of life; resale at the horizon end).

Price trends: a unit started in ``s`` pays its option's price times ``(1 + g) ** y_s``
(``g`` the option's ``price_trend`` per year, ``y_s`` years from the horizon start to ``s``)
for rent, reservation fees and capex; power and operations are not trended.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from gpuplan.planning.modes import supply_mode, supply_modes
from gpuplan.planning.problem import PlanningProblem

CATEGORIES: tuple[str, ...] = tuple(
    dict.fromkeys(c for row in supply_modes().values() for c in row.cost_categories)
)
"""Cost categories in the supply-mode table's order (on_demand, spot, reserved, capex, ...)."""


@dataclass(frozen=True)
class UnitCashFlows:
    """``matrices[category][o * T + s, p]``: USD paid at period ``p`` per unit started."""

    matrices: dict[str, sp.csr_matrix]
    periods: int

    def unit_npv(self, discount: np.ndarray) -> np.ndarray:
        """Net present cost per unit started, flat over (option, start)."""
        return np.asarray(sum(m @ discount[: self.periods] for m in self.matrices.values()))

    def by_period(self, starts: np.ndarray) -> dict[str, np.ndarray]:
        """Cash flow per period index for units started ``starts`` (flat (option, start))."""
        return {name: np.asarray(m.T @ starts) for name, m in self.matrices.items()}


def expanding_sites(problem: PlanningProblem) -> list[tuple[int, str]]:
    """(index in the sorted sites of ``site_power_kw``, site) of sites that may add power."""
    sites = sorted(problem.rules.site_power_kw)
    return [(i, site) for i, site in enumerate(sites) if site in problem.rules.power_expansion]


def power_cash_flows(problem: PlanningProblem, site: str) -> np.ndarray:
    """(order period s x payment period p) USD per kW of power added at ``site``: the
    one-off cost at s, the capacity charge each period from s + L (in service) to the
    horizon end (power is kept once added)."""
    horizon = problem.grid.count
    expansion = problem.rules.power_expansion[site]
    flows = np.diag(np.full(horizon, expansion.usd_per_kw))
    in_service = np.arange(horizon)[None, :] >= np.arange(horizon)[:, None] + expansion.lead_periods
    return flows + expansion.usd_per_kw_period * in_service


def start_allowed(problem: PlanningProblem) -> np.ndarray:
    """(options x periods) mask of periods in which a unit may be ordered: not before the
    option's first period, and for owned GPUs only if it arrives within the horizon."""
    horizon = problem.grid.count
    periods = np.arange(horizon)
    first = np.array([o.first_period for o in problem.options])[:, None]
    lead = np.array([o.lead_periods for o in problem.options])[:, None]
    return (periods[None, :] >= first) & (periods[None, :] + lead < horizon)


def unit_cash_flows(problem: PlanningProblem) -> UnitCashFlows:
    """Build the per-unit cash-flow matrices for every option and start period."""
    horizon = problem.grid.count
    extra = max((o.term_periods + o.lead_periods for o in problem.options), default=1)
    periods = horizon + extra + 1
    rows: dict[str, list[np.ndarray]] = {c: [] for c in CATEGORIES}
    cols: dict[str, list[np.ndarray]] = {c: [] for c in CATEGORIES}
    vals: dict[str, list[np.ndarray]] = {c: [] for c in CATEGORIES}

    def put(category: str, index: np.ndarray, at: np.ndarray, value: np.ndarray | float) -> None:
        rows[category].append(index)
        cols[category].append(at)
        vals[category].append(np.broadcast_to(value, index.shape).astype(float))

    starts = np.arange(horizon)
    years = starts * problem.grid.months / 12
    for o, option in enumerate(problem.options):
        flat = o * horizon + starts
        trend = (1.0 + option.price_trend) ** years
        price = option.cost_per_gpu_period * trend
        term, lead = option.term_periods, option.lead_periods
        mode = supply_mode(option.mode)
        if mode.billing == "per_use":
            (category,) = mode.cost_categories
            put(category, flat, starts, price)
        elif mode.billing == "term":
            (category,) = mode.cost_categories
            put(category, flat, starts, option.upfront_per_gpu * trend)
            k = np.arange(term)
            put(
                category,
                np.repeat(flat, term),
                (starts[:, None] + k).ravel(),
                np.repeat(price, term),
            )
        else:  # "own": the table's three categories, in order
            capex_category, opex_category, residual_category = mode.cost_categories
            capex = option.upfront_per_gpu * trend
            put(capex_category, flat, starts, capex)
            service = starts[:, None] + lead + np.arange(term)[None, :]
            in_horizon = service < horizon
            put(
                opex_category,
                np.broadcast_to(flat[:, None], service.shape)[in_horizon],
                service[in_horizon],
                option.cost_per_gpu_period,
            )
            end = np.minimum(starts + lead + term, horizon)
            age = np.clip(end - (starts + lead), 0, term)
            book = capex * (1.0 - (1.0 - option.residual_fraction) * age / term)
            put(residual_category, flat, end, -book)
    shape = (len(problem.options) * horizon, periods)
    matrices = {}
    for category in CATEGORIES:
        if rows[category]:
            data = (
                np.concatenate(vals[category]),
                (np.concatenate(rows[category]), np.concatenate(cols[category])),
            )
            matrices[category] = sp.csr_matrix(data, shape=shape)
        else:
            matrices[category] = sp.csr_matrix(shape)
    return UnitCashFlows(matrices=matrices, periods=periods)
