"""Where offers live: cloud providers (headquarters jurisdiction), cloud regions, exchange rates.

Four small tables in ``data/``, each row with a source and an as-of date:
``providers.csv`` (provider -> headquarters jurisdiction), ``cloud_regions.csv``
(provider + region -> city, ISO country, region group), ``country_zones.csv`` (ISO country ->
residency zone, jurisdiction, EU/EEA membership: the one list of EU countries) and
``fx_rates.csv`` (USD per unit of a currency, dated). Loaded once, on first use.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from gpuplan.catalog.tables import packaged_data, read_table, split_aliases
from gpuplan.errors import CatalogError, InputError, UnknownIdError

RegionGroup = Literal["EU", "UK", "US", "CA", "APAC", "ME", "LATAM", "GLOBAL"]
REGION_GROUPS: tuple[str, ...] = ("EU", "UK", "US", "CA", "APAC", "ME", "LATAM", "GLOBAL")
"""EU = European Union plus EEA data centres (jurisdiction of the GDPR); UK is separate;
GLOBAL = one price quoted for all of a provider's locations."""

COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}
"""Eurostat writes UK/EL where ISO 3166 writes GB/GR; both spellings are accepted."""


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _country_alias(value: object) -> object:
    return normalise_country(value) if isinstance(value, str) else value


def is_country(code: str) -> bool:
    """Whether ``code`` (upper case) is an ISO 3166-1 alpha-2 country (pycountry's table)."""
    import pycountry

    return bool(re.fullmatch(r"[A-Z]{2}", code)) and bool(pycountry.countries.get(alpha_2=code))


def _iso_country(value: str) -> str:
    if not is_country(value):
        raise ValueError(
            f"is not an ISO 3166 alpha-2 country code (got '{value}'); write e.g. FR, DE, US"
        )
    return value


def country_code(given: str, field: str = "country") -> str:
    """The ISO 3166 alpha-2 code of ``given`` (case-insensitive, UK/EL accepted); anything
    that is not a country in the ISO table is an :class:`InputError` naming ``field``."""
    code = normalise_country(given)
    if not is_country(code):
        raise InputError(
            field, f"'{given}' is not an ISO 3166 alpha-2 country code; write e.g. FR, DE, US."
        )
    return code


Country = Annotated[
    str,
    BeforeValidator(_country_alias),
    AfterValidator(_iso_country),
    Field(json_schema_extra={"pattern": "^[A-Z]{2}$"}),
]


class Provider(BaseModel):
    """A cloud provider and the jurisdiction of its headquarters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str = Field(min_length=1)
    hq_jurisdiction: Annotated[str, BeforeValidator(_upper)] = Field(
        description="Jurisdiction of the headquarters: US, EU, UK, ..."
    )
    hq_country: Country
    aliases: Annotated[tuple[str, ...], BeforeValidator(split_aliases)] = ()
    source: str = Field(min_length=3)
    as_of: date


class CloudRegion(BaseModel):
    """One region of one provider, located in a city and an ISO 3166 country."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str = Field(min_length=1)
    region: str = Field(min_length=1)
    city: str | None = None
    country: Country | None = None
    region_group: Annotated[RegionGroup, BeforeValidator(_upper)]
    source: str = Field(min_length=3)
    as_of: date


class CountryZone(BaseModel):
    """A country's residency zone (the region group its data centres serve), the
    jurisdiction of a company headquartered there, and whether the GDPR applies (EU/EEA)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    country: Country
    name: str = Field(min_length=2)
    region_group: Annotated[str, BeforeValidator(_upper)] = Field(
        description="EU (EU/EEA members only), UK, US, CA, APAC, ME, LATAM, or the country."
    )
    jurisdiction: Annotated[str, BeforeValidator(_upper)]
    eea: bool = Field(description="EU member state or EEA country (GDPR territory).")
    source: str = Field(min_length=3)
    as_of: date


class FxRate(BaseModel):
    """US dollars per unit of a currency on a date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: Annotated[str, BeforeValidator(_upper), Field(pattern=r"^[A-Z]{3}$")]
    usd_per_unit: float = Field(gt=0)
    as_of: date
    source: str = Field(min_length=3)


@cache
def providers() -> dict[str, Provider]:
    """Providers keyed by lower-case name and by every alias."""
    index: dict[str, Provider] = {}
    for row in read_table(packaged_data("providers.csv"), Provider):
        for key in (row.provider.lower(), *row.aliases):
            index[key] = row
    return index


def get_provider(name: str) -> Provider:
    """Look a provider up by name or alias, case-insensitively (``oci`` -> Oracle)."""
    row = providers().get(name.strip().lower())
    if row is None:
        raise UnknownIdError("provider", name, {p.provider for p in providers().values()})
    return row


@cache
def cloud_regions() -> dict[tuple[str, str], CloudRegion]:
    """Regions keyed by (provider lower-case, region)."""
    rows = read_table(packaged_data("cloud_regions.csv"), CloudRegion)
    return {(r.provider.lower(), r.region): r for r in rows}


def find_region(provider: str, region: str) -> CloudRegion | None:
    """The region row of a provider, or ``None`` when the table does not know it."""
    return cloud_regions().get((get_provider(provider).provider.lower(), region))


@cache
def country_zones() -> dict[str, CountryZone]:
    """Country rows keyed by ISO 3166 alpha-2 code."""
    return {r.country: r for r in read_table(packaged_data("country_zones.csv"), CountryZone)}


def country_zone(code: str) -> CountryZone | None:
    """The zone row of a country (Eurostat's UK/EL accepted), or ``None`` if not listed."""
    return country_zones().get(normalise_country(code))


def in_eea(code: str) -> bool:
    """True for EU member states and the EEA (Iceland, Liechtenstein, Norway)."""
    row = country_zone(code)
    return row is not None and row.eea


@cache
def fx_rates() -> dict[str, FxRate]:
    """Exchange rates keyed by ISO 4217 code."""
    return {r.currency: r for r in read_table(packaged_data("fx_rates.csv"), FxRate)}


def fx_rate(currency: str) -> FxRate:
    """The dated rate for ``currency``; an unknown currency is a :class:`CatalogError`."""
    rate = fx_rates().get(currency.strip().upper())
    if rate is None:
        raise CatalogError(
            f"No exchange rate for currency '{currency}'. Add a dated row with its source to "
            f"fx_rates.csv (known: {', '.join(sorted(fx_rates()))})."
        )
    return rate


def normalise_country(code: str) -> str:
    """ISO 3166 alpha-2 upper case, accepting Eurostat's UK/EL."""
    upper = code.strip().upper()
    return COUNTRY_ALIASES.get(upper, upper)
