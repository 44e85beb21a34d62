"""The ``gpuplan`` command line: a thin caller of the Python API.

Command modules register themselves on the sub-apps below when imported; heavy libraries
(numpy, pandas, pydantic, HiGHS) are imported inside commands so ``--help`` stays fast.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

#: Options of the root command that users also write after the command name
#: (``gpuplan tco --gpu h100 --currency EUR``); each takes one value.
GLOBAL_VALUE_OPTIONS = ("--as-of", "--currency")


class GlobalOptionsAnywhere(TyperGroup):
    """The root group: ``--as-of`` and ``--currency`` hold for every command, so they are
    accepted after the command name too and moved in front of it before click parses
    (click reads a group's options only before its command)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's vendored click Context
        hoisted: list[str] = []
        rest: list[str] = []
        index = 0
        while index < len(args):
            token = args[index]
            if token == "--":
                rest.extend(args[index:])
                break
            if token in GLOBAL_VALUE_OPTIONS and index + 1 < len(args):
                hoisted.extend(args[index : index + 2])
                index += 2
                continue
            if token.split("=", 1)[0] in GLOBAL_VALUE_OPTIONS and "=" in token:
                hoisted.append(token)
            else:
                rest.append(token)
            index += 1
        return super().parse_args(ctx, hoisted + rest)


app = typer.Typer(
    name="gpuplan",
    cls=GlobalOptionsAnywhere,
    help="Plan GPU procurement for AI labs: compute from architecture, prices, plans, finance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(
    help="Browse the shipped catalogs (GPUs, models, offers).", no_args_is_help=True
)
estimate_app = typer.Typer(help="Estimate training and inference compute.", no_args_is_help=True)
search_app = typer.Typer(help="Search configurations (deployments).", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


app.add_typer(search_app, name="search")
app.add_typer(estimate_app, name="estimate")


def _print_version(value: bool) -> None:
    if value:
        from gpuplan import __version__

        typer.echo(f"gpuplan {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Use the prices known on this date (YYYY-MM-DD); default today."
    ),
    currency: str = typer.Option(
        "USD", "--currency", help="Print money in this currency (EUR, ...) at its dated rate."
    ),
) -> None:
    """Plan GPU procurement for AI labs: compute from architecture, prices, plans, finance.

    These options hold for every command, written before or after its name: the price
    date and the currency money is printed in."""
    from gpuplan.cli.common import apply_global_options

    apply_global_options(ctx, as_of, currency)


from gpuplan.cli import (  # noqa: E402,F401
    catalog_commands,
    finance_commands,
    inference_commands,
    plan_commands,
    prices_commands,
    report_commands,
    runs_commands,
    scenario_commands,
    serve_commands,
    sweep_commands,
    training_commands,
)


def _one_line_summaries(typer_app: typer.Typer) -> None:
    """Each command's first docstring paragraph as one line in ``--help`` lists (typer keeps
    the docstring's line breaks there, which wraps badly at any width)."""
    for command in typer_app.registered_commands:
        if command.short_help is None and command.callback and command.callback.__doc__:
            first = command.callback.__doc__.strip().split("\n\n")[0]
            command.short_help = " ".join(first.split())
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _one_line_summaries(group.typer_instance)


_one_line_summaries(app)


def main() -> None:
    """Console-script entry point."""
    app()
