"""Portfolio rules: provider shares, capex budgets, owned fleet bounds."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpuplan.planning.model.context import BuildContext
from gpuplan.planning.model.costs import expanding_sites
from gpuplan.planning.model.linear import Block
from gpuplan.planning.problem import PlanningProblem


def share_limits(problem: PlanningProblem) -> list[tuple[str, float]]:
    """(provider, share) for each rented provider whose share of GPUs in use is limited."""
    limited = []
    for provider in sorted({o.provider for o in problem.options if o.third_party}):
        share = problem.rules.share_limit(provider)
        if share is not None and share < 1.0:
            limited.append((provider, share))
    return limited


def define_provider_share_constraints(ctx: BuildContext) -> None:
    """sum_{o of provider p} used[o,t] <= share_p * total_used[t] for rented providers with a
    share limit, where used = GPUs allocated to workloads (idle GPUs bought only to dilute
    a provider's share do not count; the lab's own sites are not a provider)."""
    limited = share_limits(ctx.problem)
    parts = [ctx.blocks["inference_allocation"], ctx.blocks["training_allocation"]]
    parts = [p for p in parts if p.size]
    if not limited or not parts:
        return
    T = ctx.horizon
    b = ctx.builder
    periods = np.arange(T)
    total = ctx.blocks["total_used"]
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
        b.add_entries(rows.at(provider=i, period=alloc_period[mine]), alloc_cols[mine], 1.0)
        b.add_entries(rows.at(provider=i, period=periods), total.at(period=periods), -share)


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
    for o in owned:
        ctx.builder.add_entries(
            rows.start + np.arange(len(periods)),
            ctx.blocks["new_units"].at(option=o, period=periods),
            ctx.problem.options[o].upfront_per_gpu,
        )


def define_owned_fleet_constraints(ctx: BuildContext) -> None:
    """min_owned[t] <= sum_{owned o} fleet[o,t] <= max_owned[t]; the minimum has a penalised
    slack (``unmet_min_owned``) so lead times that make it impossible are diagnosed."""
    rules = ctx.problem.rules
    owned = np.flatnonzero(ctx.owned)
    b = ctx.builder

    def label(k: dict[str, Any]) -> str:
        return ctx.labels[int(k["period"])]

    def owned_entries(rows: Block, periods: np.ndarray) -> None:
        for o in owned:
            b.add_entries(
                rows.start + np.arange(len(periods)),
                ctx.blocks["fleet"].at(option=o, period=periods),
                1.0,
            )

    if rules.min_owned_gpus is not None:
        minimum = np.asarray(rules.min_owned_gpus, dtype=float)
        periods = np.flatnonzero(minimum > 0)
        if len(periods):
            rows = b.add_rows(
                "min_owned_fleet", {"period": periods}, lower=minimum[periods], label=label
            )
            slack = ctx.blocks["unmet_min_owned"]
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


def define_site_power_constraints(ctx: BuildContext) -> None:
    """sum_{owned o at site s} kW_o * fleet[o,t] - sum_{t' <= t - L_s} added_power[s,t']
    <= P_s: an owned fleet grows only as fast as its sites' power (kW_o = TDP x server
    overhead x PUE per GPU), the power there at the start plus what was added in time
    (ordered L_s periods before); sum_t added_power[s,t] <= the site's most added kW."""
    power = ctx.problem.rules.site_power_kw
    sites = sorted(power)
    if not sites:
        return
    T = ctx.horizon
    si = np.repeat(np.arange(len(sites)), T)
    st = np.tile(np.arange(T), len(sites))
    rows = ctx.builder.add_rows(
        "site_power",
        {"site": si, "period": st},
        upper=np.repeat([power[s] for s in sites], T),
        label=lambda k: f"{sites[int(k['site'])]},{ctx.labels[int(k['period'])]}",
    )
    fleet = ctx.blocks["fleet"]
    for i, site in enumerate(sites):
        for o, option in enumerate(ctx.problem.options):
            if option.billing == "own" and option.region == site and option.site_kw_per_gpu:
                ctx.builder.add_entries(
                    rows.at(site=i, period=np.arange(T)), fleet.where(option=o),
                    option.site_kw_per_gpu,
                )
    added = ctx.blocks["added_power"]
    for i, site in expanding_sites(ctx.problem):
        lead = ctx.problem.rules.power_expansion[site].lead_periods
        ordered, serving = np.nonzero(np.arange(T)[None, :] >= np.arange(T)[:, None] + lead)
        ctx.builder.add_entries(
            rows.at(site=i, period=serving), added.where(site=i)[ordered], -1.0
        )
    limited = [
        (i, site)
        for i, site in expanding_sites(ctx.problem)
        if ctx.problem.rules.power_expansion[site].max_added_kw is not None
    ]
    if limited:
        cap = ctx.builder.add_rows(
            "power_expansion_limit",
            {"site": np.array([i for i, _ in limited])},
            upper=np.array(
                [ctx.problem.rules.power_expansion[site].max_added_kw or 0.0 for _, site in limited]
            ),
            label=lambda k: sites[int(k["site"])],
        )
        for row, (i, _) in enumerate(limited):
            columns = added.where(site=i)
            ctx.builder.add_entries(np.full(T, cap.start + row), columns, 1.0)
