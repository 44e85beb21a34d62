"""Sweeps: many plan or simulate jobs (grids, sampled futures) on a local pool or on Ray."""

from gpuplan.sweep.engines import run_jobs
from gpuplan.sweep.jobs import (
    SweepJob,
    base_mapping,
    grid_jobs,
    parse_grid,
    sampled_jobs,
    sweep_jobs,
)
from gpuplan.sweep.results import results_table, summary, write_table

__all__ = [
    "SweepJob",
    "base_mapping",
    "grid_jobs",
    "parse_grid",
    "results_table",
    "run_jobs",
    "sampled_jobs",
    "summary",
    "sweep_jobs",
    "write_table",
]
