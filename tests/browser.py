"""A real browser for the tests: Debian's chromium, installed by the test run where missing,
driven by Playwright pointed at that executable (never ``playwright install``).

The ``chromium_executable`` fixture (session; registered in conftest.py) finds chromium or
installs it with apt-get (root, or sudo without a password), waiting for another install's
dpkg lock; ``GPUPLAN_CHROMIUM`` points it at another Chrome/Chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
APT_TIMEOUT_S = 900
"""apt-get may wait for another install's dpkg lock and download ~100 MB."""


def find_chromium() -> str | None:
    """The first chromium-like executable on PATH (``GPUPLAN_CHROMIUM`` wins if set)."""
    configured = os.environ.get("GPUPLAN_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    return next((path for name in NAMES if (path := shutil.which(name))), None)


def _apt_get(*args: str) -> subprocess.CompletedProcess[str]:
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    command = [*prefix, "apt-get", "-o", f"DPkg::Lock::Timeout={APT_TIMEOUT_S}", *args]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=APT_TIMEOUT_S, check=False
    )


def install_chromium() -> str | None:
    """``apt-get install chromium`` (after ``apt-get update`` if the first try fails)."""
    if shutil.which("apt-get") is None:
        return None
    install = ("install", "-y", "-q", "--no-install-recommends", "chromium")
    if _apt_get(*install).returncode != 0:
        _apt_get("update", "-q")
        _apt_get(*install)
    return find_chromium()


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Path of a headless-capable chromium; installed through apt-get where missing."""
    path = find_chromium() or install_chromium()
    if path is None:
        pytest.fail(
            "No chromium found and apt-get could not install it: install Debian's 'chromium' "
            "package (or set GPUPLAN_CHROMIUM to a Chrome/Chromium executable)."
        )
    return path
