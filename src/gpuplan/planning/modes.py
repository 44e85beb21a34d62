"""The one table of supply modes (``data/supply_modes.csv``): how each way of getting GPUs is
paid, counted and ordered. Costs, the model, baselines, checks and read-back ask this table
instead of listing modes, so a new mode is one row (and one billing rule if it is new).

``billing``: ``per_use`` (paid for the GPU-periods in the fleet, one period at a time; a
cluster may hold them for part of a period), ``term`` (committed: in the fleet and paid for
the whole term) or ``own`` (capex, service life, opex in service, residual value).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from gpuplan.catalog.tables import read_table, split_aliases

Billing = Literal["per_use", "term", "own"]


class SupplyMode(BaseModel):
    """One row of the supply-mode table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: str = Field(min_length=1)
    billing: Billing
    cost_categories: Annotated[tuple[str, ...], BeforeValidator(split_aliases)] = Field(
        description="Cost categories its cash flows are reported under."
    )
    interruptible: bool = Field(description="The provider may reclaim it (spot).")
    committed: bool = Field(description="Paid whether used or not (counts as committed).")
    third_party: bool = Field(description="Rented from a provider (counts in provider shares).")
    notice_months: float = Field(ge=0, description="Months before the start it is ordered.")
    default_availability_gpus: int | None = Field(
        default=None,
        ge=1,
        description="GPUs one offer of this mode supplies at once, when "
        "the offer states no cap (scenario: supply.availability_by_mode).",
    )
    availability_source: str = Field(min_length=3)
    catalog_pricing_models: Annotated[tuple[str, ...], BeforeValidator(split_aliases)] = ()
    description: str
    source: str = Field(min_length=3)
    as_of: date


@cache
def supply_modes() -> dict[str, SupplyMode]:
    """The supply modes by name, in table order."""
    path = Path(__file__).with_name("data") / "supply_modes.csv"
    return {row.mode: row for row in read_table(path, SupplyMode)}


def supply_mode(mode: str) -> SupplyMode:
    """The row of ``mode`` (a mode missing from the table is a programming error)."""
    return supply_modes()[mode]


def modes_where(**wanted: object) -> list[str]:
    """Modes whose fields equal ``wanted`` (``modes_where(billing="per_use")``)."""
    return [
        name
        for name, row in supply_modes().items()
        if all(getattr(row, field) == value for field, value in wanted.items())
    ]


def mode_mask(modes: np.ndarray, **wanted: object) -> np.ndarray:
    """Boolean mask over an array of mode names: True where the mode matches ``wanted``."""
    return np.isin(modes, modes_where(**wanted))
