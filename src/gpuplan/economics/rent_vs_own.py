"""Rent versus own: break-even utilisation, cloud markup over ownership, payback period.

With owning costing F USD per GPU-year whatever the utilisation u (capital, power at average
load, facility, staff), and a pay-per-use rental at p USD per GPU-hour costing p x 8760 x u:

- break-even utilisation u* = F / (8760 p): above it owning is cheaper (u* > 1: never);
- a committed rental (reserved, contract) is paid for every hour, like owning, so its cost
  per useful hour is p / u and owning wins at every utilisation iff F / 8760 < p;
- markup = rental cost per useful hour / owned cost per useful hour at the same u;
- payback = capex / (annual rent avoided - annual opex of owning), years.

A break-even above 100% reads "renting is cheaper at any utilisation" (:func:`verdict`).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gpuplan.catalog.offers import PRICING_MODELS, Offer, load_offers, price_date, query_offers
from gpuplan.catalog.places import normalise_country
from gpuplan.catalog.prices import prefer_fresh
from gpuplan.economics.ownership import OwnershipCost, ownership_cost
from gpuplan.errors import InfeasibleError
from gpuplan.units import HOURS_PER_YEAR

REPORT_CLOUD_PRICE_RANGE = (2.0, 4.5)
REPORT_OWNED_COST = 1.0
REPORT_MARKUP_RANGE = (2.5, 3.0)
"""Report section 10.2: 'Cloud providers charge $2-4.50/hour per GPU vs. ~$1/hour ownership
cost' and '2.5-3x markup' (reference/000_e04bef2f24ad65d4.txt, lines 769 and 901)."""


def break_even_utilisation(annual_owned_cost: float, rent_per_gpu_hour: float) -> float:
    """u* = F / (8760 p): utilisation above which owning beats pay-per-use renting."""
    return annual_owned_cost / (HOURS_PER_YEAR * rent_per_gpu_hour)


def payback_years(capex: float, annual_rent: float, annual_opex: float) -> float | None:
    """Years for the rent avoided, net of owning's opex, to repay the capex; None if never."""
    saving = annual_rent - annual_opex
    return capex / saving if saving > 0 else None


MARKUP_BASIS = (
    "markup = rental cost per useful GPU-hour / ownership cost per useful GPU-hour at the "
    "same utilisation; rental cost per useful hour is the price for pay-per-use offers and "
    "price / utilisation for commitments (every hour is paid)"
)
RENT_ALWAYS = "renting is cheaper at any utilisation"
OWN_ALWAYS = "owning is cheaper at any utilisation"


class RentalAlternative(BaseModel):
    """One rental price of a pricing model (cheapest, median or a named provider's offer),
    compared with owning."""

    model_config = ConfigDict(frozen=True)

    basis: Literal["cheapest", "median", "provider"]
    pricing_model: str
    n_offers: int
    provider: str
    provider_hq_jurisdiction: str | None
    instance_type: str | None
    gpus_per_instance: int | None
    region: str | None
    country: str | None
    region_group: str | None
    price_per_gpu_hour: float
    commitment_months: int
    pay_per_use: bool
    same_region_group: bool
    as_of: str
    age_note: str | None
    is_estimate: bool
    source: str
    annual_rent_per_gpu_usd: float
    rent_per_useful_gpu_hour: float
    markup_over_owning: float
    break_even_utilisation: float | None
    owning_cheaper: bool
    verdict: str
    payback_years: float | None


class MarkupClaimCheck(BaseModel):
    """The report's '~$1/hour owned, $2-4.50 cloud, 2.5-3x markup' against recomputed figures."""

    model_config = ConfigDict(frozen=True)

    claimed_owned_cost_per_hour: float
    claimed_cloud_price_range: tuple[float, float]
    claimed_markup_range: tuple[float, float]
    implied_markup_range: tuple[float, float]
    recomputed_owned_cost_per_hour: float
    recomputed_markup_on_claimed_prices: tuple[float, float]
    owned_cost_ratio_to_claim: float


class RentVsOwn(BaseModel):
    """Ownership cost, the spread of matching rentals per pricing model, the report check."""

    model_config = ConfigDict(frozen=True)

    ownership: OwnershipCost
    region_group: str | None
    prefers_region_group: bool
    filters: dict[str, str]
    notes: list[str]
    prices_as_of: str
    markup_basis: str
    alternatives: list[RentalAlternative]
    claim_check: MarkupClaimCheck


