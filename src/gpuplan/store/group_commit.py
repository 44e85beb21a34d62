"""Group commit: many concurrent inserts share one transaction and one disk flush.

A database commit waits for the disk (``fsync``); with many requests saving runs at once,
commits queue one behind the other. :class:`GroupCommit` lets callers hand their rows to one
writer thread, which inserts every row waiting at that moment in a single transaction and
then wakes the callers. Each caller returns only after its row is committed; a batch is
all-or-nothing, so a row is never half-written (the usual database group-commit technique,
e.g. PostgreSQL's ``commit_delay``).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Engine, Table, insert

MAX_BATCH = 500


class GroupCommit:
    """One writer thread inserting queued rows of ``table`` in shared transactions."""

    def __init__(self, engine: Engine, table: Table) -> None:
        self.engine = engine
        self.table = table
        self._queue: queue.Queue[tuple[dict[str, Any], Future[None]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._write, name="gpuplan-commit", daemon=True)
        self._thread.start()

    def insert(self, row: dict[str, Any]) -> None:
        """Insert ``row``; returns once it is committed (raises what the commit raised)."""
        done: Future[None] = Future()
        self._queue.put((row, done))
        done.result()

    def _write(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(self.table), [row for row, _ in batch])
            except Exception as error:  # every caller of the batch gets the failure
                for _, done in batch:
                    done.set_exception(error)
            else:
                for _, done in batch:
                    done.set_result(None)

    def close(self) -> None:
        """Finish the queued rows and stop the writer."""
        self._queue.put(None)
        self._thread.join(timeout=30)
