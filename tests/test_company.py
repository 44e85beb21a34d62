"""Company cash flow: hand-computed months, runway, break-even, and input errors."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from gpuplan.economics.cashflow import cash_flow
from gpuplan.errors import InputError
from gpuplan.presets import company_from_mapping

TOY: dict[str, Any] = {
    "name": "Toy",
    "start": "2025-01",
    "horizon_months": 24,
    "opening_cash": 1_000_000,
    "revenue": {"given": [{"name": "sales", "per_year": 120_000, "gross_margin": 0.75}]},
    "compute": {
        "fleet": [
            {
                "gpu": "h100-sxm",
                "mode": "owned",
                "workload": "training",
                "gpus": 10,
                "start": "2025-03",
                "capex_per_gpu": 4_800,
                "depreciation_years": 4,
                "opex_per_gpu_hour": 0.5,
            },
            {
                "gpu": "a100-80gb",
                "mode": "rented",
                "workload": "inference",
                "gpus": 2,
                "price_per_gpu_hour": 2.0,
                "utilisation": 0.5,
            },
        ]
    },
    "people": [{"location": "Paris", "headcount": 2, "loaded_cost_per_year": 60_000}],
    "operating": {"rd_operations_per_year": 24_000, "sales_marketing_per_year": 12_000},
    "funding": [
        {
            "kind": "debt",
            "month": "2025-07",
            "amount": 120_000,
            "annual_interest_rate": 0.12,
            "term_months": 12,
        },
        {"kind": "equity", "month": "2026-01", "amount": 50_000},
    ],
}
"""By hand, per month: revenue 10,000; cost of revenue 2,500 (25% of sales) + 1,460 (2 GPUs x
730 h x 50% billed x $2); people 10,000, R&D 2,000, S&M 1,000; from month 2 the 10 owned
GPUs cost 3,650 opex (10 x 730 h x $0.5) + 1,000 depreciation (48,000 / 48 months), and
48,000 of capex is paid in month 2. Debt: +120,000 in month 6, 1,200 interest in months 6-17,
120,000 repaid in month 17. Equity +50,000 in month 12."""


def toy(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(TOY)
    data.update(changes)
    return data


def test_hand_computed_cash_flow_matches_to_the_dollar() -> None:
    flow = cash_flow(company_from_mapping(toy()))
    assert flow.revenue[0, 0] == pytest.approx(10_000)
    assert flow.cost_of_revenue[0, 5] == pytest.approx(3_960)
    assert flow.operating_profit[0, 0] == pytest.approx(-6_960)
    assert flow.operating_profit[0, 2] == pytest.approx(-11_610)
    assert flow.net_burn[0, 2] == pytest.approx(6_960 + 3_650 + 48_000)
    assert flow.interest[0, 6] == pytest.approx(1_200)
    assert flow.interest[0, 18] == 0
    # 1,000,000 - 2 x 6,960 - 58,610 - 21 x 10,610 + 120,000 - 12 x 1,200 - 120,000 + 50,000
    assert round(flow.cash[0, -1]) == 740_260
    assert flow.runway_months[0] == np.inf
    # Year 1: operating costs 12 x 13,000 + 10 x 4,650 = 202,500; cost of revenue is 39.6%
    # of revenue, so break-even revenue = 202,500 / (1 - 0.396).
    assert flow.break_even_revenue_per_year[0, 0] == pytest.approx(202_500 / 0.604)
    assert flow.year_end_labels() == ["2025-12", "2026-12"]


def test_runway_interpolates_the_month_cash_turns_negative() -> None:
    """Opening 100,000: cash 93,040, 86,080, 27,470, 16,860, 6,250, then -4,360 in month 5,
    so runway = 5 + 6,250 / 10,610 months."""
    flow = cash_flow(company_from_mapping(toy(opening_cash=100_000)))
    assert flow.runway_months[0] == pytest.approx(5 + 6_250 / 10_610)


def test_break_even_month_of_doubling_revenue() -> None:
    """Revenue 10,000 x 2^(t/12) against 15,000 of costs: first t >= 12 log2(1.5) = 7.02 is
    t = 8, i.e. the 9th month."""
    data = {
        "name": "Doubling",
        "start": "2025-01",
        "horizon_months": 24,
        "opening_cash": 0,
        "revenue": {"given": [{"name": "sales", "per_year": 120_000, "growth_per_year": 1.0}]},
        "operating": {"rd_operations_per_year": 180_000},
    }
    flow = cash_flow(company_from_mapping(data))
    assert flow.break_even_month[0] == 9


def test_amortising_debt_pays_equal_principal() -> None:
    """120,000 over 12 months: 10,000 principal a month; interest 1% of what is left."""
    data = toy()
    data["funding"] = [
        {
            "kind": "debt",
            "month": "2025-01",
            "amount": 120_000,
            "annual_interest_rate": 0.12,
            "term_months": 12,
            "repayment": "amortising",
        }
    ]
    flow = cash_flow(company_from_mapping(data))
    assert flow.principal[0, :12] == pytest.approx(np.full(12, 10_000))
    assert flow.interest[0, 0] == pytest.approx(1_200)
    assert flow.interest[0, 11] == pytest.approx(100)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"opening_cash": {"low": 5, "high": 1, "shape": "uniform"}},
            "company.opening_cash",
            "greater than high",
        ),
        (
            {"revenue": {"api": [{"name": "x", "tokens_per_day": 1e9, "price_per_million": -2}]}},
            "company.revenue.api[0].price_per_million",
            ">= 0",
        ),
        (
            {"funding": [{"kind": "equity", "month": "2024-06", "amount": 1e8}]},
            "company",
            r"funding\[0\].month \(2024-06\) is before the horizon start",
        ),
        ({"start": "2025-13"}, "company.start", "not a month"),
        ({"typo_field": 1}, "company.typo_field", "unknown field"),
    ],
)
def test_bad_inputs_name_the_field(change: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        company_from_mapping(toy(**change))
    assert caught.value.field == field


def test_unknown_gpu_suggests_a_near_id() -> None:
    data = toy()
    data["compute"]["fleet"][0]["gpu"] = "h100-sx"
    with pytest.raises(InputError, match="Did you mean 'h100-sxm'"):
        company_from_mapping(data)
