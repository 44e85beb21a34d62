"""``gpuplan catalog offers|audit|import-skypilot`` and ``gpuplan tco``."""

from __future__ import annotations

from pathlib import Path

import typer

from gpuplan.cli import app, catalog_app
from gpuplan.cli.common import (
    handle_errors,
    non_negative_whole_number,
    positive_number,
    print_json,
    print_table,
    whole_number,
)


@catalog_app.command("offers")
@handle_errors
def catalog_offers(
    gpu: str | None = typer.Option(None, "--gpu", help="GPU id or alias, e.g. h100-sxm."),
    region_group: str | None = typer.Option(None, "--region-group", help="EU, US, UK, APAC..."),
    pricing: str | None = typer.Option(None, "--pricing", help="on_demand, spot, reserved_1y..."),
    provider: str | None = typer.Option(None, "--provider", help="Provider name."),
    jurisdiction: str | None = typer.Option(None, "--jurisdiction", help="Provider HQ: US, EU."),
    country: str | None = typer.Option(None, "--country", help="ISO country of the data centre."),
    user_csv: Path | None = typer.Option(
        None, "--offers", help="Your own offers CSV (same layout)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON rows."),
) -> None:
    """List rental offers, cheapest per GPU-hour (USD) first, with date and source."""
    from gpuplan.catalog.offers import load_offers, query_offers

    rows = query_offers(
        load_offers(user_csv),
        gpu=gpu,
        region_group=region_group,
        pricing=pricing,
        provider=provider,
        jurisdiction=jurisdiction,
        country=country,
    )
    if as_json:
        print_json(
            {
                "offers": [
                    o.model_dump(mode="json") | {"commitment_months": o.commitment_months}
                    for o in rows
                ]
            }
        )
        return
    print_table(
        f"{len(rows)} offers (USD per GPU-hour, cheapest first)",
        [
            "provider",
            "HQ",
            "region",
            "country",
            "gpu",
            "pricing",
            "USD/GPU-h",
            "native",
            "as of",
            "est.",
        ],
        [
            [
                o.provider,
                o.provider_hq_jurisdiction,
                o.region,
                o.country,
                o.gpu,
                o.pricing_model,
                o.usd_per_gpu_hour,
                f"{o.native_price_per_gpu_hour:.3f} {o.native_currency}",
                str(o.as_of),
                o.is_estimate,
            ]
            for o in rows
        ],
    )


