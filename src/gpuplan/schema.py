"""The base of every model a scenario file is read into (Calliope-style strict schema).

Unknown keys are errors (a typo is never ignored), values are frozen once read, non-finite
numbers (``.inf``, ``.nan``) are rejected, and so are numbers beyond
:data:`gpuplan.units.LARGEST_INPUT`; field aliases and names both work. Numeric fields accept
the CLI's number forms written as strings (``15T``, ``2.5M``, ``60%``:
:func:`gpuplan.humanize.parse`).
"""

from __future__ import annotations

import types
from functools import cache
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from gpuplan.humanize import parse, plain
from gpuplan.units import LARGEST_INPUT


def _numeric(annotation: Any) -> bool:
    """Whether a field type takes a number but not free text (so ``"15T"`` means 1.5e13)."""
    if annotation in (float, int):
        return True
    if annotation is str:
        return False
    args = get_args(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_numeric(a) for a in args) and not any(a is str for a in args)
    if args and get_origin(annotation) is not None and hasattr(annotation, "__metadata__"):
        return _numeric(args[0])  # Annotated[float, ...]
    return False


def human_number(value: Any) -> Any:
    """``"15T"`` -> 1.5e13, ``"60%"`` -> 0.6; anything else is returned unchanged (so the
    field's own validation reports it)."""
    if isinstance(value, str):
        try:
            return parse(value)
        except ValueError:
            return value
    return value


@cache
def _numeric_keys(model: type[BaseModel]) -> frozenset[str]:
    keys = set()
    for name, info in model.model_fields.items():
        if _numeric(info.annotation):
            keys.add(name)
            if info.alias:
                keys.add(info.alias)
    return frozenset(keys)


def parse_human_numbers(model: type[BaseModel], data: Any) -> Any:
    """``data`` with string values of ``model``'s numeric fields parsed (a before-validator)."""
    if not isinstance(data, dict):
        return data
    keys = _numeric_keys(model)
    return {k: human_number(v) if k in keys else v for k, v in data.items()}


def check_magnitude(value: float) -> None:
    """Raise ``ValueError`` (a field error under pydantic) for a number beyond LARGEST_INPUT."""
    if abs(value) > LARGEST_INPUT:
        raise ValueError(
            f"must lie within ±{plain(LARGEST_INPUT)}, the largest magnitude gpuplan accepts "
            f"(got {short_number(value)}); check the units"
        )


def short_number(value: float) -> str:
    """``1e+308`` for a float; an integer too long for a float by its number of digits."""
    if isinstance(value, int) and abs(value) >= 10**300:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    return f"{plain(float(value))}"


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

    @model_validator(mode="before")
    @classmethod
    def _human_numbers(cls, data: Any) -> Any:
        return parse_human_numbers(cls, data)

    @field_validator("*", mode="after")
    @classmethod
    def _within_largest_input(cls, value: Any) -> Any:
        _numbers_within_range(value)
        return value
