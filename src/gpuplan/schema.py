"""The base of every model a scenario file is read into (Calliope-style strict schema).

Unknown keys are errors (a typo is never ignored), values are frozen once read, non-finite
numbers (``.inf``, ``.nan``) are rejected, and so are numbers beyond
:data:`gpuplan.units.LARGEST_INPUT`; field aliases and names both work.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from gpuplan.units import LARGEST_INPUT


def check_magnitude(value: float) -> None:
    """Raise ``ValueError`` (a field error under pydantic) for a number beyond LARGEST_INPUT."""
    if abs(value) > LARGEST_INPUT:
        raise ValueError(
            f"must lie within ±{LARGEST_INPUT:g}, the largest magnitude gpuplan accepts "
            f"(got {short_number(value)}); check the units"
        )


def short_number(value: float) -> str:
    """``1e+308`` for a float; an integer too long for a float by its number of digits."""
    if isinstance(value, int) and abs(value) >= 10**300:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    return f"{float(value):g}"


def _numbers_within_range(value: Any) -> None:
    if isinstance(value, float | int) and not isinstance(value, bool):
        check_magnitude(value)
    elif isinstance(value, list | tuple):
        for item in value:
            _numbers_within_range(item)
    elif isinstance(value, dict):
        for item in value.values():
            _numbers_within_range(item)


class ScenarioModel(BaseModel):
    """Strict, frozen, finite: the shared configuration of scenario-file sections."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @field_validator("*", mode="after")
    @classmethod
    def _within_largest_input(cls, value: Any) -> Any:
        _numbers_within_range(value)
        return value
