"""The base of every model a scenario file is read into (Calliope-style strict schema).

Unknown keys are errors (a typo is never ignored), values are frozen once read, and
non-finite numbers (``.inf``, ``.nan``) are rejected; field aliases and names both work.
Numeric fields accept the CLI's number forms written as strings (``15T``, ``2.5M``,
``60%``: :func:`gpuplan.humanize.parse`).
"""

from __future__ import annotations

import types
from functools import cache
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, model_validator

from gpuplan.humanize import parse


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


class ScenarioModel(BaseModel):
    """Strict, frozen, finite: the shared configuration of scenario-file sections."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @model_validator(mode="before")
    @classmethod
    def _human_numbers(cls, data: Any) -> Any:
        return parse_human_numbers(cls, data)
