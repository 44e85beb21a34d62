"""Training constraint families: energy in the window, one cluster held at its minimum size."""

from __future__ import annotations

import numpy as np

from gpuplan.planning.model.context import BuildContext
from gpuplan.planning.modes import mode_mask

CLUSTER_FAMILIES = (
    "training_cluster_size",
    "training_cluster_hold",
    "training_cluster_link",
    "training_cluster_energy",
    "training_one_cluster",
    "training_chosen",
    "training_commit",
    "training_active_link",
    "training_start",
    "training_one_start",
    "training_end",
    "training_one_end",
    "training_steady",
)
"""Row families that tie each run to one cluster held at its minimum size. Without them
the model is still a relaxation (runs may spread over clusters), which the LP solves much
faster; relax-and-fix solves that first and then adds them back from its basis."""
BOUND_CUTS = ("training_chosen", "training_commit")
"""Valid inequalities that only tighten the LP bound (every integer plan meets them)."""


def define_training_energy_constraints(ctx: BuildContext) -> None:
    """sum_{o,t} (E_ref / E_o) * allocation[r,o,t] + unmet[r] >= E_ref / H: every run gets
    its GPU-hours (E_o on option o's type, H hours per period) inside its window; both
    sides are in reference-GPU periods."""
    a = ctx.arrays
    R = len(ctx.problem.training)
    alloc = ctx.blocks["training_allocation"]
    r, o = alloc.keys["workload"], alloc.keys["option"]
    runs = np.arange(R)
    slack = ctx.blocks["unmet_training"]
    rows = ctx.builder.add_rows(
        "training_energy",
        {"workload": runs},
        lower=a.training_reference_hours / ctx.problem.grid.hours,
        label=slack.label,
    )
    ratio = a.training_reference_hours[r] / np.where(
        a.training_hours[r, o] > 0, a.training_hours[r, o], 1.0
    )
    ctx.builder.add_entries(rows.start + r, alloc.start + np.arange(alloc.size), ratio)
    ctx.builder.add_entries(rows.start + runs, slack.start + runs, 1.0)


