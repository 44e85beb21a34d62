"""Which model layer for the planner: linopy on HiGHS, or the thin indexed layer of our own?

Builds the same representative LP twice, with ``gpuplan.planning.model.linear.ModelBuilder``
(vectorised column blocks, COO entries, one CSC matrix) and with linopy (labelled xarray
variables, constraints written as expressions), solves both with HiGHS and prints build and
solve seconds for each, the objectives (they must agree) and the model size. The LP is the
planner's core: units started per option and period, the fleet they form after their lead
time and for their term (on-demand 1 period, reservations 4-12, owned 20), inference demand
met by allocations weighted by relative throughput with penalised unmet slack, capacity,
availability caps; generated at two sizes, the default scenario's (quarterly, 20 periods x
90 options x 5 workloads) and a larger one (60 monthly periods x 120 options x 10
workloads). Run: ``python3 benchmarks/model_layer.py`` (needs the ``bench`` extra: linopy).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from gpuplan.planning.model.linear import LinearModel, ModelBuilder

PENALTY = 1e4
"""USD per unmet GPU-period (far above any price, so unmet demand is a last resort)."""


@dataclass(frozen=True)
class Data:
    """A generated instance: per option lead L, term K, cost per unit started, cap; per
    workload and period the need in reference GPUs; throughput ratio per workload x option."""

    lead: np.ndarray
    term: np.ndarray
    cost: np.ndarray  # options x periods, USD per unit started
    cap: np.ndarray  # options, GPUs (inf: none)
    need: np.ndarray  # workloads x periods
    ratio: np.ndarray  # workloads x options (0: not allowed)


def generate(periods: int, options: int, workloads: int, seed: int = 3) -> Data:
    rng = np.random.default_rng(seed)
    mode = np.arange(options) % 4  # on-demand, short reserved, long reserved, owned
    lead = np.array([0, 1, 1, 2])[mode]
    term = np.array([1, 4, 12, 20])[mode]
    price = rng.uniform(1500, 3000, options) * np.array([1.0, 0.8, 0.65, 0.45])[mode]
    trend = (1 - 0.03) ** (np.arange(periods) / 4)
    cost = (price * term)[:, None] * trend[None, :]
    cap = np.where(mode == 0, 512.0, np.where(mode == 3, np.inf, 4096.0))
    growth = (1 + rng.uniform(0.05, 0.2, workloads))[:, None] ** np.arange(periods)[None, :]
    need = rng.uniform(100, 2000, workloads)[:, None] * growth
    allowed = rng.random((workloads, options)) < 0.6
    ratio = np.where(allowed, rng.uniform(0.8, 2.5, options)[None, :], 0.0)
    return Data(lead, term, cost, cap, need, ratio)


def build_own(d: Data) -> LinearModel:
    """The LP with the planner's own layer (columns by block, rows by family)."""
    n_options, T = d.cost.shape
    W = d.need.shape[0]
    b = ModelBuilder()
    ot = {"option": np.repeat(np.arange(n_options), T), "period": np.tile(np.arange(T), n_options)}
    new = b.add_columns("new_units", ot, cost=d.cost.ravel())
    fleet = b.add_columns("fleet", ot, upper=np.repeat(d.cap, T))
    w, o = np.nonzero(d.ratio)
    wo_t = {
        "workload": np.repeat(w, T),
        "option": np.repeat(o, T),
        "period": np.tile(np.arange(T), len(w)),
    }
    alloc = b.add_columns("inference_allocation", wo_t)
    wt = {"workload": np.repeat(np.arange(W), T), "period": np.tile(np.arange(T), W)}
    unmet = b.add_columns("unmet_inference", wt, cost=PENALTY)
    # fleet[o,t] - fleet[o,t-1] - new[o,t-L] + new[o,t-L-K] = 0
    rows = b.add_rows("fleet_balance", ot, lower=0.0, upper=0.0)
    oo, tt = ot["option"], ot["period"]
    index = np.arange(rows.size)
    b.add_entries(rows.start + index, fleet.start + index, 1.0)
    b.add_entries(rows.start + index[tt >= 1], fleet.start + index[tt >= 1] - 1, -1.0)
    for shift, sign in ((d.lead[oo], -1.0), (d.lead[oo] + d.term[oo], 1.0)):
        ok = tt - shift >= 0
        b.add_entries(rows.start + index[ok], new.start + (oo * T + tt - shift)[ok], sign)
    # sum_o ratio[w,o] alloc[w,o,t] + unmet[w,t] = need[w,t]
    demand = b.add_rows("inference_demand", wt, lower=d.need.ravel(), upper=d.need.ravel())
    aw, ao, at = wo_t["workload"], wo_t["option"], wo_t["period"]
    b.add_entries(demand.start + aw * T + at, alloc.start + np.arange(alloc.size), d.ratio[aw, ao])
    b.add_entries(demand.start + np.arange(unmet.size), unmet.start + np.arange(unmet.size), 1.0)
    # sum_w alloc[w,o,t] - fleet[o,t] <= 0
    capacity = b.add_rows("capacity", ot, upper=0.0)
    b.add_entries(capacity.start + ao * T + at, alloc.start + np.arange(alloc.size), 1.0)
    b.add_entries(capacity.start + index, fleet.start + index, -1.0)
    return b.freeze()


