"""A real browser for the tests: Debian's chromium, installed by the test run where missing,
driven by Playwright pointed at that executable (never ``playwright install``).

Fixtures (registered in conftest.py): ``chromium_executable`` (session) finds chromium or
installs it with apt-get (root, or sudo without a password); ``browser_page`` opens a fresh
headless page that records console errors and page errors in ``page.errors``;
``artifact_dir`` is ``build/test-artifacts/`` for screenshots the run leaves behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="session")
def artifact_dir() -> Path:
    """``build/test-artifacts`` at the repository root (ignored by git), created."""
    folder = Path(__file__).resolve().parents[1] / "build" / "test-artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser_page(chromium_executable: str) -> Iterator[Any]:
    """A headless page (1300 x 900) whose console errors and page errors are collected in
    ``page.errors`` (a list of strings)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable,
            headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.errors = errors
        try:
            yield page
        finally:
            browser.close()
