"""A company's finances as a scenario input: revenue, compute, people, other costs, funding.

Every numeric input may be a plain number or a declared distribution (see
:mod:`gpuplan.uncertainty.distributions`); the deterministic cash flow
(:mod:`gpuplan.economics.cashflow`) reads each distribution's nominal value (its mean), the
Monte Carlo engine (:mod:`gpuplan.uncertainty.montecarlo`) draws them.

Conventions: money in US dollars; rates "per year" compound monthly, i.e. a quantity with
growth ``g`` per year is multiplied by ``(1 + g) ** (t / 12)`` in month ``t`` (0 = the
horizon's first month); months are written ``"YYYY-MM"``.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    field_validator,
    model_validator,
)

from gpuplan.humanize import plain
from gpuplan.schema import ScenarioModel
from gpuplan.uncertainty.distributions import (
    Distribution,
    FractionUncertain,
    NonNegativeUncertain,
    PositiveUncertain,
    Uncertain,
)
from gpuplan.units import LARGEST_INPUT

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


def _month_text(value: str) -> str:
    if not re.fullmatch(MONTH_PATTERN, value):
        raise ValueError(f"is not a month (got '{value}'); write YYYY-MM, e.g. 2025-03")
    return value


Month = Annotated[
    str,
    AfterValidator(_month_text),
    Field(
        description='A calendar month, written "YYYY-MM".',
        json_schema_extra={"pattern": MONTH_PATTERN},
    ),
]


def month_index(month: str) -> int:
    """Months since year 0 of a ``"YYYY-MM"`` string (differences give month counts)."""
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def month_label(index: int) -> str:
    """Inverse of :func:`month_index`."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _growth(value: float | Distribution) -> float | Distribution:
    low = value.low if isinstance(value, Distribution) else value
    if low <= -1:
        raise ValueError(f"a growth rate per year must be > -1 (-100%) (got {plain(low)})")
    return value


GrowthUncertain = Annotated[Uncertain, AfterValidator(_growth)]
"""A yearly growth rate as a fraction (0.5 = +50% per year), > -1."""


class ApiStream(ScenarioModel):
    """Pay-per-token API revenue of one model (or a blended model mix)."""

    name: str = Field(description="Label, e.g. 'Mistral Large 2 API'.")
    model: str | None = Field(default=None, description="Model catalog id, informative.")
    tokens_per_day: NonNegativeUncertain = Field(
        description="Billed tokens per day at the horizon start (input + output)."
    )
    price_per_million: NonNegativeUncertain = Field(
        description="Blended price, USD per 1e6 tokens, at the horizon start."
    )
    volume_growth_per_year: GrowthUncertain = Field(
        default=0.0, description="Growth of token volume per year (fraction)."
    )
    price_cut_per_year: FractionUncertain = Field(
        default=0.0, description="Fractional price reduction per year (0.3 = -30%/year)."
    )
    serving_cost_per_million: NonNegativeUncertain = Field(
        default=0.0,
        description=(
            "Cost of serving, USD per 1e6 tokens, counted as cost of revenue. Leave 0 when "
            "the compute section already carries the inference cost."
        ),
    )


class EnterpriseStream(ScenarioModel):
    """Contracts (licences, private deployments) times their yearly value."""

    name: str = Field(description="Label, e.g. 'private deployments'.")
    contracts: NonNegativeUncertain = Field(description="Active contracts at the horizon start.")
    new_contracts_per_month: Uncertain = Field(
        default=0.0, description="Net contracts added per month (negative for churn)."
    )
    annual_value: NonNegativeUncertain = Field(description="USD per contract per year.")
    delivery_cost_fraction: FractionUncertain = Field(
        default=0.0, description="Share of this revenue spent delivering it (cost of revenue)."
    )


class PartnerShare(ScenarioModel):
    """A partner resells the models (e.g. a cloud marketplace) and pays a revenue share."""

    partner: str = Field(description="Partner name, e.g. 'Azure AI Models-as-a-Service'.")
    gross_sales_per_year: NonNegativeUncertain = Field(
        description="Partner's sales of the company's models, USD per year, at the start."
    )
    share: FractionUncertain = Field(description="The company's share of those sales.")
    growth_per_year: GrowthUncertain = Field(default=0.0, description="Growth of the sales.")


class GivenRevenue(ScenarioModel):
    """Revenue given as a yearly run-rate where no bottom-up model is wanted."""

    name: str = Field(description="Label, e.g. 'API + enterprise (report §5.3)'.")
    per_year: NonNegativeUncertain = Field(description="USD per year at the horizon start.")
    growth_per_year: GrowthUncertain = Field(default=0.0, description="Growth per year.")
    gross_margin: FractionUncertain | None = Field(
        default=None,
        description=(
            "If given, (1 - gross_margin) x this revenue is counted as cost of revenue; leave "
            "empty when the compute section already carries the serving cost."
        ),
    )


