"""Offer CSV rows for tests: one Scaleway H100 row to vary, and a writer in the catalog layout."""

from __future__ import annotations

import csv
from pathlib import Path

from gpuplan.catalog.offers import CSV_COLUMNS


def offer_row(**changes: str) -> dict[str, str]:
    """A valid offer row (Scaleway H100-SXM-8-80G, EUR 2.00 per GPU-hour) with ``changes``."""
    base = {
        "provider": "Scaleway",
        "provider_hq_jurisdiction": "EU",
        "instance_type": "H100-SXM-8-80G",
        "region": "fr-par",
        "city": "Paris",
        "country": "FR",
        "region_group": "EU",
        "gpu": "h100-sxm",
        "gpus_per_instance": "8",
        "pricing_model": "on_demand",
        "term_months": "",
        "price_per_instance_hour": "",
        "price_per_gpu_hour": "2.00",
        "currency": "EUR",
        "as_of": "2026-11-01",
        "availability_gpus": "",
        "is_estimate": "false",
        "source": "negotiated quote #42",
        "derivation": "",
        "notes": "",
    }
    return base | changes


def write_offer_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    """Write ``rows`` as an offer CSV (creating the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(CSV_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return path
