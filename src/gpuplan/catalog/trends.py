"""Rental price trends as data: how a GPU's price moves per year, and how new generations
start, for the planner's price paths and Monte Carlo ranges.

``data/price_trends.csv`` and ``data/price_generation_pattern.csv`` are written by
``scripts/fit_price_trends.py`` from the dated offer history (``offers.csv``) and published
rental-price series (``price_series.csv``, each point with its source), with the method of
:mod:`gpuplan.catalog.trend_fit`. A test re-fits them from the shipped data, so they cannot
drift from it. :func:`price_trend` is the planner's entry point.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from gpuplan.catalog.gpus import get_gpu
from gpuplan.catalog.offers import PRICING_MODELS, Offer, load_offer_history
from gpuplan.catalog.tables import packaged_data, read_table
from gpuplan.catalog.trend_fit import (
    GenerationPattern,
    PricePoint,
    PriceTrend,
    fit_generation_pattern,
    fit_trends,
)
from gpuplan.errors import UnknownIdError

TRENDS_FILE = "price_trends.csv"
PATTERN_FILE = "price_generation_pattern.csv"


class SeriesPoint(BaseModel):
    """One point of a published rental-price series."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    series: str = Field(min_length=1)
    gpu: str
    pricing_model: str
    date: date
    usd_per_gpu_hour: float = Field(gt=0)
    source: str = Field(min_length=10)
    notes: str | None = None


class Generation(BaseModel):
    """A GPU and the one it succeeds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gpu: str
    previous_gpu: str
    source: str = Field(min_length=10)


def published_series() -> list[SeriesPoint]:
    """Published rental-price series (``price_series.csv``)."""
    return read_table(packaged_data("price_series.csv"), SeriesPoint)


def previous_generation() -> dict[str, str]:
    """GPU id -> the GPU id it succeeds (``gpu_generations.csv``)."""
    return {
        g.gpu: g.previous_gpu for g in read_table(packaged_data("gpu_generations.csv"), Generation)
    }


def price_points(history: Iterable[Offer], series: Iterable[SeriesPoint]) -> list[PricePoint]:
    """Dated prices for the fit: every non-estimate offer row and every published point."""
    points = [
        PricePoint(
            source="|".join(o.key),
            voice=o.provider,
            gpu=o.gpu,
            pricing_model=o.pricing_model,
            day=o.as_of,
            usd_per_gpu_hour=o.usd_per_gpu_hour,
        )
        for o in history
        if not o.is_estimate
    ]
    points += [
        PricePoint(
            source=s.series,
            voice=s.series,
            gpu=s.gpu,
            pricing_model=s.pricing_model,
            day=s.date,
            usd_per_gpu_hour=s.usd_per_gpu_hour,
        )
        for s in series
    ]
    return points


def fit_catalog_trends(
    history: Sequence[Offer] | None = None,
) -> tuple[list[PriceTrend], GenerationPattern | None]:
    """Trends and the generation pattern fitted from the offer history and published series."""
    points = price_points(load_offer_history() if history is None else history, published_series())
    from gpuplan.catalog.gpus import list_gpus

    release = {g.id: g.release_year for g in list_gpus()}
    return fit_trends(points), fit_generation_pattern(points, previous_generation(), release)


def write_trend_tables(
    trends: Sequence[PriceTrend], pattern: GenerationPattern | None, folder: Path, fitted_on: date
) -> list[Path]:
    """Write ``price_trends.csv`` and ``price_generation_pattern.csv`` into ``folder``."""
    written = []
    for name, rows in ((TRENDS_FILE, list(trends)), (PATTERN_FILE, [pattern] if pattern else [])):
        path = folder / name
        model = PriceTrend if name == TRENDS_FILE else GenerationPattern
        fields = [*model.model_fields, "fitted_on", "sources"]
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    row.model_dump()
                    | {
                        "fitted_on": fitted_on.isoformat(),
                        "sources": "offers.csv dated rows (non-estimates); price_series.csv",
                    }
                )
        written.append(path)
    return written


class _TrendRow(PriceTrend):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _PatternRow(GenerationPattern):
    model_config = ConfigDict(frozen=True, extra="ignore")


@cache
def trend_table() -> dict[tuple[str, str], PriceTrend]:
    """Shipped trends keyed by (gpu or ``*``, pricing model or ``*``)."""
    rows = read_table(packaged_data(TRENDS_FILE), _TrendRow)
    return {(r.gpu, r.pricing_model): r for r in rows}


def generation_pattern() -> GenerationPattern | None:
    """The shipped launch-price pattern of new generations (on-demand)."""
    rows = read_table(packaged_data(PATTERN_FILE), _PatternRow)
    return rows[0] if rows else None


def price_trend_row(gpu: str, pricing: str) -> PriceTrend:
    """The trend row used for ``gpu`` and ``pricing``: its own fit, else the GPU's on-demand
    fit (a commitment is priced off the same GPU's market), else the pooled rows."""
    if pricing not in PRICING_MODELS:
        raise UnknownIdError("pricing model", pricing, PRICING_MODELS)
    gpu_id = get_gpu(gpu).id
    table = trend_table()
    for key in ((gpu_id, pricing), (gpu_id, "on_demand"), ("*", pricing), ("*", "*")):
        if key in table:
            return table[key]
    raise UnknownIdError("price trend", f"{gpu_id}/{pricing}", [f"{g}/{m}" for g, m in table])


def price_trend(gpu: str, pricing: str = "on_demand") -> tuple[float, float, float]:
    """(low, mid, high) annual fractional price change of renting ``gpu`` under ``pricing``
    (-0.2 = 20% cheaper each year), from :func:`price_trend_row`."""
    row = price_trend_row(gpu, pricing)
    return row.annual_change_low, row.annual_change_mid, row.annual_change_high
