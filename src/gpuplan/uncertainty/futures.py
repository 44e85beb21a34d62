"""Futures of a scenario: its declared ranges fixed to seeded draws, as path changes.

A future is a mapping of field paths to values (``{"inference[0].tokens_per_day": 1.2e10}``)
that turns every declared range outside ``company`` into one number; :func:`apply_changes`
lays it over the scenario mapping. Draws are independent, each by its range's own quantile
function (:mod:`gpuplan.uncertainty.sampling`), and repeat with the seed. The ``company``
section keeps its ranges: ``simulate`` samples those itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from gpuplan.errors import InputError

Future = dict[str, float]

_INDEX = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<index>\d+)\])?$")


def sample_futures(base: Mapping[str, Any], count: int, seed: int) -> list[Future]:
    """``count`` futures of the scenario mapping ``base`` (its ranges outside ``company``)."""
    from gpuplan.scenario.loading import load_scenario
    from gpuplan.uncertainty.sampling import draw_uniforms, quantiles, uncertain_inputs

    inputs = {
        path: dist
        for path, dist in uncertain_inputs(load_scenario(base)).items()
        if not path.startswith("company.")
    }
    if not inputs:
        raise InputError(
            "futures",
            "the scenario declares no ranges outside 'company' to sample; give a range such "
            "as tokens_per_day: {low: 10e9, high: 30e9}.",
        )
    draws = quantiles(inputs, draw_uniforms(count, np.eye(len(inputs)), seed))
    return [{path: float(values[n]) for path, values in draws.items()} for n in range(count)]


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
