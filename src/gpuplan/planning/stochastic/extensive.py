"""The two-stage stochastic plan as one linear model (the extensive form).

First stage: units of committed modes (reservations, contracts, purchases; ``committed`` in
``planning/data/supply_modes.csv``) started before the decision period. They are signed or
ordered now, so one decision serves every future: the futures share those columns. Second
stage (recourse): everything else, including all pay-per-use capacity and every
commitment after the decision point, adapts to each future; its columns are copied per
future. Birge & Louveaux, *Introduction to Stochastic Programming* (2011), §2.1 and §3.1.

Recourse integrality (:class:`Recourse`): with few futures every future keeps whole GPUs,
whole servers and clusters' minimum sizes; with many, the recourse is relaxed to an LP (whole
GPUs then hold in the first stage only), since the mixed-integer extensive form of tens of
futures does not solve in minutes on a laptop. Whichever is chosen serves every figure
compared with it (deterministic plan, wait-and-see, out of sample), so VSS and EVPI stay
consistent.

Risk: expected cost plus ``weight`` x CVaR at ``alpha`` of the futures' costs, linearised
as eta + sum_s p_s u_s / (1 - alpha) with u_s >= cost_s - eta, u_s >= 0 (Rockafellar &
Uryasev, *J. Risk* 2000).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from gpuplan.planning.model.build import ExtraConstraints, PlanModel
from gpuplan.planning.model.context import BuildContext
from gpuplan.planning.model.linear import CONTINUOUS, Block, LinearModel
from gpuplan.planning.modes import supply_mode
from gpuplan.planning.problem import SupplyOption

ACTIVE = 1e-6
"""GPU-periods above which a run is read as holding a cluster in a period."""


@dataclass(frozen=True)
class Risk:
    """CVaR term of the objective: ``weight`` x CVaR at ``alpha`` (0 weight: risk-neutral)."""

    alpha: float = 0.95
    weight: float = 0.0


@dataclass(frozen=True)
class ExtensiveForm:
    """The stacked model and where each future's columns sit in it.

    ``columns[s]``: for each column of future s's own model, its index in ``linear``
    (first-stage columns map to the shared ones). ``first_stage``: those shared indices, in
    the order of :func:`first_stage_columns`. ``eta``/``excess``: the CVaR columns (-1 and
    an empty array when risk-neutral).
    """

    linear: LinearModel
    columns: list[np.ndarray]
    first_stage: np.ndarray
    eta: int
    excess: np.ndarray

    @property
    def size(self) -> dict[str, int]:
        """Columns, rows and non-zeros of the stacked model."""
        linear = self.linear
        return {"columns": linear.num_cols, "rows": linear.num_rows,
                "nonzeros": int(linear.matrix.nnz)}  # fmt: skip


def committed_starts(
    new_units: Block, options: Sequence[SupplyOption], decision_period: int
) -> np.ndarray:
    """Positions in the ``new_units`` block of units of committed modes started before
    ``decision_period``."""
    option, period = new_units.keys["option"], new_units.keys["period"]
    committed = np.array([supply_mode(o.mode).committed for o in options], dtype=bool)
    return np.flatnonzero(committed[option] & (period < decision_period))


def first_stage_columns(model: PlanModel, decision_period: int) -> np.ndarray:
    """Model columns of units of committed modes started before ``decision_period``."""
    block = model.linear.columns["new_units"]
    return block.start + committed_starts(block, model.problem.options, decision_period)


def keep_commitments(decision_period: int, values: np.ndarray) -> ExtraConstraints:
    """A constraint family (for ``plan(..., extra_constraints=[...])``) holding the first
    stage at ``values``: new_units[o, s] = value for each committed start before the
    decision period, so a single plan carries a stochastic plan's commitments."""

    def define_kept_commitments(ctx: BuildContext) -> None:
        block = ctx.blocks["new_units"]
        where = committed_starts(block, ctx.problem.options, decision_period)
        if len(where) != len(values):
            raise ValueError("the commitments were made for another set of supply options")
        rows = ctx.builder.add_rows(
            "kept_commitments",
            {"option": block.keys["option"][where], "period": block.keys["period"][where]},
            lower=values,
            upper=values,
            label=ctx.option_period,
        )
        ctx.builder.add_entries(rows.start + np.arange(rows.size), block.start + where, 1.0)

    return define_kept_commitments


