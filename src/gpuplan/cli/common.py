"""Shared CLI plumbing: number parsing, error handling, JSON and table output.

Only the standard library and typer/rich are imported here, so ``gpuplan --help`` stays fast;
command modules import the Python API inside their functions.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer

from gpuplan.units import LARGEST_INPUT

P = ParamSpec("P")
R = TypeVar("R")

_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12, "p": 1e15}
_DIGITS = r"[0-9]+(?:_[0-9]+)*"  # Python's rule: one underscore between two digits
_NUMBER = re.compile(
    rf"^\s*([-+]?{_DIGITS}(?:\.(?:{_DIGITS})?)?(?:[eE][-+]?[0-9]+)?)\s*([kKmMbBgGtTpP]?)\s*$"
)


def parse_number(text: str | float | int, field: str) -> float:
    """Parse ``15e12``, ``15T``, ``15_000_000_000_000`` or ``1.5B`` into a float.

    Raises :class:`gpuplan.errors.InputError` naming ``field`` for anything else.
    """
    from gpuplan.errors import InputError

    if isinstance(text, int | float):
        value = float(text)
    else:
        match = _NUMBER.match(str(text))
        if not match:
            raise InputError(
                field, f"'{text}' is not a number; write e.g. 15e12, 15T or 15_000_000_000_000."
            )
        value = float(match.group(1).replace("_", "")) * _SUFFIX.get(match.group(2).lower(), 1.0)
    if not math.isfinite(value):
        raise InputError(field, f"'{text}' is not a finite number.")
    if abs(value) > LARGEST_INPUT:
        raise InputError(
            field,
            f"'{text}' is beyond ±{LARGEST_INPUT:g}, the largest magnitude gpuplan accepts; "
            "check the units.",
        )
    return value


def positive_number(text: str | float | int, field: str) -> float:
    """Like :func:`parse_number` but the value must be > 0."""
    from gpuplan.errors import InputError

    value = parse_number(text, field)
    if value <= 0:
        raise InputError(field, f"must be greater than zero (got {text}).")
    return value


def non_negative_whole_number(text: str | float | int, field: str) -> int:
    """A whole number >= 0 (``0``, ``30``, ``1_000``); fractions and negatives are errors."""
    from gpuplan.errors import InputError

    value = parse_number(text, field)
    if value < 0 or value != int(value):
        raise InputError(field, f"must be a whole number >= 0 (got {text}).")
    return int(value)


def whole_number(text: str | float | int, field: str) -> int:
    """Like :func:`positive_number` but the value must also be a whole number."""
    from gpuplan.errors import InputError

    value = positive_number(text, field)
    if value != int(value):
        raise InputError(field, f"must be a whole number (got {text}).")
    return int(value)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`GpuplanError` into one printed paragraph and exit code 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from gpuplan.errors import GpuplanError

        try:
            return func(*args, **kwargs)
        except GpuplanError as error:
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(code=2) from None

    return wrapper


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value) if not isinstance(value, str | int | float | bool | type(None)) else value


def print_json(payload: Any) -> None:
    """Print one JSON object (NaN/inf become null; dates and numpy scalars are converted)."""

    def clean(obj: Any) -> Any:
        if isinstance(obj, Mapping):
            return {str(k): clean(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [clean(v) for v in obj]
        return _jsonable(obj)

    sys.stdout.write(json.dumps(clean(payload), indent=2) + "\n")


def format_cell(value: Any) -> str:
    """Readable cell text: thousands separators, 3 significant digits for small floats."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-"
        if abs(value) >= 1e15 or (0 < abs(value) < 1e-3):
            return f"{value:.3g}"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    return str(value)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a rich table (imports rich lazily)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(format_cell(v) for v in row))
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    console.print(table)
