"""Saving, reading and deleting runs: every write is one transaction, so a run is either
saved whole or not at all.

A run saved from the CLI is written once, finished (:meth:`RunStore.save`). A web job is
created ``queued`` (:meth:`RunStore.create`), then moved by the worker process through
:meth:`start`, :meth:`progress` and :meth:`finish` / :meth:`fail`. Jobs whose owning server
died are failed with the reason by :meth:`fail_abandoned` when any server starts.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.orm import sessionmaker

from gpuplan.errors import InputError, UnknownIdError
from gpuplan.store.engine import database_url, make_engine, migrate
from gpuplan.store.group_commit import GroupCommit
from gpuplan.store.tables import RUN_KINDS, Run

STALE_AFTER = timedelta(minutes=2)
"""A job on another host whose heartbeat is older than this is taken as abandoned."""


JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def json_ready(value: Any) -> Any:
    """``value`` as plain JSON data: NaN and infinities become null (PostgreSQL's JSON has
    no NaN), numpy scalars and arrays Python numbers and lists, keys text, dates and other
    objects their text.

    orjson does this in one pass in C (about 20 times faster than walking the value in
    Python, which a server saving every estimate notices); what it cannot write (tuple
    keys, integers beyond 64 bits) is walked in Python."""
    try:
        return orjson.loads(orjson.dumps(value, default=str, option=JSON_OPTIONS))
    except orjson.JSONEncodeError:
        return _walked_json_ready(value)


def _walked_json_ready(value: Any) -> Any:
    """:func:`json_ready` by walking ``value`` in Python."""
    if isinstance(value, Mapping):
        return {str(k): _walked_json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walked_json_ready(v) for v in value]
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy scalars and arrays
        value = value.tolist()
        if isinstance(value, list):
            return _walked_json_ready(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    return str(value)


def now() -> datetime:
    """The current UTC time (stored with its zone)."""
    return datetime.now(UTC)


def inputs_hash(kind: str, resolved: Any) -> str:
    """SHA-256 of the run's kind and resolved inputs as canonical JSON (sorted keys): two runs
    with the same hash asked the same question of the same data."""
    text = json.dumps({"kind": kind, "inputs": resolved}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def catalog_as_of() -> str | None:
    """The newest as-of date in the offer catalog (ISO date), the prices a run used."""
    from gpuplan.catalog.offers import load_offers

    dates = [offer.as_of for offer in load_offers()]
    return max(dates).isoformat() if dates else None


@dataclass(frozen=True)
class RunRecord:
    """A run as read back from the store (times in UTC)."""

    id: str
    kind: str
    label: str
    status: str
    request: dict[str, Any]
    resolved: dict[str, Any] | None
    inputs_hash: str
    gpuplan_version: str
    price_as_of: str | None
    seed: int | None
    result: dict[str, Any] | None
    error: str | None
    phase: str | None
    fraction: float | None
    source: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    wall_seconds: float | None
    cpu_seconds: float | None

    @classmethod
    def of(cls, row: Run) -> RunRecord:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})

    def summary(self) -> dict[str, Any]:
        """The run without its inputs and result (for lists)."""
        data = self.to_dict()
        for key in ("request", "resolved", "result"):
            data.pop(key)
        return data

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO 8601)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for key in ("created_at", "started_at", "finished_at"):
            if data[key] is not None:
                data[key] = _utc(data[key]).isoformat()
        return data


def _utc(moment: datetime) -> datetime:
    """SQLite drops the zone on read: times are stored in UTC, so put it back."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class RunStore:
    """The run history in one database (SQLite file or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)
        self._group: GroupCommit | None = None

    def use_group_commit(self) -> None:
        """Let concurrent saves share transactions (for a server; see
        :mod:`gpuplan.store.group_commit`)."""
        if self._group is None:
            self._group = GroupCommit(self.engine, Run.__table__)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        if self._group is not None:
            self._group.close()
        self.engine.dispose()

    def _insert(self, kind: str, label: str, request: dict[str, Any],
                resolved: dict[str, Any] | None, **fields: Any) -> str:
        from gpuplan import __version__

        if kind not in RUN_KINDS:
            raise UnknownIdError("run kind", kind, RUN_KINDS)
        run_id = uuid.uuid4().hex
        request, resolved = json_ready(request), json_ready(resolved)
        row = {
            "id": run_id,
            "kind": kind,
            "label": label[:200],
            "request": request,
            "resolved": resolved,
            "inputs_hash": inputs_hash(kind, resolved if resolved is not None else request),
            "gpuplan_version": __version__,
            "price_as_of": catalog_as_of(),
            **fields,
        }
        if self._group is not None:
            self._group.insert(row)
        else:
            with self.engine.begin() as connection:  # one INSERT, one transaction
                connection.execute(insert(Run), [row])
        return run_id

    def create(
        self,
        kind: str,
        label: str,
        request: dict[str, Any],
        *,
        resolved: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> str:
        """Insert a queued web job owned by this server process; returns its id."""
        return self._insert(
            kind, label, request, resolved, status="queued", seed=seed, source="web",
            created_at=now(), owner_host=socket.gethostname(), owner_pid=os.getpid(),
            heartbeat_at=now(),
        )

    def save(
        self,
        kind: str,
        label: str,
        request: dict[str, Any],
        result: dict[str, Any],
        *,
        resolved: dict[str, Any] | None = None,
        seed: int | None = None,
        wall_seconds: float | None = None,
        cpu_seconds: float | None = None,
        source: str = "cli",
    ) -> str:
        """Save a finished run in one transaction; returns its id."""
        moment = now()
        return self._insert(
            kind, label, request, resolved, status="succeeded", seed=seed,
            result=json_ready(result), source=source, created_at=moment,
            started_at=moment - timedelta(seconds=wall_seconds or 0.0), finished_at=moment,
            wall_seconds=wall_seconds, cpu_seconds=cpu_seconds,
        )

    def _update(self, run_id: str, only_if: Sequence[str] | None = None, **values: Any) -> bool:
        statement = update(Run).where(Run.id == run_id)
        if only_if is not None:
            statement = statement.where(Run.status.in_(only_if))
        with self._session.begin() as session:
            return bool(session.execute(statement.values(**values)).rowcount)  # type: ignore[attr-defined]

    def start(self, run_id: str, resolved: dict[str, Any] | None = None) -> bool:
        """Mark a queued job running (false if it is no longer queued)."""
        values: dict[str, Any] = {"status": "running", "started_at": now(), "heartbeat_at": now()}
        if resolved is not None:
            resolved = json_ready(resolved)
            kind = self.get(run_id).kind
            values |= {"resolved": resolved, "inputs_hash": inputs_hash(kind, resolved)}
        return self._update(run_id, ["queued"], **values)

    def progress(self, run_id: str, phase: str, fraction: float | None) -> None:
        """Record a running job's phase text and fraction done (also its heartbeat)."""
        self._update(
            run_id, ["running"], phase=phase[:200], fraction=fraction, heartbeat_at=now()
        )

    def heartbeat(self, run_ids: Sequence[str]) -> None:
        """Tell other servers these jobs' owner is alive."""
        if run_ids:
            with self._session.begin() as session:
                session.execute(
                    update(Run).where(Run.id.in_(run_ids)).values(heartbeat_at=now())
                )

    def finish(
        self, run_id: str, result: dict[str, Any], wall_seconds: float, cpu_seconds: float
    ) -> bool:
        """Store a job's result and mark it succeeded, in one transaction."""
        return self._update(
            run_id,
            ["running"],
            status="succeeded",
            result=json_ready(result),
            finished_at=now(),
            wall_seconds=wall_seconds,
            cpu_seconds=cpu_seconds,
            fraction=1.0,
            phase="done",
        )

    def fail(self, run_id: str, reason: str) -> bool:
        """Mark a queued or running job failed with the reason (false if already finished)."""
        return self._update(
            run_id, ["queued", "running"], status="failed", error=reason, finished_at=now()
        )

    def fail_abandoned(self, alive: Sequence[int] = ()) -> list[str]:
        """Fail every queued or running job whose server is gone: on this host, its process
        no longer exists (or is not in ``alive`` when given); elsewhere, no heartbeat for
        :data:`STALE_AFTER`. Returns the failed ids."""
        host = socket.gethostname()
        with self._session() as session:
            rows = session.execute(
                select(Run.id, Run.owner_host, Run.owner_pid, Run.heartbeat_at).where(
                    Run.status.in_(["queued", "running"])
                )
            ).all()
        failed = []
        for run_id, owner_host, owner_pid, heartbeat in rows:
            if owner_host == host:
                gone = owner_pid not in alive if alive else not _process_exists(owner_pid)
                reason = (
                    f"the server (process {owner_pid} on {host}) stopped while this job was "
                    "queued or running; its result was not saved. Run it again."
                )
            else:
                gone = heartbeat is None or now() - _utc(heartbeat) > STALE_AFTER
                reason = (
                    f"the server on {owner_host} stopped answering (no heartbeat for "
                    f"{STALE_AFTER.seconds // 60} minutes) while this job ran. Run it again."
                )
            if gone and self.fail(run_id, reason):
                failed.append(run_id)
        return failed

    def get(self, run_id: str) -> RunRecord:
        """A run by id or unique id prefix (at least 4 characters)."""
        with self._session() as session:
            row = session.get(Run, run_id)
            if row is None and len(run_id) >= 4 and run_id.isalnum():
                rows = session.scalars(
                    select(Run).where(Run.id.startswith(run_id.lower())).limit(2)
                ).all()
                if len(rows) > 1:
                    raise InputError("run", f"'{run_id}' matches several runs; give more of it.")
                row = rows[0] if rows else None
            if row is None:
                raise InputError(
                    "run", f"no run '{run_id}' in {self.url}; 'gpuplan runs list' shows the ids."
                )
            return RunRecord.of(row)

    def list(
        self, search: str | None = None, kind: str | None = None, limit: int = 50
    ) -> list[RunRecord]:
        """Newest first; ``search`` matches the label, id prefix or status."""
        statement = select(Run).order_by(Run.created_at.desc()).limit(max(1, min(limit, 1000)))
        if kind:
            statement = statement.where(Run.kind == kind)
        if search:
            pattern = f"%{search.lower()}%"
            statement = statement.where(
                or_(
                    Run.label.ilike(pattern),
                    Run.id.startswith(search.lower()),
                    Run.status == search.lower(),
                )
            )
        with self._session() as session:
            return [RunRecord.of(row) for row in session.scalars(statement)]

    def delete(self, run_id: str) -> str:
        """Delete a run (by id or prefix); returns the full id."""
        record = self.get(run_id)
        with self._session.begin() as session:
            session.execute(delete(Run).where(Run.id == record.id))
        return record.id


def _process_exists(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def open_store(url: str | None = None) -> RunStore:
    """Open (and migrate) the run store at ``url``, ``$GPUPLAN_DB`` or the default file."""
    engine = make_engine(database_url(url))
    migrate(engine)
    return RunStore(engine)
