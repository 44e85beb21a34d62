"""Freshness rule (latest row per offer is current, older rows are history), --as-of, the
rent-or-own offer filters and spread, and money in EUR."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gpuplan.catalog.offers import (
    load_offer_history,
    load_offers,
    prices_as_of,
    query_offers,
    read_offer_csv,
)
from gpuplan.catalog.prices import describe_offer, prefer_fresh, reference_price
from gpuplan.cli import app
from gpuplan.currency import from_usd, to_usd
from gpuplan.economics.rent_vs_own import RENT_ALWAYS, rent_vs_own, verdict
from gpuplan.errors import CatalogError, InfeasibleError, InputError, UnknownIdError
from offer_rows import offer_row, write_offer_rows

SCALEWAY_H100 = offer_row(
    price_per_instance_hour="20.00",
    price_per_gpu_hour="",
    as_of="2026-11-20",
    source="test fixture: a refreshed price",
)
_write = write_offer_rows


def _scaleway(offers: list) -> list:
    return [o for o in offers if o.provider == "Scaleway" and o.instance_type == "H100-SXM-8-80G"]


def test_newer_refreshed_row_supersedes_and_as_of_restores() -> None:
    """Shipped: EUR 25.3308/h on 2026-10-06. A refreshed EUR 20.00/h row of 2026-11-20 in the
    user's data directory becomes current; --as-of 2026-11-01 gives back the shipped price."""
    _write(Path(os.environ["GPUPLAN_DATA_DIR"]) / "offers" / "scaleway.csv", [SCALEWAY_H100])
    (current,) = _scaleway(load_offers())
    assert current.native_price_per_gpu_hour == pytest.approx(20.00 / 8)
    (before,) = _scaleway(load_offers(as_of=date(2026, 11, 1)))
    assert before.native_price_per_gpu_hour == pytest.approx(25.3308 / 8)
    assert before.as_of == date(2026, 10, 6)
    with prices_as_of(date(2026, 11, 1)):
        (held,) = _scaleway(load_offers())
    assert held.as_of == date(2026, 10, 6)
    assert {o.as_of for o in _scaleway(load_offer_history())} == {
        date(2026, 10, 6),
        date(2026, 11, 20),
    }


def test_shipped_history_restores_the_pre_cut_aws_list_price() -> None:
    """AWS p5.48xlarge us-east-1: $98.32/h (12.29/GPU) before the June 2025 cut (SkyPilot
    catalog), $55.04/h (6.88/GPU) on 2026-11-09 (AWS price API via data-receipts)."""

    def p5(offers: list) -> float:
        (row,) = [
            o
            for o in query_offers(offers, provider="aws", country="US", pricing="on_demand")
            if o.instance_type == "p5.48xlarge" and o.region == "us-east-1"
        ]
        return row.usd_per_gpu_hour

    assert p5(load_offers()) == pytest.approx(6.88)
    assert p5(load_offers(as_of=date(2025, 6, 1))) == pytest.approx(12.29)


def test_history_in_one_file_is_allowed_but_not_a_repeated_date(tmp_path: Path) -> None:
    older = SCALEWAY_H100 | {"as_of": "2026-01-05", "price_per_instance_hour": "24.00"}
    rows = read_offer_csv(_write(tmp_path / "h.csv", [older, SCALEWAY_H100]))
    assert len(rows) == 2
    (current,) = _scaleway(load_offers(tmp_path / "h.csv"))
    assert current.as_of == date(2026, 11, 20)
    with pytest.raises(CatalogError, match=r"line 3: same offer and date as line 2"):
        read_offer_csv(_write(tmp_path / "d.csv", [SCALEWAY_H100, SCALEWAY_H100]))


def test_a_date_before_every_price_is_an_input_error() -> None:
    with pytest.raises(InputError, match="as_of"):
        load_offers(as_of=date(2019, 1, 1))


def test_old_price_is_flagged_with_its_age() -> None:
    """Lambda gpu_1x_a100 is dated 2025-06-01: 548 days before 2026-12-01."""
    (row,) = [
        o for o in query_offers(provider="lambda", country="US") if o.instance_type == "gpu_1x_a100"
    ]
    assert row.staleness(date(2026, 12, 1)) == "548 days old"
    assert row.staleness(date(2025, 12, 1)) is None
    assert "548 days old" in describe_offer(row, date(2026, 12, 1))


def test_fresh_offers_are_preferred_over_an_old_cheaper_one(tmp_path: Path) -> None:
    old = SCALEWAY_H100 | {
        "instance_type": "old",
        "as_of": "2025-01-02",
        "price_per_instance_hour": "8",
    }
    rows = read_offer_csv(_write(tmp_path / "o.csv", [old, SCALEWAY_H100]))
    on = date(2026, 12, 1)
    assert [o.instance_type for o in prefer_fresh(rows, on)] == ["H100-SXM-8-80G"]
    assert [o.instance_type for o in prefer_fresh(rows[:1], on)] == ["old"]
    chosen = reference_price("h100-sxm", on)
    assert chosen is not None and chosen.staleness(on) is None


