"""Ownership cost and rent vs own: hand calculations, provenance, published-range checks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gpuplan.catalog.ownership_data import country_parameter, gpu_parameter
from gpuplan.catalog.tables import iter_csv, packaged_data
from gpuplan.cli import app
from gpuplan.economics.ownership import (
    annual_capital_cost,
    annual_energy_kwh,
    capital_recovery_factor,
    ownership_cost,
    residual_fraction,
)
from gpuplan.economics.rent_vs_own import break_even_utilisation, payback_years, rent_vs_own
from gpuplan.errors import InputError, UnknownIdError


@pytest.mark.parametrize("name", ["ownership.csv", "countries.csv"])
def test_every_ownership_parameter_has_source_and_date(name: str) -> None:
    for line, raw in iter_csv(packaged_data(name)):
        assert raw["source"] and len(raw["source"]) > 10, f"{name} line {line}"
        assert raw["as_of"] and date.fromisoformat(raw["as_of"]), f"{name} line {line}"


def test_capital_recovery_factor_by_hand() -> None:
    # 10% over 5 years: 0.1 x 1.61051 / 0.61051 = 0.263797 (standard annuity table value)
    assert capital_recovery_factor(0.10, 5) == pytest.approx(0.263797, abs=1e-6)
    assert capital_recovery_factor(0.0, 4) == 0.25
    # $1000 at 10% over 2 years, no residual: 1000 x 0.1 x 1.21 / 0.21 = 576.19 per year
    assert annual_capital_cost(1000, 0.10, 2, 0.0) == pytest.approx(576.190476)
    # with $210 back after 2 years: 576.19 - 210 x 0.1 / 0.21 = 476.19
    assert annual_capital_cost(1000, 0.10, 2, 210.0) == pytest.approx(476.190476)
    assert residual_fraction(0.5, 2) == 0.25


def test_power_cost_by_hand() -> None:
    # 700 W x 1.82 x 0.75 x PUE 1.3 = 1.24215 kW average -> x 8760 h = 10,881.2 kWh/year
    assert annual_energy_kwh(700, 1.82, 0.75, 1.3) == pytest.approx(10881.234)
    cost = ownership_cost("h100", "US", 1.0, 5, electricity_price_per_kwh_usd=0.10)
    assert cost.opex_breakdown_usd["power"] == pytest.approx(1088.1234, rel=1e-6)


def test_ownership_adds_up_and_scales_with_n_gpus() -> None:
    cost = ownership_cost("h100-sxm", "FR", utilisation=0.5, years=4, n_gpus=1000)
    assert cost.capex_per_gpu_usd == pytest.approx(38750 + 4250 + 1500)
    assert cost.annual_cost_per_gpu_usd == pytest.approx(
        cost.annual_capital_cost_per_gpu_usd + cost.annual_opex_per_gpu_usd
    )
    assert cost.cost_per_gpu_hour == pytest.approx(cost.annual_cost_per_gpu_usd / (8760 * 0.5))
    assert sum(cost.cost_per_gpu_hour_breakdown.values()) == pytest.approx(cost.cost_per_gpu_hour)
    assert cost.capex_total_usd == pytest.approx(1000 * cost.capex_per_gpu_usd)
    assert cost.residual_value_fraction == pytest.approx(0.67**4)
    assert all(p.source and p.as_of for p in cost.inputs)


def test_h100_owned_in_eu_lands_in_the_justified_range() -> None:
    """docs/prices-and-ownership.md: $1.8-2.6 per useful GPU-hour at 4-5 years and 90%.

    Public anchors: SemiAnalysis-style all-in H100 cluster TCO ~$1.3-2.0/h; Latent Space
    ('$2 H100s', 2024) puts the capex-recovery floor at ~$1.65/h; our capex is the Aug-2024
    quote (~$44.5k/GPU incl. network) financed at 10%, which places us at the upper end.
    """
    for country in ("FR", "DE", "FI", "SE", "NL", "IE"):
        for years in (4, 5):
            hourly = ownership_cost("h100", country, utilisation=0.9, years=years).cost_per_gpu_hour
            assert 1.8 <= hourly <= 2.6, (country, years, hourly)


def test_report_one_dollar_claim_is_recomputed() -> None:
    """Report 10.2: '$2-4.50/hour per GPU vs ~$1/hour ownership cost', '2.5-3x markup'."""
    result = rent_vs_own("h100", "FR", utilisation=0.9, years=5)
    check = result.claim_check
    assert check.implied_markup_range == (2.0, 4.5)  # the report's own numbers give 2-4.5x
    assert check.recomputed_owned_cost_per_hour > 1.5  # ~$1/h omits power, facility, capital
    low, high = check.recomputed_markup_on_claimed_prices
    assert low < 1.2 and high < 2.5  # the claimed cloud prices are < 2.5x a full ownership cost


def test_break_even_utilisation_by_hand() -> None:
    # owning $17,520/year vs renting at $4/GPU-h: 17,520 / (8760 x 4) = 0.5
    assert break_even_utilisation(17520, 4.0) == 0.5
    assert payback_years(40000, 30000, 10000) == 2.0
    assert payback_years(40000, 9000, 10000) is None


def test_rent_vs_own_alternatives_are_consistent() -> None:
    result = rent_vs_own("h100", "DE", utilisation=0.7, years=5)
    owned = result.ownership
    models = {a.pricing_model for a in result.alternatives}
    assert {"on_demand", "spot", "reserved_1y", "reserved_3y"} <= models
    for alt in result.alternatives:
        if alt.pay_per_use:
            assert alt.break_even_utilisation == pytest.approx(
                owned.annual_cost_per_gpu_usd / (8760 * alt.price_per_gpu_hour)
            )
            # owning is cheaper exactly when we run above the break-even utilisation
            assert alt.owning_cheaper == (owned.utilisation > alt.break_even_utilisation)
        else:
            assert alt.break_even_utilisation is None
        assert alt.markup_over_owning == pytest.approx(
            alt.rent_per_useful_gpu_hour / owned.cost_per_gpu_hour
        )
    on_demand = next(a for a in result.alternatives if a.pricing_model == "on_demand")
    assert on_demand.same_region_group and on_demand.region_group == "EU"


def test_tpu_v5p_ownership_is_available_and_labelled() -> None:
    cost = ownership_cost("tpu-v5p", "US", utilisation=0.8)
    assert cost.cost_per_gpu_hour > 0
    assert gpu_parameter("tpu-v5p", "server_usd_per_gpu").is_estimate


def test_country_fallback_and_errors() -> None:
    assert country_parameter("BE", "electricity_price_per_kwh").source.startswith("EU average")
    assert country_parameter("UK", "electricity_price_per_kwh").value == 0.25
    with pytest.raises(UnknownIdError, match="country"):
        ownership_cost("h100", "ZZ")
    with pytest.raises(InputError, match="utilisation"):
        ownership_cost("h100", "FR", utilisation=1.5)
    with pytest.raises(UnknownIdError, match="owned accelerator"):
        ownership_cost("l40s", "FR")


def test_cli_tco_and_offers_json() -> None:
    runner = CliRunner()
    out = runner.invoke(
        app, ["tco", "--gpu", "h100-sxm", "--country", "FR", "--utilisation", "0.7", "--json"]
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["ownership"]["cost_per_gpu_hour"] > 0 and payload["alternatives"]
    offers = json.loads(runner.invoke(app, ["catalog", "offers", "--json"]).output)["offers"]
    providers = {o["provider"] for o in offers}
    assert {"Azure", "AWS", "GCP", "Oracle", "CoreWeave", "Lambda", "Nebius"} <= providers
    assert {"OVHcloud", "Scaleway", "Mistral Compute"} <= providers
    bad = runner.invoke(app, ["tco", "--gpu", "h100", "--country", "FR", "--utilisation", "2"])
    assert bad.exit_code == 2 and "utilisation" in bad.output


def test_region_group_preference_keeps_offers_priced_for_all_locations(tmp_path: Path) -> None:
    """A US owner: the US row ($6) and the GLOBAL row ($1.50, one price for all of the
    provider's locations) are candidates; the cheaper EU row ($1.00) is not."""
    from gpuplan.catalog.offers import read_offer_csv
    from offer_rows import offer_row, write_offer_rows

    def row(provider: str, region: str, country: str, group: str, price: str) -> dict[str, str]:
        return offer_row(
            provider=provider, instance_type="x", region=region, city="", country=country,
            region_group=group, price_per_gpu_hour=price, currency="USD",
        )  # fmt: skip

    rows = [
        row("Azure", "eastus2", "US", "US", "6.00"),
        row("TensorWave", "(global)", "", "GLOBAL", "1.50"),
        row("Scaleway", "fr-par", "FR", "EU", "1.00"),
    ]
    offers = read_offer_csv(write_offer_rows(tmp_path / "o.csv", rows))
    result = rent_vs_own("h100", "US", 0.6, offers=offers, as_of=date(2026, 12, 1))
    cheapest, median = result.alternatives[:2]
    assert cheapest.provider == "TensorWave" and cheapest.price_per_gpu_hour == 1.50
    assert median.n_offers == 2 and median.price_per_gpu_hour == pytest.approx(3.75)
