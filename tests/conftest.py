"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def calibration_dir() -> Path:
    """The nearest ``shared/reference/calibration`` above the tests (``../shared`` in CI);
    tests that need it skip where it is absent, since the product must not need it."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "reference" / "calibration"
        if candidate.is_dir():
            return candidate
    pytest.skip("shared/reference/calibration not available")


@pytest.fixture(autouse=True)
def _isolated_user_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refreshed offers in the developer's own data directory never leak into a test."""
    monkeypatch.setenv("GPUPLAN_DATA_DIR", str(tmp_path / "gpuplan-data"))
