"""Scenario inputs in EUR: company finances and ownership sites are converted to USD at the
FX table's dated rate (ECB 1.1269 USD per EUR on 2026-10-06), the rate is named, and money
printed back in EUR round-trips to the numbers written."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gpuplan.cli import app
from gpuplan.currency import display_currency, from_usd, to_usd
from gpuplan.economics.company import CompanySpec
from gpuplan.humanize import money
from gpuplan.scenario.loading import load_scenario
from gpuplan.uncertainty.montecarlo import simulate_spec

ECB = 1.1269  # USD per EUR, fx_rates.csv row of 2026-10-06


def _company(currency: str, scale: float) -> CompanySpec:
    """EUR 2M opening cash, 10 people at EUR 100k a year, a EUR 250k round in month 6."""
    return CompanySpec.model_validate(
        {
            "name": "lab",
            "start": "2026-01",
            "horizon_months": 12,
            "currency": currency,
            "opening_cash": 2_000_000 * scale,
            "people": [
                {"location": "Paris", "headcount": 10, "loaded_cost_per_year": 100_000 * scale}
            ],
            "funding": [{"kind": "equity", "month": "2026-06", "amount": 250_000 * scale}],
        }
    )


def test_company_in_eur_equals_the_same_company_written_in_usd() -> None:
    """Hand calculation: 2.0M + 0.25M - 1.0M = EUR 1.25M at the end of the year, i.e.
    1.25M x 1.1269 = USD 1,408,625; the EUR file and the USD file give the same cash."""
    eur = _company("EUR", 1.0)
    usd = _company("USD", ECB)
    assert eur.currency == "USD" and eur.fx_note is not None
    assert "1.1269 USD per EUR (2026-10-06" in eur.fx_note
    assert eur.opening_cash == pytest.approx(2_000_000 * ECB)
    end = {
        name: simulate_spec(spec, 64, seed=1).to_dict()["cash_at_horizon_end"]["p50"]
        for name, spec in (("eur", eur), ("usd", usd))
    }
    assert end["eur"] == pytest.approx(1_250_000 * ECB, rel=1e-6)
    assert end["eur"] == pytest.approx(end["usd"], rel=1e-12)
    with display_currency("EUR"):
        assert money(end["eur"]) == "\u20ac1.25M"  # printed back in the currency written


def test_company_ranges_scale_with_the_rate() -> None:
    spec = CompanySpec.model_validate(
        {
            "name": "lab",
            "start": "2026-01",
            "horizon_months": 12,
            "currency": "eur",
            "opening_cash": {"low": 1e6, "high": 3e6, "shape": "pert", "mode": 2e6},
        }
    )
    cash = spec.opening_cash
    assert (cash.low, cash.mode, cash.high) == pytest.approx((1e6 * ECB, 2e6 * ECB, 3e6 * ECB))


def test_unknown_input_currency_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"company.currency.*fx_rates.csv"):
        CompanySpec.model_validate(
            {"name": "x", "start": "2026-01", "horizon_months": 12, "opening_cash": 1,
             "currency": "XYZ"}
        )  # fmt: skip


def test_ownership_site_costs_in_eur_reach_the_plan_in_usd() -> None:
    """A Paris site written as EUR 30,000 capex and EUR 5,000 opex per GPU-year becomes an
    owned option at USD 33,807 upfront and USD 5,634.50 a year; its source names the rate."""
    from gpuplan.planning.adapters.supply import ownership_options
    from gpuplan.planning.periods import PeriodGrid

    site = {"site": "paris-1", "country": "FR", "gpu": "h200", "currency": "EUR",
            "capex_per_gpu_usd": 30_000, "opex_per_gpu_year_usd": 5_000}  # fmt: skip
    base = load_scenario("european-lab")
    data = base.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["supply"]["ownership"] = [site]
    scenario = type(base).model_validate(data)
    h = scenario.horizon
    grid = PeriodGrid(h.start, h.periods, h.period, 0.1)
    (option,) = ownership_options(scenario, grid)
    assert option.upfront_per_gpu == pytest.approx(30_000 * ECB)
    assert option.cost_per_gpu_period * 12 / grid.months == pytest.approx(5_000 * ECB)
    assert "EUR inputs at 1.1269 USD per EUR (2026-10-06" in option.source


def test_display_round_trip_at_a_dated_rate() -> None:
    """EUR 2.52 of 2025-06-01 is USD 2.52 x 1.0411 (ECB 2025-02-28) and back again."""
    usd = to_usd(2.52, "EUR", on=date(2025, 6, 1))
    assert usd == pytest.approx(2.52 * 1.0411)
    assert from_usd(usd, "EUR", on=date(2025, 6, 1)) == pytest.approx(2.52)


def test_simulate_prints_the_input_rate(tmp_path: Path) -> None:
    """The mistral preset's company written in EUR: simulate names the rate it used."""
    path = tmp_path / "lab.yaml"
    path.write_text("extends: mistral\ncompany:\n  currency: EUR\n")
    out = CliRunner().invoke(app, ["--currency", "EUR", "simulate", str(path), "-n", "64"])
    assert out.exit_code == 0, out.output
    assert "Company inputs converted to USD: EUR inputs at 1.1269 USD per EUR" in out.output


