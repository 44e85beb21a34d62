"""A plan's costs in the company's books: hand-computed months, nominal books = plan cash."""

from __future__ import annotations

from typing import Any

import pytest

from gpuplan.economics.cashflow import cash_flow
from gpuplan.economics.plan_link import average_pay_per_use_price, company_with_plan, plan_months
from gpuplan.errors import InputError
from gpuplan.planning.api import plan
from gpuplan.presets import company_from_mapping
from gpuplan.uncertainty.montecarlo import simulate

HOURS_PER_QUARTER = 2190.0  # 8,760 / 4
HOURS_PER_MONTH = 730.0


def scenario(reserved: bool) -> dict[str, Any]:
    """100 H100s of EU inference for 4 quarters, on demand at $2/h or reserved at $1.5/h."""
    offers = [
        {"provider": "Nebius", "jurisdiction": "EU", "region": "eu-north1", "country": "FI",
         "region_group": "EU", "gpu": "h100-sxm", "pricing_model": "on_demand",
         "price_per_gpu_hour": 2.0, "source": "test"},
    ]  # fmt: skip
    if reserved:
        offers.append({**offers[0], "pricing_model": "reserved_1y", "price_per_gpu_hour": 1.5})
    return {
        "name": "link",
        "horizon": {"start": "2026-Q1", "periods": 4, "period": "quarter", "discount_rate": 0.0},
        "inference": [
            {
                "id": "chat-eu",
                "model": "mixtral-8x7b",
                "tokens_per_day": 10e9,
                "gpus": ["h100"],
                "residency": "EU",
                "gpus_per_billion_tokens_per_day": {"h100": 10},
            },
        ],
        # Flat prices (no catalog trend), as the hand calculations assume.
        "supply": {"builtin_offers": False, "offers": offers, "price_trend": {"default": 0.0}},
        "company": {
            "name": "Link Lab",
            "start": "2026-01",
            "horizon_months": 12,
            "opening_cash": 10_000_000,
            "compute": {"plan": {"inference_share": 1.0}},
        },
    }


def test_on_demand_plan_becomes_pay_per_use_months() -> None:
    """100 GPUs on demand: each month 100 x 730 = 73,000 GPU-hours, none committed; at the
    plan's own $2/h the books pay 146,000 USD a month, 1,752,000 a year = the plan's cost."""
    data = scenario(reserved=False)
    result = plan(data, baselines=False)
    months = plan_months(result)
    assert [m.month for m in months][:4] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert len(months) == 12
    assert all(m.capacity_gpu_hours == pytest.approx(0.0, abs=1e-6) for m in months)
    assert all(m.demand_gpu_hours == pytest.approx(100 * HOURS_PER_MONTH) for m in months)
    assert average_pay_per_use_price(result) == pytest.approx(2.0)
    spec = company_with_plan(company_from_mapping(data["company"]), result)
    flow = cash_flow(spec)
    assert flow.compute[0] == pytest.approx([146_000.0] * 12)
    assert flow.compute.sum() == pytest.approx(result.total_cost_usd)


def test_reservation_is_kept_and_extra_demand_is_bought_on_demand() -> None:
    """Reserved at $1.5/h: committed 100 x 1.5 x 730 = 109,500 USD a month. With demand
    scaled by 1.2 and on-demand at $3/h, 20 extra GPUs cost 20 x 730 x 3 = 43,800 more."""
    data = scenario(reserved=True)
    data["company"]["compute"]["plan"].update(demand_scale=1.2, on_demand_price_per_gpu_hour=3.0)
    result = plan(data, baselines=False)
    ledger = result.ledger
    assert ledger["committed_usd"].tolist() == pytest.approx([100 * 1.5 * HOURS_PER_QUARTER] * 4)
    assert ledger["pay_per_use_usd"].sum() == pytest.approx(0.0, abs=1e-6)
    spec = company_with_plan(company_from_mapping(data["company"]), result)
    flow = cash_flow(spec)
    assert flow.compute[0] == pytest.approx([109_500.0 + 43_800.0] * 12)


def test_simulate_solves_the_scenario_plan_once_and_is_reproducible(tmp_path) -> None:
    import yaml

    path = tmp_path / "link.yaml"
    path.write_text(yaml.safe_dump(scenario(reserved=True)))
    first = simulate(str(path), samples=200, seed=3)
    assert first["plan"]["status"] == "optimal"
    assert first["plan"]["npv_usd"] == pytest.approx(4 * 100 * 1.5 * HOURS_PER_QUARTER)
    assert simulate(str(path), samples=200, seed=3) == first


def test_unfilled_plan_is_an_error_not_a_zero_cost() -> None:
    spec = company_from_mapping(scenario(reserved=False)["company"])
    with pytest.raises(InputError, match=r"compute\.plan\.months"):
        cash_flow(spec)
