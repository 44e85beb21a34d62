"""The cost of owning accelerators: capex, cost of capital, power, facility, staff.

Per GPU, in USD:

- capex = server share (GPU + host + NICs) + scale-out network share + storage share;
- annual capital cost = capex x CRF(r, n) - residual x SFF(r, n), the level annuity that repays
  the capex at cost of capital ``r`` over ``n`` years net of the resale value
  residual = capex x (1 - annual value decline)^n (standard engineering-economics annuity:
  CRF = r(1+r)^n / ((1+r)^n - 1), sinking fund factor SFF = r / ((1+r)^n - 1));
- power = TDP x server overhead x average load x PUE x 8760 h x electricity price;
- facility = provisioned IT kW (TDP x server overhead) x colocation price per kW-month x 12;
- staff = provisioned MW x FTE per MW x loaded cost per FTE;
- maintenance = capex x maintenance fraction per year.

Cost per useful GPU-hour = annual cost / (8760 x utilisation): idle hours are paid for too.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

from gpuplan.catalog.gpus import get_gpu
from gpuplan.catalog.ownership_data import ParameterValue, country_parameter, gpu_parameter
from gpuplan.catalog.places import normalise_country
from gpuplan.errors import InputError
from gpuplan.units import HOURS_PER_YEAR


def capital_recovery_factor(rate: float, years: float) -> float:
    """CRF(r, n) = r(1+r)^n / ((1+r)^n - 1); 1/n when r = 0. Annual payment per $ of capex.

    Computed as r / (1 - (1+r)^-n) with ``expm1``/``log1p``, so that very long or very short
    lives give the limit (r, or a large payment) instead of an overflow or a division by 0.
    """
    if years <= 0:
        raise InputError("years", f"must be > 0 (got {years}).")
    if rate == 0:
        return 1.0 / years
    return rate / -math.expm1(-years * math.log1p(rate))


def sinking_fund_factor(rate: float, years: float) -> float:
    """SFF(r, n) = r / ((1+r)^n - 1); 1/n when r = 0. Annual value of $1 received after n years
    (as r (1+r)^-n / (1 - (1+r)^-n), which tends to 0 for long lives instead of overflowing)."""
    if rate == 0:
        return 1.0 / years
    decay = -years * math.log1p(rate)
    return rate * math.exp(decay) / -math.expm1(decay)


def residual_fraction(annual_decline: float, years: float) -> float:
    """Resale value after ``years`` as a fraction of capex: (1 - decline)^years."""
    return (1.0 - annual_decline) ** years


def annual_capital_cost(capex: float, rate: float, years: float, residual: float) -> float:
    """Level annual cost of capex with resale value ``residual`` (USD) at the end, USD/year."""
    return capex * capital_recovery_factor(rate, years) - residual * sinking_fund_factor(
        rate, years
    )


def annual_energy_kwh(tdp_w: float, overhead: float, average_load: float, pue: float) -> float:
    """Facility energy per GPU-year: TDP x server overhead x average load x PUE x 8760 h, kWh."""
    return tdp_w / 1000.0 * overhead * average_load * pue * HOURS_PER_YEAR


class OwnershipCost(BaseModel):
    """Cost of owning one accelerator (and ``n_gpus`` of them) in a country, USD."""

    model_config = ConfigDict(frozen=True)

    gpu: str
    country: str
    utilisation: float = Field(description="Fraction of the year the GPU does useful work.")
    years: float = Field(description="Depreciation life and financing term, years.")
    n_gpus: int
    capex_per_gpu_usd: float
    capex_breakdown_usd: dict[str, float]
    lead_time_months: float
    residual_value_fraction: float
    capital_recovery_factor: float
    annual_capital_cost_per_gpu_usd: float
    annual_opex_per_gpu_usd: float
    opex_breakdown_usd: dict[str, float]
    energy_kwh_per_gpu_year: float
    provisioned_kw_per_gpu: float
    annual_cost_per_gpu_usd: float
    cost_per_gpu_hour: float = Field(description="USD per useful GPU-hour at ``utilisation``.")
    cost_per_gpu_hour_breakdown: dict[str, float]
    capex_total_usd: float
    annual_opex_total_usd: float
    inputs: list[ParameterValue] = Field(description="Every sourced number used.")

    @property
    def estimate_inputs(self) -> list[str]:
        """Names of the inputs that are estimates rather than published figures."""
        return [p.name for p in self.inputs if p.is_estimate]


def ownership_cost(
    gpu: str,
    country: str,
    utilisation: float = 0.8,
    years: float | None = None,
    *,
    n_gpus: int = 1,
    discount_rate: float | None = None,
    pue: float | None = None,
    average_load: float | None = None,
    electricity_price_per_kwh_usd: float | None = None,
) -> OwnershipCost:
    """Cost of owning ``gpu`` in ``country`` (ISO code, or ``EU``), per GPU and for ``n_gpus``.

    Defaults come from ``ownership.csv``/``countries.csv`` with their sources; keyword
    arguments override them (an override is recorded as a user input).
    """
    if not 0 < utilisation <= 1:
        raise InputError("utilisation", f"must be in (0, 1] (got {utilisation}).")
    if n_gpus < 1:
        raise InputError("n_gpus", f"must be >= 1 (got {n_gpus}).")
    spec = get_gpu(gpu)
    code = normalise_country(country)
    used: dict[str, ParameterValue] = {}

    def gpu_value(name: str, override: float | None = None) -> float:
        used[name] = _user(name, override) if override is not None else gpu_parameter(spec.id, name)
        return used[name].value

    def country_value(name: str, override: float | None = None) -> float:
        used[name] = (
            _user(name, override) if override is not None else country_parameter(code, name)
        )
        return used[name].value

    life = gpu_value("depreciation_years", years)
    if life <= 0:
        raise InputError("years", f"must be > 0 (got {life}).")
    rate = gpu_value("discount_rate", discount_rate)
    capex_parts = {
        "server": gpu_value("server_usd_per_gpu"),
        "network": gpu_value("network_usd_per_gpu"),
        "storage": gpu_value("storage_usd_per_gpu"),
    }
    capex = sum(capex_parts.values())
    residual = residual_fraction(gpu_value("annual_value_decline"), life)
    capital = annual_capital_cost(capex, rate, life, capex * residual)

    overhead = gpu_value("server_power_overhead")
    provisioned_kw = spec.tdp_w / 1000.0 * overhead
    energy = annual_energy_kwh(
        spec.tdp_w, overhead, gpu_value("average_load", average_load), gpu_value("pue", pue)
    )
    opex = {
        "power": energy * country_value("electricity_price_per_kwh", electricity_price_per_kwh_usd),
        "facility": provisioned_kw * country_value("colocation_per_kw_month") * 12.0,
        "staff": provisioned_kw
        / 1000.0
        * gpu_value("staff_fte_per_mw")
        * country_value("staff_cost_per_fte_year"),
        "maintenance": capex * gpu_value("maintenance_fraction_per_year"),
    }
    annual_opex = sum(opex.values())
    annual = capital + annual_opex
    useful_hours = HOURS_PER_YEAR * utilisation
    per_hour = {"capital": capital / useful_hours} | {k: v / useful_hours for k, v in opex.items()}
    return OwnershipCost(
        gpu=spec.id,
        country=code,
        utilisation=utilisation,
        years=life,
        n_gpus=n_gpus,
        capex_per_gpu_usd=capex,
        capex_breakdown_usd=capex_parts,
        lead_time_months=gpu_value("lead_time_months"),
        residual_value_fraction=residual,
        capital_recovery_factor=capital_recovery_factor(rate, life),
        annual_capital_cost_per_gpu_usd=capital,
        annual_opex_per_gpu_usd=annual_opex,
        opex_breakdown_usd=opex,
        energy_kwh_per_gpu_year=energy,
        provisioned_kw_per_gpu=provisioned_kw,
        annual_cost_per_gpu_usd=annual,
        cost_per_gpu_hour=annual / useful_hours,
        cost_per_gpu_hour_breakdown=per_hour,
        capex_total_usd=capex * n_gpus,
        annual_opex_total_usd=annual_opex * n_gpus,
        inputs=list(used.values()),
    )


def _user(name: str, value: float) -> ParameterValue:
    from datetime import date

    return ParameterValue(
        name=name, value=value, unit="user", source="given by the user", as_of=date.today()
    )
