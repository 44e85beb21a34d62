"""Shared CLI plumbing: number parsing, error handling, JSON and table output.

Only the standard library and typer/rich are imported here, so ``gpuplan --help`` stays fast;
command modules import the Python API inside their functions.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from gpuplan import humanize
from gpuplan.units import LARGEST_INPUT

if TYPE_CHECKING:
    from rich.console import Console

P = ParamSpec("P")
R = TypeVar("R")

_EXAMPLES = (
    (("utilisation", "share", "fraction", "rate", "growth"), "0.6 or 60%"),
    (("global_batch_tokens",), "4M or 4e6"),
    (("tokens_per_day",), "10B or 1e10"),
    (("tokens",), "15T, 15e12 or 15_000_000_000_000"),
    (("params",), "7B, 7e9 or 7_000_000_000"),
    (("gpu_hours",), "200K or 2e5"),
    (("price",), "2.49 (USD per GPU-hour)"),
    (("usd", "cost"), "20M or 2e7 (USD)"),
    (("_ms",), "200 (milliseconds)"),
    (("software_year",), "2025"),
    (("exposed_all_to_all",), "0.5 or 50% (share, 0-1)"),
    (("_parallel",), "4 (GPUs; tensor parallelism a power of two)"),
    (("days",), "30"),
    (("factor",), "1.5"),
    (("requests_per_second",), "250"),
    (("gpus", "samples", "seq_len", "batch", "futures", "workers", "out_of"), "1024 or 1K"),
    (("years",), "5 or 2.5"),
)
"""Which spelling to suggest for a field, first match wins (specific names before general)."""


JSON = typer.Option(False, "--json", help="Print one JSON object.")
"""The ``--json`` flag of every command that prints one result."""
OVERRIDE = typer.Option(
    [], "--override", "-o", help="Apply a named override of the scenario (repeatable)."
)
"""The ``--override NAME`` option of the commands that read a scenario."""


def number_example(field: str) -> str:
    """A valid spelling for ``field``'s kind of number (shown when a value does not parse)."""
    name = field.lower().lstrip("-").replace("-", "_")
    for keys, example in _EXAMPLES:
        if any(key in name for key in keys):
            return example
    return "2.5, 1.5e12, 15T or 60%"


def parse_number(text: str | float | int, field: str) -> float:
    """Parse ``15e12``, ``15T``, ``15_000_000_000_000``, ``1.5B`` or ``60%`` into a float
    (:func:`gpuplan.humanize.parse`).

    Raises :class:`gpuplan.errors.InputError` naming ``field``, with an example that fits it.
    """
    from gpuplan.errors import InputError
    from gpuplan.humanize import parse

    if isinstance(text, int | float):
        value = float(text)
    else:
        try:
            value = parse(str(text))
        except ValueError:
            raise InputError(
                field, f"'{text}' is not a number; write e.g. {number_example(field)}."
            ) from None
    if not math.isfinite(value):
        raise InputError(field, f"'{text}' is not a finite number.")
    if abs(value) > LARGEST_INPUT:
        raise InputError(
            field,
            f"'{text}' is beyond ±{humanize.plain(LARGEST_INPUT)}, the largest magnitude gpuplan "
            "accepts; check the units.",
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


def apply_global_options(ctx: typer.Context, as_of: str | None, currency: str) -> None:
    """Hold ``--as-of`` and ``--currency`` for the whole command (bad values: exit 2).

    Nothing heavy is imported when neither is given, so ``--help`` stays fast. Without
    ``--currency`` a scenario's ``horizon.currency`` may choose the display currency."""
    from gpuplan.currency import scenario_currency_slot

    # by name: typer may bundle its own copy of click's ParameterSource enum
    source = ctx.get_parameter_source("currency")
    explicit = getattr(source, "name", "") in ("COMMANDLINE", "ENVIRONMENT")
    ctx.with_resource(scenario_currency_slot(explicit))
    if as_of is None and currency.strip().upper() == "USD":
        ctx.call_on_close(_name_the_rate)  # closes before the scenario's display currency
        return
    from datetime import date

    from gpuplan.catalog.offers import prices_as_of
    from gpuplan.currency import display_currency
    from gpuplan.errors import GpuplanError, InputError

    try:
        day = None
        if as_of is not None:
            try:
                day = date.fromisoformat(as_of.strip())
            except ValueError:
                raise InputError(
                    "as_of", f"'{as_of}' is not a date; write YYYY-MM-DD, e.g. 2025-06-01."
                ) from None
        ctx.with_resource(prices_as_of(day))
        ctx.with_resource(display_currency(currency))
        ctx.call_on_close(_name_the_rate)  # runs before the display currency is reset
    except GpuplanError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=2) from None


