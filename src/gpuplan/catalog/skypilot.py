"""Import SkyPilot catalog CSVs (``vms.csv``) into the gpuplan offer layout.

A SkyPilot row (InstanceType, AcceleratorName, AcceleratorCount, vCPUs, MemoryGiB, Price,
SpotPrice, Region, AvailabilityZone) becomes up to two offers: ``on_demand`` from ``Price`` and
``spot`` from ``SpotPrice``. Accelerator names map to catalog GPU ids through
``data/skypilot_accelerators.csv``; regions map to city/country/region group through
``data/cloud_regions.csv``. Rows without an accelerator (CPU-only VMs) are not offers and are
passed over, except as host VMs (below). A malformed row (unknown accelerator or region, a
count or price that is not a positive number) is reported with its line number and skipped,
or rejected with ``strict=True``: it is never priced silently. SkyPilot lists one row per
availability zone; rows of one instance type in one region keep the lowest price.

The GCP catalog lists attachable accelerators as rows without an InstanceType whose price is
the accelerator alone. A TPU row (``tpu-v6e-8``) is a whole offer: the slice name gives the
chips (``slice_units_per_chip``). A GPU row is priced with its host VM in the same zone
(``data/skypilot_accelerator_hosts.csv``: H100 x8 runs on ``a3-highgpu-8g``), host + GPUs. A
row whose Price equals its SpotPrice (GCP lists ``700.0``/``700.0`` for a TPU not sold in a
region) is a placeholder, not a price, and is skipped with a warning.
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
    slice_units_per_chip: int | None = Field(
        default=None, ge=1, description="TPUs: what the N in a slice name counts per chip"
    )
    source: str = Field(min_length=3)
    as_of: date


class AcceleratorHost(BaseModel):
    """The host VM an attachable accelerator (GCP) runs on, for ``count`` accelerators."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str = Field(min_length=1)
    accelerator_name: str = Field(min_length=1)
    accelerator_count: int = Field(ge=1)
    host_instance_type: str = Field(min_length=1)
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
def accelerators() -> dict[str, SkypilotAccelerator]:
    """SkyPilot accelerator name (upper case) -> its catalog GPU and slice counting."""
    rows = read_table(packaged_data("skypilot_accelerators.csv"), SkypilotAccelerator)
    return {r.accelerator_name.upper(): r for r in rows}


def accelerator_names() -> dict[str, str]:
    """SkyPilot accelerator name (upper case) -> catalog GPU id."""
    return {name: row.gpu for name, row in accelerators().items()}


@cache
def accelerator_hosts() -> dict[tuple[str, str, int], str]:
    """(provider lower-case, accelerator name upper-case, count) -> host VM instance type."""
    rows = read_table(packaged_data("skypilot_accelerator_hosts.csv"), AcceleratorHost)
    return {
        (r.provider.lower(), r.accelerator_name.upper(), r.accelerator_count): r.host_instance_type
        for r in rows
    }


def tpu_slice(name: str) -> tuple[str, int] | None:
    """``tpu-v5p-12288`` -> (catalog GPU id, chips); ``None`` if not a known TPU slice name.

    The number counts TensorCores for v5p (2 per chip) and chips for v6e
    (``slice_units_per_chip`` in skypilot_accelerators.csv, from Google's Cloud TPU docs).
    """
    family, _, size = name.strip().rpartition("-")
    known = accelerators().get(family.upper())
    if known is None or known.slice_units_per_chip is None or not size.isdigit():
        return None
    chips = int(size) // known.slice_units_per_chip
    return (known.gpu, chips) if chips >= 1 else None


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
    hosts = _host_prices(records)
    for line, raw in records:
        rows_read += 1
        if not (raw.get("AcceleratorName") or "").strip():
            cpu_only += 1
            continue
        try:
            rows = _offers_from_row(raw, owner.provider, owner.hq_jurisdiction, stamp, hosts)
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


def _zone(raw: dict[str, str | None]) -> str:
    return (raw.get("AvailabilityZone") or raw.get("Region") or "").strip()


def _host_prices(
    records: list[tuple[int, dict[str, str | None]]],
) -> dict[tuple[str, str], dict[str, float | None]]:
    """(instance type, zone) -> on-demand and spot price of the rows without an accelerator,
    the host VMs that GCP's accelerator rows are priced on top of (unreadable prices: None)."""
    hosts: dict[tuple[str, str], dict[str, float | None]] = {}
    for _, raw in records:
        if (raw.get("AcceleratorName") or "").strip():
            continue
        prices: dict[str, float | None] = {}
        for column, model in PRICE_COLUMNS.items():
            try:
                prices[model] = _positive(raw.get(column), column)
            except ValueError:
                prices[model] = None
        hosts[((raw.get("InstanceType") or "").strip(), _zone(raw))] = prices
    return hosts


def _with_host(
    raw: dict[str, str | None],
    provider: str,
    gpus: tuple[str, int],
    prices: dict[str, float | None],
    hosts: dict[tuple[str, str], dict[str, float | None]],
) -> tuple[str, dict[str, float | None], str]:
    """An accelerator-only row priced with its host VM: (host type, host + GPU prices, note)."""
    accelerator, count = gpus
    host = accelerator_hosts().get((provider.lower(), accelerator.upper(), count))
    if host is None:
        raise ValueError(
            f"{accelerator} x{count} has no InstanceType and no host VM in "
            "skypilot_accelerator_hosts.csv (its price excludes the VM); add the host there"
        )
    host_prices = hosts.get((host, _zone(raw)))
    if host_prices is None:
        raise ValueError(f"host VM {host} of {accelerator} x{count} is not priced in {_zone(raw)}")
    total: dict[str, float | None] = {}
    for model, price in prices.items():
        extra = host_prices.get(model)
        total[model] = price + extra if price is not None and extra is not None else None
    return host, total, f"host {host} + {count} x {accelerator}, priced separately by the source"


def _offers_from_row(
    raw: dict[str, str | None],
    provider: str,
    jurisdiction: str,
    stamp: date,
    hosts: dict[tuple[str, str], dict[str, float | None]],
) -> list[OfferRow]:
    accelerator = (raw.get("AcceleratorName") or "").strip()
    instance = (raw.get("InstanceType") or "").strip()
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
    if prices["on_demand"] is not None and prices["on_demand"] == prices["spot"]:
        raise ValueError(
            f"Price equals SpotPrice ({prices['on_demand']:g}): the source's placeholder for "
            f"{accelerator} not sold in {region_name}, not a price"
        )
    note = "as_of = import date: SkyPilot catalogs carry no date"
    tpu = None if instance else tpu_slice(accelerator)
    if tpu is not None:
        (gpu, count), instance = tpu, accelerator
        note += f"; TPU slice of {count} chips"
    else:
        gpu = accelerator_names().get(accelerator.upper()) or ""
        if not gpu:
            raise ValueError(
                f"AcceleratorName '{accelerator}' is not mapped to a catalog GPU; add it to "
                "skypilot_accelerators.csv"
            )
        count = _gpu_count(raw.get("AcceleratorCount"))
        if not instance:
            instance, prices, host_note = _with_host(
                raw, provider, (accelerator, count), prices, hosts
            )
            note += f"; {host_note}"
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
            notes=note,
        )
        for model, price in prices.items()
        if price is not None
    ]