def solve_own(model: LinearModel) -> float:
    """Objective of ``model`` solved by HiGHS (the planner's own hand-over, ``passModel``)."""
    from gpuplan.planning.problem import SolverSettings
    from gpuplan.planning.solve import solve_model

    return solve_model(model, SolverSettings()).objective


def build_linopy(d: Data):  # type: ignore[no-untyped-def]
    """The same LP in linopy: variables over named coordinates, constraints as expressions."""
    import linopy
    import xarray as xr

    n_options, T = d.cost.shape
    W = d.need.shape[0]
    coords = {"option": np.arange(n_options), "period": np.arange(T), "workload": np.arange(W)}

    def table(values: np.ndarray, *dims: str) -> xr.DataArray:
        return xr.DataArray(values, dims=dims, coords={k: coords[k] for k in dims})

    m = linopy.Model()
    new = m.add_variables(lower=0, coords=table(d.cost, "option", "period").coords,
                          name="new_units")  # fmt: skip
    cap = table(np.repeat(d.cap[:, None], T, axis=1), "option", "period")
    fleet = m.add_variables(lower=0, upper=cap, name="fleet")
    ratio = table(d.ratio, "workload", "option")
    mask = (ratio > 0).expand_dims(period=coords["period"])
    mask = mask.transpose("workload", "option", "period")
    alloc = m.add_variables(lower=0, coords=mask.coords, mask=mask, name="inference_allocation")
    need = table(d.need, "workload", "period")
    unmet = m.add_variables(lower=0, coords=need.coords, name="unmet_inference")
    # Fleet balance per (lead, term) group: fleet - fleet(t-1) = new(t-L) - new(t-L-K).
    for lead, term in sorted(set(zip(d.lead.tolist(), d.term.tolist(), strict=True))):
        group = np.flatnonzero((d.lead == lead) & (d.term == term))
        f, n = fleet.sel(option=group), new.sel(option=group)
        m.add_constraints(
            f - f.shift(period=1) - n.shift(period=lead) + n.shift(period=lead + term) == 0,
            name=f"fleet_balance_{lead}_{term}",
        )
    m.add_constraints((ratio * alloc).sum("option") + unmet == need, name="inference_demand")
    m.add_constraints(alloc.sum("workload") - fleet <= 0, name="capacity")
    cost = table(d.cost, "option", "period")
    m.add_objective((cost * new).sum() + PENALTY * unmet.sum())
    return m


def timed(call):  # type: ignore[no-untyped-def]
    clock = time.perf_counter()
    value = call()
    return value, time.perf_counter() - clock


def main() -> None:
    import logging
    import warnings

    logging.getLogger("linopy").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")  # linopy's notices about its coming v1 semantics
    tiny = generate(2, 4, 1)

    def warm_up() -> None:
        build_linopy(tiny).solve("highs", io_api="direct", output_flag=False, progress=False)

    _, seconds = timed(warm_up)
    solve_own(build_own(tiny))
    print(f"import linopy and highspy, a first tiny model: {seconds:.2f} s (once, not counted)")
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} (a shared machine: "
          "upper bounds)")  # fmt: skip
    sizes = (("default scenario size", (20, 90, 5)), ("larger", (60, 120, 10)))
    for label, size in sizes:
        data = generate(*size)
        own, own_build = timed(partial(build_own, data))
        own_value, own_solve = timed(partial(solve_own, own))
        lp, lin_build = timed(partial(build_linopy, data))
        solve = partial(lp.solve, "highs", io_api="direct", output_flag=False, progress=False)
        _, lin_solve = timed(solve)
        lin_value = float(lp.objective.value)
        print(f"{label}: {size[0]} periods x {size[1]} options x {size[2]} workloads, "
              f"{own.num_cols:,} columns x {own.num_rows:,} rows")  # fmt: skip
        print(f"  own layer: build {own_build:.3f} s, solve {own_solve:.2f} s, "
              f"objective {own_value:,.0f}")  # fmt: skip
        print(f"  linopy:    build {lin_build:.3f} s, solve {lin_solve:.2f} s "
              f"(includes handing the model to HiGHS), objective {lin_value:,.0f}")  # fmt: skip
        agree = abs(own_value - lin_value) <= 1e-6 * abs(own_value)
        print(f"  objectives agree: {agree}")


if __name__ == "__main__":
    main()
