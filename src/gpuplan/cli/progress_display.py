"""The command line's progress display: a rich bar on stderr fed by library progress events.

Library calls that can run for more than a couple of seconds take a
:data:`gpuplan.progress.ProgressCallback`; :func:`progress_display` turns those
``(phase, fraction)`` events into a transient rich bar (or a pulsing one while the fraction is
unknown) with the elapsed time. Nothing is shown when stderr is not a terminal, so piped output
and ``--json`` stay clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from gpuplan.progress import ProgressCallback, silent


@contextmanager
def progress_display(title: str, *, enabled: bool = True) -> Iterator[ProgressCallback]:
    """``with progress_display("Monte Carlo") as progress: simulate(..., progress=progress)``."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    if not (enabled and console.is_terminal):
        yield silent
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(title, total=None)

        def report(phase: str, fraction: float | None) -> None:
            if fraction is None:
                bar.update(task, description=f"{title}: {phase}", total=None)
            else:
                bar.update(task, description=f"{title}: {phase}", total=1.0, completed=fraction)

        yield report
