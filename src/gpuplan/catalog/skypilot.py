"""Import SkyPilot catalog CSVs (``vms.csv``) into the gpuplan offer layout.

A SkyPilot row (InstanceType, AcceleratorName, AcceleratorCount, vCPUs, MemoryGiB, Price,
SpotPrice, Region, AvailabilityZone) becomes up to two offers: ``on_demand`` from ``Price`` and
``spot`` from ``SpotPrice``. Accelerator names map to catalog GPU ids through
``data/skypilot_accelerators.csv``; regions map to city/country/region group through
``data/cloud_regions.csv``. Rows without an accelerator (CPU-only VMs) are not offers and are
passed over. A malformed row (unknown accelerator or region, a count or price that is not a
positive number) is reported with its line number and skipped, or rejected with
``strict=True``: it is never priced silently. SkyPilot lists one row per availability zone;
rows of one instance type in one region keep the lowest price.
"""

from __future__ import annotations

import math
from datetime import date
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gpuplan.catalog.offers import OfferRow
from gpuplan.catalog.places import find_region, get_provider
from gpuplan.catalog.tables import (
    csv_records,
    describe_validation_error,
    packaged_data,
    read_table,
)
from gpuplan.errors import CatalogError, InputError, UnknownIdError
from gpuplan.userfiles import user_path

REQUIRED_COLUMNS = ("InstanceType", "AcceleratorName", "AcceleratorCount", "Region")
PRICE_COLUMNS = {"Price": "on_demand", "SpotPrice": "spot"}


class SkypilotAccelerator(BaseModel):
    """A SkyPilot accelerator name and the catalog GPU it denotes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accelerator_name: str = Field(min_length=1)
    gpu: str = Field(min_length=1)
    source: str = Field(min_length=3)
    as_of: date


class SkypilotImport(BaseModel):
    """Offers read from a SkyPilot CSV, and one warning per row that was skipped."""

    model_config = ConfigDict(frozen=True)

    offers: list[OfferRow]
    warnings: list[str]
    rows_read: int
    rows_without_accelerator: int


@cache
def accelerator_names() -> dict[str, str]:
    """SkyPilot accelerator name (upper case) -> catalog GPU id."""
    rows = read_table(packaged_data("skypilot_accelerators.csv"), SkypilotAccelerator)
    return {r.accelerator_name.upper(): r.gpu for r in rows}


def _positive(text: str | None, column: str) -> float | None:
    """A positive finite number, ``None`` for a blank cell; anything else raises ValueError."""
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{column} must be a positive number (got {text!r})")
    return value


def _gpu_count(text: str | None) -> int:
    try:
        value = float(text or "nan")
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 1 or value != int(value):
        raise ValueError(f"AcceleratorCount must be a whole number >= 1 (got {text!r})")
    return int(value)


def import_skypilot_csv(
    path: str | Path,
    provider: str,
    *,
    as_of: date | None = None,
    strict: bool = False,
) -> SkypilotImport:
    """Read a SkyPilot ``vms.csv`` of ``provider`` into offer rows (prices in USD).

    ``as_of`` defaults to today: SkyPilot catalogs carry no date, so the import date is the
    best bound and the rows say so. With ``strict=True`` the first malformed row raises
    :class:`CatalogError`; otherwise it is skipped and listed in ``warnings``.
    """
    source_path = user_path(path, "vms_csv")
    if not source_path.is_file():
        raise InputError("vms_csv", f"SkyPilot catalog '{source_path}' is not a file.")
    owner = get_provider(provider)
    stamp = as_of or date.today()
    names = accelerator_names()
    best: dict[tuple[str, str, str], OfferRow] = {}
    zones: dict[tuple[str, str, str], int] = {}
    warnings: list[str] = []
    rows_read = cpu_only = 0
    header, records = csv_records(source_path)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CatalogError(
            f"{source_path.name}: not a SkyPilot vms.csv, missing column(s) "
            f"{', '.join(missing)} (expected {', '.join(REQUIRED_COLUMNS)}, Price, SpotPrice)."
        )
    for line, raw in records:
        rows_read += 1
        accelerator = (raw.get("AcceleratorName") or "").strip()
        if not accelerator:
            cpu_only += 1
            continue
        try:
            rows = _offers_from_row(raw, owner.provider, owner.hq_jurisdiction, names, stamp)
        except (ValueError, UnknownIdError, ValidationError) as error:
            text = (
                describe_validation_error(error)
                if isinstance(error, ValidationError)
                else str(error)
            )
            message = f"{source_path.name} line {line}: {text}; row skipped."
            if strict:
                raise CatalogError(message.replace("; row skipped.", ".")) from None
            warnings.append(message)
            continue
        for row in rows:
            key = (row.instance_type, row.region, row.pricing_model)
            zones[key] = zones.get(key, 0) + 1
            kept = best.get(key)
            if kept is None or (row.price_per_gpu_hour or 0) < (kept.price_per_gpu_hour or 0):
                best[key] = row
    offers = [
        row.model_copy(update={"notes": f"{row.notes}; lowest of {zones[key]} zone rows"})
        if zones[key] > 1
        else row
        for key, row in best.items()
    ]
    return SkypilotImport(
        offers=offers,
        warnings=warnings,
        rows_read=rows_read,
        rows_without_accelerator=cpu_only,
    )


def _offers_from_row(
    raw: dict[str, str | None],
    provider: str,
    jurisdiction: str,
    names: dict[str, str],
    stamp: date,
) -> list[OfferRow]:
    accelerator = (raw.get("AcceleratorName") or "").strip()
    gpu = names.get(accelerator.upper())
    if gpu is None:
        raise ValueError(
            f"AcceleratorName '{accelerator}' is not mapped to a catalog GPU; add it to "
            "skypilot_accelerators.csv"
        )
    count = _gpu_count(raw.get("AcceleratorCount"))
    region_name = (raw.get("Region") or "").strip()
    region = find_region(provider, region_name)
    if region is None:
        raise ValueError(
            f"Region '{region_name}' of {provider} is not in cloud_regions.csv (city, country "
            "and region group unknown); add it there"
        )
    prices = {model: _positive(raw.get(column), column) for column, model in PRICE_COLUMNS.items()}
    if all(price is None for price in prices.values()):
        raise ValueError("neither Price nor SpotPrice is given")
    instance = (raw.get("InstanceType") or "").strip()
    return [
        OfferRow(
            provider=provider,
            provider_hq_jurisdiction=jurisdiction,
            instance_type=instance,
            region=region.region,
            city=region.city,
            country=region.country,
            region_group=region.region_group,
            gpu=gpu,
            gpus_per_instance=count,
            pricing_model=model,
            price_per_instance_hour=price,
            currency="USD",
            as_of=stamp,
            source=f"SkyPilot catalog vms.csv ({provider}), imported by gpuplan",
            notes="as_of = import date: SkyPilot catalogs carry no date",
        )
        for model, price in prices.items()
        if price is not None
    ]
