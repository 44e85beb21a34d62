"""Capacity families: workloads use only GPUs in the fleet; fleets within availability."""

from __future__ import annotations

import numpy as np

from gpuplan.planning.model.context import BuildContext


def define_capacity_constraints(ctx: BuildContext) -> None:
    """sum_w inference[w,o,t] + sum_r training[r,o,t] <= fleet[o,t]: workloads use only
    GPUs that are in the fleet."""
    blocks = (ctx.blocks["inference_allocation"], ctx.blocks["training_allocation"])
    parts = [p for p in blocks if p.size]
    if not parts:
        return
    fleet = ctx.blocks["fleet"]
    fleet_of = np.concatenate([fleet.at(option=p.keys["option"], period=p.keys["period"])
                               for p in parts])
    cols = np.concatenate([p.start + np.arange(p.size) for p in parts])
    used, inverse = np.unique(fleet_of, return_inverse=True)
    rows = ctx.builder.add_rows(
        "capacity",
        {name: values[used - fleet.start] for name, values in fleet.keys.items()},
        upper=0.0,
        label=ctx.option_period,
    )
    ctx.builder.add_entries(rows.start + inverse.ravel(), cols, 1.0)
    ctx.builder.add_entries(rows.start + np.arange(rows.size), used, -1.0)


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
        rows.start + np.arange(rows.size), ctx.blocks["fleet"].at(option=options, period=period),
        1.0,
    )
