"""Simpler procurement strategies, evaluated as the same model with fewer options.

Each baseline only lowers column upper bounds of the one built model (no new rows), so every
baseline plan is a feasible plan of the full model and the optimum can never be dearer than
any baseline. Strategies that own GPUs rent on-demand only until the first purchase can
arrive (the "bridge"), otherwise lead times would make them infeasible by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpuplan.planning.model import PlanModel


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
        frozenset({"on_demand", "spot", "reserved"}),
        frozenset({"owned"}),
        bridge=True,
    ),
)


def bridge_end(model: PlanModel) -> int:
    """First period an owned GPU can be in service (horizon length if none can)."""
    owned = [o.first_period + o.lead_periods for o in model.problem.options if o.mode == "owned"]
    return min(owned, default=model.problem.grid.count)


def restricted_upper(model: PlanModel, baseline: Baseline) -> np.ndarray:
    """Column upper bounds of ``model`` under ``baseline`` (disallowed columns fixed at 0)."""
    upper = model.linear.col_upper.copy()
    cols = model.linear.columns
    mode = np.array([o.mode for o in model.problem.options])
    end = bridge_end(model) if baseline.bridge else 0

    def allowed(modes: frozenset[str], option: np.ndarray, period: np.ndarray) -> np.ndarray:
        ok = np.isin(mode[option], sorted(modes))
        return ok | ((mode[option] == "on_demand") & (period < end))

    for block_name, modes in (
        ("inference_allocation", baseline.inference_modes),
        ("training_allocation", baseline.training_modes),
    ):
        block = cols[block_name]
        if block.size:
            ok = allowed(modes, block.keys["option"], block.keys["period"])
            upper[block.start : block.stop][~ok] = 0.0
    block = cols["new_units"]
    ok = allowed(
        baseline.training_modes | baseline.inference_modes,
        block.keys["option"],
        block.keys["period"],
    )
    upper[block.start : block.stop][~ok] = 0.0
    return upper
