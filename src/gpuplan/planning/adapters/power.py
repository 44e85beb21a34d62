"""Ownership sites' power: what each site has (``power_mw``) and how more can be added
(``supply.power_expansion`` over the planner's power-expansion table)."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from gpuplan.catalog.tables import read_table
from gpuplan.errors import InputError
from gpuplan.planning.periods import PeriodGrid
from gpuplan.planning.problem import PowerExpansion
from gpuplan.scenario.schema import Scenario
from gpuplan.uncertainty.distributions import nominal


class PowerExpansionRow(BaseModel):
    """A row of ``planning/data/power_expansion.csv``: a way to add site power, sourced."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    lead_time_months: float = Field(ge=0)
    usd_per_mw: float = Field(ge=0)
    usd_per_mw_year: float = Field(ge=0)
    description: str
    source: str = Field(min_length=3)
    as_of: date


@cache
def power_expansion_defaults() -> PowerExpansionRow:
    """The default way to add power (the table's ``build`` row)."""
    path = Path(__file__).parents[1] / "data" / "power_expansion.csv"
    return {row.kind: row for row in read_table(path, PowerExpansionRow)}["build"]


def site_power_kw(scenario: Scenario) -> dict[str, float]:
    """Power available to GPUs per ownership site, kW (``power_mw`` of its entries, which
    must agree when a site lists several GPU types)."""
    power: dict[str, float] = {}
    for n, site in enumerate(scenario.supply.ownership):
        if site.power_mw is None:
            continue
        kw = site.power_mw * 1000.0
        if site.site in power and power[site.site] != kw:
            raise InputError(
                f"supply.ownership.{n}.power_mw",
                f"site {site.site} is given {power[site.site] / 1000:g} MW and {site.power_mw:g} "
                "MW; give one power capacity per site.",
            )
        power[site.site] = kw
    return power


def power_expansion(scenario: Scenario, grid: PeriodGrid) -> dict[str, PowerExpansion]:
    """How each site with ``power_mw`` may add power: the scenario's figures over the
    table's (lead time in whole periods, rounded up; costs per kW and per kW-period)."""
    given = scenario.supply.power_expansion
    if given is None:
        return {}
    table = power_expansion_defaults()

    def figure(value: object, default: float) -> float:
        return default if value is None else nominal(value)  # type: ignore[arg-type]

    months = figure(given.lead_time_months, table.lead_time_months)
    per_year = figure(given.usd_per_mw_year, table.usd_per_mw_year)
    expansion = PowerExpansion(
        lead_periods=grid.periods_for_months(months) if months > 0 else 0,
        lead_months=months,
        usd_per_kw=figure(given.usd_per_mw, table.usd_per_mw) / 1000.0,
        usd_per_kw_period=per_year / 1000.0 * grid.months / 12.0,
        max_added_kw=given.max_mw * 1000.0 if given.max_mw is not None else None,
    )
    return {site: expansion for site in site_power_kw(scenario)}
