"""``gpuplan catalog refresh``: fetch public prices, write dated rows into the user's data
directory (never over the shipped catalog), and report what changed.

Each provider's rows go to ``<data dir>/offers/<provider>.csv`` in the shipped layout; rows
already there are kept as history (a row of the same offer and date is replaced). The file is
written to a temporary name and renamed, so a failure at any step leaves the catalog as it
was. :func:`gpuplan.catalog.offers.load_offers` merges these files with the shipped catalog
by the freshness rule.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from gpuplan.catalog.fetchers import (
    Fetch,
    aws_offers,
    azure_offers,
    http_get,
    skypilot_offers,
)
from gpuplan.catalog.offers import (
    Offer,
    OfferRow,
    load_offers,
    read_offer_csv,
    to_usd,
    write_offer_csv,
)
from gpuplan.catalog.user_data import refreshed_offer_dir
from gpuplan.errors import CatalogError, GpuplanError, UnknownIdError

PriceSource = Callable[[Fetch, date], tuple[list[OfferRow], list[str]]]


def _azure(fetch: Fetch, today: date) -> tuple[list[OfferRow], list[str]]:
    rows, unmapped = azure_offers(fetch, today)
    notes = (
        [f"{unmapped} Azure price items in regions not in cloud_regions.csv"] if unmapped else []
    )
    return rows, notes


SOURCES: dict[str, PriceSource] = {
    "azure": _azure,
    "aws": lambda fetch, today: (aws_offers(fetch, today), []),
    "gcp": lambda fetch, today: skypilot_offers(fetch, today, ["gcp"]),
    "lambda": lambda fetch, today: skypilot_offers(fetch, today, ["lambda"]),
    "skypilot": lambda fetch, today: skypilot_offers(
        fetch, today, ["aws", "azure", "gcp", "lambda"]
    ),
}
"""Where each ``--provider`` reads: Azure Retail Prices API (no key), AWS price-list files,
SkyPilot's public catalog CSVs (GCP, Lambda, or all four clouds)."""


class PriceChange(BaseModel):
    """One offer whose current price moved."""

    model_config = ConfigDict(frozen=True)

    offer: str
    old_usd_per_gpu_hour: float
    new_usd_per_gpu_hour: float
    old_as_of: date


class RefreshReport(BaseModel):
    """What a refresh read, added and changed, and where it wrote."""

    model_config = ConfigDict(frozen=True)

    provider: str
    path: str
    rows_read: int
    added: list[str]
    changed: list[PriceChange]
    unchanged: int
    warnings: list[str]


def _label(offer: OfferRow) -> str:
    return (
        f"{offer.provider} {offer.instance_type} ({offer.gpus_per_instance} GPUs) "
        f"{offer.region} {offer.pricing_model}"
    )


def diff_offers(
    current: list[Offer], fresh: list[Offer]
) -> tuple[list[str], list[PriceChange], int]:
    """Offers new to the catalog, offers whose price moved (> 0.5%), and the unchanged count."""
    known = {o.key: o for o in current}
    added, changed, same = [], [], 0
    for offer in fresh:
        old = known.get(offer.key)
        if old is None:
            added.append(_label(offer))
        elif abs(offer.usd_per_gpu_hour / old.usd_per_gpu_hour - 1) > 0.005:
            changed.append(
                PriceChange(
                    offer=_label(offer),
                    old_usd_per_gpu_hour=old.usd_per_gpu_hour,
                    new_usd_per_gpu_hour=offer.usd_per_gpu_hour,
                    old_as_of=old.as_of,
                )
            )
        else:
            same += 1
    return added, changed, same


def refresh_offers(
    provider: str, *, fetch: Fetch = http_get, today: date | None = None
) -> RefreshReport:
    """Fetch ``provider``'s public prices and write them as dated rows (see module docs)."""
    name = provider.strip().lower()
    if name not in SOURCES:
        raise UnknownIdError("refresh source", provider, SOURCES)
    day = today or date.today()
    try:
        rows, warnings = SOURCES[name](fetch, day)
        fresh = [to_usd(row) for row in rows]
    except GpuplanError as error:
        raise CatalogError(f"refresh {name} failed, catalog unchanged: {error}") from None
    if not fresh:
        raise CatalogError(
            f"refresh {name} read no GPU offer (the source's layout may have changed); "
            "catalog unchanged."
        )
    added, changed, same = diff_offers(load_offers(), fresh)
    target = refreshed_offer_dir() / f"{name}.csv"
    kept = [
        o
        for o in (read_offer_csv(target) if target.exists() else [])
        if (*o.key, o.as_of) not in {(*f.key, f.as_of) for f in fresh}
    ]
    _write_atomically([*kept, *fresh], target)
    return RefreshReport(
        provider=name,
        path=str(target),
        rows_read=len(fresh),
        added=added,
        changed=changed,
        unchanged=same,
        warnings=warnings,
    )


def _write_atomically(rows: list[Offer], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".csv.tmp")
    try:
        write_offer_csv(rows, temporary)
        read_offer_csv(temporary)  # what is written must load back
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