def test_break_even_above_one_reads_renting_always() -> None:
    # owning $17,520/year vs renting at $1/GPU-h: u* = 17,520 / 8,760 = 2.0 > 100%
    assert verdict(True, 17520 / 8760, False) == RENT_ALWAYS
    assert verdict(True, 0.5, True) == "owning is cheaper above 50% utilisation"


def test_tco_filters_by_provider_jurisdiction_and_shows_the_spread() -> None:
    result = rent_vs_own("h100", "DE", 0.6, 5, jurisdiction="EU", provider="nebius")
    assert result.filters == {"provider": "nebius", "provider_jurisdiction": "EU"}
    named = [a for a in result.alternatives if a.provider_hq_jurisdiction is not None]
    assert named and all(a.provider_hq_jurisdiction == "EU" for a in named)
    on_demand = [a for a in result.alternatives if a.pricing_model == "on_demand"]
    cheapest, median, nebius = (
        next(a for a in on_demand if a.basis == b) for b in ("cheapest", "median", "provider")
    )
    assert nebius.provider == "Nebius"
    assert cheapest.price_per_gpu_hour <= median.price_per_gpu_hour
    eu_prices = sorted(
        o.usd_per_gpu_hour
        for o in query_offers(gpu="h100-sxm", jurisdiction="EU", pricing="on_demand")
        if o.staleness(date.today()) is None
    )
    assert cheapest.price_per_gpu_hour == eu_prices[0]
    assert median.n_offers == len(eu_prices)


@pytest.mark.parametrize(
    ("option", "check"),
    [
        ({"offer_country": "FR"}, lambda a: a.country == "FR"),
        ({"region_group": "US"}, lambda a: a.region_group == "US"),
        ({"pricing": "spot"}, lambda a: a.pricing_model == "spot"),
        ({"provider": "aws"}, lambda a: a.basis != "provider" or a.provider == "AWS"),
    ],
)
def test_each_tco_filter_restricts_the_offers(option: dict, check) -> None:  # type: ignore[no-untyped-def]
    result = rent_vs_own("h100", "DE", 0.6, 5, **option)
    priced = [a for a in result.alternatives if a.basis != "median"]
    assert priced and all(check(a) for a in priced)


def test_tco_filters_fail_clearly() -> None:
    with pytest.raises(UnknownIdError, match="jurisdiction"):
        rent_vs_own("h100", "DE", jurisdiction="Mars")
    with pytest.raises(InfeasibleError, match="No current rental offer"):
        rent_vs_own("h100", "DE", offer_country="PT")


def test_eur_round_trip_at_the_dated_rate() -> None:
    """ECB 2026-10-06: 1 EUR = 1.1269 USD."""
    assert to_usd(100.0, "EUR") == pytest.approx(112.69)
    assert from_usd(112.69, "EUR") == pytest.approx(100.0)
    assert to_usd(from_usd(1234.5, "EUR"), "EUR") == pytest.approx(1234.5)


