"""Supply options of a scenario: catalog offers (filtered, adjusted) and ownership sites.

Offers are priced per GPU-period (USD/GPU-hour x hours per period); among offers with the
same provider, region, GPU and terms only the cheapest is kept (they differ only by instance
shape); pay-per-use capacity blocks no longer than a period count as on-demand. Ownership
figures a site does not set come from :func:`gpuplan.economics.ownership.ownership_cost`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from gpuplan.errors import InputError, UnknownIdError
from gpuplan.planning.inputs_common import field_errors, gpu_id, slug
from gpuplan.planning.periods import PeriodGrid
from gpuplan.planning.problem import SupplyOption
from gpuplan.planning.scenario import CustomOffer, OwnershipSite, Scenario
from gpuplan.uncertainty.distributions import nominal

EEA_COUNTRIES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO".split()  # noqa: SIM905
)
"""EU member states plus Iceland, Liechtenstein and Norway: the GDPR's territory (EEA
Agreement, Annex XI), which the offer catalog's ``EU`` region group also covers."""


def _mode_and_term(pricing_model: str, months: int, grid: PeriodGrid) -> tuple[str, int]:
    if pricing_model in ("on_demand", "spot"):
        return pricing_model, 1
    if pricing_model == "capacity_block" and months <= grid.months:
        return "on_demand", 1
    return "reserved", grid.periods_for_months(months)


def _option(
    grid: PeriodGrid, *, provider: str, jurisdiction: str, region: str, country: str,
    region_group: str, gpu: str, pricing_model: str, months: int, price: float,
    availability: float | None, available_from: Any, source: str,
) -> SupplyOption:  # fmt: skip
    mode, term = _mode_and_term(pricing_model, months, grid)
    suffix = f"{term}" if mode == "reserved" else ""
    first = 0 if available_from is None else max(0, grid.index_of(available_from))
    return SupplyOption(
        id=f"{slug(provider)}:{region}:{gpu}:{mode}{suffix}",
        provider=provider,
        region=region,
        country=country,
        jurisdiction=jurisdiction,
        region_group=region_group,
        gpu=gpu,
        mode=mode,
        cost_per_gpu_period=price * grid.hours,
        term_periods=term,
        availability_gpus=availability,
        first_period=first,
        source=source,
    )


def offer_options(scenario: Scenario, grid: PeriodGrid, gpus: set[str]) -> list[SupplyOption]:
    """Catalog and scenario offers as supply options, after filters and adjustments."""
    from gpuplan.catalog.offers import load_offers, read_offer_csv
    from gpuplan.catalog.places import get_provider, normalise_country

    supply, rules = scenario.supply, scenario.rules

    def provider_name(path: str, name: str) -> str:
        return field_errors(path, lambda: get_provider(name).provider)

    keep = {provider_name("supply.providers", p) for p in supply.providers or []}
    excluded = {provider_name("rules.excluded_providers", p) for p in rules.excluded_providers}
    if supply.builtin_offers:
        offers = field_errors("supply.offers_csv", lambda: load_offers(supply.offers_csv))
    elif supply.offers_csv:
        offers = field_errors(
            "supply.offers_csv", lambda: read_offer_csv(Path(supply.offers_csv or ""))
        )
    else:
        offers = []
    known_regions = {o.region for o in offers} | {o.region for o in supply.offers}
    for region in rules.excluded_regions:
        if region not in known_regions:
            raise InputError(
                "rules.excluded_regions", str(UnknownIdError("region", region, known_regions))
            )
    known_countries = (
        {o.country for o in offers if o.country}
        | {o.country for o in supply.offers}
        | {s.country for s in supply.ownership}
    )
    excluded_countries = {normalise_country(c) for c in rules.excluded_countries}
    for country in sorted(excluded_countries - known_countries):
        raise InputError(
            "rules.excluded_countries",
            str(UnknownIdError("country", country, known_countries))
            + " Only countries with offers or sites can be excluded.",
        )
    rows: list[dict[str, Any]] = []
    for offer in offers:
        rows.append(
            dict(
                provider=offer.provider, jurisdiction=offer.provider_hq_jurisdiction,
                region=offer.region, country=offer.country or "", region_group=offer.region_group,
                gpu=offer.gpu, pricing_model=offer.pricing_model, months=offer.commitment_months,
                price=offer.price_per_gpu_hour or 0.0, availability=offer.availability_gpus,
                available_from=None, source=f"{offer.source} (as of {offer.as_of})",
            )
        )  # fmt: skip
    for n, adjustment in enumerate(supply.adjustments):
        name = provider_name(f"supply.adjustments.{n}.provider", adjustment.provider)
        gpu = gpu_id(f"supply.adjustments.{n}.gpu", adjustment.gpu) if adjustment.gpu else None
        matched = 0
        for row in rows:
            if row["provider"] != name or (gpu and row["gpu"] != gpu):
                continue
            if adjustment.region and row["region"] != adjustment.region:
                continue
            if adjustment.pricing_model and row["pricing_model"] != adjustment.pricing_model:
                continue
            matched += 1
            if adjustment.price_per_gpu_hour is not None:
                row["price"] = nominal(adjustment.price_per_gpu_hour)
            if adjustment.discount is not None:
                row["price"] *= 1.0 - nominal(adjustment.discount)
            if adjustment.availability_gpus is not None:
                row["availability"] = adjustment.availability_gpus
            row["source"] += f"; adjusted: {adjustment.source}"
        if not matched:
            raise InputError(
                f"supply.adjustments.{n}",
                f"matches no offer of {name}"
                + (f" for {gpu}" if gpu else "")
                + "; check provider, region, gpu and pricing_model.",
            )
    for n, custom in enumerate(supply.offers):
        rows.append(_custom_row(custom, f"supply.offers.{n}"))
    options: dict[str, SupplyOption] = {}
    for index, row in enumerate(rows):
        if row["gpu"] not in gpus or row["provider"] in excluded:
            continue
        if keep and row["provider"] not in keep and index < len(offers):
            continue
        if supply.pricing_models and row["pricing_model"] not in supply.pricing_models:
            continue
        if supply.region_groups and row["region_group"] not in supply.region_groups:
            continue
        if row["region"] in rules.excluded_regions or row["country"] in excluded_countries:
            continue
        option = _option(grid, **row)
        best = options.get(option.id)
        if best is None or option.cost_per_gpu_period < best.cost_per_gpu_period:
            options[option.id] = option
    return list(options.values())


