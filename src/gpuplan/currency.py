"""Money in other currencies: USD stays the internal unit, conversion happens at the edges.

Inputs in another currency are converted to USD with the dated rate of the FX table
(:func:`to_usd`); printed money is converted from USD into the display currency chosen with
:func:`display_currency` (the CLI's global ``--currency``), and :func:`rate_note` states the
rate and its date next to the numbers. Only the standard library is imported up front, so
:mod:`gpuplan.humanize` can ask for the display currency cheaply.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pydantic import BaseModel

    from gpuplan.catalog.places import FxRate

ModelT = TypeVar("ModelT", bound="BaseModel")

INTERNAL = "USD"
SYMBOLS = {"USD": "$", "EUR": "\u20ac", "GBP": "\u00a3"}
_DISPLAY: ContextVar[str] = ContextVar("gpuplan_display_currency", default=INTERNAL)
_SHOWN: ContextVar[dict[str, bool] | None] = ContextVar("gpuplan_rate_shown", default=None)
"""Within :func:`display_currency`: whether money was converted, and the rate named."""


@dataclass
class _ScenarioSlot:
    """Within a CLI command: whether ``--currency`` was given, and the scenario's display."""

    explicit: bool
    stack: ExitStack = field(default_factory=ExitStack)
    adopted: bool = False


_SCENARIO_SLOT: ContextVar[_ScenarioSlot | None] = ContextVar(
    "gpuplan_scenario_currency", default=None
)


def symbol(code: str) -> str:
    """'$', '€', '£', else the ISO code and a space."""
    return SYMBOLS.get(code, f"{code} ")


@contextmanager
def display_currency(code: str) -> Iterator[FxRate]:
    """Within the block, :func:`from_usd` converts into ``code`` (checked against the table)."""
    from gpuplan.catalog.places import fx_rate

    rate = fx_rate(code)
    token = _DISPLAY.set(rate.currency)
    shown = _SHOWN.set({"converted": False, "named": False})
    try:
        yield rate
    finally:
        _SHOWN.reset(shown)
        _DISPLAY.reset(token)


def unnamed_rate_note() -> str | None:
    """The rate note when money was converted for display but no table named the rate yet
    (the CLI prints it once at the end, so every converted figure has its rate and date)."""
    state = _SHOWN.get()
    if state is None or not state["converted"] or state["named"]:
        return None
    return rate_note()


@contextmanager
def scenario_currency_slot(explicit: bool) -> Iterator[None]:
    """For one CLI command: a scenario read during it may choose the display currency with
    ``horizon.currency`` (:func:`adopt_scenario_currency`) unless ``explicit`` (the user gave
    ``--currency``). Outside such a block (API, web, tests) scenarios change nothing."""
    slot = _ScenarioSlot(explicit)
    token = _SCENARIO_SLOT.set(slot)
    try:
        yield
    finally:
        slot.stack.close()
        _SCENARIO_SLOT.reset(token)


def adopt_scenario_currency(code: str) -> None:
    """Print the rest of the current CLI command in ``code`` (a scenario's reporting currency)
    when the user did not choose one; the first scenario read decides."""
    slot = _SCENARIO_SLOT.get()
    if slot is None or slot.explicit or slot.adopted or code.strip().upper() == INTERNAL:
        return
    slot.stack.enter_context(display_currency(code))
    slot.adopted = True


def current_display() -> str:
    """The ISO code money is printed in (``USD`` unless :func:`display_currency` is active)."""
    return _DISPLAY.get()


def _rate(currency: str, on: date | None) -> FxRate:
    from gpuplan.catalog.offers import active_prices_as_of
    from gpuplan.catalog.places import fx_rate

    return fx_rate(currency, on or active_prices_as_of())


def to_usd(amount: float, currency: str, on: date | None = None) -> float:
    """``amount`` of ``currency`` in USD at the latest rate dated on or before ``on``."""
    return amount * _rate(currency, on).usd_per_unit


