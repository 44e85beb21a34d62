"""Scenario files: a strict schema for what a lab plans, with a base plus named overrides.

A scenario is YAML validated by :class:`Scenario` (``extra="forbid"``, frozen; every field's
description becomes the JSON Schema that ``gpuplan schema`` prints). Estimates (prices, token
volumes, growth, discount rate) are :mod:`gpuplan.uncertainty.distributions` types: a number
or a declared range, so the Monte Carlo engine can sample the same file; the optimiser uses
their nominal values. ``overrides`` (Calliope style) maps a name to changes applied by
:func:`gpuplan.scenario.loading.load_scenario`. A top-level ``company`` section (the company
and finance model) is reserved for integration and is not part of this schema yet.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from gpuplan.catalog.places import Country
from gpuplan.economics.company import CompanySpec
from gpuplan.planning.periods import PeriodLength, parse_month
from gpuplan.planning.problem import Sovereignty
from gpuplan.schema import ScenarioModel
from gpuplan.uncertainty.distributions import (
    FractionUncertain,
    NonNegativeUncertain,
    PositiveUncertain,
    Uncertain,
)

Month = Annotated[date, BeforeValidator(parse_month)]
"""A month: ``2025-03``, ``2025-03-01`` or a quarter ``2025-Q2`` (its first month)."""
Zone = Literal["EU", "UK", "US", "CA", "APAC", "ME", "LATAM", "any"]
OfferPricing = Literal[
    "on_demand", "spot", "reserved_1y", "reserved_3y", "capacity_block", "contract"
]  # fmt: skip


class Horizon(ScenarioModel):
    """The planning horizon and how money is counted."""

    start: Month = Field(description="First month planned (YYYY-MM; quarters: YYYY-Qn).")
    periods: int = Field(ge=1, le=240, description="Number of periods planned.")
    period: PeriodLength = Field(default="quarter", description="Period length: month or quarter.")
    discount_rate: FractionUncertain = Field(
        default=0.10, description="Annual discount rate for the net present cost (0.10 = 10 %)."
    )
    currency: str = Field(
        default="USD",
        pattern=r"^[A-Za-z]{3}$",
        description="Reporting currency: the CLI prints this scenario's money in it (any code "
        "of the FX table, at its dated rate, named under the output); the global --currency "
        "overrides it. Inputs keep their own currency fields; JSON stays USD.",
    )

    @model_validator(mode="after")
    def _known_currency(self) -> Horizon:
        from gpuplan.catalog.places import fx_rate
        from gpuplan.errors import GpuplanError

        try:
            fx_rate(self.currency)
        except GpuplanError as error:  # names the known codes
            raise ValueError(f"currency: {error}") from None
        return self

    @model_validator(mode="after")
    def _quarter_start(self) -> Horizon:
        if self.period == "quarter" and (self.start.month - 1) % 3:
            raise ValueError(
                f"a quarterly horizon starts on a quarter (Jan/Apr/Jul/Oct); got "
                f"{self.start:%Y-%m}, e.g. use {self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
            )
        return self


class TrainingRun(ScenarioModel):
    """A training run to place in its window on one cluster."""

    id: str = Field(min_length=1, description="Workload id, unique in the scenario.")
    model: str = Field(description="Model catalog id, or a path to a Hugging Face config.json.")
    tokens: PositiveUncertain = Field(description="Training tokens.")
    gpus: list[str] = Field(min_length=1, description="GPU types the run may use (catalog ids).")
    earliest_start: Month = Field(description="First month the run may use GPUs.")
    deadline: Month = Field(description="Last month the run may use GPUs (inclusive).")
    min_cluster_gpus: int | None = Field(
        default=None,
        ge=1,
        description="GPUs it needs at once in one provider-region (default: memory minimum).",
    )
    interruptible: bool = Field(default=False, description="May run on spot capacity.")
    may_pause: bool = Field(
        default=False,
        description="May stop and resume between periods (default: one unbroken stretch on "
        "its cluster, as a pre-training job runs).",
    )
    slack_months: int = Field(
        default=0, ge=0, description="Months before the deadline kept free for slips."
    )
    precision: str = Field(default="bf16", description="Training precision (bf16, fp8, ...).")
    seq_len: int | None = Field(default=None, ge=1, description="Sequence length.")
    sovereignty: Sovereignty = Field(default="none", description="none, eu_data or eu_operator.")
    gpu_hours: dict[str, PositiveUncertain] | None = Field(
        default=None,
        description="GPU-hours per GPU type, replacing the training estimator (label the source).",
    )
    estimate: Literal["p10", "p50", "p90"] = Field(
        default="p50",
        description="Which percentile of the estimated GPU-hours (P10/P50/P90) to plan for; "
        "the plan's notes say which it used.",
    )


class TokensRow(ScenarioModel):
    """Tokens per day from a month on (a step table)."""

    from_: Month = Field(alias="from", description="First month of this volume.")
    tokens_per_day: NonNegativeUncertain = Field(description="Input + output tokens per day.")


class Growth(ScenarioModel):
    """Tokens per day growing at a constant annual rate from the horizon start."""

    annual_growth: Uncertain = Field(description="Annual growth (0.8 = +80 % a year).")
    until: Month | None = Field(default=None, description="Month after which volume stays flat.")

    @model_validator(mode="after")
    def _not_negative(self) -> Growth:
        low = getattr(self.annual_growth, "low", self.annual_growth)
        if isinstance(low, int | float) and low <= -1:
            raise ValueError("annual_growth must be > -1 (a -100 % year leaves no demand)")
        return self


class InferenceWorkload(ScenarioModel):
    """Inference demand for one model from one residency zone."""

    id: str = Field(min_length=1, description="Workload id, unique in the scenario.")
    model: str = Field(description="Model catalog id, or a path to a Hugging Face config.json.")
    tokens_per_day: NonNegativeUncertain | None = Field(
        default=None, description="Tokens per day at the horizon start (with `growth`) or flat."
    )
    growth: Growth | None = Field(default=None, description="Growth rule for tokens_per_day.")
    table: list[TokensRow] | None = Field(default=None, description="Step table of volumes.")
    csv: str | None = Field(
        default=None, description="CSV (columns from,tokens_per_day) relative to the YAML file."
    )
    peak_factor: PositiveUncertain = Field(default=2.0, description="Peak / average demand.")
    max_ttft_ms: float | None = Field(default=None, gt=0, description="Time-to-first-token bound.")
    max_tpot_ms: float | None = Field(
        default=None, gt=0, description="Time-per-output-token bound."
    )
    input_tokens: PositiveUncertain = Field(default=1000.0, description="Prompt tokens/request.")
    output_tokens: PositiveUncertain = Field(default=250.0, description="Output tokens/request.")
    precision: str | None = Field(default=None, description="Serving precision (default: GPU's).")
    gpus: list[str] = Field(min_length=1, description="GPU types that may serve it.")
    residency: Zone = Field(default="any", description="Zone whose data centres must serve it.")
    sovereignty: Sovereignty = Field(default="none", description="none, eu_data or eu_operator.")
    interruptible: bool = Field(default=False, description="May be served from spot capacity.")
    gpus_per_billion_tokens_per_day: dict[str, PositiveUncertain] | None = Field(
        default=None,
        description="GPUs (peak included) per 1e9 tokens/day per GPU type, replacing the "
        "inference estimator (label the source).",
    )
    estimate: Literal["p10", "p50", "p90"] = Field(
        default="p50",
        description="Which percentile of the estimated fleet (P10/P50/P90 of GPUs, from the "
        "serving estimate's throughput band) to plan for.",
    )

    @model_validator(mode="after")
    def _one_volume(self) -> InferenceWorkload:
        given = [n for n in ("tokens_per_day", "table", "csv") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of tokens_per_day (optionally with growth), table or csv"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.growth is not None and self.tokens_per_day is None:
            raise ValueError("growth needs tokens_per_day (the volume at the horizon start)")
        return self


CURRENCY_HELP = (
    "ISO 4217 code of the price (EUR, ...); converted to USD at the FX table's rate dated on "
    "or before supply.prices_as_of (default: today), the rate named in the option's source."
)


class CustomOffer(ScenarioModel):
    """An offer the scenario adds (a negotiated contract, a partner's capacity)."""

    provider: str = Field(description="Provider name (a known provider's alias is accepted).")
    jurisdiction: str | None = Field(
        default=None,
        description="Provider headquarters jurisdiction: EU, US, ... (default and check: "
        "the provider table; needed for a provider it does not list).",
    )
    region: str = Field(description="Region or site name.")
    country: Country = Field(description="ISO 3166 alpha-2 country of the data centre.")
    region_group: Zone | None = Field(
        default=None,
        description="EU, US, APAC, ...: the residency zone it serves (default and check: the "
        "country table; EU only for EU/EEA countries).",
    )
    gpu: str = Field(description="GPU catalog id.")
    pricing_model: OfferPricing = Field(description="on_demand, spot, reserved_1y, ...")
    term_months: int | None = Field(
        default=None, ge=1, le=1200, description="Commitment, months (at most 100 years)."
    )
    price_per_gpu_hour: PositiveUncertain = Field(description="Price per GPU-hour in currency.")
    currency: str = Field(default="USD", pattern=r"^[A-Za-z]{3}$", description=CURRENCY_HELP)
    availability_gpus: int | None = Field(default=None, ge=1, description="Most GPUs at once.")
    available_from: Month | None = Field(default=None, description="First month available.")
    price_trend: Uncertain | None = Field(default=None, description="Annual price change.")
    source: str = Field(min_length=3, description="Where the figure comes from.")


class PriceTrend(ScenarioModel):
    """Annual change of offer prices over the horizon (a unit keeps the price of the period
    it starts in): a default, per GPU type, per provider (most specific wins; an adjustment
    or custom offer may set its own)."""

    default: Uncertain = Field(
        default=0.0, description="Annual change for every offer (-0.15 = 15 % cheaper a year)."
    )
    gpus: dict[str, Uncertain] = Field(default_factory=dict, description="Per GPU type.")
    providers: dict[str, Uncertain] = Field(default_factory=dict, description="Per provider.")


class OfferAdjustment(ScenarioModel):
    """Change matching built-in offers: a negotiated price or discount, an availability cap."""

    provider: str = Field(description="Provider whose offers change.")
    region: str | None = Field(default=None, description="Only this region.")
    gpu: str | None = Field(default=None, description="Only this GPU type.")
    pricing_model: OfferPricing | None = Field(default=None, description="Only this model.")
    price_per_gpu_hour: PositiveUncertain | None = Field(
        default=None, description="New price per GPU-hour, in currency."
    )
    currency: str = Field(default="USD", pattern=r"^[A-Za-z]{3}$", description=CURRENCY_HELP)
    discount: FractionUncertain | None = Field(default=None, description="Off the list price.")
    availability_gpus: float | None = Field(default=None, ge=0, description="Cap, GPUs.")
    price_trend: Uncertain | None = Field(default=None, description="Annual price change.")
    source: str = Field(min_length=3, description="Where the negotiated figure comes from.")


class OwnershipSite(ScenarioModel):
    """GPUs the lab may buy and run at a site; unset figures come from the ownership model."""

    site: str = Field(description="Site name.")
    country: Country = Field(description="ISO 3166 alpha-2 country.")
    region_group: Zone | None = Field(default=None, description="Zone (default from country).")
    jurisdiction: str = Field(default="EU", description="The lab's own jurisdiction.")
    gpu: str = Field(description="GPU catalog id.")
    capex_per_gpu_usd: PositiveUncertain | None = Field(default=None, description="All-in capex.")
    opex_per_gpu_year_usd: NonNegativeUncertain | None = Field(
        default=None, description="Power, colocation, staff, maintenance per GPU-year."
    )
    currency: str = Field(
        default="USD",
        pattern=r"^[A-Za-z]{3}$",
        description="ISO 4217 code capex_per_gpu_usd and opex_per_gpu_year_usd are written in "
        "(EUR, ...); converted to USD at the FX table's latest rate on or before "
        "supply.prices_as_of (default: --as-of, else today), named in fx_note and the plan "
        "option's source.",
    )
    fx_note: str | None = Field(
        default=None, description="Set by gpuplan: the exchange rate the costs were converted at."
    )
    lead_time_months: NonNegativeUncertain | None = Field(default=None, description="Order->use.")
    life_years: PositiveUncertain | None = Field(default=None, description="Service life.")
    residual_fraction: FractionUncertain | None = Field(
        default=None, description="Resale value at end of life, fraction of capex."
    )
    availability_gpus: float | None = Field(default=None, ge=0, description="Site capacity.")
    power_mw: float | None = Field(
        default=None,
        gt=0,
        description="Facility power the site's GPUs may draw, MW (all GPU types at the site "
        "together; the binding limit of 2026 data centres).",
    )
    kw_per_gpu: float | None = Field(
        default=None,
        gt=0,
        description="All-in facility kW per GPU (default: TDP x server overhead x PUE from "
        "the ownership data).",
    )
    available_from: Month | None = Field(default=None, description="First month to order.")


class Supply(ScenarioModel):
    """Which offers and ownership options the plan may use."""

    builtin_offers: bool = Field(default=True, description="Use the shipped offer catalog.")
    offers_csv: str | None = Field(default=None, description="User offer CSV (catalog layout).")
    prices_as_of: date | None = Field(
        default=None, description="Use the catalog prices known on this date (default: current)."
    )
    providers: list[str] | None = Field(default=None, description="Keep only these providers.")
    pricing_models: list[OfferPricing] | None = Field(default=None, description="Keep only.")
    region_groups: list[Zone] | None = Field(default=None, description="Keep only these zones.")
    offers: list[CustomOffer] = Field(default_factory=list, description="Offers added.")
    price_trend: PriceTrend = Field(
        default_factory=PriceTrend, description="Annual change of offer prices."
    )
    availability_by_mode: dict[str, float | None] = Field(
        default_factory=dict,
        description="GPUs one offer of a supply mode (on_demand, spot, reserved) supplies at "
        "once when it states no cap, replacing the defaults of the supply-mode table "
        "(on_demand 512, spot 256); null removes the cap.",
    )
    adjustments: list[OfferAdjustment] = Field(default_factory=list, description="Negotiated.")
    availability_slip_months: dict[str, NonNegativeUncertain] = Field(
        default_factory=dict,
        description="Months by which a GPU type's offers and sites become orderable later "
        "than stated (counted from their first orderable period: available_from, or the "
        "horizon's start), per GPU type; a range is sampled per future by plan --futures and "
        "sweep --samples, its mean used otherwise.",
    )
    ownership: list[OwnershipSite] = Field(default_factory=list, description="Ownership options.")

    @model_validator(mode="after")
    def _site_costs_in_usd(self) -> Supply:
        """Site costs written in another currency, in USD at the rate dated on or before
        ``prices_as_of`` (as scenario offers are)."""
        from gpuplan.currency import section_in_usd

        sites = [
            section_in_usd(site, f"ownership.{n}.currency", self.prices_as_of)
            for n, site in enumerate(self.ownership)
        ]
        if all(new is old for new, old in zip(sites, self.ownership, strict=True)):
            return self
        return self.model_copy(update={"ownership": sites})


class StepRow(ScenarioModel):
    """A value from a month on."""

    from_: Month = Field(alias="from")
    value: float = Field(ge=0)


class Rules(ScenarioModel):
    """Portfolio rules (sovereignty is set per workload)."""

    max_provider_share: FractionUncertain | None = Field(
        default=None, description="Most of the fleet with any one cloud provider (0-1)."
    )
    provider_share: dict[str, FractionUncertain] = Field(
        default_factory=dict, description="Per-provider share limits."
    )
    capex_budget_per_period_usd: NonNegativeUncertain | None = Field(
        default=None, description="Most capex ordered in one period, USD."
    )
    lead_time_months: NonNegativeUncertain | None = Field(
        default=None, description="Lead time to own, replacing each site's."
    )
    min_owned_gpus: float | list[StepRow] | None = Field(default=None, description="GPUs.")
    max_owned_gpus: float | list[StepRow] | None = Field(default=None, description="GPUs.")
    excluded_providers: list[str] = Field(default_factory=list, description="Never use.")
    excluded_regions: list[str] = Field(default_factory=list, description="Never use.")
    excluded_countries: list[Country] = Field(
        default_factory=list, description="Never use (ISO 3166 alpha-2)."
    )


class Solver(ScenarioModel):
    """HiGHS settings."""

    mip_gap: float = Field(default=1e-4, gt=0, description="Relative MIP gap to stop at.")
    time_limit_s: float = Field(default=120.0, gt=0, description="Per solve, seconds.")
    integer_gpus: bool = Field(default=False, description="Whole GPUs (slower).")
    whole_servers: bool = Field(
        default=False,
        description="Rent, reserve and buy whole servers or instances (8 GPUs unless the "
        "offer says otherwise; slower).",
    )


class Scenario(ScenarioModel):
    """A lab's planning scenario: horizon, workloads, supply, rules, named overrides."""

    name: str = Field(description="Scenario name.")
    extends: str | None = Field(
        default=None,
        description="A preset name or file this scenario builds on: its sections are taken "
        "and this file's sections change or add to them (merged before validation).",
    )
    description: str = Field(default="", description="What the scenario represents.")
    sources: list[str] = Field(default_factory=list, description="Where its figures come from.")
    assumptions: list[str] = Field(default_factory=list, description="Labelled assumptions.")
    horizon: Horizon
    training: list[TrainingRun] = Field(default_factory=list, description="Training runs.")
    inference: list[InferenceWorkload] = Field(default_factory=list, description="Demand.")
    supply: Supply = Field(default_factory=Supply)
    rules: Rules = Field(default_factory=Rules)
    solver: Solver = Field(default_factory=Solver)
    company: CompanySpec | None = Field(
        default=None,
        description="The company's finances (revenue, people, funding; compute given or from "
        "this scenario's plan), for 'gpuplan simulate'.",
    )
    overrides: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Named changes: {name: {dotted.path or nested mapping: value}}; list "
        "items are addressed by index or id (inference.chat-eu.peak_factor).",
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> Scenario:
        ids = [w.id for w in self.training] + [w.id for w in self.inference]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(
                f"ids of training runs and inference workloads must be unique; repeated: "
                f"{', '.join(dup)}"
            )
        if not ids:
            raise ValueError("a scenario needs at least one training run or inference workload")
        for run in self.training:
            if run.deadline < run.earliest_start:
                raise ValueError(f"training run {run.id}: deadline is before earliest_start")
        return self
