"""Offer catalog: provenance, coverage, currency conversion, user overrides, import, audit."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gpuplan.catalog.audit import audit_offers
from gpuplan.catalog.offers import (
    load_offers,
    query_offers,
    read_offer_csv,
    write_offer_csv,
)
from gpuplan.catalog.skypilot import import_skypilot_csv
from gpuplan.catalog.tables import iter_csv, packaged_data
from gpuplan.errors import CatalogError, UnknownIdError
from offer_rows import offer_row, write_offer_rows

REQUIRED_PROVIDERS = {
    "Azure",
    "AWS",
    "GCP",
    "Oracle",
    "CoreWeave",
    "Lambda",
    "Nebius",
    "OVHcloud",
    "Scaleway",
    "Mistral Compute",
}
AZURE_EU_REGIONS = {"westeurope", "northeurope", "francecentral", "germanywestcentral"}
H100_CLASS = {"h100-sxm", "h100-pcie", "h100-nvl", "h200"}


_row = offer_row
_write = write_offer_rows


def test_every_shipped_row_has_source_and_date() -> None:
    """Raw file check, independent of the model: no row without a source or an as-of date."""
    for line, raw in iter_csv(packaged_data("offers.csv")):
        assert raw["source"] and len(raw["source"]) > 10, f"offers.csv line {line}"
        assert raw["as_of"] and date.fromisoformat(raw["as_of"]), f"offers.csv line {line}"
        if raw["is_estimate"] == "true":
            assert raw["derivation"], f"offers.csv line {line}: estimate without derivation"


def test_row_without_source_is_rejected_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "mine.csv", [_row(), _row(instance_type="x", source="")])
    with pytest.raises(CatalogError, match=r"mine.csv line 3: source"):
        read_offer_csv(path)


def test_row_without_date_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path / "mine.csv", [_row(as_of="")])
    with pytest.raises(CatalogError, match=r"line 2: as_of"):
        read_offer_csv(path)


def test_required_providers_and_azure_eu_regions() -> None:
    offers = load_offers()
    assert {o.provider for o in offers} >= REQUIRED_PROVIDERS
    azure_regions = {o.region for o in offers if o.provider == "Azure"}
    assert azure_regions >= AZURE_EU_REGIONS


def test_eu_h100_class_offers_from_three_providers() -> None:
    eu = [o for o in load_offers() if o.region_group == "EU" and o.gpu in H100_CLASS]
    assert len({o.provider for o in eu}) >= 3
    assert {o.country for o in eu} >= {"FR", "DE", "FI"}


def test_mistral_compute_is_a_labelled_estimate() -> None:
    (mistral,) = query_offers(provider="mistral compute")
    assert mistral.gpu == "gb300" and mistral.provider_hq_jurisdiction == "EU"
    assert mistral.is_estimate and mistral.derivation and "ESTIMATE" in mistral.derivation


def test_blackwell_ultra_and_mi355x_have_sourced_non_estimate_offers() -> None:
    """GB300, B300, GB200 and MI355X each have a non-estimate offer; GB200 from three providers."""
    current = [o for o in load_offers() if not o.is_estimate]
    gpus = ("gb300", "gb200", "mi355x")
    providers = {g: {o.provider for o in current if o.gpu == g} for g in gpus}
    assert "Oracle" in providers["gb300"] and "Oracle" in providers["mi355x"]
    assert providers["gb200"] >= {"CoreWeave", "Oracle", "Azure"}
    eu_b300 = query_offers(gpu="b300", provider="verda", pricing="on_demand")
    assert [(o.country, o.provider_hq_jurisdiction) for o in eu_b300] == [("FI", "EU")]


def test_oci_rates_invert_the_transcribed_monthly_costs() -> None:
    """USD/month = GPUs x rate x 744 h + 1024 GB x 0.0425 (migration of 2026-09-10).

    GB300.4: (53611.52 - 43.52) / (4 x 744) = 18.00; MI355X.8: (51230.72 - 43.52) / 5952 = 8.60.
    """
    (gb300,) = query_offers(gpu="gb300", provider="oracle")
    (mi355x,) = query_offers(gpu="mi355x", provider="oracle")
    assert gb300.price_per_gpu_hour == pytest.approx(18.00)
    assert mi355x.price_per_gpu_hour == pytest.approx(8.60)
    assert gb300.as_of == mi355x.as_of == date(2026, 9, 9)


def test_derived_reserved_rows_say_how() -> None:
    reserved = [o for o in load_offers() if o.pricing_model.startswith("reserved")]
    derived = [o for o in reserved if o.is_estimate]
    assert derived and all(o.derivation and "discount rule" in o.source for o in derived)
    # Azure eastus publishes its reservations: 3 years of ND96isr H100 v5 for $1,134,310
    (azure3,) = query_offers(provider="azure", pricing="reserved_3y", country="US")
    assert not azure3.is_estimate
    assert azure3.price_per_gpu_hour == pytest.approx(1134310 / (3 * 8760) / 8, rel=1e-4)
    # AWS 3-year: on-demand 55.04 USD/h x 43.16/98.32 (The Next Platform, 2023) / 8 GPUs
    (aws3,) = query_offers(provider="aws", pricing="reserved_3y", country="US")
    assert aws3.price_per_gpu_hour == pytest.approx(55.04 * 43.16 / 98.32 / 8, rel=1e-6)


def test_eur_price_converts_with_the_dated_rate() -> None:
    """Scaleway H100-SXM-8-80G: EUR 25.3308/h for 8 GPUs at 1.1269 USD/EUR (ECB 2026-10-06)."""
    (row,) = [o for o in query_offers(provider="scaleway") if o.instance_type == "H100-SXM-8-80G"]
    assert row.native_currency == "EUR" and row.fx_as_of == date(2026, 10, 6)
    assert row.price_per_gpu_hour == pytest.approx(25.3308 / 8 * 1.1269)
    assert row.commitment_months == 0


def test_commitment_months_by_pricing_model() -> None:
    months = {o.pricing_model: o.commitment_months for o in load_offers() if not o.term_months}
    assert months["on_demand"] == 0 and months["spot"] == 0
    assert months["reserved_1y"] == 12 and months["reserved_3y"] == 36
    assert months["capacity_block"] == 1


def test_query_sorts_cheapest_first_and_rejects_unknown_filters() -> None:
    rows = query_offers(gpu="H100", region_group="eu", pricing="on-demand")
    prices = [o.usd_per_gpu_hour for o in rows]
    assert prices == sorted(prices) and all(o.region_group == "EU" for o in rows)
    with pytest.raises(UnknownIdError, match="region group"):
        query_offers(region_group="europe")
    with pytest.raises(UnknownIdError, match="pricing model"):
        query_offers(pricing="reserved")


def test_user_csv_overrides_and_extends(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "negotiated.csv",
        [_row(), _row(provider="MyColo", instance_type="rack-7", region="fr-par")],
    )
    offers = load_offers(path)
    same_key = [
        o for o in offers if o.provider == "Scaleway" and o.instance_type == "H100-SXM-8-80G"
    ]
    assert len(same_key) == 1 and same_key[0].native_price_per_gpu_hour == 2.00
    assert any(o.provider == "MyColo" for o in offers)
    assert len(offers) == len(load_offers()) + 1


def test_inconsistent_instance_and_gpu_price_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.csv", [_row(price_per_instance_hour="20")])
    with pytest.raises(CatalogError, match=r"line 2: .*disagrees"):
        read_offer_csv(path)


def test_unknown_currency_is_an_error_not_a_price(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.csv", [_row(currency="XAU")])
    with pytest.raises(CatalogError, match=r"line 2: No exchange rate for currency 'XAU'"):
        read_offer_csv(path)


VMS_HEADER = (
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,SpotPrice,Region,"
    "AvailabilityZone\n"
)
VMS = (
    VMS_HEADER
    + """p5.48xlarge,H100,8,192,2048,55.04,26.5,us-east-1,us-east-1a