def test_key_value_tables_convert_rows_labelled_as_money() -> None:
    """A 'quantity / value' table (estimate fleet): rows labelled cost..., price... or ...usd
    hold USD and are printed in EUR; other rows (replicas) are left alone."""
    from gpuplan.cli.common import in_display_currency

    rows = [["cost_per_day_usd", 1126.9], ["replicas", 10.0], ["price_per_gpu_hour", 2.2538]]
    with display_currency("EUR"):
        _, _, cells, caption = in_display_currency("Fleet", ["quantity", "value"], rows)
    assert cells[0][0] == "Cost per day EUR" and cells[0][1] == pytest.approx(1000.0)
    assert cells[1] == ["replicas", 10.0]
    assert cells[2][1] == pytest.approx(2.0)
    assert caption is not None and "1.1269 USD per EUR" in caption


def test_commands_without_a_rate_caption_name_the_rate_at_the_end() -> None:
    """compare prints EUR figures through humanize.money; the rate and date follow once."""
    out = CliRunner().invoke(app, ["--currency", "EUR", "compare", "mistral"])
    assert out.exit_code == 0, out.output
    assert "\u20ac" in out.output
    assert out.output.count("Money in EUR at 1.1269 USD per EUR (2026-10-06") == 1
    plain = CliRunner().invoke(app, ["compare", "mistral"])
    assert "Money in" not in plain.output


def test_other_fx_table_currencies_are_ecb_cross_rates() -> None:
    """ECB 2026-10-06: 1 EUR = 1.1269 USD = 0.84880 GBP, so 1 GBP = 1.1269 / 0.8488 USD."""
    assert to_usd(1.0, "GBP") == pytest.approx(1.1269 / 0.8488, rel=1e-5)
    assert to_usd(178.15, "JPY") == pytest.approx(1.1269, rel=1e-5)  # 178.15 JPY = 1 EUR
    out = CliRunner().invoke(app, ["--currency", "GBP", "tco", "--gpu", "h100", "--site-country",
                                   "DE"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "GBP/useful GPU-h" in out.output and "USD per GBP (2026-10-06" in out.output


def test_global_options_may_follow_the_command() -> None:
    """`gpuplan tco ... --currency GBP --as-of D` prints what `gpuplan --currency GBP --as-of D
    tco ...` prints: the options hold for every command wherever they are written."""
    command = ["tco", "--gpu", "h100", "--site-country", "DE"]
    before = CliRunner().invoke(app, ["--currency", "GBP", "--as-of", "2026-10-06", *command])
    after = CliRunner().invoke(app, [*command, "--currency=GBP", "--as-of", "2026-10-06"])
    assert before.exit_code == after.exit_code == 0, after.output
    assert "GBP/useful GPU-h" in after.output and after.output == before.output


def test_site_costs_use_the_rate_of_supply_prices_as_of() -> None:
    """With supply.prices_as_of 2025-06-01 the EUR site is converted at ECB 1.0411 (2025-02-28),
    as a scenario offer of that date would be."""
    base = load_scenario("european-lab")
    data = base.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["supply"]["prices_as_of"] = "2025-06-01"
    data["supply"]["ownership"] = [
        {"site": "paris-1", "country": "FR", "gpu": "h200", "currency": "EUR",
         "capex_per_gpu_usd": 30_000}
    ]  # fmt: skip
    (site,) = type(base).model_validate(data).supply.ownership
    assert site.capex_per_gpu_usd == pytest.approx(30_000 * 1.0411)
    assert site.fx_note is not None and "(2025-02-28" in site.fx_note


def test_horizon_currency_is_the_default_display_currency(tmp_path: Path) -> None:
    """horizon.currency: EUR prints the scenario's money in EUR with the rate named, unless
    --currency says otherwise; an unknown code is an input error naming the field."""
    path = tmp_path / "lab.yaml"
    path.write_text("extends: mistral\nhorizon:\n  currency: EUR\n")
    runner = CliRunner()
    eur = runner.invoke(app, ["simulate", str(path), "-n", "64"])
    assert eur.exit_code == 0, eur.output
    assert "\u20ac" in eur.output and "USD per EUR (2026-10-06" in eur.output
    usd = runner.invoke(app, ["--currency", "USD", "simulate", str(path), "-n", "64"])
    assert usd.exit_code == 0 and "\u20ac" not in usd.output
    path.write_text("extends: mistral\nhorizon:\n  currency: XAU\n")
    bad = runner.invoke(app, ["simulate", str(path), "-n", "64"])
    assert bad.exit_code == 2 and "horizon" in bad.output and "XAU" in bad.output
