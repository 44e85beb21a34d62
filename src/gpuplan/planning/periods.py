"""The planning time grid: periods of one month or one quarter, their labels and discounting.

Money is discounted at the start of each period (payments are made when a period begins):
``discount_factor(t) = (1 + r) ** -(t * months_per_period / 12)`` with ``r`` the annual rate.
Hours per period use the average month, 8,760 / 12 = 730 h (``units.HOURS_PER_YEAR``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from gpuplan.units import HOURS_PER_YEAR

PeriodLength = Literal["month", "quarter"]
MONTHS_PER_PERIOD: dict[str, int] = {"month": 1, "quarter": 3}

YEARS = range(1900, 2200)
"""Years a scenario's months may fall in; 240 quarters from 2199 still end before 9999."""
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?\s*$")
_QUARTER = re.compile(r"^\s*(\d{4})-?[Qq]([1-4])\s*$")


def parse_month(value: object) -> date:
    """Read ``2025-03``, ``2025-03-01``, ``2025-Q2`` or a date into the first day of its month.

    Raises ``ValueError`` (pydantic turns it into a field error) for anything else, and for
    years outside :data:`YEARS` (so that every date a plan derives stays a valid date).
    """
    if isinstance(value, date):
        first = date(value.year, value.month, 1)
    elif quarter := _QUARTER.match(str(value)):
        first = date(int(quarter.group(1)), 3 * int(quarter.group(2)) - 2, 1)
    elif (month := _MONTH.match(str(value))) and 1 <= int(month.group(2)) <= 12:
        first = date(int(month.group(1)), int(month.group(2)), 1)
    else:
        raise ValueError(
            f"'{value}' is not a month; write YYYY-MM (2025-03) or YYYY-Qn (2025-Q2)"
        )
    if first.year not in YEARS:
        raise ValueError(
            f"'{value}' is outside the years {YEARS.start}-{YEARS.stop - 1} that plans cover"
        )
    return first


def add_months(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (both first days of months)."""
    return (end.year - start.year) * 12 + end.month - start.month


@dataclass(frozen=True)
class PeriodGrid:
    """``count`` periods of ``length`` starting at ``start`` (first day of a month)."""

    start: date
    count: int
    length: PeriodLength
    annual_discount_rate: float

    @property
    def months(self) -> int:
        return MONTHS_PER_PERIOD[self.length]

    @property
    def hours(self) -> float:
        """Hours in one period (average month: 730 h)."""
        return HOURS_PER_YEAR * self.months / 12

    def start_of(self, index: int) -> date:
        return add_months(self.start, index * self.months)

    def label(self, index: int) -> str:
        """``2025-03`` for months, ``2025-Q1`` for quarters (also past the horizon)."""
        first = self.start_of(index)
        if self.length == "quarter":
            return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
        return f"{first.year}-{first.month:02d}"

    @property
    def labels(self) -> list[str]:
        return [self.label(t) for t in range(self.count)]

    def year_of(self, index: int) -> int:
        return self.start_of(index).year

    def index_of(self, month: date) -> int:
        """Period containing ``month`` (may be negative or past the horizon)."""
        return months_between(self.start, month) // self.months

    def discount_factors(self, count: int | None = None) -> np.ndarray:
        """Start-of-period discount factors for periods 0..count-1 (default: horizon + 1,
        the last being the end of the horizon, where residual values are credited)."""
        n = self.count + 1 if count is None else count
        years = np.arange(n) * self.months / 12
        return np.asarray((1.0 + self.annual_discount_rate) ** (-years), dtype=float)

    def periods_for_months(self, months: float) -> int:
        """Whole periods that cover ``months`` (a 1-month commitment on a quarter grid: 1)."""
        return max(1, int(np.ceil(months / self.months - 1e-9)))
