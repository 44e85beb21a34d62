"""Default price of a GPU-hour when the user gives none: the cheapest current list offer.

"Current" is the freshness rule of :func:`gpuplan.catalog.offers.load_offers`: the latest row
per offer, on today's date or a past one (:func:`~gpuplan.catalog.offers.prices_as_of`).
Estimates (``is_estimate``) and commitments are excluded, so the default is a price anyone can
pay at list, traceable to one offer row with its source and date. Offers younger than a year
are preferred; when a GPU has only older ones, the cheapest is used and its age is stated.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache

from gpuplan.catalog.gpus import GPU
from gpuplan.catalog.offers import Offer, load_offers, price_date
from gpuplan.errors import InputError


def prefer_fresh(offers: Sequence[Offer], on: date) -> list[Offer]:
    """The offers whose price is under a year old on ``on``, or all of them if none is."""
    fresh = [o for o in offers if o.staleness(on) is None]
    return fresh or list(offers)


@cache
def _reference_prices(on: date) -> dict[str, Offer]:
    offers = [
        o for o in load_offers(as_of=on) if o.pricing_model == "on_demand" and not o.is_estimate
    ]
    chosen: dict[str, Offer] = {}
    for gpu in {o.gpu for o in offers}:
        pool = prefer_fresh([o for o in offers if o.gpu == gpu], on)
        chosen[gpu] = min(pool, key=lambda o: (o.usd_per_gpu_hour, o.provider, o.region))
    return chosen


def reference_prices(as_of: date | None = None) -> dict[str, Offer]:
    """The default on-demand offer per canonical GPU id, on ``as_of`` (default: today)."""
    return _reference_prices(price_date(as_of))


def reference_price(gpu_id: str, as_of: date | None = None) -> Offer | None:
    """The default offer of a GPU id, or None when no on-demand offer exists."""
    return reference_prices(as_of).get(gpu_id)


def describe_offer(offer: Offer, on: date | None = None) -> str:
    """One line of provenance: provider, instance, region, pricing, date, age if old, source."""
    age = offer.staleness(price_date(on))
    return (
        f"{offer.provider} {offer.instance_type} ({offer.gpus_per_instance} GPUs) "
        f"{offer.region} {offer.pricing_model} {offer.as_of}"
        + (f" [price {age}]" if age else "")
        + f": {offer.source}"
    )


def resolve_price(
    gpu: GPU, price_per_gpu_hour: float | None, as_of: date | None = None
) -> tuple[float | None, str | None]:
    """The user's price, else the cheapest current on-demand offer (with its source), else None."""
    if price_per_gpu_hour is not None:
        if not price_per_gpu_hour > 0:
            raise InputError("price_per_gpu_hour", f"must be > 0 (got {price_per_gpu_hour}).")
        return price_per_gpu_hour, "user"
    row = reference_price(gpu.id, as_of)
    if row is None:
        return None, None
    return row.usd_per_gpu_hour, describe_offer(row, as_of)
