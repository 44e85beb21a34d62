"""The jobs of a sweep: a base scenario, the changes each job makes, and what each job runs.

A job is plain data (picklable, so a process pool or a Ray worker can take it): the resolved
scenario mapping, the dotted-path changes applied to it, and ``plan`` or ``simulate``. Jobs
come from a grid (every combination of the listed values) or from samples of the scenario's
declared ranges (each range fixed to one seeded draw per job).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gpuplan.errors import InputError

What = Literal["plan", "simulate"]

MAX_JOBS = 100_000
"""The most jobs one sweep may hold: each job keeps a copy of the scenario in memory."""


@dataclass(frozen=True)
class SweepJob:
    """One run of a sweep: ``what`` on ``scenario`` with ``changes`` applied.

    ``changes`` maps dotted scenario paths (``inference.chat-eu.peak_factor``, list items by
    ``id`` or index) to the value this job uses; ``scenario`` is the base with ``extends`` and
    the named overrides already merged.
    """

    job_id: int
    what: What
    scenario: Mapping[str, Any]
    changes: Mapping[str, Any] = field(default_factory=dict)
    samples: int = 1000
    seed: int = 0


def base_mapping(
    scenario: str | Path | Mapping[str, Any], overrides: Sequence[str] = ()
) -> dict[str, Any]:
    """The scenario as one mapping: file or preset read, ``extends`` merged, overrides applied."""
    from gpuplan.scenario.loading import scenario_mapping

    data, _ = scenario_mapping(scenario, overrides)
    return data


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["inference.chat-eu.peak_factor=1.5,2", "discount_rate=0.08,0.1"]`` -> path: values.

    Values are read as YAML scalars (``2`` a number, ``true`` a boolean, ``15T`` stays text for
    the schema to read).
    """
    import yaml

    grid: dict[str, list[Any]] = {}
    for item in items:
        path, sep, values = item.partition("=")
        path = path.strip()
        if not sep or not path or not values.strip():
            raise InputError(
                "grid", f"'{item}' is not PATH=V1,V2,...; write e.g. discount_rate=0.08,0.1."
            )
        if path in grid:
            raise InputError("grid", f"'{path}' is given twice; list all its values once.")
        grid[path] = [yaml.safe_load(v.strip()) for v in values.split(",") if v.strip()]
    return grid


def grid_jobs(
    base: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]],
    what: What = "plan",
    samples: int = 1000,
    seed: int = 0,
) -> list[SweepJob]:
    """One job per combination of the grid's values (the first path varies slowest)."""
    if not grid:
        raise InputError("grid", "give at least one PATH=V1,V2 to sweep over.")
    size = 1
    for values in grid.values():
        size *= len(values)
    _check_size(size)
    paths = list(grid)
    return [
        SweepJob(n, what, base, dict(zip(paths, combo, strict=True)), samples, seed)
        for n, combo in enumerate(itertools.product(*grid.values()))
    ]


def sampled_jobs(
    base: Mapping[str, Any], count: int, what: What = "plan", samples: int = 1000, seed: int = 0
) -> list[SweepJob]:
    """``count`` jobs, each a future of the scenario (every declared range outside
    ``company`` fixed to one seeded draw: :func:`gpuplan.uncertainty.futures.sample_futures`)."""
    from gpuplan.uncertainty.futures import sample_futures

    _check_size(count)
    return [
        SweepJob(n, what, base, future, samples, seed)
        for n, future in enumerate(sample_futures(base, count, seed))
    ]


def sweep_jobs(
    scenario: str | Path | Mapping[str, Any],
    overrides: Sequence[str] = (),
    *,
    grid: Sequence[str] = (),
    futures: int | None = None,
    what: What = "plan",
    samples: int = 1000,
    seed: int = 0,
) -> list[SweepJob]:
    """The jobs of a sweep as the CLI and the web app ask for one: ``futures`` sampled
    futures, or else every combination of the ``grid`` items (``PATH=V1,V2``), on the
    scenario with its overrides applied once."""
    base = base_mapping(scenario, overrides)
    if futures is not None:
        return sampled_jobs(base, futures, what, samples, seed)
    return grid_jobs(base, parse_grid(grid), what, samples, seed)


def _check_size(count: int) -> None:
    if not 1 <= count <= MAX_JOBS:
        raise InputError(
            "sweep", f"has {count:,} jobs; a sweep holds 1 to {MAX_JOBS:,} jobs. Split it."
        )
