"""Price trends: the fit on a small hand-computed fixture, the shipped table against a re-fit,
and the planner's lookup with its fallbacks."""

from __future__ import annotations

import math
from datetime import date

import pytest
from typer.testing import CliRunner

from gpuplan.catalog.trend_fit import PricePoint, fit_generation_pattern, fit_trends
from gpuplan.catalog.trends import (
    fit_catalog_trends,
    generation_pattern,
    price_trend,
    price_trend_row,
    trend_table,
)
from gpuplan.cli import app
from gpuplan.errors import UnknownIdError


def _point(source: str, voice: str, gpu: str, day: str, price: float) -> PricePoint:
    return PricePoint(
        source=source,
        voice=voice,
        gpu=gpu,
        pricing_model="on_demand",
        day=date.fromisoformat(day),
        usd_per_gpu_hour=price,
    )


FIXTURE = [
    # provider A halves its price in two years: (1/2)^(1/2) - 1 = -29.3% per year
    _point("a-x", "A", "x", "2024-01-01", 4.0),
    _point("a-x", "A", "x", "2025-12-31", 2.0),
    # provider B: one flat offer (0%) and one +21% in a year: its voice is the median, +10%/y
    _point("b1-x", "B", "x", "2025-01-01", 3.0),
    _point("b1-x", "B", "x", "2026-01-01", 3.0),
    _point("b2-x", "B", "x", "2025-01-01", 3.0),
    _point("b2-x", "B", "x", "2026-01-01", 3.63),
    # under a year of history: ignored
    _point("c-x", "C", "x", "2025-06-01", 3.0),
    _point("c-x", "C", "x", "2025-09-01", 9.0),
    # A also lists y, the successor of x, at 6.0 on the day x costs 2.0: launch ratio 3.0
    _point("a-y", "A", "y", "2025-12-31", 6.0),
]


def test_trend_fit_on_a_small_fixture() -> None:
    trends = {(t.gpu, t.pricing_model): t for t in fit_trends(FIXTURE)}
    x = trends[("x", "on_demand")]
    years_a = 730 / 365.25
    change_a = 0.5 ** (1 / years_a) - 1  # -29.3%
    # B: median of 0 and ln(1.21)/(365/365.25) per year -> exp(ln(1.21)/2 / 0.99932) - 1
    change_b = math.exp(math.log(1.21) / 2 / (365 / 365.25)) - 1  # +10.0%
    assert x.n_voices == 2
    assert x.annual_change_low == pytest.approx(change_a)
    assert x.annual_change_high == pytest.approx(change_b)
    assert x.annual_change_mid == pytest.approx(
        math.exp((math.log1p(change_a) + math.log1p(change_b)) / 2) - 1
    )
    assert ("y", "on_demand") not in trends  # one dated price is no trend
    assert trends[("*", "on_demand")].n_voices == 2
    pattern = fit_generation_pattern(FIXTURE, {"y": "x"})
    assert pattern is not None and pattern.launch_price_ratio_mid == pytest.approx(3.0)
    assert pattern.annual_change_after_launch_mid is None  # no release years given
    # x released in 2024: A (from 2024) and B (from 2025) start within two years of it
    young = fit_generation_pattern(FIXTURE, {"y": "x"}, {"x": 2024})
    assert young is not None
    assert young.annual_change_after_launch_low == pytest.approx(change_a)
    assert young.annual_change_after_launch_high == pytest.approx(change_b)
    # released in 2020: every source starts more than two years later
    old = fit_generation_pattern(FIXTURE, {"y": "x"}, {"x": 2020})
    assert old is not None and old.annual_change_after_launch_mid is None


def test_shipped_trend_tables_match_a_refit_of_the_shipped_data() -> None:
    """Regenerate with scripts/fit_price_trends.py when offers.csv or price_series.csv change."""
    trends, pattern = fit_catalog_trends()
    shipped = trend_table()
    assert {(t.gpu, t.pricing_model) for t in trends} == set(shipped)
    for t in trends:
        row = shipped[(t.gpu, t.pricing_model)]
        assert row.annual_change_mid == pytest.approx(t.annual_change_mid, abs=1e-9)
        assert row.voices == t.voices
    assert pattern is not None and generation_pattern() is not None
    assert generation_pattern().launch_price_ratio_mid == pytest.approx(  # type: ignore[union-attr]
        pattern.launch_price_ratio_mid
    )


def test_h100_trend_includes_the_published_2023_2024_fall() -> None:
    """Latent Space/SemiAnalysis: $8.00 (2023-08) -> $2.99 (2024-10-07), -56%/y; the range
    of the H100 on-demand fit reaches at least that low."""
    row = price_trend_row("h100", "on_demand")
    assert row.basis == "fitted" and "latent-space-h100-market -56%/y" in row.voices
    low, mid, high = price_trend("h100-sxm", "on_demand")
    assert low <= mid <= high and low <= -0.45


def test_gpu_without_history_gets_the_pooled_row() -> None:
    assert price_trend_row("mi300x", "spot").gpu == "*"


def test_commitment_without_history_follows_its_gpus_market() -> None:
    """A reserved H100 has no reserved history: it takes the H100 on-demand fit (its GPU's
    market, about -17%/y), not the pooled row over every GPU and mode."""
    row = price_trend_row("h100", "reserved_1y")
    assert (row.gpu, row.pricing_model) == ("h100-sxm", "on_demand")
    assert price_trend("h100", "reserved_1y") == price_trend("h100", "on_demand")
    with pytest.raises(UnknownIdError, match="pricing model"):
        price_trend("h100", "monthly")


def test_cli_catalog_trends() -> None:
    out = CliRunner().invoke(app, ["catalog", "trends"])
    assert out.exit_code == 0, out.output
    assert "h100-sxm" in out.output and "launch price" in out.output
