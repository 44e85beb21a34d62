"""Numbers the way people read them: ``15T tokens``, ``$1.66M``, ``−$2.3B``, ``65%``.

One place for every human-facing number format (CLI tables, reports, web pages); JSON output
keeps raw SI numbers. Three significant figures unless stated otherwise.
"""

from __future__ import annotations

import math
import re
from typing import Literal

_MINUS = "\u2212"
_SCALES = ((1e15, "P"), (1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
_MONEY_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def _sig(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant figures, no exponent, trailing zeros dropped."""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scaled(value: float, scales: tuple[tuple[float, str], ...]) -> str:
    magnitude = abs(value)
    for size, suffix in scales:
        if magnitude >= size * 0.9995:
            return f"{_sig(magnitude / size)}{suffix}"
    return _sig(magnitude)


def _sign(value: float) -> str:
    return _MINUS if value < 0 else ""


def count(value: float) -> str:
    """A large count with a suffix: ``15T``, ``2.79M``, ``640``; ``−`` for negatives; from
    1e18 in powers of ten (``8.29e22``: FLOPs of a training run)."""
    if not math.isfinite(value):
        return "-"
    if abs(value) >= 0.9995e18:
        mantissa, exponent = f"{abs(value):.2e}".split("e")
        return f"{_sign(value)}{_sig(float(mantissa))}e{int(exponent)}"
    return _sign(value) + _scaled(value, _SCALES)


def number(value: float | None) -> str:
    """Any figure in a sentence or a table cell: whole thousands as written below 10,000
    (``2,048``, ``1,979``), a suffix above (``4.63M``), three significant figures below
    1,000 (``7.24``, ``0.864``), two below 0.001 (``0.00042``, ``3e-7``); ``-`` for none or
    a non-finite value."""
    if value is None or not math.isfinite(value):
        return "-"
    magnitude = abs(value)
    if 1e3 <= magnitude < 1e4:
        return f"{_sign(value)}{magnitude:,.0f}"
    if 1e-4 <= magnitude < 1e-3:
        return f"{_sign(value)}{magnitude:.2g}"
    if 0 < magnitude < 1e-4:
        mantissa, exponent = f"{magnitude:.1e}".split("e")
        return f"{_sign(value)}{_sig(float(mantissa), 2)}e{int(exponent)}"
    return count(value)


def plain(value: float) -> str:
    """A value as given, six significant figures, exponents without ``+`` or leading
    zeros: ``1e30``, ``1.797e308``, ``2.5e-7``, ``0.12345``: for echoing what a user wrote."""
    return re.sub(r"e([-+])0*(\d)", lambda m: f"e{m[1].replace('+', '')}{m[2]}", f"{value:g}")


def tokens(value: float) -> str:
    """``15T tokens``."""
    return f"{count(value)} tokens"


def gpu_hours(value: float) -> str:
    """``4.63M GPU-hours``, ``640 GPU-hours``."""
    return f"{number(value)} GPU-hours"


def money(value: float | None, symbol: str | None = None) -> str:
    """``$1.66M``, ``−$2.3B``, ``$0.42``, ``$0.072``: cents below $10 (two significant
    figures below $1), whole figures with a suffix above;
    ``-`` for no value (a percentile that is "never") or a non-finite one.

    ``value`` is USD. Without ``symbol`` it is shown in the display currency of
    :func:`gpuplan.currency.display_currency` (the CLI's ``--currency``), converted at its
    dated rate: ``€1.47M``.
    """
    if value is None or not math.isfinite(value):
        return "-"
    if symbol is None:
        from gpuplan import currency

        code = currency.current_display()
        if code != currency.INTERNAL:
            value = currency.from_usd(value)
        symbol = currency.symbol(code)
    magnitude = abs(value) if abs(value) >= 1e-4 else 0.0  # below a hundredth of a cent: 0
    if 0 < magnitude < 0.995:  # two significant figures, at least cents: $0.42, $0.072
        whole, _, cents = _sig(magnitude, 2).partition(".")
        body = f"{whole}.{cents.ljust(2, '0')}"
    elif magnitude < 10:
        body = f"{magnitude:.2f}"
    elif magnitude < 1000:
        body = f"{magnitude:.0f}"
    else:
        body = _scaled(value, _MONEY_SCALES)
    return f"{_sign(value) if magnitude else ''}{symbol}{body}"


def days(value: float) -> str:
    """``21.3 days``, ``1 day``: durations to three significant figures."""
    if not math.isfinite(value):
        return "-"
    body = _sig(abs(value))
    return f"{_sign(value)}{body} day{'' if body == '1' else 's'}"


def flops(value: float) -> str:
    """``8.4e23 FLOPs``: floating-point operations in powers of ten, no ``+``."""
    if not math.isfinite(value) or value == 0:
        return "-" if not math.isfinite(value) else "0 FLOPs"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = _sig(abs(value) / 10**exponent)
    if mantissa == "10":
        mantissa, exponent = "1", exponent + 1
    return f"{_sign(value)}{mantissa}e{exponent} FLOPs"


def percent(fraction: float, digits: int = 0) -> str:
    """``0.65`` -> ``65%``; ``digits`` decimals."""
    if not math.isfinite(fraction):
        return "-"
    body = f"{abs(fraction) * 100:.{digits}f}"
    return f"{_sign(fraction) if body.strip('0.') else ''}{body}%"


def change(fraction: float | None, digits: int = 0) -> str:
    """A signed change: ``+18%``, ``−56%`` (a real minus), ``0%``; ``-`` for none."""
    if fraction is None:
        return "-"
    text = percent(fraction, digits)
    return text if text.startswith((_MINUS, "-")) or float(text[:-1]) == 0 else f"+{text}"


_ACRONYMS = {"gpu", "npv", "tco", "mfu", "kv", "tp", "ep", "eu", "us", "id", "usd", "ttft", "tpot"}
_ACRONYMS |= {"gb", "tb", "mw", "hq", "vss", "evpi", "cvar", "api", "cpu", "pue", "fte"}
_MIXED_CASE = {"gpus": "GPUs", "moe": "MoE", "flops": "FLOPs", "rd": "R&D", "kw": "kW"}
_MIXED_CASE |= {"kwh": "kWh", "mwh": "MWh"}


def label(name: str) -> str:
    """``gpu_hours_p50`` -> ``GPU hours P50``: a snake_case key as a row label."""
    words = []
    for word in name.replace("-", "_").split("_"):
        if not word:
            continue
        if word.lower() in _MIXED_CASE:
            words.append(_MIXED_CASE[word.lower()])
        elif word.lower() in _ACRONYMS or re.fullmatch(r"[pP]\d{1,2}", word):
            words.append(word.upper())
        else:
            words.append(word)
    text = " ".join(words)
    return text[:1].upper() + text[1:]


Kind = Literal["money", "percent", "count", "number", "text"]
_PERCENT_WORDS = (
    "utilisation", "fraction", "share", "probability", "margin", "mfu", "growth", "_cut_", "_rate"
)
_MONEY_WORDS = ("usd", "price", "cost", "capex", "opex", "debt", "amount", "annual_value", "cash")
_COUNT_WORDS = (
    "gpus", "gpu_hours", "flops", "tokens", "samples", "headcount", "hires", "contracts"
)


def kind_of(name: str) -> Kind:
    """How a field's numbers read, from its snake_case name (or a dotted path's last part):
    shares, margins and growth rates as percent; ``*usd*``, prices, costs and cash as
    money; GPU, token and head counts with suffixes; other ``*_per_year`` amounts (a
    company's spend, sales) as money; else a plain number. Used by CLI tables, the report
    and the workbook."""
    lowered = name.lower().rsplit(".", 1)[-1] + "_"
    if any(word in lowered for word in _PERCENT_WORDS):
        return "percent"
    if any(word in lowered for word in _MONEY_WORDS):
        return "money"
    if any(word in lowered for word in _COUNT_WORDS):
        return "count"
    if lowered.endswith(("_per_year_", "spend_")):
        return "money"
    return "number"


def figure(value: float, kind: Kind) -> str:
    """``value`` the way a field of that :func:`kind_of` reads: ``$1.66M``, ``65%``
    (one decimal under 10%), ``15T``, ``2,048``."""
    if kind == "money":
        return money(value)
    if kind == "percent":
        return percent(value, 1 if abs(value) < 0.1 else 0)
    if kind == "count":
        return count(value)
    return number(value)


_SNAKE = re.compile(r"^[a-z]+(?:_[a-z0-9]+)+$")


def title(text: str) -> str:
    """A table's row label: snake_case keys become labels (``on_demand`` -> ``On demand``);
    single words, ids with digits or dashes (``h100-sxm``, ``openai``) stay as written."""
    return label(text) if _SNAKE.match(text) else text


_DIGITS = r"[0-9]+(?:_[0-9]+)*"  # Python's rule: one underscore between two digits
_NUMBER_FORM = re.compile(
    rf"^\s*([-+\u2212]?)\s*({_DIGITS}(?:\.(?:{_DIGITS})?)?(?:[eE][-+]?[0-9]+)?)\s*"
    r"([kKmMbBgGtTpP%]?)\s*$"
)
_PARSE_SCALES = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12, "p": 1e15, "%": 0.01}


def parse(text: str) -> float:
    """The reverse of the formats above: ``15T`` -> 1.5e13, ``2.5M`` -> 2.5e6, ``60%`` -> 0.6,
    ``15e12`` and ``15_000`` as written; ``ValueError`` for anything else.

    Suffixes are SI decimal (K = 1e3, M = 1e6, B = G = 1e9, T = 1e12, P = 1e15), as in
    :mod:`gpuplan.units`.
    """
    match = _NUMBER_FORM.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a number")
    sign, digits, suffix = match.groups()
    value = float(digits.replace("_", "")) * _PARSE_SCALES.get(suffix.lower(), 1.0)
    return -value if sign in ("-", _MINUS) else value