@dataclass(frozen=True)
class Recourse:
    """How every future's second stage is modelled: training runs kept where ``schedule``
    says (runs x clusters x periods mask from the deterministic plan; ``None``: free), and
    whole GPUs, instances and cluster minimum sizes kept (``integral``) or relaxed."""

    schedule: np.ndarray | None = None
    integral: bool = False


def recourse_model(
    linear: LinearModel, first_stage: np.ndarray, recourse: Recourse = Recourse()
) -> LinearModel:
    """``linear`` as one future's model: unless ``recourse.integral``, every column but the
    first stage's continuous (semi-continuous ones from zero); with a training schedule,
    each run kept where it says (:func:`pinned_training`)."""
    model = linear
    if not recourse.integral:
        kind = np.full(linear.num_cols, CONTINUOUS, dtype=linear.col_kind.dtype)
        kind[first_stage] = linear.col_kind[first_stage]
        lower = np.where(kind == linear.col_kind, linear.col_lower, 0.0)
        model = replace(linear, col_kind=kind, col_lower=lower)
    if recourse.schedule is None:
        return model
    return pinned_training(model, recourse.schedule, linear.col_lower)


def training_schedule(model: PlanModel, training: np.ndarray) -> np.ndarray:
    """(runs x clusters x periods) mask of where a plan's training runs hold a cluster, from
    its ``training`` allocation (runs x options x periods, GPU-periods)."""
    runs, _, periods = training.shape
    held = np.zeros((runs, len(model.clusters), periods))
    for option, cluster in enumerate(model.option_cluster):
        held[:, cluster, :] += training[:, option, :]
    return held > ACTIVE


def pinned_training(linear: LinearModel, schedule: np.ndarray, minimum: np.ndarray) -> LinearModel:
    """``linear`` with each training run kept on the cluster and in the periods of
    ``schedule``, holding at least its minimum size (``minimum``: the unrelaxed column lower
    bounds) there and nothing elsewhere; runs the schedule does not place keep their
    freedom. Sizes and volumes still adapt."""
    lower, upper = linear.col_lower.copy(), linear.col_upper.copy()
    size = linear.columns["training_cluster_size"]
    choice = linear.columns["training_cluster_choice"]
    placed = np.asarray(schedule.any(axis=(1, 2)), dtype=bool)
    r, c, t = (size.keys[k] for k in ("workload", "cluster", "period"))
    active = schedule[r, c, t]
    pin = placed[r]
    cols = size.start + np.arange(size.size)
    upper[cols[pin & ~active]] = 0.0
    lower[cols[pin & active]] = minimum[cols[pin & active]]
    r, c = choice.keys["workload"], choice.keys["cluster"]
    chosen = schedule[r, c, :].any(axis=1)
    cols = choice.start + np.arange(choice.size)
    lower[cols[placed[r] & chosen]] = 1.0
    upper[cols[placed[r] & ~chosen]] = 0.0
    flag = linear.columns.get("training_active")  # runs that may not pause
    if flag is not None and flag.size:
        r, t = flag.keys["workload"], flag.keys["period"]
        on = schedule[r, :, t].any(axis=1)
        cols = flag.start + np.arange(flag.size)
        lower[cols[placed[r] & on]] = 1.0
        upper[cols[placed[r] & ~on]] = 0.0
    return replace(linear, col_lower=lower, col_upper=upper)


def with_first_stage_fixed(
    linear: LinearModel, first_stage: np.ndarray, values: np.ndarray
) -> LinearModel:
    """``linear`` with the first-stage columns fixed to ``values`` (continuous), each within
    its bounds in this model: an order of a GPU not yet available in this future is not
    filled."""
    lower, upper, kind = linear.col_lower.copy(), linear.col_upper.copy(), linear.col_kind.copy()
    kept = np.clip(values, lower[first_stage], upper[first_stage])
    lower[first_stage] = upper[first_stage] = kept
    kind[first_stage] = CONTINUOUS
    return replace(linear, col_lower=lower, col_upper=upper, col_kind=kind)


