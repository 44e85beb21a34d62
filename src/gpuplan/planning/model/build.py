"""Build the procurement MILP from a :class:`PlanningProblem` (build only: no solving).

Variables (blocks of :class:`~gpuplan.planning.linear.LinearModel`):

* ``new_units[o, s]``: GPUs of option o started in period s (rented, committed or ordered);
* ``fleet[o, t]``: GPUs of option o in service in period t;
* ``inference_allocation[w, o, t]`` and ``training_allocation[r, o, t]``: GPUs of the fleet
  serving a workload;
* ``training_cluster_size[r, c, t]`` (semi-continuous: 0 or at least the run's minimum
  cluster) and ``training_cluster_choice[r, c]`` (binary: the one cluster a run uses);
* ``unmet_*``: slack with a large penalty, so an impossible demand becomes a diagnosis.

Objective: net present cost of ``new_units`` (see :mod:`gpuplan.planning.model.costs`) plus the
penalties. Each constraint family is one ``define_*`` function.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpuplan.planning.model.context import BuildContext, PlanModel
from gpuplan.planning.model.costs import start_allowed
from gpuplan.planning.model.linear import (
    CONTINUOUS,
    INTEGER,
    Block,
)
from gpuplan.planning.model.training import (
    define_training_cluster_constraints,
    define_training_energy_constraints,
)
from gpuplan.planning.modes import mode_mask
from gpuplan.planning.problem import PlanningProblem

PENALTY_FACTOR = 1e3
"""Unmet demand costs this many times the dearest way to supply one unit of it."""


def define_supply_variables(ctx: BuildContext) -> None:
    """``new_units`` (cost: unit NPV; zero upper bound where a start is not allowed) and
    ``fleet`` columns, dense over options x periods."""
    T, n_options = ctx.horizon, ctx.n_options
    option, period = np.divmod(np.arange(n_options * T), T)
    kind = INTEGER if ctx.problem.solver.integer_gpus else CONTINUOUS
    allowed = start_allowed(ctx.problem).ravel()
    keys = {"option": option, "period": period}
    ctx.blocks["new_units"] = ctx.builder.add_columns(
        "new_units",
        keys,
        cost=ctx.unit_cost,
        upper=np.where(allowed, np.inf, 0.0),
        kind=kind,
        label=ctx.option_period,
    )
    ctx.blocks["fleet"] = ctx.builder.add_columns("fleet", keys, label=ctx.option_period)


def _define_fleet_balance(ctx: BuildContext, family: str, options: np.ndarray) -> None:
    """fleet[o,t] - fleet[o,t-1] - new_units[o,t-L] + new_units[o,t-L-K] = 0: units join the
    fleet ``L`` periods after they start and leave it ``K`` periods later."""
    if len(options) == 0:
        return
    T = ctx.horizon
    o = np.repeat(options, T)
    t = np.tile(np.arange(T), len(options))
    rows = ctx.builder.add_rows(
        family, {"option": o, "period": t}, lower=0.0, upper=0.0, label=ctx.option_period
    )
    row = rows.start + np.arange(rows.size)
    lead = np.array([ctx.problem.options[i].lead_periods for i in o])
    term = np.array([ctx.problem.options[i].term_periods for i in o])
    ctx.builder.add_entries(row, ctx.column("fleet", o * T + t), 1.0)
    previous = t >= 1
    ctx.builder.add_entries(row[previous], ctx.column("fleet", o * T + t - 1)[previous], -1.0)
    for shift, sign in ((lead, -1.0), (lead + term, 1.0)):
        start = t - shift
        ok = start >= 0
        ctx.builder.add_entries(row[ok], ctx.column("new_units", o * T + start)[ok], sign)


def define_rental_fleet_constraints(ctx: BuildContext) -> None:
    """On-demand and spot GPUs are in the fleet for the period they are rented."""
    _define_fleet_balance(
        ctx, "rental_fleet", np.flatnonzero(mode_mask(ctx.mode, billing="per_use"))
    )


def define_reservation_term_constraints(ctx: BuildContext) -> None:
    """A reservation started in s is in the fleet (and paid) for its whole term."""
    _define_fleet_balance(
        ctx, "reservation_term", np.flatnonzero(mode_mask(ctx.mode, billing="term"))
    )


def define_ownership_lifecycle_constraints(ctx: BuildContext) -> None:
    """A purchase ordered in s arrives after its lead time and serves for its life."""
    _define_fleet_balance(ctx, "ownership_lifecycle", np.flatnonzero(ctx.owned))


def define_inference_capacity_constraints(ctx: BuildContext) -> None:
    """sum_o need_ref[w,t] / need[w,o,t] * allocation[w,o,t] + unmet[w,t] = need_ref[w,t]:
    each workload's demand, in GPUs of its reference type, is met in every period by a mix
    of allowed options (a GPU type counts by its throughput relative to the reference)."""
    a = ctx.arrays
    W = len(ctx.problem.inference)
    if W == 0:
        ctx.blocks["inference_allocation"] = ctx.builder.add_columns(
            "inference_allocation", {"workload": np.zeros(0, int)}
        )
        return
    active = a.inference_reference > 0
    usable = a.inference_mask[:, :, None] & (a.inference_need > 0) & active[:, None, :]
    w, o, t = np.nonzero(usable)
    ratio = a.inference_reference[w, t] / a.inference_need[w, o, t]
    names = [n.workload for n in ctx.problem.inference]
    ctx.blocks["inference_allocation"] = alloc = ctx.builder.add_columns(
        "inference_allocation",
        {"workload": w, "option": o, "period": t},
        label=lambda k: f"{names[int(k['workload'])]},{ctx.option_period(k)}",
    )
    rw, rt = np.nonzero(active)
    slack = ctx.builder.add_columns(
        "unmet_inference",
        {"workload": rw, "period": rt},
        cost=ctx.penalty,
        label=lambda k: f"{names[int(k['workload'])]},{ctx.labels[int(k['period'])]}",
        penalty=True,
    )
    ctx.blocks["unmet_inference"] = slack
    rows = ctx.builder.add_rows(
        "inference_demand",
        {"workload": rw, "period": rt},
        lower=a.inference_reference[rw, rt],
        upper=a.inference_reference[rw, rt],
        label=slack.label,
    )
    row_of = np.full((W, ctx.horizon), -1, dtype=np.int64)
    row_of[rw, rt] = rows.start + np.arange(rows.size)
    ctx.builder.add_entries(row_of[w, t], alloc.start + np.arange(alloc.size), ratio)
    ctx.builder.add_entries(
        rows.start + np.arange(rows.size), slack.start + np.arange(slack.size), 1.0
    )


def define_capacity_constraints(ctx: BuildContext) -> None:
    """sum_w inference[w,o,t] + sum_r training[r,o,t] <= fleet[o,t]: workloads use only
    GPUs that are in the fleet."""
    T = ctx.horizon
    blocks = (ctx.blocks["inference_allocation"], ctx.blocks["training_allocation"])
    parts = [p for p in blocks if p.size]
    if not parts:
        return
    flat = np.concatenate([p.keys["option"] * T + p.keys["period"] for p in parts])
    cols = np.concatenate([p.start + np.arange(p.size) for p in parts])
    used, inverse = np.unique(flat, return_inverse=True)
    option, period = np.divmod(used, T)
    rows = ctx.builder.add_rows(
        "capacity", {"option": option, "period": period}, upper=0.0, label=ctx.option_period
    )
    ctx.builder.add_entries(rows.start + inverse.ravel(), cols, 1.0)
    ctx.builder.add_entries(rows.start + np.arange(rows.size), ctx.column("fleet", used), -1.0)


def define_availability_constraints(ctx: BuildContext) -> None:
    """fleet[o,t] <= availability_gpus[o] for options with a cap."""
    T = ctx.horizon
    caps = [
        (i, o.availability_gpus)
        for i, o in enumerate(ctx.problem.options)
        if o.availability_gpus is not None
    ]
    if not caps:
        return
    options = np.repeat([i for i, _ in caps], T)
    period = np.tile(np.arange(T), len(caps))
    limit = np.repeat([c for _, c in caps], T)
    rows = ctx.builder.add_rows(
        "availability", {"option": options, "period": period}, upper=limit, label=ctx.option_period
    )
    ctx.builder.add_entries(
        rows.start + np.arange(rows.size), ctx.column("fleet", options * T + period), 1.0
    )


def define_provider_share_constraints(ctx: BuildContext) -> None:
    """sum_{o of provider p} used[o,t] <= share_p * total_used[t] for rented providers with a
    share limit, where used = GPUs allocated to workloads (idle GPUs bought only to dilute
    a provider's share do not count; the lab's own sites are not a provider)."""
    rules = ctx.problem.rules
    providers = sorted({o.provider for o in ctx.problem.options if o.third_party})
    limited: list[tuple[str, float]] = []
    for provider in providers:
        share = rules.share_limit(provider)
        if share is not None and share < 1.0:
            limited.append((provider, share))
    parts = [ctx.blocks["inference_allocation"], ctx.blocks["training_allocation"]]
    parts = [p for p in parts if p.size]
    if not limited or not parts:
        return
    T = ctx.horizon
    b = ctx.builder
    periods = np.arange(T)
    total = b.add_columns(
        "total_used", {"period": periods}, label=lambda k: ctx.labels[int(k["period"])]
    )
    ctx.blocks["total_used"] = total
    define = b.add_rows(
        "total_used_definition", {"period": periods}, lower=0.0, upper=0.0, label=total.label
    )
    b.add_entries(define.start + periods, total.start + periods, 1.0)
    alloc_option = np.concatenate([p.keys["option"] for p in parts])
    alloc_period = np.concatenate([p.keys["period"] for p in parts])
    alloc_cols = np.concatenate([p.start + np.arange(p.size) for p in parts])
    b.add_entries(define.start + alloc_period, alloc_cols, -1.0)
    provider_of = np.array([o.provider for o in ctx.problem.options])
    names = [p for p, _ in limited]
    pi = np.repeat(np.arange(len(limited)), T)
    pt = np.tile(periods, len(limited))
    rows = b.add_rows(
        "provider_share",
        {"provider": pi, "period": pt},
        upper=0.0,
        label=lambda k: f"{names[int(k['provider'])]},{ctx.labels[int(k['period'])]}",
    )
    for i, (provider, share) in enumerate(limited):
        mine = (provider_of[alloc_option] == provider) & ctx.third_party[alloc_option]
        b.add_entries(rows.start + i * T + alloc_period[mine], alloc_cols[mine], 1.0)
        b.add_entries(rows.start + i * T + periods, total.start + periods, -share)


def define_capex_budget_constraints(ctx: BuildContext) -> None:
    """sum_{owned o} capex_o * new_units[o,t] <= budget[t] (capex is paid at order)."""
    budget = ctx.problem.rules.capex_budget
    owned = np.flatnonzero(ctx.owned)
    if budget is None or len(owned) == 0:
        return
    periods = np.array([t for t, b in enumerate(budget) if b is not None], dtype=np.int64)
    if len(periods) == 0:
        return
    limit = np.array([budget[t] for t in periods], dtype=float)
    rows = ctx.builder.add_rows(
        "capex_budget",
        {"period": periods},
        upper=limit,
        label=lambda k: ctx.labels[int(k["period"])],
    )
    T = ctx.horizon
    for o in owned:
        ctx.builder.add_entries(
            rows.start + np.arange(len(periods)),
            ctx.column("new_units", o * T + periods),
            ctx.problem.options[o].upfront_per_gpu,
        )


def define_owned_fleet_constraints(ctx: BuildContext) -> None:
    """min_owned[t] <= sum_{owned o} fleet[o,t] <= max_owned[t]; the minimum has a penalised
    slack (``unmet_min_owned``) so lead times that make it impossible are diagnosed."""
    rules = ctx.problem.rules
    owned = np.flatnonzero(ctx.owned)
    T = ctx.horizon
    b = ctx.builder

    def label(k: dict[str, Any]) -> str:
        return ctx.labels[int(k["period"])]

    def owned_entries(rows: Block, periods: np.ndarray) -> None:
        for o in owned:
            b.add_entries(
                rows.start + np.arange(len(periods)), ctx.column("fleet", o * T + periods), 1.0
            )

    if rules.min_owned_gpus is not None:
        minimum = np.asarray(rules.min_owned_gpus, dtype=float)
        periods = np.flatnonzero(minimum > 0)
        if len(periods):
            rows = b.add_rows(
                "min_owned_fleet", {"period": periods}, lower=minimum[periods], label=label
            )
            slack = b.add_columns(
                "unmet_min_owned", {"period": periods}, cost=ctx.penalty, label=label, penalty=True
            )
            ctx.blocks["unmet_min_owned"] = slack
            b.add_entries(
                rows.start + np.arange(rows.size), slack.start + np.arange(slack.size), 1.0
            )
            owned_entries(rows, periods)
    if rules.max_owned_gpus is not None:
        periods = np.array(
            [t for t, m in enumerate(rules.max_owned_gpus) if m is not None], dtype=np.int64
        )
        if len(periods):
            limit = np.array([rules.max_owned_gpus[t] for t in periods], dtype=float)
            rows = b.add_rows("max_owned_fleet", {"period": periods}, upper=limit, label=label)
            owned_entries(rows, periods)


def _penalty(ctx: BuildContext) -> float:
    """PENALTY_FACTOR x the dearest unit x the largest reference-to-type throughput ratio."""
    a = ctx.arrays
    ratios = [1.0]
    for need, ref in ((a.inference_need, a.inference_reference[:, None, :]),):
        ok = need > 0
        if ok.any():
            ratios.append(float(np.max(np.broadcast_to(ref, need.shape)[ok] / need[ok])))
    ok = a.training_hours > 0
    if ok.any():
        ratios.append(
            float(
                np.max(
                    a.training_hours[ok]
                    / np.broadcast_to(a.training_reference_hours[:, None], ok.shape)[ok]
                )
            )
        )
    dearest = float(np.max(ctx.unit_cost, initial=1.0))
    return PENALTY_FACTOR * max(dearest, 1.0) * max(ratios)


CONSTRAINT_FAMILIES = (
    define_rental_fleet_constraints,
    define_reservation_term_constraints,
    define_ownership_lifecycle_constraints,
    define_inference_capacity_constraints,
    define_training_energy_constraints,
    define_training_cluster_constraints,
    define_capacity_constraints,
    define_availability_constraints,
    define_provider_share_constraints,
    define_capex_budget_constraints,
    define_owned_fleet_constraints,
)
"""Applied in this order by :func:`build_model` (variables first)."""


def build_model(problem: PlanningProblem) -> PlanModel:
    """Build the MILP (no solving): variables, then each constraint family in turn."""
    ctx = BuildContext(problem)
    ctx.penalty = _penalty(ctx)
    define_supply_variables(ctx)
    for define in CONSTRAINT_FAMILIES:
        define(ctx)
    return PlanModel(
        problem=problem,
        arrays=ctx.arrays,
        cash=ctx.cash,
        linear=ctx.builder.freeze(),
        clusters=ctx.clusters,
        option_cluster=ctx.option_cluster,
        penalty=ctx.penalty,
        size_of_allocation=ctx.training_size_of_allocation,
    )
