"""Supply options of a scenario: catalog offers (filtered, adjusted) and ownership sites.

Offers are priced per GPU-period (USD/GPU-hour x hours per period); among offers with the
same provider, region, GPU and terms only the cheapest is kept (they differ only by instance
shape); pay-per-use capacity blocks no longer than a period count as on-demand. Ownership
figures a site does not set come from :func:`gpuplan.economics.ownership.ownership_cost`.

A scenario's own offers become catalog rows (:class:`~gpuplan.catalog.offers.Offer`), checked
against the reference tables first: the provider's spelling and headquarters
(``providers.csv``), the data centre's zone (``country_zones.csv``) and, for a known region,
its country (``cloud_regions.csv``). A field that contradicts them is an error naming both
values, so a custom offer cannot pass a sovereignty rule the reference data says it breaks.
"""

from __future__ import annotations

import math
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from gpuplan.catalog.offers import Offer
from gpuplan.errors import InputError, UnknownIdError
from gpuplan.humanize import plain
from gpuplan.planning.adapters.lookups import field_errors, gpu_id, slug
from gpuplan.planning.modes import supply_mode
from gpuplan.planning.periods import PeriodGrid
from gpuplan.planning.problem import SupplyOption
from gpuplan.scenario.schema import CustomOffer, OwnershipSite, Scenario
from gpuplan.uncertainty.distributions import nominal


def _mode_and_term(pricing_model: str, months: int, grid: PeriodGrid) -> tuple[str, int]:
    """The supply mode of a catalog pricing model (from the mode table) and its term in
    periods; a pricing model two modes list (capacity blocks) is pay-per-use when its
    commitment fits in one period, else committed."""
    from gpuplan.planning.modes import supply_modes

    modes = [m for m in supply_modes().values() if pricing_model in m.catalog_pricing_models]
    per_use = [m for m in modes if m.billing == "per_use"]
    if per_use and (len(modes) == 1 or months <= grid.months):
        return per_use[0].mode, 1
    term = [m for m in modes if m.billing == "term"]
    if not term:
        raise InputError("pricing_model", f"'{pricing_model}' is in no supply mode's table row.")
    return term[0].mode, grid.periods_for_months(months)


def _option(
    grid: PeriodGrid, *, provider: str, jurisdiction: str, region: str, country: str,
    region_group: str, gpu: str, pricing_model: str, months: int, price: float,
    availability: float | None, available_from: Any, source: str, price_trend: float = 0.0,
    gpus_per_unit: int = 8, price_trend_from: str = "",
) -> SupplyOption:  # fmt: skip
    mode, term = _mode_and_term(pricing_model, months, grid)
    suffix = f"{term}" if supply_mode(mode).billing == "term" else ""
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
        price_trend=price_trend,
        price_trend_from=price_trend_from,
        gpus_per_unit=gpus_per_unit,
        source=source,
    )


def catalog_trend(gpu: str, pricing_model: str, position: float) -> tuple[float, str]:
    """The catalog's annual price change for ``gpu`` under ``pricing_model`` at
    ``position`` in its (low, mid, high) range (0 low, 0.5 mid, 1 high, linear in between),
    and where it comes from."""
    from gpuplan.catalog.trends import price_trend_row

    row = price_trend_row(gpu, pricing_model)
    low, mid, high = row.annual_change_low, row.annual_change_mid, row.annual_change_high
    value = low + (mid - low) * 2 * position if position <= 0.5 else mid + (high - mid) * (
        2 * position - 1
    )
    if row.gpu != "*":
        pooled = "" if row.pricing_model == pricing_model else (
            f" ({gpu}'s on-demand trend: no {pricing_model} history)"
        )
    elif row.pricing_model != "*":
        pooled = f" (pooled over {pricing_model} rows: no {gpu} history)"
    else:
        pooled = f" (pooled over all rows: no {pricing_model} history)"
    return value, f"catalog {gpu}/{pricing_model}: {value:+.0%}/year{pooled}"


