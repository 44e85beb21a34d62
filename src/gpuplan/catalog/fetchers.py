"""Read public price sources into offer rows: the Azure Retail Prices API, the AWS price
list files and SkyPilot's catalog CSVs. Network access goes through a ``fetch(url) -> bytes``
function, so tests replay recorded responses; :func:`http_get` is the real one.

Instance types are mapped to GPUs by ``data/refresh_instance_types.csv`` (Azure, AWS) or
``data/skypilot_accelerators.csv`` (SkyPilot); regions by ``data/cloud_regions.csv``. Rows
that cannot be mapped are counted, never guessed.
"""

from __future__ import annotations

import json
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gpuplan.catalog.offers import OfferRow
from gpuplan.catalog.places import cloud_regions, find_region, get_provider
from gpuplan.catalog.tables import packaged_data, read_table
from gpuplan.errors import CatalogError

Fetch = Callable[[str], bytes]
AZURE_API = "https://prices.azure.com/api/retail/prices"
AWS_PRICE_LIST = (
    "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/{region}/index.json"
)
SKYPILOT_CATALOG = (
    "https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs/v7/"
    "{cloud}/vms.csv"
)
MAX_PAGES = 100
HOURS_PER_YEAR = 8760


class InstanceShape(BaseModel):
    """A provider's instance type and the GPUs it carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    instance_type: str
    gpu: str
    gpus_per_instance: int = Field(ge=1)
    source: str = Field(min_length=10)


@cache
def instance_shapes() -> dict[tuple[str, str], InstanceShape]:
    """(provider lower-case, instance type) -> shape."""
    rows = read_table(packaged_data("refresh_instance_types.csv"), InstanceShape)
    return {(r.provider.lower(), r.instance_type): r for r in rows}


def http_get(url: str, timeout_s: float = 120.0) -> bytes:
    """GET ``url``; any network or HTTP failure is a CatalogError naming the URL."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            body: bytes = response.read()
            return body
    except (OSError, ValueError) as error:
        shown = url.split("?")[0]
        raise CatalogError(f"cannot read {shown} ({error}); check the network and retry.") from None


def _json(fetch: Fetch, url: str) -> Any:
    try:
        return json.loads(fetch(url))
    except json.JSONDecodeError as error:
        raise CatalogError(f"{url} did not return JSON ({error.msg}).") from None


def _row(provider: str, shape: InstanceShape, region: str, model: str, **fields: Any) -> OfferRow:
    owner = get_provider(provider)
    place = find_region(owner.provider, region)
    assert place is not None  # callers check
    return OfferRow(
        provider=owner.provider,
        provider_hq_jurisdiction=owner.hq_jurisdiction,
        instance_type=shape.instance_type,
        region=place.region,
        city=place.city,
        country=place.country,
        region_group=place.region_group,
        gpu=shape.gpu,
        gpus_per_instance=shape.gpus_per_instance,
        pricing_model=model,
        **fields,
    )


def _azure_items(fetch: Fetch) -> Iterator[dict[str, Any]]:
    skus = [s.instance_type for (p, _), s in instance_shapes().items() if p == "azure"]
    query = (
        "serviceName eq 'Virtual Machines' and ("
        + " or ".join(f"armSkuName eq '{sku}'" for sku in skus)
        + ")"
    )
    url: str | None = f"{AZURE_API}?$filter={urllib.parse.quote(query)}"
    for _ in range(MAX_PAGES):
        if not url:
            return
        page = _json(fetch, url)
        yield from page.get("Items", [])
        url = page.get("NextPageLink")
    raise CatalogError(f"Azure Retail Prices API returned more than {MAX_PAGES} pages.")


def azure_offers(fetch: Fetch, today: date) -> tuple[list[OfferRow], int]:
    """Linux on-demand, spot and 1/3-year reservation prices of the mapped GPU VM sizes.

    A reservation's ``retailPrice`` is the price of the whole term, so the hourly price is
    price / (8760 x years). Windows, low-priority and dev/test meters are left out. The API
    marks spot and low-priority meters in ``meterName`` ("ND96isrH100v5 Spot") while Windows
    is in ``productName`` only (recorded response, tests/fixtures/refresh), so both are read.
    Returns the rows and the number of items whose region is not in cloud_regions.csv.
    """
    rows: list[OfferRow] = []
    unmapped = 0
    for item in _azure_items(fetch):
        shape = instance_shapes().get(("azure", item.get("armSkuName", "")))
        text = " ".join(str(item.get(k, "")) for k in ("productName", "skuName", "meterName"))
        if shape is None or "Windows" in text or "Low Priority" in text:
            continue
        kind, price = item.get("type"), float(item.get("retailPrice", 0))
        if kind == "Consumption":
            model = "spot" if "Spot" in text else "on_demand"
        elif kind == "Reservation" and item.get("reservationTerm") in ("1 Year", "3 Years"):
            years = 1 if item["reservationTerm"] == "1 Year" else 3
            model, price = f"reserved_{years}y", price / (HOURS_PER_YEAR * years)
        else:
            continue
        if price <= 0:
            continue
        if find_region("azure", item.get("armRegionName", "")) is None:
            unmapped += 1
            continue
        start = item.get("effectiveStartDate")
        rows.append(
            _row(
                "azure", shape, item["armRegionName"], model,
                price_per_instance_hour=price, currency=item.get("currencyCode", "USD"),
                as_of=today,
                source=f"Azure Retail Prices API (prices.azure.com), read {today}; meter "
                f"'{item.get('meterName')}'"
                + (f", effective {start[:10]}" if start else ""),
            )
        )  # fmt: skip
    return rows, unmapped


