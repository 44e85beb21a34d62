"""Fit rental price trends from dated prices: an annual change with a range, per GPU and
pricing model, and a pattern for new generations. Pure computation (no I/O).

Method (documented in docs/prices-and-ownership.md):

- a *source* is one offer (provider, region, instance type: its dated rows) or one published
  series; its trend is the least-squares slope b of ln(price) on time in years over at least
  ``MIN_SPAN_DAYS``, so each source's own price level cancels out;
- sources of one provider (or one series) are one voice: their median slope;
- per GPU and pricing model, the annual change is exp(median slope over voices) - 1, with the
  range from the lowest to the highest voice;
- GPUs or pricing models without history get the pooled voices of every GPU of that pricing
  model (``basis = pooled``), then of every pricing model;
- the launch price of a generation relative to its predecessor is the ratio of the cheapest
  per-GPU prices one provider lists for both on the same day, pooled over providers; the
  change after launch pools the voices of sources that start within two years of their GPU's
  release.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np
from pydantic import BaseModel, ConfigDict

LAUNCH_WINDOW_YEARS = 2
"""A price source counts as 'after launch' when it starts at most this many calendar years
after the GPU's release year (gpus.csv ``release_year``)."""
MIN_SPAN_DAYS = 365
"""A source needs a year of history: shorter windows annualise noise (5 months of +40% reads
as +119%/y)."""
DAYS_PER_YEAR = 365.25


class PricePoint(BaseModel):
    """One dated price of one source (an offer key or a published series)."""

    model_config = ConfigDict(frozen=True)

    source: str
    voice: str
    gpu: str
    pricing_model: str
    day: date
    usd_per_gpu_hour: float


class PriceTrend(BaseModel):
    """Annual fractional price change (-0.2 = 20% cheaper each year) with its range."""

    model_config = ConfigDict(frozen=True)

    gpu: str
    pricing_model: str
    annual_change_low: float
    annual_change_mid: float
    annual_change_high: float
    n_voices: int
    basis: str
    voices: str


class GenerationPattern(BaseModel):
    """Launch price of a generation as a multiple of its predecessor's, same provider/day."""

    model_config = ConfigDict(frozen=True)

    pricing_model: str
    launch_price_ratio_low: float
    launch_price_ratio_mid: float
    launch_price_ratio_high: float
    n_pairs: int
    pairs: str
    annual_change_after_launch_low: float | None
    annual_change_after_launch_mid: float | None
    annual_change_after_launch_high: float | None
    after_launch_voices: str


def log_slope(points: Sequence[tuple[date, float]]) -> float:
    """Least-squares slope of ln(price) on time, per year."""
    years = np.array([(d - points[0][0]).days / DAYS_PER_YEAR for d, _ in points])
    logs = np.log([p for _, p in points])
    return float(np.polyfit(years, logs, 1)[0])


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(lowest, median, highest). With n voices a new one falls inside with probability
    (n-1)/(n+1) if voices are exchangeable; ``benchmarks/price_trend_holdout.py`` measures it."""
    return min(values), statistics.median(values), max(values)


def voice_slopes(points: Iterable[PricePoint]) -> dict[tuple[str, str], dict[str, float]]:
    """Per (gpu, pricing model): each voice's median slope over its sources with history."""
    by_source: dict[tuple[str, str, str, str], list[tuple[date, float]]] = defaultdict(list)
    for p in points:
        by_source[(p.gpu, p.pricing_model, p.voice, p.source)].append((p.day, p.usd_per_gpu_hour))
    slopes: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for (gpu, model, voice, _), series in by_source.items():
        series.sort()
        if (series[-1][0] - series[0][0]).days >= MIN_SPAN_DAYS:
            slopes[(gpu, model, voice)].append(log_slope(series))
    voices: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for (gpu, model, voice), values in slopes.items():
        voices[(gpu, model)][voice] = statistics.median(values)
    return voices