def extensive_form(
    models: Sequence[PlanModel],
    decision_period: int,
    weights: np.ndarray | None = None,
    risk: Risk | None = None,
    recourse: Recourse = Recourse(),
) -> ExtensiveForm:
    """Stack the futures' models (each as :func:`recourse_model` makes it), sharing the
    first-stage columns, weighted by ``weights`` (default equal); every future's model must
    have the same supply options."""
    n = len(models)
    p = np.full(n, 1.0 / n) if weights is None else np.asarray(weights, dtype=float)
    stages = [first_stage_columns(m, decision_period) for m in models]
    shared = len(stages[0])
    linears = [recourse_model(m.linear, s, recourse) for m, s in zip(models, stages, strict=True)]
    # Global layout: shared first-stage columns, then each future's recourse columns.
    maps, offset = [], shared
    for linear, stage in zip(linears, stages, strict=True):
        local = np.full(linear.num_cols, -1, dtype=np.int64)
        local[stage] = np.arange(shared)
        second = np.flatnonzero(local < 0)
        local[second] = offset + np.arange(len(second))
        offset += len(second)
        maps.append(local)
    first = linears[0]
    cost = np.zeros(offset)
    lower = np.zeros(offset)
    upper = np.full(offset, np.inf)
    kind = np.full(offset, CONTINUOUS, dtype=first.col_kind.dtype)
    # A commitment made now must be possible in every future (a GPU whose availability may
    # slip cannot be ordered before its latest date): the bounds' intersection.
    lower[:shared] = np.max([li.col_lower[st] for li, st in zip(linears, stages, strict=True)], 0)
    upper[:shared] = np.min([li.col_upper[st] for li, st in zip(linears, stages, strict=True)], 0)
    kind[:shared] = first.col_kind[stages[0]]
    blocks, row_lower, row_upper = [], [], []
    for s, (linear, local) in enumerate(zip(linears, maps, strict=True)):
        np.add.at(cost, local, p[s] * linear.cost)
        own = local >= shared
        lower[local[own]] = linear.col_lower[own]
        upper[local[own]] = linear.col_upper[own]
        kind[local[own]] = linear.col_kind[own]
        coo = linear.matrix.tocoo()
        blocks.append((coo.row, local[coo.col], coo.data))
        row_lower.append(linear.row_lower)
        row_upper.append(linear.row_upper)
    row_offsets = np.cumsum([0, *(len(r) for r in row_lower)])
    rows = [b[0] + row_offsets[s] for s, b in enumerate(blocks)]
    cols = [b[1] for b in blocks]
    data = [b[2] for b in blocks]
    n_rows = int(row_offsets[-1])
    eta, excess = -1, np.zeros(0, dtype=np.int64)
    if risk is not None and risk.weight > 0:
        # Columns eta (free) and u_s >= 0; rows u_s - cost_s.x_s + eta >= 0.
        eta, excess = offset, offset + 1 + np.arange(n)
        cost = np.concatenate([cost, [risk.weight], risk.weight * p / (1.0 - risk.alpha)])
        lower = np.concatenate([lower, [-np.inf], np.zeros(n)])
        upper = np.concatenate([upper, [np.inf], np.full(n, np.inf)])
        kind = np.concatenate([kind, np.full(n + 1, CONTINUOUS, dtype=kind.dtype)])
        for s, (linear, local) in enumerate(zip(linears, maps, strict=True)):
            nz = np.flatnonzero(linear.cost)
            row = n_rows + s
            rows.append(np.full(len(nz) + 2, row))
            cols.append(np.concatenate([local[nz], [eta, excess[s]]]))
            data.append(np.concatenate([-linear.cost[nz], [1.0, 1.0]]))
        row_lower.append(np.zeros(n))
        row_upper.append(np.full(n, np.inf))
        n_rows += n
    matrix = sp.csc_matrix(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, len(cost)),
    )
    linear = LinearModel(
        cost=cost,
        col_lower=lower,
        col_upper=upper,
        col_kind=kind,
        matrix=matrix,
        row_lower=np.concatenate(row_lower),
        row_upper=np.concatenate(row_upper),
        columns={"first_stage": Block("first_stage", 0, shared, {"index": np.arange(shared)})},
        rows={},
    )
    return ExtensiveForm(linear, maps, np.arange(shared), eta, excess)
