"""Reference on-demand prices per GPU-hour, used when the user gives no price.

A small, override-able table (``data/gpu_reference_prices.csv``): one dated public
on-demand price per GPU type with its source. The full offer catalog (providers, regions,
pricing models) lives elsewhere; this table only lets inference costs default to something
traceable. GPUs without a row have no default price.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from gpuplan.catalog.tables import packaged_data, read_table


class ReferencePrice(BaseModel):
    """One GPU type's reference price, USD per GPU-hour."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gpu_id: str
    usd_per_gpu_hour: float = Field(gt=0)
    provider: str
    offering: str
    pricing_model: str
    as_of: date
    source: str = Field(min_length=3)


@cache
def reference_prices() -> dict[str, ReferencePrice]:
    """Reference prices by canonical GPU id (loaded once)."""
    rows = read_table(packaged_data("gpu_reference_prices.csv"), ReferencePrice)
    return {row.gpu_id: row for row in rows}


def reference_price(gpu_id: str) -> ReferencePrice | None:
    """The reference price of a GPU id, or None when the table has none."""
    return reference_prices().get(gpu_id)
