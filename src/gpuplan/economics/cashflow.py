"""Monthly cash flow of a :class:`~gpuplan.economics.company.CompanySpec`, vectorised.

One function evaluates the company for ``n`` input sets at once: every result is an array of
shape ``(n, months)``. The deterministic cash flow is ``n = 1`` with every input at its
nominal value; the Monte Carlo engine passes sampled arrays (:class:`InputValues`).

Accounting (USD, month ``t`` = 0 .. horizon - 1):

* revenue = API tokens x price / 1e6 + contracts x value / 12 + partner sales x share / 12
  + given run-rates / 12, each grown ``(1 + g) ** (t / 12)``;
* cost of revenue = inference compute (spend, rented or owned inference GPUs incl. their
  depreciation, the plan's inference share) + serving and delivery costs of the streams;
* operating costs = training compute + people + R&D operations + sales and marketing;
* operating profit = revenue - cost of revenue - operating costs (owned GPUs count by
  straight-line depreciation); break-even month = first month it is >= 0;
* cash: opening cash + revenue - cash costs - capex + funding - interest - principal;
  net burn = cash costs + capex - revenue (before financing);
* runway = months until cash < 0, interpolated linearly within the month it crosses zero;
* break-even revenue for a year's cost structure = operating costs / (1 - cost of revenue /
  revenue), i.e. fixed costs over the gross-margin ratio.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from gpuplan.economics.company import CompanySpec, Debt, FleetRow, month_index
from gpuplan.errors import InputError
from gpuplan.uncertainty.distributions import Distribution, nominal
from gpuplan.units import HOURS_PER_MONTH

DAYS_PER_MONTH = 365.0 / 12
Values = float | np.ndarray


class InputValues:
    """The numeric inputs of one evaluation batch.

    ``samples`` maps a field path (``"revenue.api[0].tokens_per_day"``) to an array of ``n``
    values; any other input takes its nominal value. Values come back with shape ``(n, 1)``
    so that they broadcast over months.
    """

    def __init__(self, samples: Mapping[str, np.ndarray] | None = None, n: int = 1) -> None:
        self.samples = dict(samples or {})
        self.n = n
        self.used: set[str] = set()
        for path, values in self.samples.items():
            if values.shape != (n,):
                raise ValueError(f"samples for {path} have shape {values.shape}, expected ({n},)")

    def __call__(self, path: str, value: float | Distribution) -> Values:
        if path in self.samples:
            self.used.add(path)
            return self.samples[path][:, None]
        return nominal(value)

    def check_all_used(self) -> None:
        """Internal consistency: every sampled path must have been read by the model."""
        unused = sorted(set(self.samples) - self.used)
        if unused:
            raise RuntimeError(f"sampled inputs not used by the cash-flow model: {unused}")


@dataclass(frozen=True)
class CashFlow:
    """Monthly results, each an array of shape ``(n, months)`` in USD (``gpus``: GPUs in
    service; ``compute``: all compute cost, training and inference, incl. depreciation)."""

    start_index: int
    parent_funded: bool
    revenue: np.ndarray
    cost_of_revenue: np.ndarray
    compute_training: np.ndarray
    people: np.ndarray
    rd_operations: np.ndarray
    sales_marketing: np.ndarray
    depreciation: np.ndarray
    capex: np.ndarray
    funding_in: np.ndarray
    interest: np.ndarray
    principal: np.ndarray
    opening_cash: np.ndarray
    compute: np.ndarray
    gpus: np.ndarray
    gpus_owned: np.ndarray

    @property
    def months(self) -> int:
        return int(self.revenue.shape[1])

    @cached_property
    def operating_costs(self) -> np.ndarray:
        """Costs other than cost of revenue (incl. depreciation of owned training GPUs)."""
        return self.compute_training + self.people + self.rd_operations + self.sales_marketing

    @cached_property
    def operating_profit(self) -> np.ndarray:
        return self.revenue - self.cost_of_revenue - self.operating_costs

    @property
    def gross_margin(self) -> np.ndarray:
        """(revenue - cost of revenue) / revenue; NaN in months without revenue."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.revenue > 0, 1 - self.cost_of_revenue / self.revenue, np.nan)

    @cached_property
    def gross_burn(self) -> np.ndarray:
        """Cash costs plus capex (depreciation is not cash)."""
        return self.cost_of_revenue + self.operating_costs - self.depreciation + self.capex

    @cached_property
    def net_burn(self) -> np.ndarray:
        """Gross burn minus revenue, before any financing."""
        return self.gross_burn - self.revenue

    @cached_property
    def cash(self) -> np.ndarray:
        """Cash at the end of each month."""
        flow = self.funding_in - self.net_burn - self.interest - self.principal
        return self.opening_cash + np.cumsum(flow, axis=1)

    @cached_property
    def runway_months(self) -> np.ndarray:
        """Months until cash < 0 (interpolated), shape ``(n,)``; inf if never in the horizon
        (or if a parent company covers the losses)."""
        return runway_months(self.cash, self.opening_cash[:, 0], self.parent_funded)

    @property
    def break_even_month(self) -> np.ndarray:
        """First month (1-based) with operating profit >= 0, shape ``(n,)``; NaN if never."""
        return first_month(self.operating_profit >= 0)

    @property
    def break_even_revenue_per_year(self) -> np.ndarray:
        """Revenue that covers each horizon year's cost structure, shape ``(n, years)``."""
        revenue = yearly(self.revenue)
        with np.errstate(divide="ignore", invalid="ignore"):
            variable = np.where(revenue > 0, yearly(self.cost_of_revenue) / revenue, 0.0)
            margin = 1 - variable
            return np.where(margin > 0, yearly(self.operating_costs) / margin, np.inf)

    def year_end_labels(self) -> list[str]:
        from gpuplan.economics.company import month_label

        return [
            month_label(self.start_index + min(12 * (y + 1), self.months) - 1)
            for y in range(years_in(self.months))
        ]


