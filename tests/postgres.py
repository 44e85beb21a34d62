"""A real PostgreSQL for the test session: Debian's server, started in a temp dir on a free
loopback port and stopped at the end (``postgres_url`` fixture).

Where the server binaries are missing, the fixture installs Debian's ``postgresql``
package with apt-get (as root), as the README's one test command promises; where that is
impossible the tests that need it are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def _install() -> Path | None:
    """apt-get install postgresql (root with apt only); the binaries' folder or None."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q", "postgresql"]):
        subprocess.run(command, env=env, check=False, capture_output=True, timeout=900)
    return _binaries()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_postgres() -> Iterator[str]:
    """Start a throw-away server; yields ``postgresql://gpuplan@127.0.0.1:PORT/gpuplan``.
    Raises :class:`RuntimeError` when no server can be had."""
    binaries = _binaries() or _install()
    if binaries is None:
        raise RuntimeError("PostgreSQL server binaries not found and could not be installed")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="gpuplan-pg-"))
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root and there is no 'postgres' user") from None
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)

    run(str(binaries / "initdb"), "-D", str(data), "-U", "gpuplan", "--auth=trust", "-E", "UTF8")
    run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start")
    try:
        run(str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "gpuplan",
            "gpuplan")
        yield f"postgresql://gpuplan@127.0.0.1:{port}/gpuplan"
    finally:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the whole test session (skipped where none can be had)."""
    try:
        server = running_postgres()
        url = server.__enter__()
    except RuntimeError as error:
        pytest.skip(str(error))
    try:
        yield url
    finally:
        server.__exit__(None, None, None)
