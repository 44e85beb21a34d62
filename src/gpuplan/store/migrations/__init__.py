"""Alembic migrations of the run store, applied by :func:`gpuplan.store.open_store`."""
