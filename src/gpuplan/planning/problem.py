"""The planner's plain input tables: supply options, workload needs, rules.

The optimisation core (``model``, ``solve``, ``readback``) reads only these rows, never the
catalogs or estimators; :mod:`gpuplan.planning.adapters.tables` turns a scenario into them. Units:
GPUs (counts, continuous unless ``integer_gpus``), USD, periods of the :class:`PeriodGrid`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gpuplan.planning.modes import supply_mode
from gpuplan.planning.periods import PeriodGrid

Mode = Literal["on_demand", "spot", "reserved", "owned"]
"""The rows of :mod:`gpuplan.planning.modes`' table (a test keeps the two equal)."""
Sovereignty = Literal["none", "eu_data", "eu_operator"]

SOVEREIGNTY_TEXT: dict[str, str] = {
    "none": "no sovereignty rule",
    "eu_data": "'eu_data' (EU data centres)",
    "eu_operator": "'eu_operator' (EU data centres run by an EU-headquartered operator)",
}


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SupplyOption(_Row):
    """One way to get GPUs: a rental offer, a reservation term or an ownership option.

    Every option adds units at a period ``s`` (``starts``); a unit arrives ``lead_periods``
    later and is in the fleet for ``term_periods``. Rentals: term 1, lead 0. Reservations:
    term = commitment, paid every period of the term even past the horizon. Owned: term =
    service life; capex at order; power and operations while in service; at retirement the
    unit is sold for ``residual_fraction`` of capex, and at the horizon end a unit still in
    service is credited its straight-line book value between capex and that residual.
    """

    id: str = Field(description="Unique option id.")
    provider: str = Field(description="Cloud provider id, or 'owned' for the lab's own sites.")
    region: str = Field(description="Provider region or own site.")
    country: str = Field(description="ISO 3166 alpha-2 country of the data centre.")
    jurisdiction: str = Field(description="Where the operator is headquartered (EU, US, ...).")
    region_group: str = Field(description="EU, US or APAC: the residency zone it serves.")
    gpu: str = Field(description="GPU catalog id.")
    mode: Mode
    cost_per_gpu_period: float = Field(
        ge=0, description="USD per GPU per period in the fleet (rent, fee, or power + ops)."
    )
    term_periods: int = Field(default=1, ge=1, description="Commitment or service life.")
    upfront_per_gpu: float = Field(default=0.0, ge=0, description="USD per GPU at order (capex).")
    lead_periods: int = Field(default=0, ge=0, description="Periods from order to service.")
    residual_fraction: float = Field(default=0.0, ge=0, le=1, description="Value at end of life.")
    availability_gpus: float | None = Field(
        default=None, ge=0, description="Most GPUs of this option in the fleet in any period."
    )
    first_period: int = Field(default=0, ge=0, description="First period a unit may be ordered.")
    gpus_per_unit: int = Field(
        default=8, ge=1, description="GPUs in one instance or server, the unit ordered."
    )
    site_kw_per_gpu: float | None = Field(
        default=None,
        gt=0,
        description="Owned: facility kW per GPU where the site's power is limited.",
    )
    price_trend: float = Field(
        default=0.0,
        gt=-1,
        description="Annual change of the price of a unit started later (-0.15: 15 % cheaper "
        "a year on); a unit keeps the price of its start (rent, reservation, purchase).",
    )
    price_trend_from: str = Field(
        default="", description="Where the trend comes from (a scenario field or the catalog)."
    )
    source: str = Field(default="", description="Where the price comes from.")

    @model_validator(mode="after")
    def _rental_shape(self) -> SupplyOption:
        if self.billing == "per_use" and (self.term_periods != 1 or self.lead_periods):
            raise ValueError(f"{self.mode} option {self.id}: term_periods 1 and lead 0 only")
        return self

    @property
    def billing(self) -> str:
        """How the mode is paid (per_use, term, own): see :mod:`gpuplan.planning.modes`."""
        return supply_mode(self.mode).billing

    @property
    def interruptible(self) -> bool:
        return supply_mode(self.mode).interruptible

    @property
    def third_party(self) -> bool:
        """Rented from a provider (the lab's own sites are not a provider)."""
        return supply_mode(self.mode).third_party

    @property
    def located(self) -> bool:
        """A site or region with a country, not a price for all of a provider's locations."""
        return bool(self.country)

    @property
    def cluster_key(self) -> tuple[str, str, str]:
        """Options sharing provider, region and GPU type can form one training cluster."""
        return (self.provider, self.region, self.gpu)


class InferenceNeed(_Row):
    """GPUs an inference workload needs in each period, per GPU type that can serve it.

    ``gpus[g][t]`` is the capacity (peak included) in GPUs of type ``g``; a mix of types
    serves the demand in proportion: sum over types of allocated / needed >= 1.
    """

    workload: str
    model: str
    zone: str = Field(description="Residency zone: EU, US, APAC, or 'any'.")
    sovereignty: Sovereignty = "none"
    interruptible: bool = False
    gpus: dict[str, tuple[float, ...]] = Field(description="GPU type -> GPUs needed per period.")
    reference_gpu: str = Field(description="GPU type whose count the diagnosis quotes.")
    load_factor: float = Field(
        default=1.0, gt=0, le=1, description="Average load / capacity (1 / peak factor)."
    )


