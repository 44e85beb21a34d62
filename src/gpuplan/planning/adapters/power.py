"""Ownership sites' power: what each site has (``power_mw``) and how more can be added
(``supply.power_expansion`` over the planner's power-expansion table)."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from gpuplan.catalog.tables import read_table
from gpuplan.errors import InputError
from gpuplan.humanize import plain
from gpuplan.planning.periods import PeriodGrid
from gpuplan.planning.problem import PowerExpansion
from gpuplan.scenario.schema import PowerExpansion as SchemaExpansion
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
                f"site {site.site} is given {plain(power[site.site] / 1000)} MW and "
                f"{plain(site.power_mw)} MW; give one power capacity per site.",
            )
        power[site.site] = kw
    return power


def _site_figures(scenario: Scenario) -> dict[str, SchemaExpansion]:
    """Each site's own ``power_expansion`` (entries of one site must agree)."""
    given: dict[str, SchemaExpansion] = {}
    for n, site in enumerate(scenario.supply.ownership):
        if site.power_expansion is None:
            continue
        if site.site in given and given[site.site] != site.power_expansion:
            raise InputError(
                f"supply.ownership.{n}.power_expansion",
                f"site {site.site} is given two different power expansions; give one per site "
                "(on one of its entries, or the same on each).",
            )
        given[site.site] = site.power_expansion
    return given


def power_expansion(scenario: Scenario, grid: PeriodGrid) -> dict[str, PowerExpansion]:
    """How each site with ``power_mw`` may add power: the site's own figures, else the
    scenario's ``supply.power_expansion``, else the table's (lead time in whole periods,
    rounded up; costs per kW and per kW-period). ``supply.power_expansion: null`` fixes
    the power of every site without figures of its own."""
    table = power_expansion_defaults()
    common = scenario.supply.power_expansion
    own = _site_figures(scenario)

    def figure(name: str, site: str, default: float) -> float:
        for given in (own.get(site), common):
            value = getattr(given, name) if given is not None else None
            if value is not None:
                return nominal(value)
        return default

    expansions = {}
    for site in site_power_kw(scenario):
        if common is None and site not in own:
            continue
        months = figure("lead_time_months", site, table.lead_time_months)
        most = [g.max_mw for g in (own.get(site), common) if g is not None and g.max_mw is not None]
        expansions[site] = PowerExpansion(
            lead_periods=grid.periods_for_months(months) if months > 0 else 0,
            lead_months=months,
            usd_per_kw=figure("usd_per_mw", site, table.usd_per_mw) / 1000.0,
            usd_per_kw_period=figure("usd_per_mw_year", site, table.usd_per_mw_year)
            / 1000.0
            * grid.months
            / 12.0,
            max_added_kw=most[0] * 1000.0 if most else None,
        )
    return expansions