def _custom_row(custom: CustomOffer, where: str) -> dict[str, Any]:
    from gpuplan.catalog.offers import DEFAULT_TERM_MONTHS

    return dict(
        provider=custom.provider, jurisdiction=custom.jurisdiction.upper(), region=custom.region,
        country=custom.country.upper(), region_group=custom.region_group,
        gpu=gpu_id(f"{where}.gpu", custom.gpu), pricing_model=custom.pricing_model,
        months=custom.term_months or DEFAULT_TERM_MONTHS[custom.pricing_model],
        price=nominal(custom.price_per_gpu_hour), availability=custom.availability_gpus,
        available_from=custom.available_from, source=f"scenario: {custom.source}",
    )  # fmt: skip


MAX_LIFE_YEARS = 100.0
"""Longest service life of owned GPUs a plan takes (its periods are counted in memory)."""
MAX_LEAD_MONTHS = 1200.0
"""Longest order-to-service lead time a plan takes (100 years)."""


def ownership_options(scenario: Scenario, grid: PeriodGrid) -> list[SupplyOption]:
    """Ownership sites as supply options; unset figures from the ownership cost model."""
    options: list[SupplyOption] = []
    for n, site in enumerate(scenario.supply.ownership):
        where = f"supply.ownership.{n}"
        option = _owned_option(scenario, grid, site, where)
        same = next((m for m, o in enumerate(options) if o.id == option.id), None)
        if same is not None:
            raise InputError(
                where,
                f"site '{site.site}' with {option.gpu} is already supply.ownership.{same}; "
                "give each site one entry per GPU type (merge the two).",
            )
        options.append(option)
    return options


def _owned_option(
    scenario: Scenario, grid: PeriodGrid, site: OwnershipSite, where: str
) -> SupplyOption:
    gpu = gpu_id(f"{where}.gpu", site.gpu)
    country = site.country.upper()
    group = site.region_group or (
        "EU"
        if country in EEA_COUNTRIES
        else "US"
        if country == "US"
        else "UK"
        if country == "GB"
        else None
    )
    if group is None:
        raise InputError(
            f"{where}.region_group",
            f"cannot tell the zone of country {country}; set region_group (EU, US, APAC, ...).",
        )
    life = nominal(site.life_years) if site.life_years is not None else None
    lead_months = (
        scenario.rules.lead_time_months
        if scenario.rules.lead_time_months is not None
        else site.lead_time_months
    )
    given = {
        "capex_per_gpu_usd": site.capex_per_gpu_usd,
        "annual_opex_per_gpu_usd": site.opex_per_gpu_year_usd,
        "lead_time_months": lead_months,
        "residual_value_fraction": site.residual_fraction,
        "years": site.life_years,
    }
    figures = {k: nominal(v) for k, v in given.items() if v is not None}
    if len(figures) < len(given):
        from gpuplan.economics.ownership import ownership_cost

        def cost_model() -> Any:
            return ownership_cost(gpu, country, utilisation=nominal(site.utilisation), years=life)

        model = field_errors(where, cost_model)
        figures = {k: figures.get(k, float(getattr(model, k))) for k in given}
    life = figures["years"]
    lead = figures["lead_time_months"]
    lead_field = "rules" if scenario.rules.lead_time_months is not None else where
    for field, value, most, unit in (
        (f"{where}.life_years", life, MAX_LIFE_YEARS, "years"),
        (f"{lead_field}.lead_time_months", lead, MAX_LEAD_MONTHS, "months"),
    ):
        if value > most:
            raise InputError(field, f"must be at most {most:g} {unit} (got {value:g}).")
    first = 0 if site.available_from is None else max(0, grid.index_of(site.available_from))
    return SupplyOption(
        id=f"owned:{site.site}:{gpu}",
        provider="owned",
        region=site.site,
        country=country,
        jurisdiction=site.jurisdiction.upper(),
        region_group=group,
        gpu=gpu,
        mode="owned",
        cost_per_gpu_period=figures["annual_opex_per_gpu_usd"] * grid.months / 12,
        upfront_per_gpu=figures["capex_per_gpu_usd"],
        term_periods=max(1, round(life * 12 / grid.months)),
        lead_periods=math.ceil(lead / grid.months - 1e-9) if lead > 0 else 0,
        residual_fraction=min(1.0, max(0.0, figures["residual_value_fraction"])),
        availability_gpus=site.availability_gpus,
        first_period=first,
        source="scenario site; unset figures from gpuplan.economics.ownership",
    )
