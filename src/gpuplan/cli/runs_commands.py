"""``gpuplan runs list|show|diff|delete`` and the ``--save`` / ``--db`` options of the
commands whose runs can be saved (plan, simulate, sweep, estimate training|inference|fleet)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from gpuplan.cli import app
from gpuplan.cli.common import handle_errors, print_json, print_table
from gpuplan.humanize import label, percent

runs_app = typer.Typer(help="Saved runs: list, show, compare, delete.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")

SAVE = typer.Option(False, "--save", help="Save this run in the run history ('gpuplan runs').")
DB = typer.Option(
    None,
    "--db",
    help="Run store: a SQLite file or postgresql://user@host:port/db "
    "(default: $GPUPLAN_DB, else runs.sqlite in the user data folder).",
)


def save_run(
    db: str | None,
    kind: str,
    label: str,
    request: dict[str, Any],
    result: dict[str, Any],
    timer: Any,
    *,
    scenario: str | Path | None = None,
    overrides: Sequence[str] = (),
    seed: int | None = None,
) -> str:
    """Save a finished CLI run with its resolved inputs and timings; says where on stderr."""
    from gpuplan.store import open_store
    from gpuplan.store.saving import resolve_inputs

    wall, cpu = timer.seconds()
    resolved = resolve_inputs(kind, scenario, overrides) if scenario is not None else None
    store = open_store(db)
    try:
        run_id = store.save(
            kind, label, request, result, resolved=resolved, seed=seed,
            wall_seconds=wall, cpu_seconds=cpu, source="cli",
        )
    finally:
        store.close()
    typer.echo(f"Saved run {run_id[:12]} to {store.url}.", err=True)
    return run_id


def _when(text: str | None) -> str:
    return "-" if text is None else text[:19].replace("T", " ")


@runs_app.command("list")
@handle_errors
def runs_list_command(
    search: str | None = typer.Argument(None, help="Text in the label, an id prefix or status."),
    kind: str | None = typer.Option(None, "--kind", help="plan, simulate, estimate-training..."),
    limit: int = typer.Option(50, "--limit", help="At most this many runs, newest first."),
    db: str | None = DB,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Saved runs, newest first."""
    from gpuplan.store import open_store

    records = open_store(db).list(search, kind, limit)
    if as_json:
        print_json({"runs": [r.summary() for r in records]})
        return
    print_table(
        "Saved runs (newest first)",
        ["id", "kind", "label", "status", "saved", "seconds", "prices as of"],
        [
            [r.id[:12], r.kind, r.label, r.status, _when(r.to_dict()["created_at"]),
             r.wall_seconds, r.price_as_of]
            for r in records
        ],
    )


@runs_app.command("show")
@handle_errors
def runs_show_command(
    run: str = typer.Argument(..., help="Run id (or its first characters)."),
    db: str | None = DB,
    as_json: bool = typer.Option(False, "--json", help="Print the whole run as JSON."),
) -> None:
    """One saved run: what was asked, with which version and prices, and the result."""
    from gpuplan.store import open_store

    record = open_store(db).get(run)
    if as_json:
        print_json(record.to_dict())
        return
    summary = record.summary()
    print_table(f"Run {record.id}", ["field", "value"], [[k, v] for k, v in summary.items()])
    result = record.result or {}
    numbers = [[k, v] for k, v in result.items() if isinstance(v, int | float | str)]
    if numbers:
        print_table("Result", ["quantity", "value"], numbers)


@runs_app.command("diff")
@handle_errors
def runs_diff_command(
    a: str = typer.Argument(..., help="The earlier run's id."),
    b: str = typer.Argument(..., help="The run to compare with it."),
    db: str | None = DB,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """What changed from run A to run B: cost, NPV, fleet and commitments."""
    from gpuplan.store import diff_runs, open_store
    from gpuplan.store.diff import COMMITMENT_KEYS

    store = open_store(db)
    diff = diff_runs(store.get(a), store.get(b))
    if as_json:
        print_json(diff)
        return
    same = "same inputs" if diff["same_inputs"] else "different inputs"
    print_table(
        f"Run {diff['b']['id'][:12]} against {diff['a']['id'][:12]} ({same})",
        ["quantity", "A", "B", "change", "change %"],
        [[label(k), c["a"], c["b"], c["change"], _percent(c["change_fraction"])]
         for k, c in diff["headline"].items()],
    )
    for name, keys in (
        ("cost_by_category", ["category"]),
        ("fleet", ["year", "mode", "provider", "gpu"]),
        ("commitments", list(COMMITMENT_KEYS)),
    ):
        rows = diff.get(name)
        if rows:
            print_table(
                label(name) + " (changed rows, GPUs; fleets averaged over each year)",
                [*keys, "A", "B", "change"],
                [[*(r[k] for k in keys), r["a"], r["b"], r["change"]] for r in rows],
            )


def _percent(value: float | None) -> str:
    return "-" if value is None else ("+" if value > 0 else "") + percent(value, 1)


@runs_app.command("delete")
@handle_errors
def runs_delete_command(
    runs: list[str] = typer.Argument(..., help="Run ids (or their first characters)."),
    db: str | None = DB,
) -> None:
    """Delete saved runs."""
    from gpuplan.store import open_store

    store = open_store(db)
    for run in runs:
        typer.echo(f"Deleted run {store.delete(run)}.")
