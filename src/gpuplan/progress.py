"""How long-running library calls report progress, without printing anything themselves.

A library function that can take more than a couple of seconds (a plan solve, a Monte Carlo
run, a sweep) takes an optional ``progress`` callback and calls it with a short phase text and
the fraction done (``None`` when unknown). The CLI and the web app decide how to show it.
"""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[str, float | None], None]
"""``callback(phase, fraction_done)``: phase like ``"solving MILP, gap 3.2%"``; fraction in
[0, 1] or ``None`` when the total is unknown."""


def silent(phase: str, fraction: float | None) -> None:
    """The default callback: report nothing."""