def test_cli_as_of_and_currency() -> None:
    runner = CliRunner()
    out = runner.invoke(
        app,
        ["--as-of", "2025-06-01", "catalog", "offers", "--provider", "aws", "--country", "US",
         "--gpu", "h100", "--pricing", "on_demand", "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["prices_as_of"] == "2025-06-01"
    prices = {
        o["region"]: o["price_per_gpu_hour"]
        for o in payload["offers"]
        if o["instance_type"] == "p5.48xlarge"
    }
    assert prices["us-east-1"] == pytest.approx(12.29)
    # Scaleway H100-SXM-8-80G: EUR 25.3308/h / 8 GPUs = EUR 3.17 per GPU-hour, printed in EUR
    out = runner.invoke(app, ["--currency", "EUR", "catalog", "offers", "--provider", "scaleway"])
    assert out.exit_code == 0, out.output
    assert "EUR/GPU-h" in out.output and "3.17" in out.output and "1.1269" in out.output
    bad = runner.invoke(app, ["--as-of", "June", "catalog", "offers"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    bad = runner.invoke(app, ["--currency", "XYZ", "catalog", "offers"])
    assert bad.exit_code == 2 and "No exchange rate" in bad.output


def test_scenario_prices_as_of_reproduces_a_date() -> None:
    """supply.prices_as_of 2025-06-01 prices AWS p5.48xlarge us-east-1 at the pre-cut $12.29
    per GPU-hour; without it the current $6.88 is used."""
    from gpuplan.planning.adapters.supply import offer_options
    from gpuplan.planning.periods import PeriodGrid
    from gpuplan.scenario.loading import load_scenario

    base = load_scenario("european-lab")

    def p5_price(overrides: dict) -> float:
        supply = base.supply.model_copy(
            update={"providers": ["AWS"], "pricing_models": ["on_demand"], **overrides}
        )
        scenario = base.model_copy(update={"supply": supply})
        h = scenario.horizon
        grid = PeriodGrid(h.start, h.periods, h.period, 0.1)
        (option,) = [
            o
            for o in offer_options(scenario, grid, {"h100-sxm"})
            if o.id == "aws:us-east-1:h100-sxm:on_demand"
        ]
        return option.cost_per_gpu_period / grid.hours

    assert p5_price({}) == pytest.approx(6.88)
    assert p5_price({"prices_as_of": date(2025, 6, 1)}) == pytest.approx(12.29)


def test_fx_rates_are_dated() -> None:
    """ECB: 1.0411 USD/EUR on 2025-02-28, 1.1269 on 2026-10-06. A EUR price is converted with
    the latest rate on or before its own date, and printed money with the price date's rate."""
    known = query_offers(load_offers(as_of=date(2026, 1, 1)), provider="scaleway")
    (old,) = [o for o in known if o.instance_type == "H100-2-80G"]
    assert old.as_of == date(2025, 6, 1) and old.fx_as_of == date(2025, 2, 28)
    assert old.usd_per_gpu_hour == pytest.approx(2.52 * 1.0411)
    assert from_usd(1.0411, "EUR", on=date(2025, 6, 1)) == pytest.approx(1.0)
    out = CliRunner().invoke(
        app, ["--as-of", "2025-07-01", "--currency", "EUR", "catalog", "offers", "--gpu", "h100"]
    )
    assert out.exit_code == 0 and "1.0411 USD per EUR (2025-02-28" in out.output


def test_cli_tco_states_its_basis_and_verdicts() -> None:
    out = CliRunner().invoke(
        app, ["tco", "--gpu", "h100", "--country", "DE", "--utilisation", "0.6",
              "--provider-jurisdiction", "EU", "--provider", "nebius"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    # EU-headquartered H100 SXM on demand: Verda, Scaleway 2/4/8-GPU, Nebius 1/8-GPU
    assert "Markup basis: markup = rental cost" in out.output and "median of 6" in out.output
    assert "Report claim" not in out.output  # moved to check-report
    # The table wraps long cells to fit the terminal: the verdicts are read from --json.
    answer = json.loads(
        CliRunner().invoke(
            app, ["tco", "--gpu", "h100", "--country", "DE", "--utilisation", "0.6",
                  "--provider-jurisdiction", "EU", "--provider", "nebius", "--json"],
        ).stdout
    )  # fmt: skip
    verdicts = {a["verdict"] for a in answer["alternatives"]}
    assert "renting is cheaper at any utilisation" in verdicts  # Nebius $0.79 spot floor
    assert answer["filters"] == {"provider": "nebius", "provider_jurisdiction": "EU"}


def test_cli_tco_site_country_is_the_owned_side_and_offer_country_filters_rentals() -> None:
    """Own in DE (--site-country), rent only in French data centres (--offer-country FR): the
    owned cost is the DE one (same as the older --country DE) and every rental is in FR."""

    def answer(*args: str) -> dict:
        out = CliRunner().invoke(app, ["tco", "--gpu", "h100", "--json", *args])
        assert out.exit_code == 0, out.output
        return dict(json.loads(out.stdout))

    new = answer("--site-country", "DE", "--offer-country", "FR")
    old = answer("--country", "DE", "--offer-country", "FR")
    assert new["ownership"]["country"] == "DE"
    assert new["ownership"]["cost_per_gpu_hour"] == old["ownership"]["cost_per_gpu_hour"]
    rows = [a for a in new["alternatives"] if a["basis"] != "median"]  # a median has no place
    assert rows and {a["country"] for a in rows} == {"FR"}
    fr = answer("--site-country", "FR")
    assert fr["ownership"]["cost_per_gpu_hour"] != new["ownership"]["cost_per_gpu_hour"]
    clash = CliRunner().invoke(app, ["tco", "--gpu", "h100", "--site-country", "DE",
                                     "--country", "FR"])  # fmt: skip
    assert clash.exit_code == 2 and "disagree" in clash.output
    missing = CliRunner().invoke(app, ["tco", "--gpu", "h100"])
    assert missing.exit_code == 2 and "--site-country" in missing.output


def test_humanize_money_follows_the_display_currency() -> None:
    """$1,126,900 at 1.1269 USD per EUR (ECB 2026-10-06) is EUR 1,000,000."""
    from gpuplan.currency import display_currency
    from gpuplan.humanize import money

    assert money(1_126_900) == "$1.13M"
    with display_currency("EUR"):
        assert money(1_126_900) == "\u20ac1M"
        assert money(1_126_900, "$") == "$1.13M"  # an explicit symbol is not converted
    assert money(1_126_900) == "$1.13M"


def test_planner_options_state_the_age_of_old_prices() -> None:
    """AWS p5 capacity blocks in us-east-1/2 are priced as of 2024-12-31: 700 days before
    2026-12-01; the rate of 2026-09-19 (no region) is not flagged."""
    from gpuplan.planning.adapters.supply import offer_options
    from gpuplan.planning.periods import PeriodGrid
    from gpuplan.scenario.loading import load_scenario

    base = load_scenario("european-lab")
    supply = base.supply.model_copy(
        update={"providers": ["AWS"], "pricing_models": ["capacity_block"]}
    )
    scenario = base.model_copy(update={"supply": supply})
    h = scenario.horizon
    with prices_as_of(date(2026, 12, 1)):
        options = offer_options(
            scenario, PeriodGrid(h.start, h.periods, h.period, 0.1), {"h100-sxm"}
        )
    old = [o for o in options if o.region in ("us-east-1", "us-east-2")]
    assert len(old) == 2 and all("price 700 days old" in o.source for o in old)
    (recent,) = [o for o in options if o not in old]
    assert "days old" not in recent.source


def test_naming_a_provider_keeps_the_region_group_preference() -> None:
    result = rent_vs_own("h100", "DE", 0.6, 5, provider="aws")
    assert result.prefers_region_group and result.notes == []
    cheapest = next(a for a in result.alternatives if a.basis == "cheapest")
    assert cheapest.region_group == "EU"
    assert any(a.basis == "provider" and a.provider == "AWS" for a in result.alternatives)
    only_spot = rent_vs_own("mi300x", "DE", 0.6, 5, provider="scaleway")
    assert only_spot.notes == ["Scaleway has no current mi300x offer matching the other filters."]


def test_scenario_offer_in_eur_is_converted_at_the_dated_rate() -> None:
    """EUR 2.50 per GPU-hour at 1.1269 USD/EUR (ECB 2026-10-06) = USD 2.81725; the option
    says which rate it used. An unknown currency names the field."""
    from gpuplan.planning.adapters.supply import offer_options
    from gpuplan.planning.periods import PeriodGrid
    from gpuplan.scenario.loading import load_scenario
    from gpuplan.scenario.schema import CustomOffer

    base = load_scenario("european-lab")
    h = base.horizon
    grid = PeriodGrid(h.start, h.periods, h.period, 0.1)

    def mine(currency: str) -> list:
        offer = CustomOffer.model_validate(
            {
                "provider": "MyColo", "jurisdiction": "EU", "region": "paris-1",
                "country": "FR", "region_group": "EU", "gpu": "h100",
                "pricing_model": "reserved_1y", "price_per_gpu_hour": 2.5,
                "currency": currency, "source": "quote #7",
            }
        )  # fmt: skip
        supply = base.supply.model_copy(update={"offers": [offer]})
        scenario = base.model_copy(update={"supply": supply})
        with prices_as_of(date(2026, 12, 1)):
            options = offer_options(scenario, grid, {"h100-sxm"})
        return [o for o in options if o.provider == "MyColo"]

    (eur,) = mine("EUR")
    assert eur.cost_per_gpu_period / grid.hours == pytest.approx(2.5 * 1.1269)
    assert "2.5 EUR at 1.1269 USD/EUR of 2026-10-06" in eur.source
    (usd,) = mine("USD")
    assert usd.cost_per_gpu_period / grid.hours == pytest.approx(2.5)
    with pytest.raises(InputError, match=r"supply.offers.0.currency: .*No exchange rate"):
        mine("XAU")  # gold: an ISO code the FX table does not hold


def test_scenario_offers_csv_alone_uses_the_latest_row(tmp_path: Path) -> None:
    """With builtin_offers off, a user CSV's older, cheaper row is history, not an option."""
    from gpuplan.planning.adapters.supply import offer_options
    from gpuplan.planning.periods import PeriodGrid
    from gpuplan.scenario.loading import load_scenario

    path = _write(
        tmp_path / "mine.csv",
        [offer_row(as_of="2026-01-05", price_per_gpu_hour="1.00"), offer_row(as_of="2026-11-20")],
    )
    base = load_scenario("european-lab")
    supply = base.supply.model_copy(
        update={"builtin_offers": False, "offers_csv": str(path), "providers": None}
    )
    scenario = base.model_copy(update={"supply": supply})
    h = scenario.horizon
    grid = PeriodGrid(h.start, h.periods, h.period, 0.1)
    (option,) = [o for o in offer_options(scenario, grid, {"h100-sxm"}) if o.provider == "Scaleway"]
    assert option.cost_per_gpu_period / grid.hours == pytest.approx(2.00 * 1.1269)
