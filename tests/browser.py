"""Debian's chromium for the browser tests (``chromium_executable`` fixture).

Playwright drives the system chromium rather than a downloaded build, so the tests need no
network beyond Debian's mirror: where ``chromium`` is missing the fixture installs Debian's
``chromium`` package with apt-get (as root), else skips with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def _find() -> str | None:
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The path of a chromium executable (installed from Debian where missing)."""
    found = _find()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-q"],
                        ["apt-get", "install", "-y", "-q", "chromium"]):
            subprocess.run(command, env=env, check=False, capture_output=True, timeout=1200)
        found = _find()
    if found is None:
        pytest.skip("chromium not found and could not be installed (apt-get install chromium)")
    return found