def _name_the_rate() -> None:
    """At the end of a command whose money was printed in another currency without a table
    naming the rate (e.g. plan's money() figures): one line stating the rate and its date."""
    from gpuplan.currency import unnamed_rate_note

    note = unnamed_rate_note()
    if note:
        typer.echo(f"Money in {note}.")


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
    """Readable cell text (:func:`gpuplan.humanize.number`): ``7.09T``, ``1.66M``, ``0.42``,
    ``−3``; ``-`` for none, ``yes``/``no`` for booleans."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return humanize.number(float(value))
    return str(value)


def in_display_currency(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    self_converting: Collection[int] = (),
) -> tuple[str, list[str], list[list[Any]], str | None]:
    """A table's title, headers and rows in the display currency (the global ``--currency``).

    Columns whose header says ``USD`` or ``$`` hold USD amounts: their float cells are
    converted at the dated rate (except ``self_converting`` columns, whose formatter, e.g.
    :func:`gpuplan.humanize.money`, converts), ``USD``/``$`` in the headers and title become
    the display code/symbol, and the caption states the rate (None when the display currency
    is USD)."""
    from gpuplan.currency import INTERNAL, current_display, from_usd, rate_note, symbol

    code = current_display()
    table = [list(row) for row in rows]
    money = {i for i, c in enumerate(columns) if INTERNAL in c or "$" in c}
    money_rows = {
        r
        for r, row in enumerate(table)
        if row and _names_usd(row[0]) and any(isinstance(v, float) for v in row[1:])
    }
    if code == INTERNAL or not (money or money_rows):
        return title, list(columns), table, None

    def renamed(text: str) -> str:
        return text.replace(INTERNAL, code).replace("$", symbol(code))

    def converted(r: int, i: int, value: Any) -> Any:
        if i == 0 and r in money_rows:  # a key-value table's label: 'cost_per_day_usd'
            return renamed(humanize.title(value))
        in_usd = i in money or (r in money_rows and i > 0)
        if in_usd and i not in self_converting and isinstance(value, float):
            return from_usd(value)
        return value

    cells = [[converted(r, i, v) for i, v in enumerate(row)] for r, row in enumerate(table)]
    headers = [renamed(c) if i in money else c for i, c in enumerate(columns)]
    return renamed(title), headers, cells, rate_note()


MONEY_LABELS = ("cost", "price")
"""First words of a row label whose figures are money (USD inside gpuplan)."""


def _names_usd(label: Any) -> bool:
    """A row label whose figures are USD: 'cost_per_day_usd', 'Cost (USD)', '$/h',
    'price_per_gpu_hour', 'cost_per_million_tokens'."""
    if not isinstance(label, str):
        return False
    words = label.replace("_", " ").replace("(", " ").replace(")", " ").replace("/", " ").split()
    return (
        "$" in label
        or any(w.upper() == "USD" for w in words)
        or (bool(words) and words[0].lower() in MONEY_LABELS)
    )


def key_label(key: str) -> str:
    """A field key as a row label: ``price_per_gpu_hour`` -> ``Price per GPU hour``; text
    already written for people (``GPU-hours``, ``run MFU``) only gains a capital."""
    if re.fullmatch(r"[a-z][a-z0-9_]*", key):  # the row's money shows its own currency
        return humanize.label(re.sub(r"_usd(?=_|$)", "", key))
    return key[:1].upper() + key[1:]


def row_label(value: Any) -> str:
    """A first-column cell as a title-case label (:func:`gpuplan.humanize.title`)."""
    return humanize.title(format_cell(value))


WRAP_WIDTH = 20
"""Text wider than this wraps inside its column rather than pushing other columns out."""
LABEL_WIDTH = 32
"""Row labels up to this width are never wrapped."""
KEY_COLUMNS = 2
"""Columns kept whatever the width: the row label and the first figure."""


def column_width(header: str, cells: Sequence[str], cap: int, *, wrap_header: bool) -> int:
    """Characters a column needs: its widest cell (at most ``cap``; longer text wraps) and
    its header, whole or (``wrap_header``) its longest word."""
    lines = [len(line) for cell in cells for line in cell.splitlines()] or [0]
    head = max(len(word) for word in header.split() or [""]) if wrap_header else len(header)
    return max(head, min(max(lines), cap))


def fit_columns(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int,
    figures: Collection[int] = (),
) -> dict[int, int | None]:
    """The columns to show in ``width`` characters, each with its width (``None``: as wide as
    it likes, when everything fits unwrapped): the key columns, then the ``figures`` columns
    (numbers: what the table is for), then the others, each in order while it fits with its
    header wrapped and its text wrapped at :data:`WRAP_WIDTH`; shown in their own order."""

    def need(i: int, wrap: bool) -> int:
        cap = LABEL_WIDTH if i == 0 else WRAP_WIDTH
        return column_width(columns[i], [r[i] for r in rows], cap, wrap_header=wrap) + 3

    if 1 + sum(need(i, False) for i in range(len(columns))) <= width:
        return dict.fromkeys(range(len(columns)))
    keep = list(range(min(KEY_COLUMNS, len(columns))))
    used = 1 + sum(need(i, True) for i in keep)
    rest = range(len(keep), len(columns))
    for i in [*(i for i in rest if i in figures), *(i for i in rest if i not in figures)]:
        if used + need(i, True) <= width:
            keep.append(i)
            used += need(i, True)
    return {i: need(i, True) - 3 for i in sorted(keep)}


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    formats: Mapping[int, Callable[[Any], str]] | None = None,
) -> None:
    """Print a rich table that fits the terminal (or 100 columns when piped).

    Numbers go through :func:`format_cell` unless ``formats`` gives a formatter for that
    column index (e.g. ``{3: humanize.money}``); columns whose header says ``USD`` or ``$``
    read as money (``$2.37``); first-column snake_case labels are
    title-cased. In a table of fields (first header in :data:`KEY_HEADERS`) each row's
    numbers read as its key's kind (``cost_per_day_usd`` -> ``$194``). Columns that do not
    fit are dropped (key columns stay) and named below.
    """
    from rich.table import Table

    formats = formats or {}
    usd_columns = {i for i, c in enumerate(columns) if "USD" in c or "$" in c}
    title, columns, rows, caption = in_display_currency(title, columns, rows, set(formats))
    kinds = {i for i, c in enumerate(columns) if c.lower() in LABEL_COLUMNS}
    keyed = bool(columns) and columns[0].lower() in KEY_HEADERS
    from gpuplan.currency import INTERNAL, current_display, rate_note, symbol

    display_symbol = symbol(current_display())
    if keyed and caption is None and current_display() != INTERNAL:  # humanize.money converts
        caption = rate_note()

    def cell(i: int, value: Any, key: Any) -> str:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if i == 0 and isinstance(value, str) and (keyed or i in kinds):
            return key_label(value)
        if i == 0:
            return row_label(value)
        if i in formats and number:
            return formats[i](value)
        if i in kinds and isinstance(value, str):
            return humanize.label(value)
        if i in usd_columns and number:  # converted above: shown with the symbol only
            return humanize.money(float(value), display_symbol)
        if keyed and isinstance(key, str) and number and math.isfinite(value):
            return humanize.figure(float(value), humanize.kind_of(key))
        return format_cell(value)

    text_rows = [[cell(i, v, row[0]) for i, v in enumerate(row)] for row in rows]
    console = output_console()
    figures = {
        i
        for i in range(len(columns))
        if any(isinstance(r[i], int | float) and not isinstance(r[i], bool) for r in rows)
    }
    keep = fit_columns(columns, text_rows, console.width, figures)
    table = Table(
        title=title,
        title_justify="left",
        caption=caption,
        caption_justify="left",
        min_width=min(len(title), console.width),  # a short table does not fold its title
    )
    for i, width in keep.items():
        # the row label stays on one line (up to LABEL_WIDTH); other columns wrap
        table.add_column(
            columns[i], overflow="fold", min_width=width if i == 0 else None, max_width=width
        )
    for row in text_rows:
        table.add_row(*(row[i] for i in keep))
    console.print(table)
    hidden = [columns[i] for i in range(len(columns)) if i not in keep]
    if hidden:
        what = "1 column" if len(hidden) == 1 else f"{len(hidden)} columns"
        say(
            f"({what} not shown at {console.width} characters wide: "
            f"{', '.join(hidden)}; widen the terminal or use --json)"
        )


PIPED_WIDTH = 100
"""Output width when stdout is not a terminal (a pipe, a file, a test runner) and the
``COLUMNS`` environment variable does not give one."""

KEY_HEADERS = frozenset({"quantity", "measure", "component", "field"})
"""First-column headers whose rows are field keys (``price_per_gpu_hour``): the key reads as
a label (``Price per GPU hour``) and the row's numbers by :func:`gpuplan.humanize.kind_of`
(``$2.69``)."""

LABEL_COLUMNS = frozenset({"mode", "action", "status", "category", "kind", "pricing", "verdict"})
"""Columns of keys (``on_demand``, ``reserved``) printed as labels (``On demand``)."""


def output_console() -> Console:
    """A rich console on stdout as wide as the terminal, ``$COLUMNS`` when piped, else
    :data:`PIPED_WIDTH`."""
    from rich.console import Console

    if sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit():
        return Console(highlight=False)
    return Console(width=PIPED_WIDTH, highlight=False)


def say(text: str) -> None:
    """Print a paragraph on stdout, wrapped at the output width (no markup is read)."""
    output_console().print(text, markup=False, highlight=False)
