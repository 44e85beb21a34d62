"""Every variable of the model, declared before any constraint (so no family depends on
another family having run first). Each ``define_*_variables`` adds one or more column
blocks to ``ctx.blocks``:

* ``new_units[o, s]`` GPUs of option o started (rented, committed or ordered) in period s;
  ``fleet[o, t]`` GPUs of option o in service in t;
* ``inference_allocation[w, o, t]`` and ``unmet_inference[w, t]`` (penalised slack);
* ``training_allocation[r, o, t]`` (GPU-periods), ``training_cluster_size[r, c, t]``
  (semi-continuous: 0 or at least the run's minimum cluster), ``training_cluster_choice[r, c]``
  (binary) and ``unmet_training[r]``;
* ``total_used[t]`` (GPUs in use, for provider shares) and ``unmet_min_owned[t]``;
* ``added_power[s, t]`` kW of power ordered for ownership site s in period t.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpuplan.planning.model.context import BuildContext
from gpuplan.planning.model.costs import expanding_sites, power_cash_flows, start_allowed
from gpuplan.planning.model.linear import CONTINUOUS, INTEGER, SEMI_CONTINUOUS
from gpuplan.planning.model.rules import share_limits


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
    if ctx.problem.solver.whole_servers:
        ctx.blocks["servers"] = ctx.builder.add_columns(
            "servers",
            keys,
            upper=np.where(allowed, np.inf, 0.0),
            kind=INTEGER,
            label=ctx.option_period,
        )


def define_inference_variables(ctx: BuildContext) -> None:
    """An allocation column per (workload, allowed option, period with demand) and an unmet
    slack per (workload, period with demand)."""
    a = ctx.arrays
    names = [n.workload for n in ctx.problem.inference]
    active = a.inference_reference > 0
    usable = a.inference_mask[:, :, None] & (a.inference_need > 0) & active[:, None, :]
    w, o, t = np.nonzero(usable)
    ctx.blocks["inference_allocation"] = ctx.builder.add_columns(
        "inference_allocation",
        {"workload": w, "option": o, "period": t},
        label=lambda k: f"{names[int(k['workload'])]},{ctx.option_period(k)}",
    )
    rw, rt = np.nonzero(active)
    ctx.blocks["unmet_inference"] = ctx.builder.add_columns(
        "unmet_inference",
        {"workload": rw, "period": rt},
        cost=ctx.penalty,
        label=lambda k: f"{names[int(k['workload'])]},{ctx.labels[int(k['period'])]}",
        penalty=True,
    )


def define_training_variables(ctx: BuildContext) -> None:
    """``training_allocation`` for allowed (run, option, period in window), the cluster
    size / choice columns of each (run, cluster) that can hold the run's minimum size, and
    an unmet slack per run."""
    a = ctx.arrays
    problem = ctx.problem
    hours = problem.grid.hours
    usable = a.training_mask[:, :, None] & a.training_window[:, None, :]
    r, o, t = np.nonzero(usable)
    c = ctx.option_cluster[o]
    # Clusters whose availability caps cannot hold the run's minimum size are dropped.
    cap = np.array(
        [np.inf if x.availability_gpus is None else x.availability_gpus for x in problem.options]
    )
    cluster_cap = np.zeros(len(ctx.clusters))
    np.add.at(cluster_cap, ctx.option_cluster, cap)
    fits = cluster_cap[c] >= a.training_min_gpus[r, o] - 1e-9
    r, o, t, c = r[fits], o[fits], t[fits], c[fits]
    names = [x.workload for x in problem.training]

    def run_label(k: dict[str, Any]) -> str:
        return names[int(k["workload"])]

    ctx.blocks["training_allocation"] = ctx.builder.add_columns(
        "training_allocation",
        {"workload": r, "option": o, "period": t},
        label=lambda k: f"{run_label(k)},{ctx.option_period(k)}",
    )
    rct, rct_index = np.unique(np.stack([r, c, t]), axis=1, return_inverse=True)
    ctx.training_size_of_allocation = rct_index.ravel()
    first_option = np.zeros(len(ctx.clusters), dtype=np.int64)
    first_option[ctx.option_cluster[::-1]] = np.arange(ctx.n_options)[::-1]
    sr, sc, st = rct
    minimum = a.training_min_gpus[sr, first_option[sc]]
    run_hours = a.training_hours[sr, first_option[sc]]
    upper = np.minimum(np.maximum(minimum, run_hours / hours), cluster_cap[sc])
    cluster_text = [f"{p}/{g}@{reg}" for p, reg, g in ctx.clusters]
    ctx.blocks["training_cluster_size"] = ctx.builder.add_columns(
        "training_cluster_size",
        {"workload": sr, "cluster": sc, "period": st},
        lower=minimum,
        upper=upper,
        kind=np.where(minimum > 0, SEMI_CONTINUOUS, CONTINUOUS),
        label=lambda k: (
            f"{run_label(k)},{cluster_text[int(k['cluster'])]},{ctx.labels[int(k['period'])]}"
        ),
    )
    ctx.training_size_upper = upper
    rc, rc_index = np.unique(rct[:2], axis=1, return_inverse=True)
    ctx.training_choice_of_size = rc_index.ravel()
    ctx.blocks["training_cluster_choice"] = ctx.builder.add_columns(
        "training_cluster_choice",
        {"workload": rc[0], "cluster": rc[1]},
        upper=1.0,
        kind=INTEGER,
        label=lambda k: f"{run_label(k)},{cluster_text[int(k['cluster'])]}",
    )
    # Contiguous runs: active[r,t] (binary) in their window, with start/end markers.
    steady = [i for i, run in enumerate(problem.training) if not run.may_pause]
    window = a.training_window[steady] if steady else np.zeros((0, ctx.horizon), dtype=bool)
    ar, at = np.nonzero(window)
    ar = np.asarray(steady, dtype=np.int64)[ar] if steady else ar
    keys = {"workload": ar, "period": at}

    def run_period(k: dict[str, Any]) -> str:
        return f"{run_label(k)},{ctx.labels[int(k['period'])]}"

    ctx.blocks["training_active"] = ctx.builder.add_columns(
        "training_active", keys, upper=1.0, kind=INTEGER, label=run_period
    )
    for name in ("training_start", "training_end"):
        ctx.blocks[name] = ctx.builder.add_columns(name, keys, upper=1.0, label=run_period)
    ctx.blocks["unmet_training"] = ctx.builder.add_columns(
        "unmet_training",
        {"workload": np.arange(len(problem.training))},
        cost=ctx.penalty,
        label=run_label,
        penalty=True,
    )


def define_rule_variables(ctx: BuildContext) -> None:
    """``total_used[t]`` where a provider share is limited; ``unmet_min_owned[t]`` where a
    minimum owned fleet is set."""
    periods = np.arange(ctx.horizon)
    if share_limits(ctx.problem):
        ctx.blocks["total_used"] = ctx.builder.add_columns(
            "total_used", {"period": periods}, label=lambda k: ctx.labels[int(k["period"])]
        )
    minimum = ctx.problem.rules.min_owned_gpus
    short = np.flatnonzero(np.asarray(minimum or ()) > 0)
    if len(short):
        ctx.blocks["unmet_min_owned"] = ctx.builder.add_columns(
            "unmet_min_owned",
            {"period": short},
            cost=ctx.penalty,
            label=lambda k: ctx.labels[int(k["period"])],
            penalty=True,
        )


def define_power_variables(ctx: BuildContext) -> None:
    """``added_power[s, t]``: kW ordered for site s in period t, in service from t + L_s
    (sites with a power expansion only); cost: its net present cost per kW; none may be
    ordered that would arrive after the horizon."""
    expanding = expanding_sites(ctx.problem)
    T = ctx.horizon
    discount = ctx.problem.grid.discount_factors(T)
    sites = np.repeat([i for i, _ in expanding], T).astype(np.int64)
    periods = np.tile(np.arange(T), len(expanding))
    cost = [power_cash_flows(ctx.problem, site) @ discount for _, site in expanding]
    lead = [ctx.problem.rules.power_expansion[site].lead_periods for _, site in expanding]
    names = sorted(ctx.problem.rules.site_power_kw)
    ctx.blocks["added_power"] = ctx.builder.add_columns(
        "added_power",
        {"site": sites, "period": periods},
        cost=np.concatenate(cost) if cost else 0.0,
        upper=np.where(periods + np.repeat(lead, T) < T, np.inf, 0.0) if lead else 0.0,
        label=lambda k: f"{names[int(k['site'])]},{ctx.labels[int(k['period'])]}",
    )


VARIABLES = (
    define_supply_variables,
    define_inference_variables,
    define_training_variables,
    define_rule_variables,
    define_power_variables,
)
"""Applied in this order by :func:`~gpuplan.planning.model.build.build_model`."""