def define_training_cluster_constraints(ctx: BuildContext) -> None:
    """One cluster per run, holding at least its minimum size at once whenever it runs.

    ``size[r,c,t]`` (semi-continuous: 0 or >= N) is the GPUs the run holds at once; its
    GPU-periods fit in it: sum_{o in c} allocation[r,o,t] <= size[r,c,t] (a 2,048-GPU run
    needing 600 GPU-quarters rents 2,048 GPUs for 0.3 of a quarter, paid per use). Held
    GPUs come from committed capacity (reserved, owned) in the cluster or its pay-per-use
    headroom: size[r,c,t] <= sum_{committed o in c} fleet[o,t] + rental cap of c. Then
    size[r,c,t] <= upper * choice[r,c] and sum_c choice[r,c] <= 1."""
    alloc = ctx.blocks["training_allocation"]
    size = ctx.blocks["training_cluster_size"]
    choice = ctx.blocks["training_cluster_choice"]
    b = ctx.builder
    rows = b.add_rows("training_cluster_size", dict(size.keys), upper=0.0, label=size.label)
    b.add_entries(
        rows.start + ctx.training_size_of_allocation, alloc.start + np.arange(alloc.size), 1.0
    )
    b.add_entries(rows.start + np.arange(size.size), size.start + np.arange(size.size), -1.0)
    options = ctx.problem.options
    rental = mode_mask(ctx.mode, billing="per_use")
    cap = np.array(
        [np.inf if o.availability_gpus is None else o.availability_gpus for o in options]
    )
    rental_cap = np.zeros(len(ctx.clusters))
    np.add.at(rental_cap, ctx.option_cluster[rental], cap[rental])
    sc, st = size.keys["cluster"], size.keys["period"]
    finite = np.isfinite(rental_cap[sc])
    held = np.flatnonzero(finite)
    committed = np.flatnonzero(~rental)
    if len(held):
        hold = b.add_rows(
            "training_cluster_hold",
            {k: v[held] for k, v in size.keys.items()},
            upper=rental_cap[sc[held]],
            label=size.label,
        )
        b.add_entries(hold.start + np.arange(len(held)), size.start + held, 1.0)
        for i, row in enumerate(held):
            members = committed[ctx.option_cluster[committed] == sc[row]]
            if len(members):
                b.add_entries(
                    np.full(len(members), hold.start + i),
                    ctx.blocks["fleet"].at(option=members, period=st[row]),
                    -1.0,
                )
    link = b.add_rows("training_cluster_link", dict(size.keys), upper=0.0, label=size.label)
    b.add_entries(link.start + np.arange(size.size), size.start + np.arange(size.size), 1.0)
    b.add_entries(
        link.start + np.arange(size.size),
        choice.start + ctx.training_choice_of_size,
        -ctx.training_size_upper,
    )
    # Valid inequality that tightens the LP relaxation (disaggregated energy): the chosen
    # cluster must carry the whole run, energy_c + unmet_r >= E_ref / H * choice_c.
    a = ctx.arrays
    slack = ctx.blocks["unmet_training"]
    r, o = alloc.keys["workload"], alloc.keys["option"]
    hours = np.where(a.training_hours[r, o] > 0, a.training_hours[r, o], 1.0)
    ratio = a.training_reference_hours[r] / hours
    share = b.add_rows("training_cluster_energy", dict(choice.keys), lower=0.0, label=choice.label)
    choice_of_alloc = ctx.training_choice_of_size[ctx.training_size_of_allocation]
    b.add_entries(share.start + choice_of_alloc, alloc.start + np.arange(alloc.size), ratio)
    b.add_entries(
        share.start + np.arange(choice.size),
        slack.start + choice.keys["workload"],
        1.0,
    )
    b.add_entries(
        share.start + np.arange(choice.size),
        choice.start + np.arange(choice.size),
        -a.training_reference_hours[choice.keys["workload"]] / ctx.problem.grid.hours,
    )
    runs = np.arange(len(ctx.problem.training))
    names = [x.workload for x in ctx.problem.training]
    one = b.add_rows(
        "training_one_cluster",
        {"workload": runs},
        upper=1.0,
        label=lambda k: names[int(k["workload"])],
    )
    b.add_entries(one.start + choice.keys["workload"], choice.start + np.arange(choice.size), 1.0)
    # Valid inequalities that make the LP pay for holding a cluster (both hold in every
    # integer plan): a run that is not unmet picks a cluster, sum_c choice[r,c] +
    # unmet[r] / (E_ref / H) >= 1; and a cluster whose pay-per-use headroom R_c is below
    # the run's minimum N starts at least N - R_c committed GPUs in service in its window
    # if chosen, sum_{committed o in c, s serving the window} new_units[o,s] >=
    # (N - R_c) * choice[r,c].
    chosen = b.add_rows(
        "training_chosen",
        {"workload": runs},
        lower=1.0,
        label=lambda k: names[int(k["workload"])],
    )
    b.add_entries(
        chosen.start + choice.keys["workload"], choice.start + np.arange(choice.size), 1.0
    )
    energy = a.training_reference_hours / ctx.problem.grid.hours
    b.add_entries(chosen.start + runs, slack.start + runs, 1.0 / np.maximum(energy, 1e-9))
    cr, cc = choice.keys["workload"], choice.keys["cluster"]
    first_option = np.zeros(len(ctx.clusters), dtype=np.int64)
    first_option[ctx.option_cluster[::-1]] = np.arange(ctx.n_options)[::-1]
    short = np.maximum(a.training_min_gpus[cr, first_option[cc]] - rental_cap[cc], 0.0)
    need = np.flatnonzero(short > 0)
    if len(need):
        commit = b.add_rows(
            "training_commit",
            {"workload": cr[need], "cluster": cc[need]},
            lower=0.0,
            label=choice.label,
        )
        b.add_entries(commit.start + np.arange(len(need)), choice.start + need, -short[need])
        starts = ctx.blocks["new_units"]
        periods = np.arange(ctx.horizon)
        for i, j in enumerate(need):
            run = ctx.problem.training[int(cr[j])]
            for o in committed[ctx.option_cluster[committed] == cc[j]]:
                option = ctx.problem.options[o]
                # Only units in service at some period of the run's window count.
                first = periods + option.lead_periods
                serves = (first <= run.deadline) & (first + option.term_periods > run.earliest)
                cols = starts.where(option=o)[serves]
                b.add_entries(np.full(len(cols), commit.start + i), cols, 1.0)


