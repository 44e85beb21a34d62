"""gpuplan: plan GPU procurement for AI labs from first principles.

The public Python API is re-exported here lazily, so ``import gpuplan`` is cheap and the CLI
starts fast. Units: see :mod:`gpuplan.units`.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API: dict[str, str] = {
    "plan": "gpuplan.planning.api",
    "load_scenario": "gpuplan.scenario.loading",
    "scenario_schema": "gpuplan.planning.api",
    "get_gpu": "gpuplan.catalog.gpus",
    "list_gpus": "gpuplan.catalog.gpus",
    "get_model": "gpuplan.catalog.models",
    "list_models": "gpuplan.catalog.models",
    "Architecture": "gpuplan.compute.architecture",
    "architecture_from_hf_config": "gpuplan.compute.hf_config",
    "estimate_inference": "gpuplan.compute.inference",
    "estimate_fleet": "gpuplan.compute.fleet",
    "search_deployments": "gpuplan.compute.deployment_search",
    "estimate_training": "gpuplan.compute.training",
    "estimate_training_batch": "gpuplan.compute.training",
    "implied_training": "gpuplan.compute.training",
    "TrainingEstimate": "gpuplan.compute.training",
    "load_offers": "gpuplan.catalog.offers",
    "query_offers": "gpuplan.catalog.offers",
    "load_offer_history": "gpuplan.catalog.offers",
    "prices_as_of": "gpuplan.catalog.offers",
    "price_trend": "gpuplan.catalog.trends",
    "refresh_offers": "gpuplan.catalog.refresh",
    "audit_offers": "gpuplan.catalog.audit",
    "import_skypilot_csv": "gpuplan.catalog.skypilot",
    "ownership_cost": "gpuplan.economics.ownership",
    "rent_vs_own": "gpuplan.economics.rent_vs_own",
    "CompanySpec": "gpuplan.economics.company",
    "cash_flow": "gpuplan.economics.cashflow",
    "simulate": "gpuplan.uncertainty.montecarlo",
    "compare_presets": "gpuplan.economics.compare",
    "check_report": "gpuplan.report.check_report",
    "check_paths": "gpuplan.report.paths",
    "load_company": "gpuplan.scenario.loading",
    "resolve_scenario_path": "gpuplan.scenario.presets",
    "list_presets": "gpuplan.scenario.presets",
}


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'gpuplan' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


__all__ = sorted(_API)