def _aws_hourly(terms: dict[str, Any]) -> float | None:
    for term in terms.values():
        for dimension in term.get("priceDimensions", {}).values():
            if dimension.get("unit") == "Hrs":
                price = float(dimension.get("pricePerUnit", {}).get("USD", 0))
                if price > 0:
                    return price
    return None


def aws_region_offers(document: dict[str, Any], region: str, today: date) -> list[OfferRow]:
    """On-demand and no-upfront standard 1/3-year reserved prices of mapped instance types
    (Linux, shared tenancy, no pre-installed software) in one AWS price-list region file.

    Products whose ``marketoption`` is not ``OnDemand`` are left out: the region file lists a
    Capacity Block product of the same instance type under the on-demand term code (p5.48xlarge
    at $0.00 in the 2026-09-10 file)."""
    rows: list[OfferRow] = []
    on_demand = document.get("terms", {}).get("OnDemand", {})
    reserved = document.get("terms", {}).get("Reserved", {})
    source = f"AWS price list AmazonEC2/current/{region}/index.json, read {today}"
    for sku, product in document.get("products", {}).items():
        attrs = product.get("attributes", {})
        shape = instance_shapes().get(("aws", attrs.get("instanceType", "")))
        if shape is None or (attrs.get("operatingSystem"), attrs.get("tenancy")) != (
            "Linux",
            "Shared",
        ):
            continue
        if attrs.get("preInstalledSw", "NA") != "NA" or attrs.get("capacitystatus") != "Used":
            continue
        if attrs.get("marketoption", "OnDemand") != "OnDemand":
            continue
        price = _aws_hourly(on_demand.get(sku, {}))
        if price is not None:
            rows.append(_row("aws", shape, region, "on_demand", price_per_instance_hour=price,
                             currency="USD", as_of=today, source=source))  # fmt: skip
        for term in reserved.get(sku, {}).values():
            conditions = term.get("termAttributes", {})
            years = {"1yr": 1, "3yr": 3}.get(conditions.get("LeaseContractLength", ""))
            if years is None or conditions.get("PurchaseOption") != "No Upfront":
                continue
            if conditions.get("OfferingClass") != "standard":
                continue
            hourly = _aws_hourly({"t": term})
            if hourly is not None:
                rows.append(_row("aws", shape, region, f"reserved_{years}y",
                                 price_per_instance_hour=hourly, currency="USD", as_of=today,
                                 source=source + " (standard, no upfront)"))  # fmt: skip
    return rows


def aws_offers(fetch: Fetch, today: date, regions: list[str] | None = None) -> list[OfferRow]:
    """AWS price-list rows for ``regions`` (default: every AWS region in cloud_regions.csv)."""
    chosen = regions or sorted(r.region for (p, _), r in cloud_regions().items() if p == "aws")
    rows: list[OfferRow] = []
    for region in chosen:
        rows += aws_region_offers(_json(fetch, AWS_PRICE_LIST.format(region=region)), region, today)
    return rows


def skypilot_offers(
    fetch: Fetch, today: date, clouds: list[str]
) -> tuple[list[OfferRow], list[str]]:
    """SkyPilot catalog rows of ``clouds`` (aws, azure, gcp, lambda), with skipped-row warnings."""
    from gpuplan.catalog.skypilot import import_skypilot_csv

    rows: list[OfferRow] = []
    warnings: list[str] = []
    for cloud in clouds:
        body = fetch(SKYPILOT_CATALOG.format(cloud=cloud))
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{cloud}-vms.csv"
            path.write_bytes(body)
            result = import_skypilot_csv(path, cloud, as_of=today)
        rows += [
            r.model_copy(update={"source": f"SkyPilot catalog v7/{cloud}/vms.csv, read {today}"})
            for r in result.offers
        ]
        warnings += result.warnings
    return rows, warnings
