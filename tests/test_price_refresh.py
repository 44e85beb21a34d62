"""`catalog refresh`: fetchers run against the responses in tests/fixtures/refresh (recorded
excerpts of SkyPilot's GCP and Lambda vms.csv, an Azure Retail Prices API page and an AWS
price-list region file; a second Azure page and the AWS reserved terms are hand-written, see the
README there); nothing here touches the network."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from gpuplan.catalog.fetchers import AWS_PRICE_LIST, aws_region_offers
from gpuplan.catalog.offers import load_offer_history, load_offers, read_offer_csv
from gpuplan.catalog.refresh import refresh_offers
from gpuplan.catalog.user_data import refreshed_offer_dir
from gpuplan.errors import CatalogError, UnknownIdError

FIXTURES = Path(__file__).parent / "fixtures" / "refresh"
DAY = date(2026, 12, 1)
EMPTY_AWS = b'{"products": {}, "terms": {}}'


def fake_fetch(url: str) -> bytes:
    """Serve the recorded responses by URL."""
    if url.startswith("https://prices.azure.com/api/retail/prices?$skip=100"):
        return (FIXTURES / "azure_page2.json").read_bytes()
    if url.startswith("https://prices.azure.com/api/retail/prices?$filter="):
        return (FIXTURES / "azure_page1.json").read_bytes()
    if url == AWS_PRICE_LIST.format(region="us-east-1"):
        return (FIXTURES / "aws_us-east-1.json").read_bytes()
    if url.startswith("https://pricing.us-east-1.amazonaws.com/"):
        return EMPTY_AWS
    if url.endswith("/gcp/vms.csv"):
        return (FIXTURES / "skypilot_gcp_vms.csv").read_bytes()
    if url.endswith("/lambda/vms.csv"):
        return (FIXTURES / "skypilot_lambda_vms.csv").read_bytes()
    raise AssertionError(f"unexpected URL {url}")


def _azure_westeurope(offers: list) -> list:
    return [
        o
        for o in offers
        if o.provider == "Azure"
        and o.region == "westeurope"
        and o.instance_type == "Standard_ND96isr_H100_v5"
        and o.pricing_model == "on_demand"
    ]


def test_azure_recorded_page_reads_spot_from_the_meter_name() -> None:
    """Recorded eastus ND96isr H100 v5 items (2026-09-16): Linux $98.32/h, spot $18.169536/h
    (the spot meter says "Spot" in meterName only), Windows $102.736 and Windows low priority
    $41.094 are not offers."""
    report = refresh_offers("azure", fetch=fake_fetch, today=DAY)
    rows = {(o.region, o.pricing_model): o for o in read_offer_csv(Path(report.path))}
    eastus = {model for (region, model) in rows if region == "eastus"}
    assert eastus == {"on_demand", "spot", "reserved_1y"}
    assert rows[("eastus", "on_demand")].price_per_instance_hour == pytest.approx(98.32)
    assert rows[("eastus", "spot")].price_per_instance_hour == pytest.approx(18.169536)


def test_azure_refresh_writes_dated_rows_that_supersede_and_reports_changes() -> None:
    """westeurope ND96isr H100 v5: $15.98/GPU-h shipped (Qovery, 2026-09-01); the second
    (hand-written) page says $110.00/h / 8 = $13.75. Windows meters and unknown regions are
    left out."""
    report = refresh_offers("azure", fetch=fake_fetch, today=DAY)
    assert report.rows_read == 4  # eastus on-demand, spot, 1-year reservation; westeurope
    assert report.warnings == ["1 Azure price items in regions not in cloud_regions.csv"]
    (change,) = [c for c in report.changed if "westeurope" in c.offer]
    assert change.old_usd_per_gpu_hour == pytest.approx(15.98)
    assert change.new_usd_per_gpu_hour == pytest.approx(110.0 / 8)
    (now,) = _azure_westeurope(load_offers())
    assert now.as_of == DAY and now.usd_per_gpu_hour == pytest.approx(13.75)
    (before,) = _azure_westeurope(load_offers(as_of=date(2026, 11, 30)))
    assert before.usd_per_gpu_hour == pytest.approx(15.98)
    rows = {(o.region, o.pricing_model): o for o in read_offer_csv(Path(report.path))}
    # a reservation's retailPrice is the whole term: 537,000 / 8,760 h / 8 GPUs
    assert rows[("eastus", "reserved_1y")].price_per_gpu_hour == pytest.approx(537000 / 8760 / 8)
    assert rows[("eastus", "spot")].price_per_gpu_hour == pytest.approx(18.169536 / 8)
    assert Path(report.path).parent == refreshed_offer_dir()


def test_refresh_keeps_history_across_runs() -> None:
    refresh_offers("azure", fetch=fake_fetch, today=DAY)
    report = refresh_offers("azure", fetch=fake_fetch, today=date(2026, 12, 15))
    dates = {o.as_of for o in _azure_westeurope(read_offer_csv(Path(report.path)))}
    assert dates == {DAY, date(2026, 12, 15)}
    assert report.changed == []  # same prices as two weeks earlier
    history = _azure_westeurope(load_offer_history())
    assert {o.as_of for o in history} >= {date(2026, 9, 1), DAY, date(2026, 12, 15)}


def test_aws_price_list_rows() -> None:
    """Recorded us-east-1 file of 2026-09-10: p5.48xlarge Linux shared $55.04/h on demand,
    p4d.24xlarge $21.957642/h (the shipped 2026-11-09 row's $2.7447/GPU-h); the $0.00 Capacity
    Block p5 product, Windows, SQL, dedicated and CPU instances are not offers. With the
    hand-written reserved terms: $36.16/h 1-year standard no-upfront, all-upfront left out."""
    document = json.loads((FIXTURES / "aws_us-east-1.json").read_text())
    rows = {
        (o.instance_type, o.pricing_model): o for o in aws_region_offers(document, "us-east-1", DAY)
    }
    assert set(rows) == {("p5.48xlarge", "on_demand"), ("p4d.24xlarge", "on_demand")}
    assert rows[("p5.48xlarge", "on_demand")].price_per_gpu_hour == pytest.approx(55.04 / 8)
    assert rows[("p4d.24xlarge", "on_demand")].price_per_gpu_hour == pytest.approx(2.7447, abs=1e-4)
    document["terms"].update(json.loads((FIXTURES / "aws_reserved_terms.json").read_text()))
    rows = {
        (o.instance_type, o.pricing_model): o for o in aws_region_offers(document, "us-east-1", DAY)
    }
    assert rows[("p5.48xlarge", "reserved_1y")].price_per_gpu_hour == pytest.approx(36.16 / 8)
    assert ("p5.48xlarge", "reserved_3y") not in rows
    report = refresh_offers("aws", fetch=fake_fetch, today=DAY)
    assert report.rows_read == 2


def test_gcp_refresh_prices_accelerator_rows_with_their_host_vm() -> None:
    """Recorded catalogs/v7/gcp/vms.csv rows: GCP lists H100 x8 ($33.60609/h in us-central1)
    apart from its a3-highgpu-8g host ($9.46006/h); together $43.06615/h, the value of the
    shipped cloud_prices.csv row from the same snapshot. Spot: 18.024 + 2.17547."""
    report = refresh_offers("gcp", fetch=fake_fetch, today=DAY)
    rows = {
        (o.instance_type, o.region, o.pricing_model): o for o in read_offer_csv(Path(report.path))
    }
    a3 = rows[("a3-highgpu-8g", "us-central1", "on_demand")]
    assert a3.gpu == "h100-sxm" and a3.gpus_per_instance == 8
    assert a3.price_per_instance_hour == pytest.approx(33.60609 + 9.46006)
    assert rows[("a3-highgpu-8g", "us-central1", "spot")].price_per_instance_hour == (
        pytest.approx(18.024 + 2.17547)
    )
    shipped = {
        (o.instance_type, o.region): o.price_per_instance_hour
        for o in load_offer_history()
        if o.provider == "GCP" and o.pricing_model == "on_demand" and "017e2502" in o.source
    }
    for region in ("us-central1", "europe-west4"):
        fresh = rows[("a3-highgpu-8g", region, "on_demand")].price_per_instance_hour
        assert fresh == pytest.approx(shipped[("a3-highgpu-8g", region)])


def test_gcp_tpu_slices_count_chips_and_placeholders_are_skipped() -> None:
    """tpu-v5p-12288 counts TensorCores (2 per chip): 6,144 chips at $25,804.80/h = $4.20 per
    chip-hour; tpu-v6e-8 counts chips: $21.60 / 8 = $2.70. The asia-east1 row priced
    700.0/700.0 and the H200 row whose a3-ultragpu-8g host is absent are reported, not priced."""
    report = refresh_offers("gcp", fetch=fake_fetch, today=DAY)
    rows = {
        (o.instance_type, o.region, o.pricing_model): o for o in read_offer_csv(Path(report.path))
    }
    v5p = rows[("tpu-v5p-12288", "us-central1", "on_demand")]
    assert v5p.gpu == "tpu-v5p" and v5p.gpus_per_instance == 6144
    assert v5p.price_per_gpu_hour == pytest.approx(4.2)
    assert rows[("tpu-v6e-8", "us-central1", "on_demand")].price_per_gpu_hour == pytest.approx(2.7)
    assert not [key for key in rows if key[1] == "asia-east1"]
    assert not [key for key in rows if rows[key].gpu == "h200"]
    assert any("700" in w and "placeholder" in w for w in report.warnings)
    assert any("a3-ultragpu-8g" in w and "not priced" in w for w in report.warnings)


def test_lambda_refresh_reads_the_recorded_catalog() -> None:
    """catalogs/v7/lambda/vms.csv (commit 11580132): gpu_8x_a100 at $10.32/h = $1.29 per GPU-hour
    in every region; a region missing from cloud_regions.csv is reported, CPU rows are not
    offers, and a blank SpotPrice makes no spot row."""
    report = refresh_offers("lambda", fetch=fake_fetch, today=DAY)
    rows = {
        (o.instance_type, o.region, o.pricing_model): o for o in read_offer_csv(Path(report.path))
    }
    a100 = rows[("gpu_8x_a100", "europe-central-1", "on_demand")]
    assert a100.gpu == "a100-40gb" and a100.price_per_gpu_hour == pytest.approx(10.32 / 8)
    assert a100.country == "DE"
    assert {model for (_, _, model) in rows} == {"on_demand"}
    assert [w for w in report.warnings if "asia-south-1" in w]
    # Lambda's own page said $1.99 per A100 40 GB hour on 2026-09-20 (shipped catalog)
    (stale,) = [w for w in report.warnings if "gpu_8x_a100" in w and "europe-central-1" in w]
    assert "$1.29/GPU-h" in stale and "$1.99 of 2026-09-20" in stale


def test_a_failed_refresh_leaves_the_catalog_untouched() -> None:
    first = refresh_offers("azure", fetch=fake_fetch, today=DAY)
    written = Path(first.path).read_bytes()

    def broken(url: str) -> bytes:
        raise CatalogError(f"cannot read {url} (timed out)")

    with pytest.raises(CatalogError, match="catalog unchanged"):
        refresh_offers("azure", fetch=broken, today=date(2026, 12, 20))
    with pytest.raises(CatalogError, match="did not return JSON"):
        refresh_offers("azure", fetch=lambda url: b"<html>maintenance</html>")
    assert Path(first.path).read_bytes() == written
    assert not list(refreshed_offer_dir().glob("*.tmp"))
    with pytest.raises(UnknownIdError, match="refresh source"):
        refresh_offers("ibm", fetch=fake_fetch)
