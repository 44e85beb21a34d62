"""Reading a checked figure's inputs (``report/data/*.yaml``): each is ``{value}`` or
``{low, high}`` with its ``source``; ranges combine end to end, as the report adds them."""

from __future__ import annotations

from typing import Any

Range = tuple[float, float]


def ends(item: dict[str, Any]) -> Range:
    """(low, high) of an input; a single value gives (value, value)."""
    if "value" in item:
        return float(item["value"]), float(item["value"])
    return float(item["low"]), float(item["high"])


def input_ends(claim: dict[str, Any], name: str) -> Range:
    """(low, high) of the claim's input ``name``."""
    return ends(claim["inputs"][name])


def product(claim: dict[str, Any], *names: str) -> Range:
    """Product of inputs: lows together, highs together."""
    low = high = 1.0
    for name in names:
        a, b = input_ends(claim, name)
        low, high = low * a, high * b
    return low, high


def ratio(claim: dict[str, Any], top: str, bottom: str, scale: float = 1.0) -> Range:
    """top / bottom with the ends crossed (smallest top over largest bottom first)."""
    (t_low, t_high), (b_low, b_high) = input_ends(claim, top), input_ends(claim, bottom)
    return t_low / b_high * scale, t_high / b_low * scale
