"""Shared test fixtures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from browser import chromium_executable
from postgres import postgres_url

__all__ = ["chromium_executable", "postgres_url"]


@pytest.fixture(autouse=True, scope="session")
def run_store_in_temp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """``--save`` without ``--db`` writes to ``$GPUPLAN_DB``: a temp file, never the user's
    own run history."""
    import os

    os.environ["GPUPLAN_DB"] = str(tmp_path_factory.mktemp("store") / "runs.sqlite")


@pytest.fixture(scope="session")
def calibration_dir() -> Path:
    """The nearest ``shared/reference/calibration`` above the tests (``../shared`` in CI);
    tests that need it skip where it is absent, since the product must not need it."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "reference" / "calibration"
        if candidate.is_dir():
            return candidate
    pytest.skip("shared/reference/calibration not available")


@pytest.fixture(scope="session")
def planned() -> Callable[[str], Any]:
    """``planned(name)``: the :class:`PlanResult` of a preset, solved once per test session
    (a solved preset is a fixture: tests share it rather than solving it again)."""
    from gpuplan.planning.api import plan

    cache: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in cache:
            cache[name] = plan(name)
        return cache[name]

    return get
