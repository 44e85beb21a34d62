"""A small scenario with every part a report shows: on-demand and reserved offers, an owned
site, an EU inference workload, a training run and a company whose compute comes from the
plan. Solves in about a second."""

from __future__ import annotations

from typing import Any


def report_scenario() -> dict[str, Any]:
    """100 H100s of EU inference for 8 quarters plus one training run; a company with an
    uncertain price and opening cash."""
    on_demand = {
        "provider": "Nebius", "jurisdiction": "EU", "region": "eu-north1", "country": "FI",
        "region_group": "EU", "gpu": "h100-sxm", "pricing_model": "on_demand",
        "price_per_gpu_hour": 2.0, "source": "test offer",
    }  # fmt: skip
    return {
        "name": "report-test",
        "description": "A two-year test lab: EU chat on H100s and one small training run.",
        "assumptions": ["Test volumes, not a real lab."],
        "sources": ["tests/report_scenario.py"],
        "horizon": {"start": "2026-Q1", "periods": 8, "period": "quarter", "discount_rate": 0.1},
        "training": [
            {
                "id": "small-run",
                "model": "mixtral-8x7b",
                "tokens": 1.0e12,
                "gpus": ["h100-sxm"],
                "earliest_start": "2026-Q2",
                "deadline": "2026-12",
                "min_cluster_gpus": 64,
            }
        ],
        "inference": [
            {
                "id": "chat-eu",
                "model": "mixtral-8x7b",
                "tokens_per_day": 10e9,
                "growth": {"annual_growth": 0.5},
                "max_tpot_ms": 50,
                "gpus": ["h100-sxm"],
                "residency": "EU",
            }
        ],
        "supply": {
            "builtin_offers": False,
            "offers": [
                on_demand,
                {**on_demand, "pricing_model": "reserved_1y", "price_per_gpu_hour": 1.5},
            ],
            "ownership": [{"site": "paris-1", "country": "FR", "gpu": "h100-sxm"}],
        },
        "company": {
            "name": "Report Test Lab",
            "start": "2026-01",
            "horizon_months": 24,
            "opening_cash": {"low": 20e6, "high": 45e6, "shape": "uniform"},
            "operating": {"rd_operations_per_year": 20e6},
            "compute": {"plan": {"inference_share": 1.0}},
        },
    }