def from_usd(amount_usd: float, currency: str | None = None, on: date | None = None) -> float:
    """USD into ``currency`` (default: the display currency) at the rate dated on or before
    ``on`` (default: the active price date, else the latest rate)."""
    code = currency or current_display()
    state = _SHOWN.get()
    if state is not None and code != INTERNAL:
        state["converted"] = True
    return amount_usd / _rate(code, on).usd_per_unit


def rate_note(currency: str | None = None, on: date | None = None) -> str | None:
    """'EUR at 1.1269 USD per EUR (2026-10-06; ECB ...)'; None for USD."""
    code = currency or current_display()
    if code == INTERNAL:
        return None
    rate = _rate(code, on)
    state = _SHOWN.get()
    if state is not None and on is None and code == current_display():
        state["named"] = True
    source = rate.source.split("(")[0].strip()
    return f"{code} at {rate.usd_per_unit:g} USD per {code} ({rate.as_of}; {source})"


def scale_money(value: Any, factor: float) -> Any:
    """A money input (a number or a :class:`~gpuplan.uncertainty.distributions.Distribution`)
    times ``factor``; every shape (uniform, triangular, PERT, lognormal) scales with its bounds."""
    from gpuplan.uncertainty.distributions import Distribution

    if isinstance(value, Distribution):
        mode = None if value.mode is None else value.mode * factor
        return value.model_copy(
            update={"low": value.low * factor, "high": value.high * factor, "mode": mode}
        )
    return value * factor


def money_fields_to_usd(model: ModelT, usd_per_unit: float) -> ModelT:
    """A copy of ``model`` whose money inputs are converted to USD: every number or range
    field named ``..._usd`` or whose description is in USD ("USD per GPU-hour", "USD
    raised"), in nested models and lists of them too. The schema names USD because USD is
    the internal unit; a section written in another currency is converted with this before
    anything reads it."""
    from pydantic import BaseModel

    from gpuplan.uncertainty.distributions import Distribution

    def convert(value: Any, is_money: bool) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if is_money and isinstance(value, int | float | Distribution):
            return scale_money(value, usd_per_unit)
        if isinstance(value, BaseModel) and not isinstance(value, Distribution):
            return money_fields_to_usd(value, usd_per_unit)
        if isinstance(value, list | tuple):
            return type(value)(convert(item, is_money) for item in value)
        return value

    update = {
        name: convert(
            getattr(model, name), name.endswith("_usd") or "USD" in (field.description or "")
        )
        for name, field in type(model).model_fields.items()
    }
    return model.model_copy(update=update)


def inputs_to_usd(
    model: ModelT, currency: str, where: str, on: date | None = None
) -> tuple[ModelT, str | None]:
    """``model``'s money inputs written in ``currency`` converted to USD at the FX table's
    latest rate on or before ``on`` (default: the price date, ``--as-of`` or today), and the
    note naming that rate (None for USD). A currency missing from the table is an error
    naming ``where``."""
    from gpuplan.errors import GpuplanError, InputError

    code = currency.strip().upper()
    if code == INTERNAL:
        return model, None
    try:
        rate = _rate(code, on)
    except GpuplanError as error:
        raise InputError(where, str(error)) from None
    source = rate.source.split("(")[0].strip()
    note = f"{code} inputs at {rate.usd_per_unit:g} USD per {code} ({rate.as_of}; {source})"
    return money_fields_to_usd(model, rate.usd_per_unit), note


def section_in_usd(section: ModelT, where: str, on: date | None = None) -> ModelT:
    """A scenario section with ``currency`` and ``fx_note`` fields, its money inputs in USD:
    unchanged when written in USD, else converted (:func:`inputs_to_usd`, rate dated on or
    before ``on``) and marked USD with the rate in ``fx_note``. Pydantic validators of such
    sections call this once."""
    code = str(getattr(section, "currency", INTERNAL))
    if code.strip().upper() == INTERNAL:
        return section
    converted, note = inputs_to_usd(section, code, where, on)
    return converted.model_copy(update={"currency": INTERNAL, "fx_note": note})
