"""MoE shapes and layouts of the calibration runs, from ``data/moe_runs.csv``.

Each MoE run's routed experts, top-k, expert FFN width, MoE layers, expert-parallel degree
(blank: the estimator's default) and exposed all-to-all share, each with its source. Used by
``fit_utilisation.py`` for :mod:`gpuplan.compute.moe_step`'s costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from gpuplan.compute.moe_step import MoEShape, moe_shape

MOE_RUNS = Path(__file__).resolve().parent / "data" / "moe_runs.csv"


class Labelled(Protocol):
    label: str
    is_moe: bool


@cache
def moe_runs() -> pd.DataFrame:
    """The table, indexed by calibration key."""
    return pd.read_csv(MOE_RUNS).set_index("key")


def _column(rows: Sequence[Labelled], name: str, dense: float) -> np.ndarray:
    table = moe_runs()
    missing = [r.label for r in rows if r.is_moe and r.label not in table.index]
    if missing:
        raise KeyError(f"MoE runs without a row in {MOE_RUNS.name}: {', '.join(missing)}")
    return np.array(
        [float(table.at[r.label, name]) if r.is_moe else dense for r in rows], dtype=float
    )


def rows_moe_shape(rows: Sequence[Labelled]) -> MoEShape:
    """MoE shape per row (dense rows: 0 experts)."""
    return moe_shape(
        experts=_column(rows, "experts", 0.0),
        experts_per_token=_column(rows, "experts_per_token", 0.0),
        expert_width=_column(rows, "expert_width", 1.0),
        moe_layers=_column(rows, "moe_layers", 0.0),
        gated=[not r.is_moe or bool(moe_runs().at[r.label, "gated"]) for r in rows],
    )


def rows_expert_parallel(rows: Sequence[Labelled]) -> np.ndarray:
    """Stated expert-parallel degree per row; NaN where the source states none."""
    return _column(rows, "expert_parallel", np.nan)


def rows_exposed_all_to_all(rows: Sequence[Labelled]) -> np.ndarray:
    """Share of the all-to-all on the critical path per row (1 where not stated)."""
    return _column(rows, "exposed_all_to_all", 1.0)
