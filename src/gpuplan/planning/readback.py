"""Read a solved model back into plain arrays and tables (read-back only: no solving).

:func:`read_solution` turns the solver's column vector into a :class:`PlanSolution` of dense
arrays over (workload, option, period); :func:`fleet_table`, :func:`cost_table` and friends
turn those into pandas DataFrames for the result, the CLI and the checker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gpuplan.planning.model.build import PlanModel
from gpuplan.planning.model.costs import expanding_sites, power_cash_flows
from gpuplan.planning.modes import mode_mask, supply_modes
from gpuplan.planning.problem import PlanningProblem

ZERO = 1e-6
"""GPU counts below this are reported as zero."""


@dataclass(frozen=True)
class PlanSolution:
    """A plan as dense arrays. ``new_units``/``fleet``: (options, periods); ``inference``:
    (inference workloads, options, periods); ``training``: (runs, options, periods);
    ``unmet_*``: the penalised slacks in reference-GPU units (0 in a feasible plan)."""

    new_units: np.ndarray
    fleet: np.ndarray
    inference: np.ndarray
    training: np.ndarray
    unmet_inference: np.ndarray
    unmet_training: np.ndarray
    unmet_min_owned: np.ndarray
    npv_usd: float
    added_power_kw: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    """(sites of ``site_power_kw`` in sorted order, periods): kW of power ordered."""

    @property
    def feasible(self) -> bool:
        """No slack used beyond solver tolerance."""
        return not any(
            np.any(x > 1e-6 * max(1.0, float(np.max(np.abs(x), initial=0.0))) + 1e-6)
            for x in (self.unmet_inference, self.unmet_training, self.unmet_min_owned)
        )


def read_solution(model: PlanModel, values: np.ndarray) -> PlanSolution:
    """Scatter the column vector into dense arrays; the NPV excludes penalty terms."""
    problem = model.problem
    blocks = model.linear.columns
    T, n_opt = problem.grid.count, len(problem.options)

    def block(name: str) -> np.ndarray:
        b = blocks.get(name)
        return values[b.start : b.stop] if b is not None else np.zeros(0)

    new_units = block("new_units").reshape(n_opt, T)
    fleet = block("fleet").reshape(n_opt, T)
    inference = np.zeros((len(problem.inference), n_opt, T))
    training = np.zeros((len(problem.training), n_opt, T))
    for name, target in (("inference_allocation", inference), ("training_allocation", training)):
        b = blocks[name]
        if b.size:
            np.add.at(target, (b.keys["workload"], b.keys["option"], b.keys["period"]), block(name))
    unmet_inference = np.zeros((len(problem.inference), T))
    if "unmet_inference" in blocks:
        b = blocks["unmet_inference"]
        unmet_inference[b.keys["workload"], b.keys["period"]] = block("unmet_inference")
    unmet_training = np.zeros(len(problem.training))
    if "unmet_training" in blocks:
        unmet_training[blocks["unmet_training"].keys["workload"]] = block("unmet_training")
    unmet_min_owned = np.zeros(T)
    if "unmet_min_owned" in blocks:
        unmet_min_owned[blocks["unmet_min_owned"].keys["period"]] = block("unmet_min_owned")
    added_power = np.zeros((len(problem.rules.site_power_kw), T))
    if "added_power" in blocks and blocks["added_power"].size:
        b = blocks["added_power"]
        added_power[b.keys["site"], b.keys["period"]] = block("added_power")
    penalty = float(
        model.linear.cost[model.linear.penalty_columns] @ values[model.linear.penalty_columns]
    )
    npv = float(model.linear.cost @ values) - penalty
    return PlanSolution(
        new_units=np.where(np.abs(new_units) < ZERO, 0.0, new_units),
        fleet=np.where(np.abs(fleet) < ZERO, 0.0, fleet),
        inference=inference,
        training=training,
        unmet_inference=np.maximum(unmet_inference, 0.0),
        unmet_training=np.maximum(unmet_training, 0.0),
        unmet_min_owned=np.maximum(unmet_min_owned, 0.0),
        npv_usd=npv,
        added_power_kw=np.where(added_power < ZERO, 0.0, added_power),
    )


def power_flows(problem: PlanningProblem, solution: PlanSolution) -> np.ndarray:
    """USD paid per period for the power the plan adds to its sites (one-off and charges)."""
    paid = np.zeros(problem.grid.count)
    for i, site in expanding_sites(problem):
        paid += solution.added_power_kw[i] @ power_cash_flows(problem, site)
    return paid


def cost_table(model: PlanModel, solution: PlanSolution) -> pd.DataFrame:
    """Undiscounted cash flows by category and calendar year (rows: category, year, usd);
    reservation fees paid after the horizon fall in their own (later) years."""
    flows = model.cash.by_period(solution.new_units.ravel())
    grid = model.problem.grid
    power = power_flows(model.problem, solution)
    if power.any():
        flows["site_power"] = np.concatenate([power, np.zeros(model.cash.periods - len(power))])
    years = np.array([grid.year_of(p) for p in range(model.cash.periods)])
    records = []
    for category, per_period in flows.items():
        for year in np.unique(years):
            usd = float(per_period[years == year].sum())
            if abs(usd) > 0.5:
                records.append({"category": category, "year": int(year), "usd": usd})
    return pd.DataFrame.from_records(records, columns=["category", "year", "usd"])


def fleet_table(model: PlanModel, solution: PlanSolution) -> pd.DataFrame:
    """GPUs in service by period and option (rows with at least ``ZERO`` GPUs)."""
    problem = model.problem
    o, t = np.nonzero(solution.fleet > ZERO)
    labels = problem.grid.labels
    rows = [
        {
            "period": labels[ti],
            "provider": problem.options[oi].provider,
            "region": problem.options[oi].region,
            "country": problem.options[oi].country,
            "gpu": problem.options[oi].gpu,
            "mode": problem.options[oi].mode,
            "option": problem.options[oi].id,
            "gpus": float(solution.fleet[oi, ti]),
        }
        for oi, ti in zip(o, t, strict=True)
    ]
    columns = ["period", "provider", "region", "country", "gpu", "mode", "option", "gpus"]
    return pd.DataFrame.from_records(rows, columns=columns)


ORDER_COLUMNS = [
    "order_month", "action", "provider", "region", "gpu", "mode", "gpus", "servers",
    "unit_price_usd", "unit", "in_service", "until", "commitment_usd", "power_mw",
    "price_trend", "price_trend_from",
]  # fmt: skip


def orders_table(model: PlanModel, solution: PlanSolution) -> pd.DataFrame:
    """What to sign, reserve or order, and when: one row per option and start period.

    ``order_month``: the start period's first month less the mode's notice (supply-mode
    table); an owned GPU is ordered at its start and in service after its lead time.
    ``servers``: whole servers or instances (the option's ``gpus_per_unit``, 8 unless the
    offer says otherwise: HGX boards, p5 / ND H100 v5 / A3 instances) covering ``gpus``.
    ``unit_price_usd``: per GPU-hour (rent, reservation) or per GPU (purchase);
    ``commitment_usd``: the undiscounted cash the order commits: rent for its period, fees
    for the whole term, capex plus power and operations in service (resale not counted).
    """
    from gpuplan.planning.modes import supply_mode
    from gpuplan.planning.periods import add_months

    problem = model.problem
    grid = problem.grid
    T = grid.count
    flows = sum(model.cash.matrices.values())
    action = {"per_use": "rent", "term": "reserve", "own": "buy"}
    records = []
    for o, s in zip(*np.nonzero(solution.new_units > ZERO), strict=True):
        option = problem.options[o]
        mode = supply_mode(option.mode)
        units = float(solution.new_units[o, s])
        first = s + option.lead_periods
        own = mode.billing == "own"
        records.append(
            {
                "order_month": add_months(grid.start_of(s), -round(mode.notice_months)).strftime(
                    "%Y-%m"
                ),
                "action": action[mode.billing],
                "provider": option.provider,
                "region": option.region,
                "gpu": option.gpu,
                "mode": option.mode,
                "gpus": units,
                "servers": int(np.ceil(units / option.gpus_per_unit - 1e-9)),
                "unit_price_usd": (1.0 + option.price_trend) ** (s * grid.months / 12)
                * (option.upfront_per_gpu if own else option.cost_per_gpu_period / grid.hours),
                "unit": "USD per GPU" if own else "USD per GPU-hour",
                "in_service": grid.label(first),
                "until": grid.label(first + option.term_periods - 1),
                "commitment_usd": units * float(flows[o * T + s].maximum(0).sum()),
                "power_mw": 0.0,
                "price_trend": option.price_trend,
                "price_trend_from": option.price_trend_from or "none",
            }
        )
    records += _power_orders(problem, solution)
    frame = pd.DataFrame.from_records(records, columns=ORDER_COLUMNS)
    return frame.sort_values(["order_month", "action", "provider"], kind="stable").reset_index(
        drop=True
    )


def _power_orders(problem: PlanningProblem, solution: PlanSolution) -> list[dict[str, object]]:
    """Order rows for power added to ownership sites: contract or build in the order
    period, in service its lead time later, kept to the horizon end."""
    grid = problem.grid
    records: list[dict[str, object]] = []
    for i, site in expanding_sites(problem):
        expansion = problem.rules.power_expansion[site]
        for s in np.flatnonzero(solution.added_power_kw[i] > ZERO):
            kw = float(solution.added_power_kw[i, s])
            records.append(
                {
                    "order_month": grid.start_of(int(s)).strftime("%Y-%m"),
                    "action": "add power",
                    "provider": "own site",
                    "region": site,
                    "gpu": "",
                    "mode": "site_power",
                    "gpus": 0.0,
                    "servers": 0,
                    "unit_price_usd": expansion.usd_per_kw * 1000.0,
                    "unit": "USD per MW",
                    "in_service": grid.label(int(s) + expansion.lead_periods),
                    "until": grid.label(grid.count - 1),
                    "commitment_usd": kw * float(power_cash_flows(problem, site)[s].sum()),
                    "power_mw": kw / 1000.0,
                    "price_trend": 0.0,
                    "price_trend_from": "none",
                }
            )
    return records


def allocation_table(model: PlanModel, solution: PlanSolution) -> pd.DataFrame:
    """GPUs serving each workload by period and option (kind: inference or training)."""
    problem = model.problem
    labels = problem.grid.labels
    records = []
    for kind, needs, array in (
        ("inference", problem.inference, solution.inference),
        ("training", problem.training, solution.training),
    ):
        w, o, t = np.nonzero(array > ZERO)
        for wi, oi, ti in zip(w, o, t, strict=True):
            option = problem.options[oi]
            records.append(
                {
                    "workload": needs[wi].workload,
                    "kind": kind,
                    "period": labels[ti],
                    "option": option.id,
                    "provider": option.provider,
                    "region": option.region,
                    "gpu": option.gpu,
                    "mode": option.mode,
                    "gpus": float(array[wi, oi, ti]),
                }
            )
    columns = ["workload", "kind", "period", "option", "provider", "region", "gpu", "mode", "gpus"]
    return pd.DataFrame.from_records(records, columns=columns)


UTILISATION_COLUMNS = [
    "period", "mode", "fleet_gpus", "allocated_gpus", "busy_gpus", "utilisation",
    "idle_gpus", "idle_cost_usd",
]  # fmt: skip


def utilisation_table(model: PlanModel, solution: PlanSolution) -> pd.DataFrame:
    """Per period and mode: GPUs in the fleet, allocated to workloads, and busy on average
    (an inference allocation is sized for its peak, so it is busy ``load_factor`` = 1 / peak
    factor of the time; training is busy throughout); ``utilisation`` = busy / fleet.
    ``idle_gpus`` = fleet - allocated: committed capacity (reserved, owned) paid for
    without use, and ``idle_cost_usd`` what those GPUs cost that period (fee, or power and
    operations). Pay-per-use capacity is rented as used, so it is never idle."""
    problem = model.problem
    modes = np.array([o.mode for o in problem.options])
    price = np.array([o.cost_per_gpu_period for o in problem.options])
    load = np.array([need.load_factor for need in problem.inference]).reshape(-1, 1, 1)
    allocated = solution.inference.sum(axis=0) + solution.training.sum(axis=0)
    busy = (solution.inference * load).sum(axis=0) + solution.training.sum(axis=0)
    idle = np.maximum(solution.fleet - allocated, 0.0)
    records = []
    for mode in supply_modes():
        members = modes == mode
        if not members.any():
            continue
        fleet = solution.fleet[members].sum(axis=0)
        for t, label in enumerate(problem.grid.labels):
            if fleet[t] > ZERO:
                records.append(
                    {
                        "period": label,
                        "mode": mode,
                        "fleet_gpus": float(fleet[t]),
                        "allocated_gpus": float(allocated[members, t].sum()),
                        "busy_gpus": float(busy[members, t].sum()),
                        "utilisation": float(min(1.0, busy[members, t].sum() / fleet[t])),
                        "idle_gpus": float(idle[members, t].sum()),
                        "idle_cost_usd": float(idle[members, t] @ price[members]),
                    }
                )
    return pd.DataFrame.from_records(records, columns=UTILISATION_COLUMNS)


LEDGER_COLUMNS = [
    "period",
    "start_month",
    "months",
    "committed_usd",
    "pay_per_use_usd",
    "capex_usd",
    "depreciation_usd",
    "committed_gpus",
    "pay_per_use_gpus",
    "used_gpus",
]


def category_sum(flows: dict[str, np.ndarray], *, committed: bool, capex: bool) -> np.ndarray:
    """Sum of the cash-flow categories of committed (or pay-per-use) modes; capex and the
    residual credit only with ``capex`` (the ledger books them apart)."""
    capital = {"capex", "residual_value"}
    names = {
        c
        for row in supply_modes().values()
        if row.committed == committed
        for c in row.cost_categories
        if (c in capital) == capex
    }
    return sum((flows[c] for c in sorted(names)), np.zeros_like(flows["capex"]))


def ledger_table(model: PlanModel, solution: PlanSolution) -> pd.DataFrame:
    """Per period within the horizon, what a company's books take from the plan.

    ``committed_usd``: reservation fees and owned-GPU power and operations (cash, fixed once
    planned); ``pay_per_use_usd``: on-demand and spot rent; ``capex_usd``: purchases;
    ``depreciation_usd``: straight line from capex to the residual value over the service
    life, from arrival; ``committed_gpus`` / ``pay_per_use_gpus``: fleet by kind;
    ``used_gpus``: GPUs serving workloads. Money in USD, undiscounted.
    """
    problem = model.problem
    grid = problem.grid
    horizon = grid.count
    flows = model.cash.by_period(solution.new_units.ravel())
    modes = np.array([o.mode for o in problem.options])
    committed = mode_mask(modes, committed=True)
    depreciation = np.zeros(horizon)
    for o, option in enumerate(problem.options):
        if option.billing != "own" or not solution.new_units[o].any():
            continue
        per_period = option.upfront_per_gpu * (1 - option.residual_fraction) / option.term_periods
        in_service = np.zeros(option.lead_periods + option.term_periods)
        in_service[option.lead_periods :] = per_period
        trend = (1.0 + option.price_trend) ** (np.arange(horizon) * grid.months / 12)
        depreciation += np.convolve(solution.new_units[o] * trend, in_service)[:horizon]
    used = solution.inference.sum(axis=(0, 1)) + solution.training.sum(axis=(0, 1))
    frame = pd.DataFrame(
        {
            "period": grid.labels,
            "start_month": [grid.start_of(t).strftime("%Y-%m") for t in range(horizon)],
            "months": grid.months,
            "committed_usd": category_sum(flows, committed=True, capex=False)[:horizon],
            "pay_per_use_usd": category_sum(flows, committed=False, capex=False)[:horizon],
            "capex_usd": flows["capex"][:horizon],
            "depreciation_usd": depreciation,
            "committed_gpus": solution.fleet[committed].sum(axis=0),
            "pay_per_use_gpus": solution.fleet[~committed].sum(axis=0),
            "used_gpus": used,
        }
    )
    return frame[LEDGER_COLUMNS]