def define_training_contiguity_constraints(ctx: BuildContext) -> None:
    """A run that may not pause holds its cluster in one unbroken stretch, busy throughout.

    With ``active[r,t]`` binary over the window and markers ``start``/``end`` in [0, 1]:
    sum_o alloc[r,o,t] <= U_r * active[r,t] (it runs only while active);
    active[r,t] - active[r,t-1] <= start[r,t] and sum_t start[r,t] <= 1 (one stretch);
    active[r,t] - active[r,t+1] <= end[r,t] and sum_t end[r,t] <= 1 (one last period);
    sum_o alloc[r,o,t] / N_{r,o} >= active[r,t] - end[r,t]: every period but the last uses
    at least the minimum cluster N for the whole period (no idle, paid-for gaps)."""
    active = ctx.blocks["training_active"]
    if active.size == 0:
        return
    alloc = ctx.blocks["training_allocation"]
    start, end = ctx.blocks["training_start"], ctx.blocks["training_end"]
    b = ctx.builder
    a = ctx.arrays
    ar, at = active.keys["workload"], active.keys["period"]
    position = {(int(r), int(t)): i for i, (r, t) in enumerate(zip(ar, at, strict=True))}
    index = np.arange(active.size)
    upper = np.zeros(len(ctx.problem.training))
    np.maximum.at(
        upper, ctx.blocks["training_cluster_size"].keys["workload"], ctx.training_size_upper
    )
    link = b.add_rows("training_active_link", dict(active.keys), upper=0.0, label=active.label)
    busy = b.add_rows("training_steady", dict(active.keys), lower=0.0, label=active.label)
    ok = np.array(
        [
            (int(r), int(t)) in position
            for r, t in zip(alloc.keys["workload"], alloc.keys["period"], strict=True)
        ],
        dtype=bool,
    )
    rows = np.array(
        [
            position.get((int(r), int(t)), -1)
            for r, t in zip(alloc.keys["workload"], alloc.keys["period"], strict=True)
        ],
        dtype=np.int64,
    )
    cols = alloc.start + np.flatnonzero(ok)
    b.add_entries(link.start + rows[ok], cols, 1.0)
    b.add_entries(link.start + index, active.start + index, -upper[ar])
    minimum = a.training_min_gpus[alloc.keys["workload"][ok], alloc.keys["option"][ok]]
    b.add_entries(busy.start + rows[ok], cols, 1.0 / np.maximum(minimum, 1.0))
    b.add_entries(busy.start + index, active.start + index, -1.0)
    b.add_entries(busy.start + index, end.start + index, 1.0)
    for family, marker, step in (("training_start", start, -1), ("training_end", end, 1)):
        rows_ = b.add_rows(family, dict(active.keys), upper=0.0, label=active.label)
        b.add_entries(rows_.start + index, active.start + index, 1.0)
        b.add_entries(rows_.start + index, marker.start + index, -1.0)
        neighbour = np.array(
            [position.get((int(r), int(t) + step), -1) for r, t in zip(ar, at, strict=True)]
        )
        has = neighbour >= 0
        b.add_entries(rows_.start + index[has], active.start + neighbour[has], -1.0)
        runs = np.unique(ar)
        one = b.add_rows(
            f"training_one_{family.removeprefix('training_')}",
            {"workload": runs},
            upper=1.0,
            label=lambda k: ctx.problem.training[int(k["workload"])].workload,
        )
        run_row = {int(r): i for i, r in enumerate(runs)}
        b.add_entries(
            one.start + np.array([run_row[int(r)] for r in ar]), marker.start + index, 1.0
        )