def verdict(pay_per_use: bool, break_even: float | None, owning_cheaper: bool) -> str:
    """The rent-or-own answer in words: a break-even above 100% means renting always wins."""
    if pay_per_use and break_even is not None:
        if break_even > 1:
            return RENT_ALWAYS
        return f"owning is cheaper above {break_even:.0%} utilisation"
    return OWN_ALWAYS if owning_cheaper else RENT_ALWAYS


def compare_price(
    ownership: OwnershipCost, price: float, pay_per_use: bool
) -> dict[str, float | bool | str | None]:
    """Rent per useful hour, markup, break-even, payback and verdict of one price vs owning."""
    utilisation = ownership.utilisation
    annual_rent = price * HOURS_PER_YEAR * (utilisation if pay_per_use else 1.0)
    rent_per_useful = annual_rent / (HOURS_PER_YEAR * utilisation)
    annual_owned = ownership.annual_cost_per_gpu_usd
    break_even = break_even_utilisation(annual_owned, price) if pay_per_use else None
    owning_cheaper = annual_owned < annual_rent
    return {
        "price_per_gpu_hour": price,
        "annual_rent_per_gpu_usd": annual_rent,
        "rent_per_useful_gpu_hour": rent_per_useful,
        "markup_over_owning": rent_per_useful / ownership.cost_per_gpu_hour,
        "break_even_utilisation": break_even,
        "owning_cheaper": owning_cheaper,
        "verdict": verdict(pay_per_use, break_even, owning_cheaper),
        "payback_years": payback_years(
            ownership.capex_per_gpu_usd, annual_rent, ownership.annual_opex_per_gpu_usd
        ),
    }


def compare_offer(
    ownership: OwnershipCost,
    offer: Offer,
    region_group: str | None,
    *,
    basis: Literal["cheapest", "median", "provider"] = "cheapest",
    n_offers: int = 1,
    on: date | None = None,
) -> RentalAlternative:
    """One rental offer against owning at the ownership result's utilisation."""
    return RentalAlternative(
        basis=basis,
        pricing_model=offer.pricing_model,
        n_offers=n_offers,
        provider=offer.provider,
        provider_hq_jurisdiction=offer.provider_hq_jurisdiction,
        instance_type=offer.instance_type,
        gpus_per_instance=offer.gpus_per_instance,
        region=offer.region,
        country=offer.country,
        region_group=offer.region_group,
        commitment_months=offer.commitment_months,
        pay_per_use=offer.pay_per_use,
        same_region_group=region_group is not None and offer.region_group == region_group,
        as_of=offer.as_of.isoformat(),
        age_note=offer.staleness(price_date(on)),
        is_estimate=offer.is_estimate,
        source=offer.source,
        **compare_price(ownership, offer.usd_per_gpu_hour, offer.pay_per_use),
    )


def compare_median(
    ownership: OwnershipCost, offers: Sequence[Offer], region_group: str | None
) -> RentalAlternative:
    """The median price of ``offers`` (one pricing model) against owning."""
    prices = [o.usd_per_gpu_hour for o in offers]
    pay_per_use = sum(o.pay_per_use for o in offers) * 2 >= len(offers)
    dates = sorted(o.as_of for o in offers)
    return RentalAlternative(
        basis="median",
        pricing_model=offers[0].pricing_model,
        n_offers=len(offers),
        provider=f"median of {len(offers)}",
        provider_hq_jurisdiction=None,
        instance_type=None,
        gpus_per_instance=None,
        region=None,
        country=None,
        region_group=region_group,
        commitment_months=int(statistics.median(o.commitment_months for o in offers)),
        pay_per_use=pay_per_use,
        same_region_group=all(o.region_group == region_group for o in offers),
        as_of=f"{dates[0]}..{dates[-1]}" if dates[0] != dates[-1] else str(dates[0]),
        age_note=None,
        is_estimate=any(o.is_estimate for o in offers),
        source="median of the matching current offers",
        **compare_price(ownership, statistics.median(prices), pay_per_use),
    )


