"""Futures of a scenario: its declared ranges fixed to seeded draws, as path changes.

A future is a mapping of field paths to values (``{"inference[0].tokens_per_day": 1.2e10}``)
that turns every declared range outside ``company`` into one number (GPU availability slips,
lead times, prices and their trends, volumes and growth, training tokens), and picks where
in its estimator's band each estimated training run and inference workload falls;
:func:`apply_changes` lays it over the scenario mapping. Draws are independent, each by its
range's own quantile function (:mod:`gpuplan.uncertainty.sampling`), and repeat with the
seed. The ``company`` section keeps its ranges: ``simulate`` samples those itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from gpuplan.errors import InputError

Future = dict[str, Any]

_INDEX = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<index>\d+)\])?$")

SWANSON = (("p10", 0.3), ("p50", 0.4), ("p90", 0.3))
"""Three-point stand-in for an estimator's P10-P50-P90 band: Swanson's 30-40-30 rule
(Hurst, Brown & Swanson, *AAPG Bulletin* 84, 2000; Megill 1977)."""


def sample_futures(base: Mapping[str, Any], count: int, seed: int) -> list[Future]:
    """``count`` futures of the scenario mapping ``base``: its declared ranges outside
    ``company`` (mappings by name included), and for each training run and inference
    workload sized by an estimator (no ``gpu_hours`` or ``gpus_per_billion_tokens_per_day``),
    which point of the estimator's band it turns out to need (``estimate``: p10 / p50 / p90
    drawn 30/40/30, :data:`SWANSON`)."""
    from gpuplan.scenario.loading import load_scenario
    from gpuplan.uncertainty.sampling import draw_uniforms, quantiles, uncertain_inputs

    scenario = load_scenario(base)
    inputs = {
        path: dist
        for path, dist in uncertain_inputs(scenario, keyed=True).items()
        if not path.startswith("company.")
    }
    bands = [f"training[{i}].estimate" for i, run in enumerate(scenario.training or ()) if
             run.gpu_hours is None]  # fmt: skip
    bands += [
        f"inference[{i}].estimate"
        for i, workload in enumerate(scenario.inference or ())
        if workload.gpus_per_billion_tokens_per_day is None
    ]
    if not inputs and not bands:
        raise InputError(
            "futures",
            "the scenario declares no ranges outside 'company' to sample and no training run "
            "sized by the estimator; give a range such as tokens_per_day: {low: 10e9, high: "
            "30e9}.",
        )
    uniforms = draw_uniforms(count, np.eye(len(inputs) + len(bands)), seed)
    draws = quantiles(inputs, uniforms[:, : len(inputs)])
    edges = np.cumsum([weight for _, weight in SWANSON])[:-1]
    points = np.searchsorted(edges, uniforms[:, len(inputs) :], side="right")
    futures: list[Future] = []
    for n in range(count):
        future: Future = {path: float(values[n]) for path, values in draws.items()}
        future.update({path: SWANSON[points[n, j]][0] for j, path in enumerate(bands)})
        futures.append(future)
    return futures


def apply_changes(scenario: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``scenario`` with each path set to its value.

    Paths take field names or aliases, list items by ``id`` or index, dotted
    (``inference.chat-eu.peak_factor``) or in the field-path form of sampled inputs
    (``inference[0].tokens_per_day``).
    """
    from gpuplan.scenario.loading import apply_override

    data = dict(scenario)
    for path, value in changes.items():
        data = apply_override(data, {_dotted(path): value}, "future")
    return data


def _dotted(path: str) -> str:
    """``inference[0].tokens_per_day`` -> ``inference.0.tokens_per_day``."""
    parts = []
    for part in path.split("."):
        match = _INDEX.match(part)
        if match is None:
            raise InputError("path", f"'{path}' is not a scenario path.")
        parts.append(match["name"])
        if match["index"] is not None:
            parts.append(match["index"])
    return ".".join(parts)
