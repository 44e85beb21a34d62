"""``gpuplan catalog offers|audit|import-skypilot|refresh`` and ``gpuplan tco``."""

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
    say,
    whole_number,
)
from gpuplan.errors import InputError


@catalog_app.command("offers")
@handle_errors
def catalog_offers(
    gpu: str | None = typer.Option(None, "--gpu", help="GPU id or alias, e.g. h100-sxm."),
    region_group: str | None = typer.Option(None, "--region-group", help="EU, US, UK, APAC..."),
    pricing: str | None = typer.Option(None, "--pricing", help="on_demand, spot, reserved_1y..."),
    provider: str | None = typer.Option(None, "--provider", help="Provider name."),
    jurisdiction: str | None = typer.Option(
        None, "--provider-jurisdiction", "--jurisdiction", help="Provider HQ: US, EU."
    ),
    country: str | None = typer.Option(None, "--country", help="ISO country of the data centre."),
    history: bool = typer.Option(False, "--history", help="Also list superseded (older) rows."),
    user_csv: Path | None = typer.Option(
        None, "--offers", help="Your own offers CSV (same layout)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON rows."),
) -> None:
    """List current rental offers (latest row per offer), cheapest per GPU-hour first."""
    from gpuplan.catalog.offers import (
        current_offers,
        load_offer_history,
        load_offers,
        price_date,
        query_offers,
    )

    day = price_date()
    pool = (
        [o for o in load_offer_history(user_csv) if o.as_of <= day]
        if history
        else load_offers(user_csv)
    )
    current = {(*o.key, o.as_of) for o in current_offers(pool)}
    rows = query_offers(
        pool,
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
                "prices_as_of": str(day),
                "offers": [
                    o.model_dump(mode="json")
                    | {"commitment_months": o.commitment_months, "age_note": o.staleness(day)}
                    for o in rows
                ],
            }
        )
        return
    print_table(
        f"{len(rows)} {'offer rows' if history else 'current offers'} on {day} "
        "(USD per GPU-hour, cheapest first)",
        [
            "provider",
            "HQ",
            "instance",
            "GPUs",
            "region",
            "country",
            "gpu",
            "pricing",
            "USD/GPU-h",
            "native",
            "as of",
            "age",
            "est.",
        ],
        [
            [
                o.provider,
                o.provider_hq_jurisdiction,
                o.instance_type,
                o.gpus_per_instance,
                o.region,
                o.country,
                o.gpu,
                o.pricing_model,
                o.usd_per_gpu_hour,
                f"{o.native_price_per_gpu_hour:.3f} {o.native_currency}",
                str(o.as_of),
                o.staleness(day) or ""
                if (*o.key, o.as_of) in current
                else f"superseded ({o.age_days(day)} d)",
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
    unchecked = len(report.stale_unchecked)
    searched = (
        f" ({len(report.stale) - unchecked} checked: no newer public figure; "
        f"{unchecked} with no search recorded)"
    )
    for title, findings in (
        ("stale", report.stale),
        ("placeholder source", report.unsourced),
        ("outliers", report.outliers),
        ("estimates", report.estimates),
    ):
        print_table(
            f"{title}: {len(findings)} of {report.offers_checked} offers"
            + (searched if findings is report.stale else ""),
            ["provider", "instance", "region", "gpu", "pricing", "USD/GPU-h", "as of", "reason"],
            [
                [
                    f.provider,
                    f.instance_type,
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
    say(
        f"{len(result.offers)} offers from {result.rows_read} rows "
        f"({result.rows_without_accelerator} without accelerator, {len(result.warnings)} skipped)"
        + (f"; written to {output}" if output else "")
    )


@catalog_app.command("refresh")
@handle_errors
def catalog_refresh(
    provider: str = typer.Option(
        ..., "--provider", help="azure, aws, gcp, lambda or skypilot (all SkyPilot clouds)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Fetch public prices into your data directory (never the shipped file); show changes."""
    from gpuplan.catalog.refresh import refresh_offers

    report = refresh_offers(provider)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    for warning in report.warnings:
        typer.echo(f"Warning: {warning}", err=True)
    say(
        f"{report.provider}: {report.rows_read} offers read, {len(report.added)} new, "
        f"{len(report.changed)} changed, {report.unchanged} unchanged; written to {report.path}"
    )
    print_table(
        "Changed prices (USD per GPU-hour)",
        ["offer", "old USD/GPU-h", "old as of", "new USD/GPU-h"],
        [
            [c.offer, c.old_usd_per_gpu_hour, str(c.old_as_of), c.new_usd_per_gpu_hour]
            for c in report.changed
        ],
    )
    for line in report.added:
        say(f"new: {line}")


def _site_country(site_country: str | None, country: str | None) -> str:
    """The owned side's country from --site-country or its older name --country."""
    given = {v.strip().upper() for v in (site_country, country) if v is not None}
    if not given:
        raise InputError(
            "site_country", "Say where you would own the GPUs: --site-country FR (or DE, US, EU)."
        )
    if len(given) > 1:
        raise InputError(
            "site_country",
            f"--site-country {site_country} and --country {country} disagree; --country is "
            "the older name of --site-country, give one of them (filter rentals with "
            "--offer-country).",
        )
    return (site_country or country or "").strip()


@app.command("tco")
@handle_errors
def tco(
    gpu: str = typer.Option(..., "--gpu", help="GPU id or alias, e.g. h100-sxm."),
    site_country: str | None = typer.Option(
        None, "--site-country", help="Data-centre country of the owned GPUs: FR, DE, US... or EU."
    ),
    country: str | None = typer.Option(
        None, "--country", help="Same as --site-country (the older name, kept for scripts)."
    ),
    utilisation: str = typer.Option("0.8", "--utilisation", help="Useful fraction of the year."),
    years: str | None = typer.Option(None, "--years", help="Depreciation life (default: data)."),
    n_gpus: str = typer.Option("1", "--gpus", help="Number of GPUs for capex/opex totals."),
    provider: str | None = typer.Option(None, "--provider", help="Also show this provider."),
    jurisdiction: str | None = typer.Option(
        None, "--provider-jurisdiction", help="Rent only from providers headquartered here: EU."
    ),
    region_group: str | None = typer.Option(None, "--region-group", help="EU, US, UK, APAC..."),
    offer_country: str | None = typer.Option(
        None, "--offer-country", help="Rent only in data centres of this ISO country."
    ),
    pricing: str | None = typer.Option(None, "--pricing", help="on_demand, spot, reserved_1y..."),
    user_csv: Path | None = typer.Option(
        None, "--offers", help="Your own offers CSV (same layout)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Cost of owning a GPU vs. the cheapest, median and named matching rentals.

    The owned side sits in --site-country; the rentals are filtered like `catalog offers`
    (--provider, --provider-jurisdiction, --region-group, --offer-country, --pricing).
    """
    from gpuplan.catalog.offers import load_offers
    from gpuplan.economics.ownership import ownership_cost
    from gpuplan.economics.rent_vs_own import rent_vs_own
    from gpuplan.humanize import label, money

    country = _site_country(site_country, country)
    owned = ownership_cost(
        gpu,
        country,
        utilisation=positive_number(utilisation, "utilisation"),
        years=positive_number(years, "years") if years is not None else None,
        n_gpus=whole_number(n_gpus, "gpus"),
    )
    result = rent_vs_own(
        gpu,
        country,
        offers=load_offers(user_csv),
        ownership=owned,
        provider=provider,
        jurisdiction=jurisdiction,
        region_group=region_group,
        offer_country=offer_country,
        pricing=pricing,
    )
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    print_table(
        f"Owning {owned.gpu} in {owned.country}: {owned.years:g} years, utilisation "
        f"{owned.utilisation:.0%} -> {money(owned.cost_per_gpu_hour)} per useful GPU-hour",
        ["component", "USD/GPU-year", "USD/useful GPU-h"],
        [
            [name, owned.cost_per_gpu_hour_breakdown[name] * 8760 * owned.utilisation, value]
            for name, value in owned.cost_per_gpu_hour_breakdown.items()
        ]
        + [["total", owned.annual_cost_per_gpu_usd, owned.cost_per_gpu_hour]],
    )
    say(
        f"capex {money(owned.capex_per_gpu_usd)}/GPU ({money(owned.capex_total_usd)} "
        f"for {owned.n_gpus}); opex {money(owned.annual_opex_per_gpu_usd)}/GPU-year "
        f"({money(owned.annual_opex_total_usd)}); residual "
        f"{owned.residual_value_fraction:.0%}; lead time {owned.lead_time_months:g} months; "
        f"estimated inputs: {', '.join(map(label, owned.estimate_inputs)) or 'none'}"
    )
    scope = [f"{k} {v}" for k, v in result.filters.items()]
    if result.prefers_region_group:
        scope.append(f"preferring region group {result.region_group}")
    print_table(
        f"Rentals per pricing model, prices as of {result.prices_as_of} ({', '.join(scope)})",
        [
            "pricing",
            "basis",
            "provider",
            "USD/GPU-h",
            "rent or own",
            f"markup vs own @{owned.utilisation:.0%}",
            "payback y",
            "as of",
            "instance",
            "GPUs",
            "region",
        ],
        [
            [
                a.pricing_model,
                a.basis,
                a.provider
                + (" *" if result.prefers_region_group and not a.same_region_group else ""),
                a.price_per_gpu_hour,
                a.verdict,
                a.markup_over_owning,
                a.payback_years,
                a.as_of + (f" ({a.age_note})" if a.age_note else ""),
                a.instance_type,
                a.gpus_per_instance,
                a.region,
            ]
            for a in result.alternatives
        ],
    )
    say(
        f"Markup basis: {result.markup_basis}."
        + (
            " * = outside the region group, or one price for all of a provider's locations."
            if result.prefers_region_group
            else ""
        )
    )
    for note in result.notes:
        say(f"Note: {note}")
