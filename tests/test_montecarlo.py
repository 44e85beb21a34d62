"""Monte Carlo: analytic percentiles, reproducibility, correlations, sensitivity."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from gpuplan.errors import InputError
from gpuplan.presets import company_from_mapping
from gpuplan.uncertainty.montecarlo import evaluate_at, simulate, simulate_spec, tornado
from gpuplan.uncertainty.sampling import sample_inputs


def burning(opening_cash: Any, **extra: Any) -> dict[str, Any]:
    """No revenue, $10,000 a month of costs: runway = opening cash / 10,000 months."""
    return {
        "name": "Burner",
        "start": "2025-01",
        "horizon_months": 240,
        "opening_cash": opening_cash,
        "operating": {"rd_operations_per_year": 120_000},
        **extra,
    }


@pytest.mark.slow
def test_runway_percentiles_of_uniform_cash_match_analytic() -> None:
    """Cash ~ U(600k, 1.2M) -> runway ~ U(60, 120) months: P10 66, P50 90, P90 114.
    Standard error of a quantile = sqrt(p(1-p)/n) / density = 0.095 months at n = 100,000."""
    spec = company_from_mapping(burning({"low": 600_000, "high": 1_200_000, "shape": "uniform"}))
    result = simulate(spec, samples=100_000, seed=7)
    runway = result["runway_months"]
    assert runway["p10"] == pytest.approx(66, abs=0.5)
    assert runway["p50"] == pytest.approx(90, abs=0.5)
    assert runway["p90"] == pytest.approx(114, abs=0.5)
    assert result["prob_cash_out_by_year"][5]["probability"] == pytest.approx(0.2, abs=0.01)
    assert result["prob_cash_out_by_year"][9]["probability"] == pytest.approx(1.0)


@pytest.mark.slow
def test_runway_percentiles_of_lognormal_cash_match_analytic() -> None:
    """Cash lognormal with P05 = 500k, P95 = 2M: runway median sqrt(5e5 x 2e6) / 1e4 = 100
    months; P90 = exp(mu + 1.2816 sigma) / 1e4 with sigma = ln(4) / (2 x 1.6449)."""
    spec = company_from_mapping(burning({"low": 500_000, "high": 2_000_000, "shape": "lognormal"}))
    runway = simulate(spec, samples=100_000, seed=3)["runway_months"]
    sigma = math.log(4) / (2 * stats.norm.ppf(0.95))
    p90 = 100 * math.exp(stats.norm.ppf(0.9) * sigma)
    assert runway["p50"] == pytest.approx(100, rel=0.01)
    assert runway["p90"] == pytest.approx(p90, rel=0.01)


def test_same_seed_same_numbers_and_other_seed_differs() -> None:
    first = simulate("mistral", samples=2_000, seed=11)
    again = simulate("mistral", samples=2_000, seed=11)
    other = simulate("mistral", samples=2_000, seed=12)
    assert first == again
    assert first["runway_months"] != other["runway_months"]


def test_chunking_does_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    import gpuplan.uncertainty.montecarlo as montecarlo

    whole = simulate("mistral", samples=3_000, seed=5)
    monkeypatch.setattr(montecarlo, "CHUNK", 1_000)
    assert simulate("mistral", samples=3_000, seed=5) == whole


def test_gaussian_copula_imposes_the_declared_rank_correlation() -> None:
    """For a Gaussian copula, Spearman rho_s = (6 / pi) asin(rho / 2): 0.582 for rho = 0.6."""
    data = burning(
        {"low": 1e6, "high": 2e6, "shape": "uniform"},
        revenue={"given": [{"name": "r", "per_year": {"low": 1, "high": 9, "shape": "pert"}}]},
        correlations=[{"inputs": ["opening_cash", "revenue.given[0].per_year"], "rho": 0.6}],
    )
    spec = company_from_mapping(data)
    draws = sample_inputs(spec, 50_000, 1, [(c.inputs, c.rho) for c in spec.correlations])
    rank = stats.spearmanr(draws["opening_cash"], draws["revenue.given[0].per_year"])[0]
    assert rank == pytest.approx(6 / math.pi * math.asin(0.3), abs=0.01)


def test_correlation_with_an_unknown_path_is_named() -> None:
    data = burning(
        {"low": 1e6, "high": 2e6, "shape": "uniform"},
        correlations=[{"inputs": ["opening_cash", "revenue.typo"], "rho": 0.5}],
    )
    with pytest.raises(InputError, match=r"correlations\[0\].inputs"):
        simulate(company_from_mapping(data), samples=10)


def test_tornado_moves_runway_by_the_hand_computed_amount() -> None:
    """Cash at its ends (600k, 1.2M) over 10k/month: 60 and 120 months. Costs at their ends
    (5k, 15k a month) with the nominal 900k of cash: 180 and 60 months."""
    data = burning({"low": 600_000, "high": 1_200_000, "shape": "uniform"})
    data["operating"] = {
        "rd_operations_per_year": {"low": 60_000, "high": 180_000, "shape": "uniform"}
    }
    rows = {row["input"]: row for row in tornado(company_from_mapping(data))}
    cash = rows["opening_cash"]
    assert (cash["runway_low"], cash["runway_high"]) == pytest.approx((60, 120))
    cost = rows["operating.rd_operations_per_year"]
    assert (cost["runway_low"], cost["runway_high"]) == pytest.approx((180, 60))
    assert next(iter(rows)) == "operating.rd_operations_per_year"


def test_sobol_finds_the_only_input_that_matters() -> None:
    data = burning({"low": 600_000, "high": 1_200_000, "shape": "uniform"})
    data["revenue"] = {
        "given": [{"name": "r", "per_year": {"low": 0, "high": 1, "shape": "uniform"}}]
    }
    sobol = simulate_spec(company_from_mapping(data), 100, 0, sobol=True, sobol_samples=512).sobol
    assert sobol is not None
    top = sobol[0]
    assert top["input"] == "opening_cash"
    assert top["total"] == pytest.approx(1.0, abs=0.05)
    assert sobol[1]["total"] < 0.01


def test_evaluate_at_rejects_unknown_inputs() -> None:
    spec = company_from_mapping(burning({"low": 1, "high": 2, "shape": "uniform"}))
    with pytest.raises(InputError, match="not uncertain inputs"):
        evaluate_at(spec, [{"nope": 1.0}])
    assert evaluate_at(spec, [{"opening_cash": 2.0}]).cash.shape == (1, 240)
    assert np.isfinite(evaluate_at(spec, [{}]).runway_months[0])
