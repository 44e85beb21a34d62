"""Simpler procurement strategies, evaluated as the same model with fewer options.

Each baseline only lowers column upper bounds of the one built model (no new rows), so every
baseline plan is a feasible plan of the full model and the optimum can never be dearer than
any baseline. Strategies that own GPUs rent on-demand only until the first purchase can
arrive (the "bridge"), otherwise lead times would make them infeasible by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpuplan.planning.model.build import PlanModel
from gpuplan.planning.modes import modes_where


@dataclass(frozen=True)
class Baseline:
    """Modes each kind of workload may use; ``bridge``: on-demand allowed before the first
    owned GPU can arrive."""

    name: str
    description: str
    training_modes: frozenset[str]
    inference_modes: frozenset[str]
    bridge: bool = False


BASELINES: tuple[Baseline, ...] = (
    Baseline(
        "all_on_demand",
        "everything on-demand at the cheapest allowed offers",
        frozenset({"on_demand"}),
        frozenset({"on_demand"}),
    ),
    Baseline(
        "all_reserved",
        "everything on reserved capacity (any term offered)",
        frozenset({"reserved"}),
        frozenset({"reserved"}),
    ),
    Baseline(
        "all_owned",
        "everything on owned GPUs (on-demand only until the first purchase arrives)",
        frozenset({"owned"}),
        frozenset({"owned"}),
        bridge=True,
    ),
    Baseline(
        "rent_training_own_inference",
        "report §9.3 scenario B: rent for training, own for inference",
        frozenset(modes_where(third_party=True)),
        frozenset({"owned"}),
        bridge=True,
    ),
)


def _bridge_ends(model: PlanModel, mask: np.ndarray) -> np.ndarray:
    """Per workload: first period an owned GPU it may use can be in service (0 if none)."""
    options = model.problem.options
    arrival = np.array(
        [o.first_period + o.lead_periods if o.billing == "own" else np.inf for o in options]
    )
    ends = np.where(mask, arrival[None, :], np.inf).min(axis=1, initial=np.inf)
    return np.where(np.isfinite(ends), ends, 0.0)


def restricted_upper(model: PlanModel, baseline: Baseline) -> np.ndarray:
    """Column upper bounds of ``model`` under ``baseline`` (disallowed columns fixed at 0).

    With ``bridge``, a workload may rent on-demand until an owned GPU it is allowed to use
    can first arrive; new on-demand units are allowed while any workload is bridging.
    """
    upper = model.linear.col_upper.copy()
    cols = model.linear.columns
    mode = np.array([o.mode for o in model.problem.options])
    a = model.arrays
    modes_used = baseline.training_modes | baseline.inference_modes
    latest_bridge = 0.0
    for block_name, modes, mask in (
        ("inference_allocation", baseline.inference_modes, a.inference_mask),
        ("training_allocation", baseline.training_modes, a.training_mask),
    ):
        block = cols[block_name]
        if not block.size:
            continue
        option, period = block.keys["option"], block.keys["period"]
        ok = np.isin(mode[option], sorted(modes))
        if baseline.bridge and "on_demand" not in modes:
            ends = _bridge_ends(model, mask)
            latest_bridge = max(latest_bridge, float(ends.max(initial=0.0)))
            ok |= (mode[option] == "on_demand") & (period < ends[block.keys["workload"]])
        upper[block.start : block.stop][~ok] = 0.0
    block = cols["new_units"]
    option, period = block.keys["option"], block.keys["period"]
    ok = np.isin(mode[option], sorted(modes_used))
    ok |= (mode[option] == "on_demand") & (period < latest_bridge)
    upper[block.start : block.stop][~ok] = 0.0
    return upper
