"""The run-history tables (SQLAlchemy 2 declarative); their schema is created by Alembic.

One row per run of plan, simulate or an estimate, saved from the CLI (``--save``) or the web
app. A web job is a run whose ``status`` moves queued -> running -> succeeded | failed; CLI
runs are written once, finished. JSON columns hold the resolved inputs and the result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

RUN_KINDS = (
    "plan",
    "simulate",
    "sweep",
    "estimate-training",
    "estimate-inference",
    "estimate-fleet",
)
"""What a run ran; the job kinds (plan, simulate, sweep) are the ones the web app queues."""

RUN_STATUSES = ("queued", "running", "succeeded", "failed")


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""


class Run(Base):
    """One saved run with everything needed to reproduce and compare it."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    label: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    """What was asked: preset or scenario mapping, overrides, samples, estimator arguments."""
    resolved: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The scenario after ``extends`` and overrides (or the estimator's arguments)."""
    inputs_hash: Mapped[str] = mapped_column(String(64), index=True)
    gpuplan_version: Mapped[str] = mapped_column(String(32))
    price_as_of: Mapped[str | None] = mapped_column(String(10), nullable=True)
    seed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    phase: Mapped[str | None] = mapped_column(String(200), nullable=True)
    fraction: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    """Who saved it: ``cli`` or ``web``."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    wall_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    cpu_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    owner_host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    owner_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The server process that owns a queued or running job (to fail it if that dies)."""
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