p5.48xlarge,H100,8,192,2048,55.04,25.1,us-east-1,us-east-1b
p5en.48xlarge,H200,8,192,2048,67.7267,,eu-north-1,eu-north-1a
m5.large,,,2,8,0.096,0.04,us-east-1,us-east-1a
p5.48xlarge,H100,eight,192,2048,55.04,,us-east-2,us-east-2a
"""
)


def test_skypilot_import_round_trips(tmp_path: Path) -> None:
    vms = tmp_path / "vms.csv"
    vms.write_text(VMS)
    result = import_skypilot_csv(vms, "aws", as_of=date(2026, 11, 1))
    assert result.rows_read == 5 and result.rows_without_accelerator == 1
    assert result.warnings == [
        "vms.csv line 6: AcceleratorCount must be a whole number >= 1 (got 'eight'); row skipped."
    ]
    priced = {(o.instance_type, o.region, o.pricing_model): o for o in result.offers}
    assert priced[("p5.48xlarge", "us-east-1", "spot")].price_per_gpu_hour == pytest.approx(
        25.1 / 8
    )
    out = write_offer_csv(result.offers, tmp_path / "offers.csv")
    back = {(o.instance_type, o.region, o.pricing_model): o for o in read_offer_csv(out)}
    assert back.keys() == priced.keys()
    for key, offer in priced.items():
        assert back[key].price_per_instance_hour == pytest.approx(offer.price_per_instance_hour)
        assert back[key].country == offer.country and back[key].gpu == offer.gpu
    assert back[("p5en.48xlarge", "eu-north-1", "on_demand")].country == "SE"


def test_skypilot_strict_rejects_malformed_row(tmp_path: Path) -> None:
    vms = tmp_path / "vms.csv"
    vms.write_text(VMS)
    with pytest.raises(CatalogError, match=r"vms.csv line 6: AcceleratorCount"):
        import_skypilot_csv(vms, "aws", strict=True)


def test_audit_flags_stale_outliers_and_placeholder_sources(tmp_path: Path) -> None:
    rows = [
        _row(instance_type=f"i{k}", price_per_gpu_hour=str(p), currency="USD")
        for k, p in enumerate([2.0, 2.2, 2.4, 9.0])
    ]
    rows.append(_row(instance_type="old", as_of="2024-01-01", currency="USD", source="unknown"))
    offers = read_offer_csv(_write(tmp_path / "a.csv", rows))
    report = audit_offers(offers, max_age_days=365, today=date(2026, 11, 29))
    # median of the four recent prices 2.0, 2.2, 2.4, 9.0 is 2.3; 9.0 / 2.3 = 3.9 > 3
    assert [f.instance_type for f in report.outliers] == ["i3"]
    assert [f.instance_type for f in report.stale] == ["old"]
    assert [f.instance_type for f in report.unsourced] == ["old"]
    assert not report.ok


def test_audit_tells_a_searched_stale_row_from_an_unsearched_one(tmp_path: Path) -> None:
    """A stale row whose notes record a search that found nothing newer carries that date."""
    searched = "checked 2026-11-01: no newer public figure found; checked 2026-12-02: no newer"
    rows = [
        _row(instance_type="looked", as_of="2025-01-01", notes=f"{searched} public figure"),
        _row(instance_type="forgotten", as_of="2025-01-01", notes="snapshot date not stated"),
    ]
    report = audit_offers(read_offer_csv(_write(tmp_path / "a.csv", rows)), today=date(2026, 12, 2))
    found = {f.instance_type: f for f in report.stale}
    assert found["looked"].checked_on == date(2026, 12, 2)
    assert found["looked"].reason == (
        "700 days old (limit 365); checked 2026-12-02: no newer public figure"
    )
    assert found["forgotten"].checked_on is None
    assert "no search recorded" in found["forgotten"].reason
    assert [f.instance_type for f in report.stale_unchecked] == ["forgotten"]


def test_every_stale_shipped_row_records_its_search() -> None:
    """The shipped catalog: an old price is old because nothing newer is public, and says so."""
    report = audit_offers(load_offers(), today=date(2026, 12, 2))
    assert report.stale and report.stale_unchecked == []


def test_provider_filter_takes_the_aliases_of_the_provider_table() -> None:
    """providers.csv: ``oci`` is Oracle, ``together`` is Together AI, ``datacrunch`` is Verda."""
    assert {o.provider for o in query_offers(provider="oci")} == {"Oracle"}
    assert {o.provider for o in query_offers(provider="together")} == {"Together AI"}
    assert {o.provider for o in query_offers(provider="datacrunch")} == {"Verda"}
    with pytest.raises(UnknownIdError, match="provider"):
        query_offers(provider="hal-9000")
