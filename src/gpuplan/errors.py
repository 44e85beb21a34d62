"""Typed exceptions with messages a user can act on.

Every error raised for bad input is a :class:`GpuplanError`; the CLI prints its message as
one paragraph and exits with status 2, never with a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GpuplanError(Exception):
    """Base class for every user-facing error of gpuplan."""


class InputError(GpuplanError, ValueError):
    """A value given by the user is invalid; the message names the field and a fix."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class UnknownIdError(GpuplanError, KeyError):
    """An id (GPU, model, provider, preset...) is not in its catalog."""

    def __init__(self, kind: str, given: str, valid: Iterable[str]) -> None:
        self.kind = kind
        self.given = given
        choices = sorted(set(valid))
        near = difflib.get_close_matches(given.lower(), choices, n=3, cutoff=0.4)
        hint = f" Did you mean {', '.join(repr(n) for n in near)}?" if near else ""
        listing = ", ".join(choices[:40]) + (" ..." if len(choices) > 40 else "")
        self.message = f"Unknown {kind} '{given}'.{hint} Valid {kind} ids: {listing}."
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class CatalogError(GpuplanError):
    """A data file (shipped or user-supplied) has a malformed row; names file, line, column."""


class InfeasibleError(GpuplanError):
    """A request no configuration can satisfy; the message says what is missing."""


class InfeasiblePlanError(InfeasibleError):
    """A procurement plan cannot meet every workload under the scenario's rules."""

    def __init__(self, shortfalls: list[str]) -> None:
        self.shortfalls = shortfalls
        shown = " ".join(shortfalls[:5])
        more = f" (and {len(shortfalls) - 5} more shortfalls)" if len(shortfalls) > 5 else ""
        super().__init__(f"The plan is infeasible. {shown}{more}")


class InvariantError(RuntimeError):
    """A result broke a property the code guarantees (a solved plan that fails ``check_plan``,
    percentiles out of order): a bug in gpuplan, not bad input, so it is not a
    :class:`GpuplanError` and surfaces with its traceback for a bug report."""

    def __init__(self, what: str, problems: list[str]) -> None:
        self.problems = problems
        shown = "; ".join(problems[:5]) + (
            f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        )
        super().__init__(f"{what} broke its invariants, a bug in gpuplan: {shown}")