class Revenue(ScenarioModel):
    """All revenue streams; each list may be empty."""

    api: list[ApiStream] = Field(default_factory=list, description="Per-token API streams.")
    enterprise: list[EnterpriseStream] = Field(default_factory=list, description="Contracts.")
    partners: list[PartnerShare] = Field(default_factory=list, description="Revenue shares.")
    given: list[GivenRevenue] = Field(default_factory=list, description="Given run-rates.")


class ComputeSpend(ScenarioModel):
    """Compute cost given as spend per year (no fleet or plan)."""

    training_per_year: NonNegativeUncertain = Field(
        default=0.0, description="Training (and research) compute, USD per year: an operating cost."
    )
    inference_per_year: NonNegativeUncertain = Field(
        default=0.0, description="Inference compute, USD per year: cost of revenue."
    )
    growth_per_year: GrowthUncertain = Field(default=0.0, description="Growth of both per year.")
    price_per_gpu_hour: NonNegativeUncertain | None = Field(
        default=None,
        description="Average rental price the spend buys, USD per GPU-hour: expresses the "
        "spend as GPUs in service (spend / (price x hours)).",
    )


class FleetRow(ScenarioModel):
    """GPUs of one kind, rented or owned, serving one workload."""

    name: str | None = Field(default=None, description="Label, e.g. 'Colossus 1 H100'.")
    gpu: str = Field(description="GPU catalog id (e.g. 'h100-sxm', 'tpu-v5p').")
    mode: Literal["rented", "owned"] = Field(description="rented (pay per hour) or owned.")
    workload: Literal["training", "inference"] = Field(
        description="inference costs are cost of revenue; training costs are operating costs."
    )
    gpus: NonNegativeUncertain = Field(description="Number of GPUs.")
    start: Month | None = Field(
        default=None,
        description=(
            "First month in service (default: horizon start). For owned GPUs the capex is paid "
            "in this month; a start before the horizon means the capex is already spent."
        ),
    )
    end: Month | None = Field(default=None, description="Last month in service (default: none).")
    price_per_gpu_hour: NonNegativeUncertain | None = Field(
        default=None, description="Rented: USD per GPU-hour."
    )
    utilisation: FractionUncertain = Field(
        default=1.0,
        description=(
            "Rented: share of hours billed (1 for reserved capacity). Owned: share of hours "
            "doing useful work (sets the effective cost per useful GPU-hour, not the cash)."
        ),
    )
    capex_per_gpu: NonNegativeUncertain | None = Field(
        default=None,
        description="Owned: all-in USD per GPU (accelerator, server, network, datacentre share).",
    )
    depreciation_years: PositiveUncertain = Field(
        default=4.0, description="Owned: straight-line depreciation life, years."
    )
    opex_per_gpu_hour: NonNegativeUncertain = Field(
        default=0.0, description="Owned: power, hosting and maintenance, USD per GPU-hour."
    )

    @field_validator("gpu")
    @classmethod
    def _known_gpu(cls, value: str) -> str:
        from gpuplan.catalog.gpus import get_gpu
        from gpuplan.errors import UnknownIdError

        try:
            return get_gpu(value).id
        except UnknownIdError as error:
            raise ValueError(str(error)) from None

    @model_validator(mode="after")
    def _mode_inputs(self) -> FleetRow:
        if self.mode == "rented" and self.price_per_gpu_hour is None:
            raise ValueError("a rented fleet row needs price_per_gpu_hour")
        if self.mode == "owned" and self.capex_per_gpu is None:
            raise ValueError("an owned fleet row needs capex_per_gpu")
        if self.start and self.end and month_index(self.end) < month_index(self.start):
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class PlanMonth(ScenarioModel):
    """One month of a procurement plan, as the planner commits it."""

    month: Month = Field(description="The month.")
    committed_cost: float = Field(
        ge=0, description="Cash cost: reservations, owned-GPU opex, other fixed costs, USD."
    )
    capex: float = Field(default=0.0, ge=0, description="GPU purchases paid this month, USD.")
    depreciation: float = Field(
        default=0.0, ge=0, description="Straight-line depreciation of owned GPUs this month, USD."
    )
    capacity_gpu_hours: float = Field(ge=0, description="GPU-hours the plan provides.")
    demand_gpu_hours: float = Field(ge=0, description="GPU-hours the plan was sized for.")


