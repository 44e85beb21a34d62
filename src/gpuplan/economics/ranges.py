"""Comparing a recomputed range with a stated one: gaps at each end, whether they agree
within a tolerance, and how far apart ranges that do not even overlap are.

Gaps are relative, except for percentages and years (absolute points and years). Used by
``check-report`` (the report's figures) and ``compare`` (the report's section 8 table).
"""

from __future__ import annotations

import numpy as np

from gpuplan.humanize import number

Range = tuple[float, float]

ABSOLUTE_UNITS = {"%", "year"}
"""Units whose gaps are absolute (points, years) rather than relative."""


def _gap(stated: float, recomputed: float, unit: str) -> float:
    """Relative gap, or absolute points for percentages and years."""
    if unit in ABSOLUTE_UNITS:
        return recomputed - stated
    if stated == 0:
        return 0.0 if recomputed == 0 else np.inf
    return (recomputed - stated) / stated


def _widened(values: Range, unit: str, tolerance: float) -> Range:
    """A range widened by the tolerance (points, or a fraction of each end)."""
    low, high = min(values), max(values)
    if unit in ABSOLUTE_UNITS:
        return low - tolerance, high + tolerance
    return low - abs(low) * tolerance, high + abs(high) * tolerance


def verdict(stated: Range, recomputed: Range, unit: str, tolerance: float) -> tuple[bool, str]:
    """(consistent, by how much) comparing both ends; a stated point that lies inside a
    recomputed range (an estimate whose inputs are uncertain), or within the tolerance of
    it, is consistent."""
    gaps = [_gap(s, r, unit) for s, r in zip(stated, recomputed, strict=True)]
    if stated[0] == stated[1] and recomputed[0] < stated[0] < recomputed[1]:
        return True, "inside the recomputed range"
    consistent = all(abs(g) <= tolerance + 1e-9 for g in gaps)
    if stated[0] == stated[1]:
        low, high = _widened(recomputed, unit, tolerance)
        consistent = consistent or low - 1e-9 <= stated[0] <= high + 1e-9
    if unit == "%":
        text = ", ".join(f"{end} {g:+.1f} pt" for end, g in zip(("low", "high"), gaps, strict=True))
    elif unit == "year":
        text = ", ".join(f"{end} {g:+.0f} y" for end, g in zip(("low", "high"), gaps, strict=True))
    else:
        text = ", ".join(
            f"{end} {100 * g:+.0f}%" for end, g in zip(("low", "high"), gaps, strict=True)
        )
    return consistent, text


def separation(stated: Range, recomputed: Range, unit: str, tolerance: float) -> str | None:
    """How far apart two ranges that do not overlap (even within the tolerance) are, from
    nearest end to nearest end; None when they overlap."""
    s_low, s_high = _widened(stated, unit, tolerance)
    r_low, r_high = min(recomputed), max(recomputed)
    if r_high < s_low:
        near, far, side = r_high, min(stated), "below"
    elif r_low > s_high:
        near, far, side = r_low, max(stated), "above"
    else:
        return None
    if unit in ABSOLUTE_UNITS:
        step = "pt" if unit == "%" else "y"
        return f"recomputed range entirely {side} the stated one, by {abs(far - near):.3g} {step}"
    if near == 0 or far == 0 or (near < 0) != (far < 0):
        return f"recomputed range entirely {side} the stated one"
    factor = float(f"{max(abs(far / near), abs(near / far)):.2g}")  # two significant figures
    return f"recomputed range entirely {side} the stated one, by a factor of {number(factor)}"


def judge(stated: Range, recomputed: Range, unit: str, tolerance: float) -> dict[str, object]:
    """``consistent``, ``verdict`` (consistent, inconsistent or contradicted), ``difference``
    (gap at each end) and ``separation`` (None unless the ranges do not overlap)."""
    consistent, gap = verdict(stated, recomputed, unit, tolerance)
    apart = None if consistent else separation(stated, recomputed, unit, tolerance)
    return {
        "consistent": consistent,
        "verdict": "consistent" if consistent else ("contradicted" if apart else "inconsistent"),
        "difference": gap,
        "separation": apart,
    }
