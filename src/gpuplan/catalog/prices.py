"""Default price of a GPU-hour when the user gives none: the cheapest current list offer.

"Current" means dated within a year of the newest offer in the catalog; estimates
(``is_estimate``) and commitments are excluded, so the default is a price anyone can pay today
at list, traceable to one offer row with its source and date. GPUs without such an offer have
no default price.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from gpuplan.catalog.gpus import GPU
from gpuplan.catalog.offers import Offer, load_offers
from gpuplan.errors import InputError

CURRENT_WINDOW = timedelta(days=365)
"""Offers older than this before the catalog's newest row are not used as defaults."""


@cache
def reference_prices() -> dict[str, Offer]:
    """The default on-demand offer per canonical GPU id (computed once)."""
    offers = [o for o in load_offers() if o.pricing_model == "on_demand" and not o.is_estimate]
    if not offers:
        return {}
    newest = max(o.as_of for o in offers)
    current = sorted(
        (o for o in offers if o.as_of >= newest - CURRENT_WINDOW),
        key=lambda o: (o.usd_per_gpu_hour, o.provider, o.region),
    )
    chosen: dict[str, Offer] = {}
    for offer in current:
        chosen.setdefault(offer.gpu, offer)
    return chosen


def reference_price(gpu_id: str) -> Offer | None:
    """The default offer of a GPU id, or None when no current on-demand offer exists."""
    return reference_prices().get(gpu_id)


def describe_offer(offer: Offer) -> str:
    """One line of provenance: provider, region, pricing model, date and source."""
    return f"{offer.provider} {offer.region} {offer.pricing_model} {offer.as_of}: {offer.source}"


def resolve_price(gpu: GPU, price_per_gpu_hour: float | None) -> tuple[float | None, str | None]:
    """The user's price, else the cheapest current on-demand offer (with its source), else None."""
    if price_per_gpu_hour is not None:
        if not price_per_gpu_hour > 0:
            raise InputError("price_per_gpu_hour", f"must be > 0 (got {price_per_gpu_hour}).")
        return price_per_gpu_hour, "user"
    row = reference_price(gpu.id)
    if row is None:
        return None, None
    return row.usd_per_gpu_hour, describe_offer(row)