def years_in(months: int) -> int:
    return -(-months // 12)


def yearly(monthly: np.ndarray) -> np.ndarray:
    """Sum ``(n, months)`` into 12-month blocks ``(n, years)`` (the last may be partial)."""
    n, months = monthly.shape
    years = years_in(months)
    padded = np.zeros((n, years * 12))
    padded[:, :months] = monthly
    return padded.reshape(n, years, 12).sum(axis=2)


def first_month(mask: np.ndarray) -> np.ndarray:
    """1-based index of the first True per row; NaN where none."""
    hit = mask.any(axis=1)
    return np.where(hit, mask.argmax(axis=1) + 1.0, np.nan)


def runway_months(cash: np.ndarray, opening: np.ndarray, unlimited: bool = False) -> np.ndarray:
    """Months until cash first drops below 0, interpolated within the crossing month."""
    n = cash.shape[0]
    if unlimited:
        return np.full(n, np.inf)
    negative = cash < 0
    hit = negative.any(axis=1)
    month = negative.argmax(axis=1)
    rows = np.arange(n)
    end = cash[rows, month]
    begin = np.where(month > 0, cash[rows, np.maximum(month - 1, 0)], opening)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(begin > end, np.clip(begin / (begin - end), 0.0, 1.0), 0.0)
    return np.where(hit, month + fraction, np.inf)


def _grow(rate: Values, t: np.ndarray) -> np.ndarray:
    return np.power(1.0 + np.asarray(rate, dtype=float), t / 12.0)


class _Ledger:
    """Accumulates monthly arrays of shape (n, months)."""

    def __init__(self, n: int, months: int) -> None:
        self.shape = (n, months)
        self.lines: dict[str, np.ndarray] = {}

    def add(self, line: str, amount: Values | np.ndarray) -> None:
        target = self.lines.get(line)
        if target is None:
            target = self.lines[line] = np.zeros(self.shape)
        target += amount

    def add_at(self, line: str, month: int, amount: Values) -> None:
        """Add ``amount`` (scalar or (n, 1)) to one month, if it lies in the horizon."""
        if 0 <= month < self.shape[1]:
            target = self.lines.get(line)
            if target is None:
                target = self.lines[line] = np.zeros(self.shape)
            target[:, month] += np.asarray(amount, dtype=float).reshape(-1)

    def get(self, line: str) -> np.ndarray:
        return self.lines.get(line, np.zeros(self.shape))


def _revenue(spec: CompanySpec, x: InputValues, t: np.ndarray, book: _Ledger) -> None:
    for i, api in enumerate(spec.revenue.api):
        p = f"revenue.api[{i}]"
        tokens = (
            x(f"{p}.tokens_per_day", api.tokens_per_day)
            * DAYS_PER_MONTH
            * _grow(x(f"{p}.volume_growth_per_year", api.volume_growth_per_year), t)
        )
        price = x(f"{p}.price_per_million", api.price_per_million) * _grow(
            -np.asarray(x(f"{p}.price_cut_per_year", api.price_cut_per_year)), t
        )
        book.add("revenue", tokens * price / 1e6)
        book.add(
            "cost_of_revenue",
            tokens * x(f"{p}.serving_cost_per_million", api.serving_cost_per_million) / 1e6,
        )
    for i, deal in enumerate(spec.revenue.enterprise):
        p = f"revenue.enterprise[{i}]"
        contracts = np.maximum(
            0.0,
            x(f"{p}.contracts", deal.contracts)
            + x(f"{p}.new_contracts_per_month", deal.new_contracts_per_month) * t,
        )
        income = contracts * x(f"{p}.annual_value", deal.annual_value) / 12
        book.add("revenue", income)
        book.add(
            "cost_of_revenue",
            income * x(f"{p}.delivery_cost_fraction", deal.delivery_cost_fraction),
        )
    for i, partner in enumerate(spec.revenue.partners):
        p = f"revenue.partners[{i}]"
        sales = x(f"{p}.gross_sales_per_year", partner.gross_sales_per_year) / 12
        book.add(
            "revenue",
            sales
            * x(f"{p}.share", partner.share)
            * _grow(x(f"{p}.growth_per_year", partner.growth_per_year), t),
        )
    for i, given in enumerate(spec.revenue.given):
        p = f"revenue.given[{i}]"
        income = (
            x(f"{p}.per_year", given.per_year)
            / 12
            * _grow(x(f"{p}.growth_per_year", given.growth_per_year), t)
        )
        book.add("revenue", income)
        if given.gross_margin is not None:
            book.add("cost_of_revenue", income * (1 - x(f"{p}.gross_margin", given.gross_margin)))


def _fleet_row(
    row: FleetRow, p: str, spec: CompanySpec, x: InputValues, t: np.ndarray, book: _Ledger
) -> None:
    start = month_index(row.start) - spec.start_index if row.start else 0
    end = month_index(row.end) - spec.start_index if row.end else t.size
    active = (t >= start) & (t <= end)
    gpus = x(f"{p}.gpus", row.gpus)
    line = "cost_of_revenue" if row.workload == "inference" else "compute_training"
    if row.mode == "rented":
        assert row.price_per_gpu_hour is not None  # checked by FleetRow
        hours = gpus * HOURS_PER_MONTH * x(f"{p}.utilisation", row.utilisation)
        rent = hours * x(f"{p}.price_per_gpu_hour", row.price_per_gpu_hour) * active
        book.add(line, rent)
        book.add("compute", rent)
        book.add("gpus", gpus * active)
        return
    assert row.capex_per_gpu is not None  # checked by FleetRow
    x(f"{p}.utilisation", row.utilisation)  # informative for owned GPUs: not a cash item
    capex = gpus * x(f"{p}.capex_per_gpu", row.capex_per_gpu)
    life = x(f"{p}.depreciation_years", row.depreciation_years) * 12
    depreciating = (t >= start) & (t < start + np.asarray(life))
    monthly_depreciation = capex / life * depreciating
    opex = gpus * HOURS_PER_MONTH * x(f"{p}.opex_per_gpu_hour", row.opex_per_gpu_hour) * active
    book.add(line, opex + monthly_depreciation)
    book.add("compute", opex + monthly_depreciation)
    book.add("gpus", gpus * active)
    book.add("gpus_owned", gpus * active)
    book.add("depreciation", monthly_depreciation)
    book.add_at("capex", start, capex)


def _compute(spec: CompanySpec, x: InputValues, t: np.ndarray, book: _Ledger) -> None:
    spend = spec.compute.spend
    if spend is not None:
        growth = _grow(x("compute.spend.growth_per_year", spend.growth_per_year), t)
        training = x("compute.spend.training_per_year", spend.training_per_year)
        inference = x("compute.spend.inference_per_year", spend.inference_per_year)
        book.add("compute_training", training / 12 * growth)
        book.add("cost_of_revenue", inference / 12 * growth)
        book.add("compute", (training + inference) / 12 * growth)
        if spend.price_per_gpu_hour is not None:
            price = x("compute.spend.price_per_gpu_hour", spend.price_per_gpu_hour)
            book.add("gpus", (training + inference) / 12 * growth / (price * HOURS_PER_MONTH))
    for i, row in enumerate(spec.compute.fleet):
        _fleet_row(row, f"compute.fleet[{i}]", spec, x, t, book)
    plan = spec.compute.plan
    if plan is not None:
        if not plan.months or plan.on_demand_price_per_gpu_hour is None:
            raise InputError(
                "compute.plan.months",
                "the plan's months are not filled in: simulate the scenario file or preset "
                "(which solves its plan) or give months and on_demand_price_per_gpu_hour.",
            )
        offset = np.array(
            [month_index(m.month) - spec.start_index for m in plan.months], dtype=int
        )
        inside = (offset >= 0) & (offset < t.size)
        cols = offset[inside]
        rows = [m for m, keep in zip(plan.months, inside, strict=True) if keep]

        def column(name: str) -> np.ndarray:
            values = np.zeros(t.size)
            values[cols] = [getattr(m, name) for m in rows]
            return values

        scale = x("compute.plan.demand_scale", plan.demand_scale)
        price = x("compute.plan.on_demand_price_per_gpu_hour", plan.on_demand_price_per_gpu_hour)
        shortfall = np.maximum(
            0.0, column("demand_gpu_hours") * scale - column("capacity_gpu_hours")
        )
        cost = column("committed_cost") + column("depreciation") + shortfall * price
        share = x("compute.plan.inference_share", plan.inference_share)
        book.add("cost_of_revenue", cost * share)
        book.add("compute_training", cost * (1 - np.asarray(share)))
        book.add("compute", cost)
        book.add("gpus", column("capacity_gpu_hours") / HOURS_PER_MONTH)
        book.add("depreciation", column("depreciation"))
        book.add("capex", column("capex"))


def _people_and_operations(spec: CompanySpec, x: InputValues, t: np.ndarray, book: _Ledger) -> None:
    for i, team in enumerate(spec.people):
        p = f"people[{i}]"
        headcount = np.maximum(
            0.0,
            x(f"{p}.headcount", team.headcount)
            + x(f"{p}.hires_per_year", team.hires_per_year) * t / 12,
        )
        cost = x(f"{p}.loaded_cost_per_year", team.loaded_cost_per_year) / 12
        book.add(
            "people",
            headcount * cost * _grow(x(f"{p}.cost_growth_per_year", team.cost_growth_per_year), t),
        )
    ops = spec.operating
    growth = _grow(x("operating.growth_per_year", ops.growth_per_year), t)
    book.add(
        "rd_operations",
        x("operating.rd_operations_per_year", ops.rd_operations_per_year) / 12 * growth,
    )
    book.add(
        "sales_marketing",
        x("operating.sales_marketing_per_year", ops.sales_marketing_per_year) / 12 * growth,
    )


def _debt(
    debt: Debt, p: str, spec: CompanySpec, x: InputValues, t: np.ndarray, book: _Ledger
) -> None:
    """Interest on the principal outstanding at the start of each month; bullet or equal
    principal repayments over ``term_months`` from the drawdown month."""
    drawn = month_index(debt.month) - spec.start_index
    amount = x(f"{p}.amount", debt.amount)
    rate = x(f"{p}.annual_interest_rate", debt.annual_interest_rate)
    elapsed = t - drawn
    live = (elapsed >= 0) & (elapsed < debt.term_months)
    if debt.repayment == "bullet":
        outstanding = amount * live
        repaid = amount * (elapsed == debt.term_months - 1)
    else:
        outstanding = amount * (1 - elapsed / debt.term_months) * live
        repaid = amount / debt.term_months * live
    book.add("interest", outstanding * rate / 12)
    book.add("principal", repaid)
    book.add_at("funding_in", drawn, amount)


def _funding(spec: CompanySpec, x: InputValues, t: np.ndarray, book: _Ledger) -> None:
    for i, event in enumerate(spec.funding):
        p = f"funding[{i}]"
        if event.kind == "equity":
            book.add_at(
                "funding_in",
                month_index(event.month) - spec.start_index,
                x(f"{p}.amount", event.amount),
            )
        else:
            _debt(event, p, spec, x, t, book)
    for i, debt in enumerate(spec.existing_debt):
        _debt(debt, f"existing_debt[{i}]", spec, x, t, book)


def cash_flow(spec: CompanySpec, values: InputValues | None = None) -> CashFlow:
    """Evaluate the company month by month, for one or many input sets at once.

    Without ``values`` every input takes its nominal value (the distribution's mean) and the
    arrays have one row. Pure: no I/O.
    """
    x = values or InputValues()
    t = np.arange(spec.horizon_months, dtype=float)
    book = _Ledger(x.n, spec.horizon_months)
    _revenue(spec, x, t, book)
    _compute(spec, x, t, book)
    _people_and_operations(spec, x, t, book)
    _funding(spec, x, t, book)
    opening = np.broadcast_to(np.asarray(x("opening_cash", spec.opening_cash), float), (x.n, 1))
    x.check_all_used()
    names = {f.name for f in fields(CashFlow)} - {"start_index", "parent_funded", "opening_cash"}
    return CashFlow(
        start_index=spec.start_index,
        parent_funded=spec.parent_funded,
        opening_cash=np.array(opening),
        **{name: book.get(name) for name in names},
    )
