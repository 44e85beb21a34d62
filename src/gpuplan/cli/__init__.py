"""The ``gpuplan`` command line: a thin caller of the Python API.

Command modules register themselves on the sub-apps below when imported; heavy libraries
(numpy, pandas, pydantic, HiGHS) are imported inside commands so ``--help`` stays fast.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="gpuplan",
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

    The options before the command hold for every command: the price date and the
    currency money is printed in."""
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
