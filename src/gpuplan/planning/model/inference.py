"""Inference demand: every workload's GPUs (peak included) are served in every period."""

from __future__ import annotations

import numpy as np

from gpuplan.planning.model.context import BuildContext


def define_inference_capacity_constraints(ctx: BuildContext) -> None:
    """sum_o need_ref[w,t] / need[w,o,t] * allocation[w,o,t] + unmet[w,t] = need_ref[w,t]:
    each workload's demand, in GPUs of its reference type, is met in every period by a mix
    of allowed options (a GPU type counts by its throughput relative to the reference)."""
    a = ctx.arrays
    alloc = ctx.blocks["inference_allocation"]
    slack = ctx.blocks["unmet_inference"]
    if slack.size == 0:
        return
    w, o, t = (alloc.keys[k] for k in ("workload", "option", "period"))
    ratio = a.inference_reference[w, t] / a.inference_need[w, o, t]
    rw, rt = slack.keys["workload"], slack.keys["period"]
    W = len(ctx.problem.inference)
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