def price_trends(scenario: Scenario, rows: list[dict[str, Any]]) -> None:
    """Set each row's annual ``price_trend`` and ``price_trend_from``: per provider, else
    per GPU type, else the scenario's ``supply.price_trend.default``, else the catalog's
    trend for the row's GPU and pricing model (an adjustment or a custom offer that states
    its own trend has already set it and keeps it)."""
    from gpuplan.catalog.places import get_provider

    trend = scenario.supply.price_trend
    gpus = {gpu_id(f"supply.price_trend.gpus.{g}", g): (g, v) for g, v in trend.gpus.items()}
    providers = {}
    for name, value in trend.providers.items():
        known = field_errors(f"supply.price_trend.providers.{name}", partial(get_provider, name))
        providers[known.provider] = (name, value)
    position = nominal(trend.catalog_position)
    for row in rows:
        if row.get("price_trend") is not None:
            continue
        if row["provider"] in providers:
            name, value = providers[row["provider"]]
            row["price_trend"] = nominal(value)
            row["price_trend_from"] = f"supply.price_trend.providers.{name}"
        elif row["gpu"] in gpus:
            name, value = gpus[row["gpu"]]
            row["price_trend"] = nominal(value)
            row["price_trend_from"] = f"supply.price_trend.gpus.{name}"
        elif trend.default is not None:
            row["price_trend"] = nominal(trend.default)
            row["price_trend_from"] = "supply.price_trend.default"
        else:
            row["price_trend"], row["price_trend_from"] = field_errors(
                "supply.price_trend",
                partial(catalog_trend, row["gpu"], row["pricing_model"], position),
            )