class PlannedCompute(ScenarioModel):
    """Compute from a procurement plan: its commitments are kept in every sample, and demand
    above its capacity is bought on demand at the sampled price (the plan is not re-solved).

    Cost per month = committed_cost + max(0, demand x demand_scale - capacity) x price.
    """

    months: list[PlanMonth] = Field(
        default_factory=list,
        description="The plan's months; leave empty to take them from solving this "
        "scenario's own procurement plan (gpuplan.economics.plan_link).",
    )
    demand_scale: PositiveUncertain = Field(
        default=1.0, description="Multiplier on the plan's demand (1 = as planned)."
    )
    on_demand_price_per_gpu_hour: NonNegativeUncertain | None = Field(
        default=None,
        description="Price of the on-demand shortfall, USD per GPU-hour; empty: the plan's "
        "average pay-per-use price (required when months are given).",
    )
    inference_share: FractionUncertain = Field(
        default=0.5, description="Share of the plan's cost that serves inference (cost of revenue)."
    )

    @model_validator(mode="after")
    def _price_with_months(self) -> PlannedCompute:
        if self.months and self.on_demand_price_per_gpu_hour is None:
            raise ValueError("on_demand_price_per_gpu_hour is required when months are given")
        return self


class Compute(ScenarioModel):
    """Compute cost: given spend, a fleet, a plan, or a sum of them."""

    spend: ComputeSpend | None = Field(default=None, description="Given spend per year.")
    fleet: list[FleetRow] = Field(default_factory=list, description="GPUs rented or owned.")
    plan: PlannedCompute | None = Field(default=None, description="A procurement plan's cost.")


class Team(ScenarioModel):
    """Employees at one location."""

    location: str = Field(description="e.g. 'Paris'.")
    headcount: NonNegativeUncertain = Field(description="Employees at the horizon start.")
    hires_per_year: Uncertain = Field(default=0.0, description="Net hires per year (linear).")
    loaded_cost_per_year: NonNegativeUncertain = Field(
        description="USD per employee per year: salary, taxes, benefits, equipment."
    )
    cost_growth_per_year: GrowthUncertain = Field(default=0.0, description="Wage growth.")


class OperatingCosts(ScenarioModel):
    """Costs other than compute and people."""

    rd_operations_per_year: NonNegativeUncertain = Field(
        default=0.0, description="R&D operations: offices, data, partnerships, USD per year."
    )
    sales_marketing_per_year: NonNegativeUncertain = Field(
        default=0.0, description="Sales and marketing, USD per year."
    )
    growth_per_year: GrowthUncertain = Field(default=0.0, description="Growth of both per year.")


class Equity(ScenarioModel):
    """An equity round: cash in, nothing to repay."""

    kind: Literal["equity"] = "equity"
    name: str | None = Field(default=None, description="e.g. 'Series C'.")
    month: Month = Field(description="Month the cash arrives.")
    amount: NonNegativeUncertain = Field(description="USD raised.")
    source: str | None = Field(default=None, description="Where the figure comes from.")


class Debt(ScenarioModel):
    """A loan: cash in, monthly interest on the outstanding principal, repayment."""

    kind: Literal["debt"] = "debt"
    name: str | None = Field(default=None, description="e.g. 'venture debt'.")
    month: Month = Field(description="Month the cash arrives.")
    amount: NonNegativeUncertain = Field(description="USD borrowed.")
    annual_interest_rate: NonNegativeUncertain = Field(
        description="Interest per year on the outstanding principal (0.08 = 8%), paid monthly."
    )
    term_months: int = Field(ge=1, le=600, description="Months from drawdown to final repayment.")
    repayment: Literal["bullet", "amortising"] = Field(
        default="bullet",
        description="bullet: all principal at the end; amortising: equal principal each month.",
    )
    source: str | None = Field(default=None, description="Where the figure comes from.")


FundingEvent = Annotated[Equity | Debt, Field(discriminator="kind")]


class PastRound(ScenarioModel):
    """Funding raised before the horizon (informative: the cash left is ``opening_cash``)."""

    name: str = Field(description="e.g. 'Series B'.")
    month: Month = Field(description="When it closed.")
    amount: NonNegativeUncertain = Field(description="USD raised.")
    source: str | None = Field(default=None, description="Where the figure comes from.")


class Correlation(ScenarioModel):
    """A rank correlation between two uncertain inputs, imposed with a Gaussian copula."""

    inputs: tuple[str, str] = Field(
        description="Field paths of two distributions, e.g. 'revenue.api[0].tokens_per_day'."
    )
    rho: float = Field(ge=-0.99, le=0.99, description="Correlation of the normal scores.")


class StatedFigure(ScenarioModel):
    """One of the report's table figures: its text and the numbers it means."""

    text: str = Field(description="The report's words, e.g. '$10B+'.")
    low: float | None = Field(default=None, description="Lower end; none if not a number.")
    high: float | None = Field(
        default=None, description="Upper end; none with a low for an open figure ('$10B+')."
    )
    why: str | None = Field(
        default=None, description="Why gpuplan's computed value differs, with its source."
    )