Percentile = Literal["p10", "p50", "p90"]


class TrainingNeed(_Row):
    """A training run: GPU-hours per GPU type, placed in its window on one cluster.

    ``gpu_hours`` is what the plan provides for: the ``planned_on`` percentile of the
    estimator's (P10, P50, P90) ``gpu_hours_band``, or the scenario's own figure ('given').
    """

    workload: str
    model: str
    gpu_hours: dict[str, float] = Field(description="GPU type -> GPU-hours planned for.")
    gpu_hours_band: dict[str, tuple[float, float, float]] = Field(
        default_factory=dict, description="GPU type -> (P10, P50, P90) estimated GPU-hours."
    )
    planned_on: Percentile | Literal["given"] = "p50"
    min_gpus: dict[str, float] = Field(description="GPU type -> smallest cluster, GPUs.")
    earliest: int = Field(ge=0, description="First period the run may use.")
    deadline: int = Field(ge=0, description="Last period the run may use (inclusive).")
    interruptible: bool = False
    sovereignty: Sovereignty = "none"
    reference_gpu: str
    may_pause: bool = Field(
        default=False,
        description="False: the run holds its cluster in one unbroken stretch of periods, "
        "using at least its minimum cluster in each but the last (how a pre-training job "
        "runs); True: it may stop and resume between periods.",
    )

    def band_note(self) -> str:
        """``training run-7b on h100-sxm: planned on P50 = 1.2M GPU-hours (P10 0.9M, P90
        1.8M)``: what the plan provides for and the range around it."""
        from gpuplan.humanize import count

        gpu = self.reference_gpu
        planned = count(self.gpu_hours[gpu])
        if self.planned_on == "given" or gpu not in self.gpu_hours_band:
            return f"training {self.workload} on {gpu}: planned on the given {planned} GPU-hours"
        low, mid, high = (count(v) for v in self.gpu_hours_band[gpu])
        return (
            f"training {self.workload} on {gpu}: planned on {self.planned_on.upper()} = "
            f"{planned} GPU-hours (P10 {low}, P50 {mid}, P90 {high})"
        )


class PowerExpansion(_Row):
    """More power for an ownership site, contracted or built as an option: ordered in a
    period, in service ``lead_periods`` later, paid ``usd_per_kw`` once at order and
    ``usd_per_kw_period`` each period in service (to the horizon end)."""

    lead_periods: int = Field(ge=0, description="Periods from order to power in service.")
    lead_months: float = Field(ge=0, description="The lead time in months (order schedule).")
    usd_per_kw: float = Field(ge=0, description="One-off build or connection cost, USD per kW.")
    usd_per_kw_period: float = Field(
        default=0.0, ge=0, description="Contracted capacity charge, USD per kW per period."
    )
    max_added_kw: float | None = Field(default=None, ge=0, description="Most kW added.")


class Rules(_Row):
    """Portfolio rules. Per-period values are tuples over the horizon (None: no limit)."""

    max_provider_share: float | None = Field(default=None, gt=0, le=1)
    provider_share: dict[str, float] = Field(default_factory=dict)
    capex_budget: tuple[float | None, ...] | None = None
    min_owned_gpus: tuple[float, ...] | None = None
    max_owned_gpus: tuple[float | None, ...] | None = None
    site_power_kw: dict[str, float] = Field(
        default_factory=dict, description="Ownership site -> facility power for GPUs, kW."
    )
    power_expansion: dict[str, PowerExpansion] = Field(
        default_factory=dict,
        description="Ownership site (of site_power_kw) -> how more power can be added.",
    )

    def share_limit(self, provider: str) -> float | None:
        return self.provider_share.get(provider, self.max_provider_share)


class SolverSettings(_Row):
    mip_gap: float = Field(default=1e-4, gt=0, description="Relative MIP gap to stop at.")
    time_limit_s: float = Field(default=120.0, gt=0)
    integer_gpus: bool = Field(default=False, description="Whole GPUs (slower MILP).")
    whole_servers: bool = Field(
        default=False,
        description="Start units in whole servers or instances of each option's "
        "gpus_per_unit (slower MILP; otherwise the order schedule rounds up).",
    )
    threads: int | None = Field(default=None, ge=1)


class PlanningProblem(BaseModel):
    """Everything the optimisation reads, as plain rows."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    grid: PeriodGrid
    options: tuple[SupplyOption, ...]
    inference: tuple[InferenceNeed, ...] = ()
    training: tuple[TrainingNeed, ...] = ()
    rules: Rules = Rules()
    solver: SolverSettings = SolverSettings()
    name: str = "plan"

    @model_validator(mode="after")
    def _consistent(self) -> PlanningProblem:
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            dup = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"duplicate supply option ids: {dup}")
        for need in self.inference:
            for gpu, series in need.gpus.items():
                if len(series) != self.grid.count:
                    raise ValueError(
                        f"inference {need.workload} / {gpu}: {len(series)} periods given, "
                        f"the horizon has {self.grid.count}"
                    )
        for run in self.training:
            if run.deadline < run.earliest:
                raise ValueError(f"training {run.workload}: deadline before earliest start")
        return self