def check_markup_claim(ownership: OwnershipCost) -> MarkupClaimCheck:
    """Recompute the report's markup claim with this ownership cost."""
    low, high = REPORT_CLOUD_PRICE_RANGE
    owned = ownership.cost_per_gpu_hour
    return MarkupClaimCheck(
        claimed_owned_cost_per_hour=REPORT_OWNED_COST,
        claimed_cloud_price_range=REPORT_CLOUD_PRICE_RANGE,
        claimed_markup_range=REPORT_MARKUP_RANGE,
        implied_markup_range=(low / REPORT_OWNED_COST, high / REPORT_OWNED_COST),
        recomputed_owned_cost_per_hour=owned,
        recomputed_markup_on_claimed_prices=(low / owned, high / owned),
        owned_cost_ratio_to_claim=owned / REPORT_OWNED_COST,
    )


def _region_group_of(country: str) -> str | None:
    from gpuplan.catalog.places import country_zone

    code = normalise_country(country)
    if code == "EU":
        return "EU"
    row = country_zone(code)
    return row.region_group if row is not None else None


def _provider_name(pool: Sequence[Offer], provider: str) -> str:
    """The catalog spelling of ``provider`` (an unknown one is an UnknownIdError)."""
    rows = query_offers(pool, provider=provider)
    return rows[0].provider if rows else provider


def rent_vs_own(
    gpu: str,
    country: str,
    utilisation: float = 0.8,
    years: float | None = None,
    *,
    offers: Sequence[Offer] | None = None,
    region_group: str | None = None,
    provider: str | None = None,
    jurisdiction: str | None = None,
    offer_country: str | None = None,
    pricing: str | None = None,
    as_of: date | None = None,
    ownership: OwnershipCost | None = None,
) -> RentVsOwn:
    """Owning ``gpu`` in ``country`` against the current rentals of each pricing model.

    Rentals are the current offers (``as_of``: known on that date) matching the filters of
    :func:`~gpuplan.catalog.offers.query_offers`; offers under a year old are preferred. Per
    pricing model the result lists the cheapest, the median (two or more offers) and, when
    ``provider`` is given, that provider's cheapest. Without a location filter (region group,
    jurisdiction, country), offers in the owning country's region group are preferred, together
    with GLOBAL offers (one price for all of a provider's locations, which may include the
    group), falling back to anywhere (``same_region_group = False``).
    """
    owned = ownership or ownership_cost(gpu, country, utilisation, years)
    day = price_date(as_of)
    pool = list(load_offers(as_of=as_of) if offers is None else offers)
    filters = {
        k: v
        for k, v in {
            "region_group": region_group,
            "provider": provider,
            "provider_jurisdiction": jurisdiction,
            "country": offer_country,
            "pricing": pricing,
        }.items()
        if v is not None
    }
    group = region_group.upper() if region_group else _region_group_of(country)
    matching = query_offers(
        pool,
        gpu=owned.gpu,
        region_group=region_group,
        jurisdiction=jurisdiction,
        country=offer_country,
        pricing=pricing,
    )
    provider_name = _provider_name(pool, provider) if provider is not None else None
    prefer_group = region_group is None and jurisdiction is None and offer_country is None
    alternatives: list[RentalAlternative] = []
    for model in PRICING_MODELS:
        candidates = [o for o in matching if o.pricing_model == model]
        if prefer_group:
            nearby = [o for o in candidates if o.region_group in (group, "GLOBAL")]
            candidates = nearby or candidates
        candidates = prefer_fresh(candidates, day)
        if not candidates:
            continue
        alternatives.append(
            compare_offer(owned, candidates[0], group, n_offers=len(candidates), on=day)
        )
        if len(candidates) > 1:
            alternatives.append(compare_median(owned, candidates, group))
        named = [o for o in candidates if o.provider == provider_name]
        if named:
            alternatives.append(
                compare_offer(owned, named[0], group, basis="provider", n_offers=len(named), on=day)
            )
    if not alternatives:
        shown = ", ".join(f"{k}={v}" for k, v in filters.items()) or "no filters"
        raise InfeasibleError(
            f"No current rental offer of {owned.gpu} matches {shown} (prices as of {day}). "
            f"List what exists with `gpuplan catalog offers --gpu {owned.gpu}` and loosen a "
            "filter."
        )
    notes = (
        [f"{provider_name} has no current {owned.gpu} offer matching the other filters."]
        if provider_name and not any(a.basis == "provider" for a in alternatives)
        else []
    )
    return RentVsOwn(
        ownership=owned,
        region_group=group,
        prefers_region_group=prefer_group,
        filters=filters,
        notes=notes,
        prices_as_of=day.isoformat(),
        markup_basis=MARKUP_BASIS,
        alternatives=alternatives,
        claim_check=check_markup_claim(owned),
    )
