"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("browser",)
"""Browser fixtures (chromium_executable, browser_page, artifact_dir) from tests/browser.py."""


@pytest.fixture(scope="session")
def calibration_dir() -> Path:
    """The nearest ``shared/reference/calibration`` above the tests (``../shared`` in CI);
    tests that need it skip where it is absent, since the product must not need it."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "reference" / "calibration"
        if candidate.is_dir():
            return candidate
    pytest.skip("shared/reference/calibration not available")
