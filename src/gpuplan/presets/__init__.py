"""The preset scenario files (``*.yaml`` in this folder).

They are read by :mod:`gpuplan.scenario.presets` and :mod:`gpuplan.scenario.loading`; their
public names are re-exported here for callers that import them from ``gpuplan.presets``.
"""

from gpuplan.scenario.loading import load_company
from gpuplan.scenario.presets import (
    ARCHETYPES,
    company_from_mapping,
    deep_merge,
    list_presets,
    read_scenario,
    resolve_scenario_path,
)

__all__ = [
    "ARCHETYPES",
    "company_from_mapping",
    "deep_merge",
    "list_presets",
    "load_company",
    "read_scenario",
    "resolve_scenario_path",
]
