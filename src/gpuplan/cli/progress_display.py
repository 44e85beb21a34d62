"""Show a library call's :data:`~gpuplan.progress.ProgressCallback` as a rich progress bar.

The bar goes to stderr and only when stderr is a terminal, so ``--json`` output and pipes
stay clean; elsewhere the callback is silent.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from gpuplan.progress import ProgressCallback, silent


@contextmanager
def progress_display(title: str) -> Iterator[ProgressCallback]:
    """A callback that draws ``title``, the current phase, a bar and the elapsed time."""
    if not sys.stderr.isatty():
        yield silent
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.fields[title]}[/bold] {task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=1.0, title=title)

        def show(phase: str, fraction: float | None) -> None:
            if fraction is None:
                bar.update(task, description=phase)
            else:
                bar.update(task, description=phase, completed=fraction)

        yield show
