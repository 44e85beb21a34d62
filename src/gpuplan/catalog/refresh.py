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


UNDATED_SOURCES = {"gcp", "lambda", "skypilot"}
"""Sources without a date of their own (SkyPilot's catalog CSVs): rows get the refresh day."""
DISAGREEMENT = 0.10
"""Relative gap between an undated snapshot and a provider's own dated price worth a warning."""


def snapshot_disagreements(current: list[Offer], fresh: list[Offer], day: date) -> list[str]:
    """Warnings where an undated snapshot row (dated ``day``) differs by more than 10% from
    the same provider's own price for that GPU and pricing model dated within the past year:
    the snapshot may be the older figure, yet it now counts as the newest."""
    own: dict[tuple[str, str, str], Offer] = {}
    for offer in current:
        recent = (day - offer.as_of).days <= 365
        if recent and not offer.source.startswith("SkyPilot"):
            key = (offer.provider, offer.gpu, offer.pricing_model)
            if key not in own or offer.as_of > own[key].as_of:
                own[key] = offer
    notes = []
    for row in fresh:
        mine = own.get((row.provider, row.gpu, row.pricing_model))
        if mine and abs(row.usd_per_gpu_hour / mine.usd_per_gpu_hour - 1) > DISAGREEMENT:
            notes.append(
                f"{_label(row)}: the undated snapshot says ${row.usd_per_gpu_hour:.2f}/GPU-h, "
                f"{row.provider}'s own {mine.instance_type} ${mine.usd_per_gpu_hour:.2f} of "
                f"{mine.as_of}; the snapshot may be older but now counts as current: check it."
            )
    return notes


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
    current = load_offers()
    added, changed, same = diff_offers(current, fresh)
    if name in UNDATED_SOURCES:
        warnings = [*warnings, *snapshot_disagreements(current, fresh, day)]
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
