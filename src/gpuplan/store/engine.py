"""Where the run store lives and how it is opened: URL, engine settings, migrations.

Default: SQLite in the user's data directory (``platformdirs``), in WAL mode so readers never
block the writer and a crash never leaves a half-written run; ``--db URL`` or ``GPUPLAN_DB``
selects another file or a PostgreSQL server (``postgresql://user@host:port/db``). Opening a
store applies the shipped Alembic migrations under a lock, so two servers starting on one
fresh database do not both create it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ArgumentError, DatabaseError

from gpuplan.errors import InputError

ENV_VAR = "GPUPLAN_DB"
SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another process's write to finish (ms)."""
MIGRATION_LOCK_KEY = 4_151_505_015
"""PostgreSQL advisory-lock key held while migrating (any constant unique to gpuplan)."""


def default_database_url() -> str:
    """``sqlite:///<user data dir>/gpuplan/runs.sqlite`` (created when first opened)."""
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir('gpuplan')) / 'runs.sqlite'}"


def database_url(given: str | None = None) -> str:
    """The store URL: ``given`` (``--db``), else ``$GPUPLAN_DB``, else the default file.

    A bare path (``runs.sqlite``) means a SQLite file; ``postgresql://`` URLs use psycopg 3.
    """
    url = given or os.environ.get(ENV_VAR) or default_database_url()
    if "://" not in url:
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError("db", f"'{url}' is not a database URL; write e.g. "
                         "sqlite:///runs.sqlite or postgresql://user@host:5432/gpuplan.") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError(
            "db", f"'{parsed.get_backend_name()}' databases are not supported; use a SQLite "
            "file or postgresql://user@host:port/database."
        )
    return url


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL journal, full fsync at commit, a busy timeout for concurrent writers."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and the WAL pragmas."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


@contextlib.contextmanager
def _migration_lock(engine: Engine, connection: Connection) -> Iterator[None]:
    """Serialise migrations between processes: an advisory lock on PostgreSQL, a lock file
    next to a SQLite database."""
    if engine.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema shipped with this gpuplan (Alembic)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    try:
        with engine.connect() as connection, _migration_lock(engine, connection):
            connection.commit()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
    except DatabaseError as error:  # not a database, cannot connect, no permission...
        raise InputError(
            "db", f"cannot open the run store at {engine.url!r}: {error.orig}. Check the URL "
            "(--db or GPUPLAN_DB): a SQLite file gpuplan made, or a PostgreSQL server that is "
            "running and lets the user connect."
        ) from None
    except OSError as error:  # the lock file beside a SQLite database
        raise InputError(
            "db", f"cannot open the run store at {engine.url!r}: {error.strerror or error}."
        ) from None