@catalog_app.command("audit")
@handle_errors
def catalog_audit(
    max_age_days: str = typer.Option("365", "--max-age-days", help="Flag rows older than this."),
    outlier_factor: str = typer.Option("3", "--outlier-factor", help="x or 1/x the median."),
    user_csv: Path | None = typer.Option(
        None, "--offers", help="Your own offers CSV (same layout)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Report stale offers, placeholder sources, estimates and price outliers."""
    from gpuplan.catalog.audit import audit_offers
    from gpuplan.catalog.offers import load_offers

    report = audit_offers(
        load_offers(user_csv),
        max_age_days=non_negative_whole_number(max_age_days, "max_age_days"),
        outlier_factor=positive_number(outlier_factor, "outlier_factor"),
    )
    if as_json:
        print_json(report.model_dump(mode="json") | {"ok": report.ok})
        return
    for title, findings in (
        ("stale", report.stale),
        ("placeholder source", report.unsourced),
        ("outliers", report.outliers),
        ("estimates", report.estimates),
    ):
        print_table(
            f"{title}: {len(findings)} of {report.offers_checked} offers",
            ["provider", "region", "gpu", "pricing", "USD/GPU-h", "as of", "reason"],
            [
                [
                    f.provider,
                    f.region,
                    f.gpu,
                    f.pricing_model,
                    f.price_per_gpu_hour,
                    str(f.as_of),
                    f.reason,
                ]
                for f in findings
            ],
        )


@catalog_app.command("import-skypilot")
@handle_errors
def catalog_import_skypilot(
    vms_csv: Path = typer.Argument(..., help="A SkyPilot catalog vms.csv."),
    provider: str = typer.Option("aws", "--provider", help="Whose catalog it is."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write offers CSV here."),
    strict: bool = typer.Option(False, "--strict", help="Reject the file on a malformed row."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Convert a SkyPilot vms.csv into gpuplan offers; malformed rows are listed by line."""
    from gpuplan.catalog.offers import offer_csv_row, write_offer_csv
    from gpuplan.catalog.skypilot import import_skypilot_csv

    result = import_skypilot_csv(vms_csv, provider, strict=strict)
    if output is not None:
        write_offer_csv(result.offers, output, inputs=(vms_csv,))
    if as_json:
        print_json(
            {
                "offers": [offer_csv_row(o) for o in result.offers],
                "warnings": result.warnings,
                "rows_read": result.rows_read,
                "rows_without_accelerator": result.rows_without_accelerator,
                "output": str(output) if output else None,
            }
        )
        return
    for warning in result.warnings:
        typer.echo(f"Warning: {warning}", err=True)
    typer.echo(
        f"{len(result.offers)} offers from {result.rows_read} rows "
        f"({result.rows_without_accelerator} without accelerator, {len(result.warnings)} skipped)"
        + (f"; written to {output}" if output else "")
    )


@app.command("tco")
@handle_errors
def tco(
    gpu: str = typer.Option(..., "--gpu", help="GPU id or alias, e.g. h100-sxm."),
    country: str = typer.Option(..., "--country", help="ISO country (FR, DE, US...) or EU."),
    utilisation: str = typer.Option("0.8", "--utilisation", help="Useful fraction of the year."),
    years: str | None = typer.Option(None, "--years", help="Depreciation life (default: data)."),
    n_gpus: str = typer.Option("1", "--gpus", help="Number of GPUs for capex/opex totals."),
    user_csv: Path | None = typer.Option(
        None, "--offers", help="Your own offers CSV (same layout)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Cost of owning a GPU vs. the cheapest rental in each pricing model."""
    from gpuplan.catalog.offers import load_offers
    from gpuplan.economics.ownership import ownership_cost
    from gpuplan.economics.rent_vs_own import rent_vs_own

    owned = ownership_cost(
        gpu,
        country,
        utilisation=positive_number(utilisation, "utilisation"),
        years=positive_number(years, "years") if years is not None else None,
        n_gpus=whole_number(n_gpus, "gpus"),
    )
    result = rent_vs_own(gpu, country, offers=load_offers(user_csv), ownership=owned)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    print_table(
        f"Owning {owned.gpu} in {owned.country}: {owned.years:g} years, utilisation "
        f"{owned.utilisation:.0%} -> {owned.cost_per_gpu_hour:.2f} USD per useful GPU-hour",
        ["component", "USD/GPU-year", "USD/useful GPU-h"],
        [
            [name, owned.cost_per_gpu_hour_breakdown[name] * 8760 * owned.utilisation, value]
            for name, value in owned.cost_per_gpu_hour_breakdown.items()
        ]
        + [["total", owned.annual_cost_per_gpu_usd, owned.cost_per_gpu_hour]],
    )
    typer.echo(
        f"capex {owned.capex_per_gpu_usd:,.0f} USD/GPU ({owned.capex_total_usd:,.0f} for "
        f"{owned.n_gpus}); opex {owned.annual_opex_per_gpu_usd:,.0f} USD/GPU-year "
        f"({owned.annual_opex_total_usd:,.0f}); residual {owned.residual_value_fraction:.0%}; "
        f"lead time {owned.lead_time_months:g} months; estimated inputs: "
        f"{', '.join(owned.estimate_inputs) or 'none'}"
    )
    print_table(
        f"Cheapest rental per pricing model (preferring region group {result.region_group})",
        [
            "pricing",
            "provider",
            "region",
            "USD/GPU-h",
            "markup",
            "break-even",
            "payback y",
            "as of",
        ],
        [
            [
                a.pricing_model,
                a.provider + ("" if a.same_region_group else " *"),
                a.region,
                a.price_per_gpu_hour,
                a.markup_over_owning,
                a.break_even_note,
                a.payback_years,
                a.as_of,
            ]
            for a in result.alternatives
        ],
    )
    check = result.claim_check
    typer.echo(
        f"Report claim: ~${check.claimed_owned_cost_per_hour:g}/h owned, "
        f"${check.claimed_cloud_price_range[0]:g}-{check.claimed_cloud_price_range[1]:g} cloud, "
        f"{check.claimed_markup_range[0]:g}-{check.claimed_markup_range[1]:g}x markup. "
        f"Recomputed owned cost {check.recomputed_owned_cost_per_hour:.2f} $/h "
        f"({check.owned_cost_ratio_to_claim:.1f}x the claim): the claimed cloud prices are "
        f"{check.recomputed_markup_on_claimed_prices[0]:.2f}-"
        f"{check.recomputed_markup_on_claimed_prices[1]:.2f}x ownership. (* = other region group)"
    )