def offer_options(scenario: Scenario, grid: PeriodGrid, gpus: set[str]) -> list[SupplyOption]:
    """Catalog and scenario offers as supply options, after filters and adjustments."""
    from gpuplan.catalog.offers import current_offers, load_offers, price_date, read_offer_csv
    from gpuplan.catalog.places import get_provider, normalise_country

    supply, rules = scenario.supply, scenario.rules

    def provider_name(path: str, name: str) -> str:
        return field_errors(path, lambda: get_provider(name).provider)

    keep = {provider_name("supply.providers", p) for p in supply.providers or []}
    excluded = {provider_name("rules.excluded_providers", p) for p in rules.excluded_providers}
    if supply.builtin_offers:
        offers = field_errors(
            "supply.offers_csv",
            lambda: load_offers(supply.offers_csv, as_of=supply.prices_as_of),
        )
    elif supply.offers_csv:
        offers = field_errors(
            "supply.offers_csv",
            lambda: current_offers(
                read_offer_csv(Path(supply.offers_csv or "")), supply.prices_as_of
            ),
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
    day = price_date(supply.prices_as_of)
    rows = [_offer_row(offer, day) for offer in offers]
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
                row["price"], note = _in_usd(
                    nominal(adjustment.price_per_gpu_hour), adjustment.currency, day,
                    f"supply.adjustments.{n}.currency",
                )  # fmt: skip
                row["source"] += note
            if adjustment.discount is not None:
                row["price"] *= 1.0 - nominal(adjustment.discount)
            if adjustment.availability_gpus is not None:
                row["availability"] = adjustment.availability_gpus
            if adjustment.price_trend is not None:
                row["price_trend"] = nominal(adjustment.price_trend)
                row["price_trend_from"] = f"supply.adjustments.{n}"
            row["source"] += f"; adjusted: {adjustment.source}"
        if not matched:
            raise InputError(
                f"supply.adjustments.{n}",
                f"matches no offer of {name}"
                + (f" for {gpu}" if gpu else "")
                + "; check provider, region, gpu and pricing_model.",
            )
    for n, custom in enumerate(supply.offers):
        rows.append(_custom_row(custom, f"supply.offers.{n}", grid, day))
    price_trends(scenario, rows)
    default_caps = availability_defaults(scenario)
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
        if row["availability"] is None:
            row["availability"] = default_caps.get(
                _mode_and_term(row["pricing_model"], row["months"], grid)[0]
            )
        option = _option(grid, **row)
        best = options.get(option.id)
        if best is None or option.cost_per_gpu_period < best.cost_per_gpu_period:
            options[option.id] = option
    return list(options.values())


def _catalog_row(custom: CustomOffer, where: str, grid: PeriodGrid, day: date) -> Offer:
    """A scenario offer as a catalog :class:`Offer`, its fields checked against the reference
    tables (provider spelling and headquarters, country zone, region country)."""
    from gpuplan.catalog.offers import OfferRow, to_usd
    from gpuplan.catalog.places import country_zone, find_region, providers

    price, note = _in_usd(
        nominal(custom.price_per_gpu_hour), custom.currency, day, f"{where}.currency"
    )
    known = providers().get(custom.provider.strip().lower())
    provider = known.provider if known is not None else custom.provider
    jurisdiction = (custom.jurisdiction or "").upper()
    if known is not None:
        if jurisdiction and jurisdiction != known.hq_jurisdiction:
            raise InputError(
                f"{where}.jurisdiction",
                f"says {jurisdiction}, but {provider} is headquartered in the "
                f"{known.hq_jurisdiction} jurisdiction ({known.source}); leave jurisdiction "
                "out for a known provider or give the provider's own name.",
            )
        jurisdiction = known.hq_jurisdiction
    elif not jurisdiction:
        raise InputError(
            f"{where}.jurisdiction",
            f"is needed: {custom.provider} is not in the provider table, so say where it is "
            "headquartered (EU, US, UK, ...).",
        )
    zone = country_zone(custom.country)
    group = custom.region_group or (zone.region_group if zone is not None else None)
    if zone is not None and group != zone.region_group:
        raise InputError(
            f"{where}.region_group",
            f"says {group}, but {zone.name} ({zone.country}) is in zone {zone.region_group} "
            f"({zone.source}); leave region_group out or write {zone.region_group}.",
        )
    if group is None or (zone is None and group == "EU"):
        raise InputError(
            f"{where}.region_group",
            f"cannot be {'EU' if group else 'told'} for country {custom.country}: it is not in "
            "the country table's EU/EEA list; give the zone its data centres serve "
            "(UK, US, APAC, ...).",
        )
    region = find_region(provider, custom.region) if known is not None else None
    if region is not None and region.country and region.country != custom.country:
        raise InputError(
            f"{where}.country",
            f"says {custom.country}, but {provider} {custom.region} is in {region.country} "
            f"({region.source}).",
        )
    data = {
        "provider": provider,
        "provider_hq_jurisdiction": jurisdiction,
        "instance_type": "scenario",
        "region": custom.region,
        "country": custom.country,
        "region_group": group,
        "gpu": custom.gpu,
        "gpus_per_instance": 8,
        "pricing_model": custom.pricing_model,
        "term_months": custom.term_months,
        "price_per_gpu_hour": price,
        "currency": "USD",
        "as_of": grid.start,
        "availability_gpus": custom.availability_gpus,
        "source": f"scenario: {custom.source}{note}",
    }
    return field_errors(where, lambda: to_usd(OfferRow.model_validate(data)))


def _custom_row(custom: CustomOffer, where: str, grid: PeriodGrid, day: date) -> dict[str, Any]:
    gpu_id(f"{where}.gpu", custom.gpu)
    offer = _catalog_row(custom, where, grid, day)
    trend = nominal(custom.price_trend) if custom.price_trend is not None else None
    return {
        **_offer_row(offer),
        "available_from": custom.available_from,
        "price_trend": trend,
        "price_trend_from": where,
    }


def availability_defaults(scenario: Scenario) -> dict[str, float]:
    """GPUs one offer supplies at once when it states no cap, by supply mode: the mode
    table's defaults (on-demand and spot capacity is small), replaced by the scenario's
    ``supply.availability_by_mode``."""
    from gpuplan.planning.modes import supply_modes

    caps: dict[str, float] = {
        name: float(row.default_availability_gpus)
        for name, row in supply_modes().items()
        if row.default_availability_gpus is not None
    }
    for mode, cap in scenario.supply.availability_by_mode.items():
        if mode not in supply_modes():
            raise UnknownIdError("supply mode", mode, supply_modes())
        if cap is None:
            caps.pop(mode, None)
        else:
            caps[mode] = float(cap)
    return caps


def _in_usd(price: float, currency: str, day: date, where: str) -> tuple[float, str]:
    """A scenario price in USD at the rate dated on or before ``day``, and the note naming
    that rate ('' for USD)."""
    from gpuplan.catalog.places import fx_rate

    if currency.upper() == "USD":
        return price, ""
    rate = field_errors(where, lambda: fx_rate(currency, day))
    code = rate.currency
    return price * rate.usd_per_unit, (
        f" ({price:g} {code} at {rate.usd_per_unit:g} USD/{code} of {rate.as_of})"
    )


def _offer_row(offer: Offer, day: date | None = None) -> dict[str, Any]:
    """The fields of a catalog offer that make a supply option; the source names the
    exchange rate of a non-USD price and, on ``day``, the age of a price over a year old."""
    age = offer.staleness(day) if day is not None else None
    fx = (
        f"; {offer.native_price_per_gpu_hour:g} {offer.native_currency} at "
        f"{offer.fx_usd_per_unit:g} USD/{offer.native_currency} of {offer.fx_as_of}"
        if offer.native_currency != "USD"
        else ""
    )
    source = f"{offer.source} (as of {offer.as_of}{f'; price {age}' if age else ''}{fx})"
    return dict(
        provider=offer.provider, jurisdiction=offer.provider_hq_jurisdiction,
        region=offer.region, country=offer.country or "", region_group=offer.region_group,
        gpu=offer.gpu, pricing_model=offer.pricing_model, months=offer.commitment_months,
        price=offer.usd_per_gpu_hour, availability=offer.availability_gpus,
        available_from=None, source=source, price_trend=None, price_trend_from="",
        gpus_per_unit=offer.gpus_per_instance,
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
    from gpuplan.catalog.places import country_zone

    gpu = gpu_id(f"{where}.gpu", site.gpu)
    country = site.country.upper()
    zone = country_zone(country)
    group = site.region_group or (zone.region_group if zone is not None else None)
    if group is None:
        raise InputError(
            f"{where}.region_group",
            f"cannot tell the zone of country {country} (not in the country table); set "
            "region_group (EU, US, APAC, ...).",
        )
    if zone is not None and group != zone.region_group:
        raise InputError(
            f"{where}.region_group",
            f"says {group}, but {zone.name} ({country}) is in zone {zone.region_group} "
            f"({zone.source}); leave region_group out or write {zone.region_group}.",
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
    kw_per_gpu = site.kw_per_gpu
    if len(figures) < len(given) or (site.power_mw is not None and kw_per_gpu is None):
        from gpuplan.economics.ownership import ownership_cost

        def cost_model() -> Any:
            return ownership_cost(gpu, country, years=life)

        model = field_errors(where, cost_model)
        figures = {k: figures.get(k, float(getattr(model, k))) for k in given}
        if kw_per_gpu is None:
            pue = next(p.value for p in model.inputs if p.name == "pue")
            kw_per_gpu = model.provisioned_kw_per_gpu * pue
    life = figures["years"]
    lead = figures["lead_time_months"]
    lead_field = "rules" if scenario.rules.lead_time_months is not None else where
    for field, value, most, unit in (
        (f"{where}.life_years", life, MAX_LIFE_YEARS, "years"),
        (f"{lead_field}.lead_time_months", lead, MAX_LEAD_MONTHS, "months"),
    ):
        if value > most:
            raise InputError(field, f"must be at most {plain(most)} {unit} (got {plain(value)}).")
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
        site_kw_per_gpu=kw_per_gpu if site.power_mw is not None else None,
        source="scenario site; unset figures from gpuplan.economics.ownership"
        + (f"; {site.fx_note}" if site.fx_note else ""),
    )


def slipped(
    scenario: Scenario, grid: PeriodGrid, options: list[SupplyOption]
) -> list[SupplyOption]:
    """``options`` with each GPU type's first orderable period moved later by its
    ``supply.availability_slip_months`` (rounded up to whole periods; a slip past the horizon
    leaves the option unusable, not absent, so every future has the same options)."""
    slips = {
        gpu_id(f"supply.availability_slip_months.{gpu}", gpu): nominal(months)
        for gpu, months in scenario.supply.availability_slip_months.items()
    }
    return [
        option.model_copy(
            update={
                "first_period": option.first_period
                + math.ceil(slips[option.gpu] / grid.months - 1e-9)
            }
        )
        if slips.get(option.gpu, 0.0) > 0
        else option
        for option in options
    ]