def _trend(gpu: str, model: str, voices: dict[str, float], basis: str) -> PriceTrend:
    low, mid, high = spread(list(voices.values()))
    return PriceTrend(
        gpu=gpu,
        pricing_model=model,
        annual_change_low=math.expm1(low),
        annual_change_mid=math.expm1(mid),
        annual_change_high=math.expm1(high),
        n_voices=len(voices),
        basis=basis,
        voices="; ".join(f"{v} {math.expm1(s):+.0%}/y" for v, s in sorted(voices.items())),
    )


def fit_trends(points: Sequence[PricePoint]) -> list[PriceTrend]:
    """Fitted rows for every (GPU, pricing model) with history, then pooled ``*`` rows."""
    voices = voice_slopes(points)
    trends = [_trend(gpu, model, v, "fitted") for (gpu, model), v in sorted(voices.items())]
    pooled: dict[str, dict[str, float]] = defaultdict(dict)
    for (gpu, model), v in voices.items():
        for voice, slope in v.items():
            pooled[model][f"{gpu}/{voice}"] = slope
    trends += [
        _trend("*", model, v, f"pooled over every GPU's {model} history")
        for model, v in sorted(pooled.items())
    ]
    everything = {f"{model}/{k}": s for model, v in pooled.items() for k, s in v.items()}
    if everything:
        trends.append(_trend("*", "*", everything, "pooled over every GPU and pricing model"))
    return trends


def after_launch_voices(
    points: Sequence[PricePoint], release_year: dict[str, int], pricing_model: str
) -> dict[str, float]:
    """Voice slopes of sources that start within LAUNCH_WINDOW_YEARS of their GPU's release."""
    first: dict[str, date] = {}
    for p in points:
        first[p.source] = min(first.get(p.source, p.day), p.day)
    young = [
        p
        for p in points
        if p.pricing_model == pricing_model
        and p.gpu in release_year
        and first[p.source].year - release_year[p.gpu] <= LAUNCH_WINDOW_YEARS
    ]
    return {
        f"{gpu}/{voice}": slope
        for (gpu, _), by_voice in sorted(voice_slopes(young).items())
        for voice, slope in by_voice.items()
    }


def fit_generation_pattern(
    points: Sequence[PricePoint],
    previous: dict[str, str],
    release_year: dict[str, int] | None = None,
    pricing_model: str = "on_demand",
) -> GenerationPattern | None:
    """Launch price ratio new / previous generation from same-provider, same-day prices, and
    the annual change of GPUs in their first years (sources starting within
    LAUNCH_WINDOW_YEARS of the GPU's release year)."""
    cheapest: dict[tuple[str, date, str], float] = {}
    for p in points:
        if p.pricing_model != pricing_model:
            continue
        key = (p.voice, p.day, p.gpu)
        cheapest[key] = min(cheapest.get(key, math.inf), p.usd_per_gpu_hour)
    ratios: dict[str, float] = {}
    for (voice, day, gpu), price in sorted(cheapest.items()):
        before = previous.get(gpu)
        if before is not None and (voice, day, before) in cheapest:
            ratios[f"{gpu}/{before} {voice} {day}"] = price / cheapest[(voice, day, before)]
    if not ratios:
        return None
    low, mid, high = spread(list(ratios.values()))
    young = after_launch_voices(points, release_year or {}, pricing_model)
    change = [math.expm1(x) for x in spread(list(young.values()))] if young else [None] * 3
    return GenerationPattern(
        pricing_model=pricing_model,
        launch_price_ratio_low=low,
        launch_price_ratio_mid=mid,
        launch_price_ratio_high=high,
        n_pairs=len(ratios),
        pairs="; ".join(f"{k} {r:.2f}x" for k, r in ratios.items()),
        annual_change_after_launch_low=change[0],
        annual_change_after_launch_mid=change[1],
        annual_change_after_launch_high=change[2],
        after_launch_voices="; ".join(f"{k} {math.expm1(v):+.0%}/y" for k, v in young.items()),
    )
