"""Money in other currencies: USD stays the internal unit, conversion happens at the edges.

Inputs in another currency are converted to USD with the dated rate of the FX table
(:func:`to_usd`); printed money is converted from USD into the display currency chosen with
:func:`display_currency` (the CLI's global ``--currency``), and :func:`rate_note` states the
rate and its date next to the numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from gpuplan.catalog.places import FxRate, fx_rate

INTERNAL = "USD"
_DISPLAY: ContextVar[str] = ContextVar("gpuplan_display_currency", default=INTERNAL)


@contextmanager
def display_currency(code: str) -> Iterator[FxRate]:
    """Within the block, :func:`from_usd` converts into ``code`` (checked against the table)."""
    rate = fx_rate(code)
    token = _DISPLAY.set(rate.currency)
    try:
        yield rate
    finally:
        _DISPLAY.reset(token)


def current_display() -> str:
    """The ISO code money is printed in (``USD`` unless :func:`display_currency` is active)."""
    return _DISPLAY.get()


def to_usd(amount: float, currency: str, on: date | None = None) -> float:
    """``amount`` of ``currency`` in USD at the latest rate dated on or before ``on``."""
    return amount * fx_rate(currency, on).usd_per_unit


def _day(on: date | None) -> date | None:
    from gpuplan.catalog.offers import active_prices_as_of

    return on or active_prices_as_of()


def from_usd(amount_usd: float, currency: str | None = None, on: date | None = None) -> float:
    """USD into ``currency`` (default: the display currency) at the rate dated on or before
    ``on`` (default: the active price date, else the latest rate)."""
    return amount_usd / fx_rate(currency or current_display(), _day(on)).usd_per_unit


def rate_note(currency: str | None = None, on: date | None = None) -> str | None:
    """'EUR at 1.1269 USD per EUR (ECB ..., 2026-10-06)'; None for USD."""
    code = currency or current_display()
    if code == INTERNAL:
        return None
    rate = fx_rate(code, _day(on))
    source = rate.source.split("(")[0].strip()
    return f"{code} at {rate.usd_per_unit:g} USD per {code} ({rate.as_of}; {source})"
