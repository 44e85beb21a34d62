"""Rent versus own: break-even utilisation, cloud markup over ownership, payback period.

With owning costing F USD per GPU-year whatever the utilisation u (capital, power at average
load, facility, staff), and a pay-per-use rental at p USD per GPU-hour costing p x 8760 x u:

- break-even utilisation u* = F / (8760 p): above it owning is cheaper (u* > 1: never);
- a committed rental (reserved, contract) is paid for every hour, like owning, so its cost
  per useful hour is p / u and owning wins at every utilisation iff F / 8760 < p;
- markup = rental cost per useful hour / owned cost per useful hour at the same u;
- payback = capex / (annual rent avoided - annual opex of owning), years.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from gpuplan.catalog.offers import PRICING_MODELS, Offer, load_offers, query_offers
from gpuplan.catalog.places import normalise_country
from gpuplan.economics.ownership import OwnershipCost, ownership_cost
from gpuplan.units import HOURS_PER_YEAR

REPORT_CLOUD_PRICE_RANGE = (2.0, 4.5)
REPORT_OWNED_COST = 1.0
REPORT_MARKUP_RANGE = (2.5, 3.0)
"""Report section 10.2: 'Cloud providers charge $2-4.50/hour per GPU vs. ~$1/hour ownership
cost' and '2.5-3x markup' (reference/000_e04bef2f24ad65d4.txt, lines 769 and 901)."""


def break_even_utilisation(annual_owned_cost: float, rent_per_gpu_hour: float) -> float:
    """u* = F / (8760 p): utilisation above which owning beats pay-per-use renting."""
    return annual_owned_cost / (HOURS_PER_YEAR * rent_per_gpu_hour)


def break_even_words(break_even: float | None, owning_cheaper: bool) -> str:
    """The break-even utilisation in words: above 100 % owning never pays at that price."""
    if break_even is None:
        return "owning is cheaper" if owning_cheaper else "renting is cheaper"
    if break_even > 1:
        return f"owning never pays (it would need {break_even:.0%} utilisation)"
    return f"owning pays above {break_even:.0%} utilisation"


def payback_years(capex: float, annual_rent: float, annual_opex: float) -> float | None:
    """Years for the rent avoided, net of owning's opex, to repay the capex; None if never."""
    saving = annual_rent - annual_opex
    return capex / saving if saving > 0 else None


class RentalAlternative(BaseModel):
    """The cheapest offer of one pricing model, compared with owning."""

    model_config = ConfigDict(frozen=True)

    pricing_model: str
    provider: str
    provider_hq_jurisdiction: str
    region: str
    country: str | None
    region_group: str
    price_per_gpu_hour: float
    commitment_months: int
    pay_per_use: bool
    same_region_group: bool
    as_of: str
    is_estimate: bool
    source: str
    annual_rent_per_gpu_usd: float
    rent_per_useful_gpu_hour: float
    markup_over_owning: float
    break_even_utilisation: float | None
    break_even_note: str
    owning_cheaper: bool
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
    """Ownership cost, the cheapest rental per pricing model, and the report claim check."""

    model_config = ConfigDict(frozen=True)

    ownership: OwnershipCost
    region_group: str | None
    alternatives: list[RentalAlternative]
    claim_check: MarkupClaimCheck


def compare_offer(
    ownership: OwnershipCost, offer: Offer, region_group: str | None
) -> RentalAlternative:
    """One rental offer against owning at the ownership result's utilisation."""
    price = offer.usd_per_gpu_hour
    utilisation = ownership.utilisation
    hours_paid = HOURS_PER_YEAR * (utilisation if offer.pay_per_use else 1.0)
    annual_rent = price * hours_paid
    rent_per_useful = annual_rent / (HOURS_PER_YEAR * utilisation)
    annual_owned = ownership.annual_cost_per_gpu_usd
    break_even = break_even_utilisation(annual_owned, price) if offer.pay_per_use else None
    return RentalAlternative(
        pricing_model=offer.pricing_model,
        provider=offer.provider,
        provider_hq_jurisdiction=offer.provider_hq_jurisdiction,
        region=offer.region,
        country=offer.country,
        region_group=offer.region_group,
        price_per_gpu_hour=price,
        commitment_months=offer.commitment_months,
        pay_per_use=offer.pay_per_use,
        same_region_group=region_group is not None and offer.region_group == region_group,
        as_of=offer.as_of.isoformat(),
        is_estimate=offer.is_estimate,
        source=offer.source,
        annual_rent_per_gpu_usd=annual_rent,
        rent_per_useful_gpu_hour=rent_per_useful,
        markup_over_owning=rent_per_useful / ownership.cost_per_gpu_hour,
        break_even_utilisation=break_even,
        break_even_note=break_even_words(break_even, annual_owned < annual_rent),
        owning_cheaper=annual_owned < annual_rent,
        payback_years=payback_years(
            ownership.capex_per_gpu_usd, annual_rent, ownership.annual_opex_per_gpu_usd
        ),
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


def rent_vs_own(
    gpu: str,
    country: str,
    utilisation: float = 0.8,
    years: float | None = None,
    *,
    offers: Sequence[Offer] | None = None,
    region_group: str | None = None,
    ownership: OwnershipCost | None = None,
) -> RentVsOwn:
    """Owning ``gpu`` in ``country`` against the cheapest offer of each pricing model.

    Offers in the country's region group are preferred (``region_group`` overrides it); a
    pricing model with no offer there falls back to the cheapest anywhere, flagged
    ``same_region_group = False``.
    """
    owned = ownership or ownership_cost(gpu, country, utilisation, years)
    pool = list(load_offers() if offers is None else offers)
    group = region_group.upper() if region_group else _region_group_of(country)
    alternatives = []
    for model in PRICING_MODELS:
        candidates = query_offers(pool, gpu=owned.gpu, pricing=model)
        local = [o for o in candidates if o.region_group == group]
        chosen = (local or candidates)[:1]
        alternatives += [compare_offer(owned, offer, group) for offer in chosen]
    return RentVsOwn(
        ownership=owned,
        region_group=group,
        alternatives=alternatives,
        claim_check=check_markup_claim(owned),
    )
