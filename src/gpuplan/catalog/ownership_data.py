"""Ownership cost parameters as data: per accelerator (``data/ownership.csv``) and per country
(``data/countries.csv``), each value with its unit, source, as-of date and estimate flag.

Both tables are long (one parameter per row) so every number carries its own provenance.
Accelerator rows with ``gpu = *`` are defaults for every accelerator; a country without a row
for a parameter falls back to the ``EU`` row when it is an EU/EEA country.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from gpuplan.catalog.gpus import get_gpu
from gpuplan.catalog.places import fx_rate, in_eea, normalise_country
from gpuplan.catalog.tables import packaged_data, read_table
from gpuplan.errors import InputError, UnknownIdError

GPU_PARAMETERS = (
    "server_usd_per_gpu",
    "network_usd_per_gpu",
    "storage_usd_per_gpu",
    "server_power_overhead",
    "lead_time_months",
    "annual_value_decline",
    "pue",
    "average_load",
    "discount_rate",
    "depreciation_years",
    "maintenance_fraction_per_year",
    "staff_fte_per_mw",
)
COUNTRY_PARAMETERS = (
    "electricity_price_per_kwh",
    "colocation_per_kw_month",
    "staff_cost_per_fte_year",
)


class ParameterValue(BaseModel):
    """One sourced number used by a cost model (value in the stated unit, USD if money)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    value: float
    unit: str
    is_estimate: bool = False
    source: str = Field(min_length=3)
    as_of: date
    notes: str | None = None


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


class OwnershipRow(BaseModel):
    """A row of ``ownership.csv``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gpu: Annotated[str, BeforeValidator(_lower)]
    parameter: Annotated[str, BeforeValidator(_lower)]
    value: float = Field(ge=0)
    unit: str
    is_estimate: bool = False
    source: str = Field(min_length=3)
    as_of: date
    notes: str | None = None


class CountryRow(BaseModel):
    """A row of ``countries.csv``; money in ``currency``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    country: Annotated[str, BeforeValidator(lambda v: v.strip().upper())]
    parameter: Annotated[str, BeforeValidator(_lower)]
    value: float = Field(gt=0)
    currency: Annotated[str, BeforeValidator(lambda v: v.strip().upper())]
    unit: str
    is_estimate: bool = False
    source: str = Field(min_length=3)
    as_of: date
    notes: str | None = None


@cache
def ownership_rows() -> dict[tuple[str, str], OwnershipRow]:
    """(gpu id or '*', parameter) -> row."""
    rows = read_table(packaged_data("ownership.csv"), OwnershipRow)
    return {(r.gpu, r.parameter): r for r in rows}


@cache
def country_rows() -> dict[tuple[str, str], CountryRow]:
    """(country code, parameter) -> row."""
    rows = read_table(packaged_data("countries.csv"), CountryRow)
    return {(r.country, r.parameter): r for r in rows}


def owned_gpus() -> list[str]:
    """Accelerators with ownership cost data."""
    return sorted({gpu for gpu, _ in ownership_rows() if gpu != "*"})


def countries() -> list[str]:
    """Countries (and the EU aggregate) with cost data."""
    return sorted({country for country, _ in country_rows()})


def gpu_parameter(gpu: str, name: str) -> ParameterValue:
    """A per-accelerator parameter, falling back to the ``*`` default row."""
    gpu_id = get_gpu(gpu).id
    rows = ownership_rows()
    if not any(key[0] == gpu_id for key in rows):
        raise UnknownIdError("owned accelerator", gpu_id, owned_gpus())
    row = rows.get((gpu_id, name)) or rows.get(("*", name))
    if row is None:
        raise InputError(
            "gpu", f"ownership.csv has no '{name}' for {gpu_id} and no default (gpu = *) row."
        )
    return ParameterValue(
        name=name,
        value=row.value,
        unit=row.unit,
        is_estimate=row.is_estimate,
        source=row.source,
        as_of=row.as_of,
        notes=row.notes,
    )


def country_parameter(country: str, name: str) -> ParameterValue:
    """A per-country parameter in USD (converted with the dated rate), EU fallback for EU/EEA."""
    code = normalise_country(country)
    rows = country_rows()
    if not any(key[0] == code for key in rows) and not in_eea(code):
        raise UnknownIdError("country", code, countries())
    row = rows.get((code, name))
    fallback = ""
    if row is None and in_eea(code):
        row = rows.get(("EU", name))
        fallback = f"EU average used for {code}: "
    if row is None:
        raise InputError("country", f"countries.csv has no '{name}' for {code}.")
    rate = fx_rate(row.currency)
    converted = row.currency != "USD"
    return ParameterValue(
        name=name,
        value=row.value * rate.usd_per_unit,
        unit=f"USD {row.unit}",
        is_estimate=row.is_estimate or bool(fallback),
        source=fallback
        + row.source
        + (
            f"; {row.value} {row.currency} x {rate.usd_per_unit} USD/{row.currency}"
            if converted
            else ""
        ),
        as_of=row.as_of,
        notes=row.notes,
    )
