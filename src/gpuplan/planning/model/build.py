"""Build the procurement MILP from a :class:`PlanningProblem` (build only: no solving).

All variables first (:mod:`.variables`), then one function per constraint family, each in
the module of its subject: :mod:`.fleet` (rental fleet, reservation term, ownership
lifecycle), :mod:`.inference` (demand), :mod:`.training` (energy, one cluster at its
minimum size), :mod:`.capacity` (capacity, availability) and :mod:`.rules` (provider share,
capex budget, owned fleet). Objective: net present cost of ``new_units`` (see
:mod:`.costs`) plus the penalties on unmet demand. Extra constraints (PyPSA's
``extra_functionality``) are functions of the :class:`BuildContext` run after the families.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from gpuplan.planning.model.capacity import (
    define_availability_constraints,
    define_capacity_constraints,
)
from gpuplan.planning.model.context import BuildContext, PlanModel
from gpuplan.planning.model.fleet import (
    define_ownership_lifecycle_constraints,
    define_rental_fleet_constraints,
    define_reservation_term_constraints,
    define_whole_server_constraints,
)
from gpuplan.planning.model.inference import define_inference_capacity_constraints
from gpuplan.planning.model.rules import (
    define_capex_budget_constraints,
    define_owned_fleet_constraints,
    define_provider_share_constraints,
    define_site_power_constraints,
)
from gpuplan.planning.model.training import (
    define_training_cluster_constraints,
    define_training_contiguity_constraints,
    define_training_energy_constraints,
)
from gpuplan.planning.model.variables import VARIABLES
from gpuplan.planning.problem import PlanningProblem

ExtraConstraints = Callable[[BuildContext], None]
"""A user's constraint family: adds rows with ``ctx.builder`` over ``ctx.blocks``' columns."""

PENALTY_FACTOR = 1e3
"""Unmet demand costs this many times the dearest way to supply one unit of it."""


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
    define_whole_server_constraints,
    define_inference_capacity_constraints,
    define_training_energy_constraints,
    define_training_cluster_constraints,
    define_training_contiguity_constraints,
    define_capacity_constraints,
    define_availability_constraints,
    define_provider_share_constraints,
    define_capex_budget_constraints,
    define_owned_fleet_constraints,
    define_site_power_constraints,
)
"""Applied in this order by :func:`build_model`, after every variable is declared."""


def build_model(
    problem: PlanningProblem, extra_constraints: Sequence[ExtraConstraints] = ()
) -> PlanModel:
    """Build the MILP (no solving): all variables, each constraint family, then the
    ``extra_constraints`` a user supplies (each sees every variable block by name)."""
    ctx = BuildContext(problem)
    ctx.penalty = _penalty(ctx)
    for declare in VARIABLES:
        declare(ctx)
    for define in (*CONSTRAINT_FAMILIES, *extra_constraints):
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
