"""Run history: saved plan, simulate and estimate runs in SQLite or PostgreSQL.

``open_store()`` opens the database (``--db``, ``$GPUPLAN_DB`` or a SQLite file in the user's
data directory) and applies the shipped migrations; :class:`RunStore` saves, lists, reads and
deletes runs; :func:`diff_runs` compares two.
"""

from gpuplan.store.diff import diff_runs
from gpuplan.store.engine import database_url, default_database_url
from gpuplan.store.runs import RunRecord, RunStore, open_store

__all__ = ["RunRecord", "RunStore", "database_url", "default_database_url", "diff_runs",
           "open_store"]
