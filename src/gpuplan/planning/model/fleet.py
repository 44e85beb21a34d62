"""Fleet families: how units started become GPUs in service (one balance per mode billing).

fleet[o,t] = fleet[o,t-1] + new_units[o,t-L] - new_units[o,t-L-K]: a unit started in s joins
the fleet L periods later (lead time) and leaves K periods after that (1 period for
pay-per-use, the commitment for a term, the service life for an owned GPU).
"""

from __future__ import annotations

import numpy as np

from gpuplan.planning.model.context import BuildContext
from gpuplan.planning.modes import mode_mask


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
    fleet, new_units = ctx.blocks["fleet"], ctx.blocks["new_units"]
    ctx.builder.add_entries(row, fleet.at(option=o, period=t), 1.0)
    previous = t >= 1
    ctx.builder.add_entries(
        row[previous], fleet.at(option=o[previous], period=t[previous] - 1), -1.0
    )
    for shift, sign in ((lead, -1.0), (lead + term, 1.0)):
        start = t - shift
        ok = start >= 0
        ctx.builder.add_entries(row[ok], new_units.at(option=o[ok], period=start[ok]), sign)


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


def define_whole_server_constraints(ctx: BuildContext) -> None:
    """new_units[o,s] = gpus_per_unit_o * servers[o,s] (servers integer) when the scenario
    orders whole servers or instances."""
    servers = ctx.blocks.get("servers")
    if servers is None:
        return
    starts = ctx.blocks["new_units"]
    rows = ctx.builder.add_rows(
        "whole_servers", dict(starts.keys), lower=0.0, upper=0.0, label=starts.label
    )
    index = np.arange(rows.size)
    size = np.array([o.gpus_per_unit for o in ctx.problem.options], dtype=float)
    ctx.builder.add_entries(rows.start + index, starts.start + index, 1.0)
    ctx.builder.add_entries(rows.start + index, servers.start + index, -size[starts.keys["option"]])
