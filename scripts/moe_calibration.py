"""The MoE part of the utilisation fit: shapes and layouts of the calibration's MoE runs
(``data/moe_runs.csv``), their computed costs (:mod:`gpuplan.compute.moe_step`) and the
two-stage fit that sets the expert-GEMM efficiency on the MoE runs alone.

Each MoE run's routed experts, top-k, expert FFN width, MoE layers and exposed all-to-all
share, each with its source; the expert-parallel degree where a source states it comes from
``data/parallel_layouts.csv`` (blank: the estimator's default). Used by
``fit_utilisation.py`` and ``benchmarks/heldout_validation.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from calibration_rows import parallel_layouts_table
from gpuplan.catalog.gpus import get_gpu
from gpuplan.compute.model_parallel import scaleup_bandwidth
from gpuplan.compute.moe_step import MoEShape, moe_layout, moe_shape, moe_step_costs
from gpuplan.compute.step_communication import network_bandwidth
from gpuplan.compute.utilisation import UtilisationCoefficients, UtilisationInputs
from gpuplan.compute.utilisation_fitting import fit_coefficients

if TYPE_CHECKING:
    from calibration_rows import CalibrationRow

MOE_RUNS = Path(__file__).resolve().parent / "data" / "moe_runs.csv"


@cache
def moe_runs() -> pd.DataFrame:
    """The table, indexed by calibration key."""
    return pd.read_csv(MOE_RUNS).set_index("key")


def _column(rows: Sequence[CalibrationRow], name: str, dense: float) -> np.ndarray:
    table = moe_runs()
    missing = [r.label for r in rows if r.is_moe and r.label not in table.index]
    if missing:
        raise KeyError(f"MoE runs without a row in {MOE_RUNS.name}: {', '.join(missing)}")
    return np.array(
        [float(table.at[r.label, name]) if r.is_moe else dense for r in rows], dtype=float
    )


def rows_moe_shape(rows: Sequence[CalibrationRow]) -> MoEShape:
    """MoE shape per row (dense rows: 0 experts)."""
    return moe_shape(
        experts=_column(rows, "experts", 0.0),
        experts_per_token=_column(rows, "experts_per_token", 0.0),
        expert_width=_column(rows, "expert_width", 1.0),
        moe_layers=_column(rows, "moe_layers", 0.0),
        gated=[not r.is_moe or bool(moe_runs().at[r.label, "gated"]) for r in rows],
    )


@cache
def stated_expert_parallel() -> dict[str, float]:
    """Expert-parallel degree by run where the source states one (``parallel_layouts.csv``)."""
    return {
        str(item.run): float(item.expert_parallel)
        for item in parallel_layouts_table().itertuples()
        if pd.notna(item.expert_parallel)
    }


def rows_expert_parallel(rows: Sequence[CalibrationRow]) -> np.ndarray:
    """Stated expert-parallel degree per MoE row; NaN where the source states none."""
    stated = stated_expert_parallel()
    return np.array([stated.get(r.label, np.nan) if r.is_moe else np.nan for r in rows])


def rows_exposed_all_to_all(rows: Sequence[CalibrationRow]) -> np.ndarray:
    """Share of the all-to-all on the critical path per row (1 where not stated)."""
    return _column(rows, "exposed_all_to_all", 1.0)


def with_moe_costs(rows: list[CalibrationRow], x: UtilisationInputs) -> UtilisationInputs:
    """``x`` with the MoE rows' computed costs M_g and M_o (micro-batches of one sequence
    unless the source states more)."""
    gpus = [get_gpu(r.gpu) for r in rows]
    shape = rows_moe_shape(rows)
    domain = np.array([g.scaleup_domain for g in gpus], dtype=float)
    gemm, other = moe_step_costs(
        shape,
        moe_layout(
            expert_parallel=rows_expert_parallel(rows),
            micro_batch_sequences=[r.micro_batch_sequences for r in rows],
            seq_len=[r.seq_len for r in rows],
            exposed_all_to_all=rows_exposed_all_to_all(rows),
            experts=shape.experts,
            scaleup_domain=domain,
            gpus=x.gpus,
        ),
        x.hidden_size,
        flops_per_token=[r.flops_per_token for r in rows],
        peak_flops=[r.peak_flops for r in rows],
        memory_bandwidth=[r.memory_bandwidth for r in rows],
        scaleup_domain=domain,
        scaleup_bandwidth=[scaleup_bandwidth(g) for g in gpus],
        network_bandwidth=[network_bandwidth(g.generation) for g in gpus],
    )
    return x._replace(moe_expert_gemm=gemm, moe_other=other)


MOE_COEFFICIENTS = frozenset({"moe", "moe_step", "expert_gemm_efficiency"})


def fit_in_two_stages(
    rows: list[CalibrationRow],
    x: UtilisationInputs,
    weights: np.ndarray,
    without: frozenset[str],
    *,
    fixed: dict[str, float],
    loss: str,
    f_scale: float,
) -> tuple[UtilisationCoefficients, dict[str, float]]:
    """The dense terms and goodputs on every row with the MoE runs' level absorbed by a
    fitted constant (round four's model), then the MoE terms (η_e, and the constant where it
    is not held) on the MoE runs alone with those held: the seven MoE runs set what a MoE
    costs and cannot move the dense terms through a misfit of a MoE shape (round five)."""
    moe = np.array([r.is_moe for r in rows])
    observed = np.array([r.observed_mfu for r in rows])
    scopes = np.array([r.scope for r in rows])
    first = without if "moe_step" in without else (without - {"moe"}) | {"moe_step"}
    dense, goodput = fit_coefficients(
        x, observed, scopes, weights=weights, without=first, fixed=fixed, loss=loss, f_scale=f_scale
    )
    if "moe_step" in without or not moe.any():
        return dense, goodput
    held = {n: v for n, v in dense.model_dump().items() if n not in MOE_COEFFICIENTS}
    coefficients, _ = fit_coefficients(
        UtilisationInputs._make(np.broadcast_to(v, moe.shape)[moe] for v in x),
        observed[moe],
        scopes[moe],
        weights=weights[moe],
        without=without,
        fixed=fixed | held,
        loss=loss,
        f_scale=f_scale,
        goodput=goodput,
    )
    return coefficients, goodput