class CompanyProfile(ScenarioModel):
    """Descriptive text for the side-by-side comparison (never used in arithmetic)."""

    archetype: str = Field(description="e.g. 'European cloud-native startup'.")
    infrastructure: str = Field(description="How compute is procured, in words.")
    chips: str = Field(description="Chips and how they are obtained.")
    geography: str = Field(description="Where the compute and customers are.")
    advantage: str = Field(description="Main advantage of this procurement model.")
    disadvantage: str = Field(description="Main disadvantage.")
    open_source: str = Field(description="Open-weight releases, if any.")
    revenue_model: str = Field(description="How the company earns money.")
    regulatory_focus: str = Field(description="Main regulatory regime.")
    stated: dict[str, str | StatedFigure] = Field(
        default_factory=dict,
        description="The report's own figures for the numeric rows, shown next to gpuplan's; "
        "with numbers, a computed value that differs is flagged with `why`.",
    )
    source: str = Field(description="Where this profile comes from (report section).")


class CompanySpec(ScenarioModel):
    """A company's monthly finances over a horizon, with uncertain inputs."""

    name: str = Field(description="Company name.")
    start: Month = Field(description="First month of the horizon.")
    horizon_months: int = Field(ge=1, le=600, description="Months simulated.")
    opening_cash: NonNegativeUncertain = Field(description="Cash at the start, USD.")
    currency: str = Field(
        default="USD",
        pattern=r"^[A-Za-z]{3}$",
        description="ISO 4217 code the money inputs of this section are written in (EUR, "
        "GBP, ...; the field descriptions' 'USD' then reads as this code). They are converted "
        "to USD, the internal unit, at the FX table's latest rate on or before the price date "
        "(--as-of, default today); fx_note names the rate.",
    )
    fx_note: str | None = Field(
        default=None, description="Set by gpuplan: the exchange rate the inputs were converted at."
    )
    parent_funded: bool = Field(
        default=False,
        description="A division whose losses its parent covers: runway is not a constraint.",
    )
    revenue: Revenue = Field(default_factory=Revenue, description="Revenue streams.")
    compute: Compute = Field(default_factory=Compute, description="Compute cost.")
    people: list[Team] = Field(default_factory=list, description="Teams by location.")
    operating: OperatingCosts = Field(default_factory=OperatingCosts, description="Other costs.")
    funding: list[FundingEvent] = Field(
        default_factory=list, description="Equity and debt arriving within the horizon."
    )
    existing_debt: list[Debt] = Field(
        default_factory=list, description="Loans drawn before the horizon, still outstanding."
    )
    past_funding: list[PastRound] = Field(
        default_factory=list, description="Rounds before the horizon (informative)."
    )
    correlations: list[Correlation] = Field(
        default_factory=list, description="Declared correlations between uncertain inputs."
    )
    profile: CompanyProfile | None = Field(default=None, description="Descriptive text.")

    @property
    def start_index(self) -> int:
        return month_index(self.start)

    @model_validator(mode="after")
    def _inputs_in_usd(self) -> CompanySpec:
        """Money written in another currency, converted once to USD (see ``currency``)."""
        from gpuplan.currency import section_in_usd

        return section_in_usd(self, "company.currency")

    @model_validator(mode="after")
    def _growth_within_range(self) -> CompanySpec:
        """Growth compounded over the horizon must stay a number: (1 + g)^years <= 1e30."""
        years = self.horizon_months / 12

        def visit(value: object, path: str) -> None:
            if isinstance(value, BaseModel) and not isinstance(value, Distribution):
                for name in type(value).model_fields:
                    visit(getattr(value, name), f"{path}.{name}" if path else name)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    visit(item, f"{path}[{i}]")
            elif path.endswith("growth_per_year") and isinstance(value, float | Distribution):
                high = value.high if isinstance(value, Distribution) else value
                if years * math.log1p(high) > math.log(LARGEST_INPUT):
                    raise ValueError(
                        f"{path}: {plain(high)} a year compounds past {plain(LARGEST_INPUT)} "
                        "times within "
                        f"the {self.horizon_months}-month horizon; check the rate (0.5 = +50%)"
                    )

        visit(self, "")
        return self

    @model_validator(mode="after")
    def _check_dates(self) -> CompanySpec:
        start = self.start_index
        for i, event in enumerate(self.funding):
            if month_index(event.month) < start:
                raise ValueError(
                    f"funding[{i}].month ({event.month}) is before the horizon start "
                    f"({self.start}); put money raised earlier into opening_cash (and loans "
                    "still outstanding into existing_debt)"
                )
        for i, debt in enumerate(self.existing_debt):
            if month_index(debt.month) >= start:
                raise ValueError(
                    f"existing_debt[{i}].month ({debt.month}) is not before the horizon start "
                    f"({self.start}); list it under funding instead"
                )
        return self
