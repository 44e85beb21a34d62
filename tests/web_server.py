"""A real ``gpuplan serve`` in a subprocess on a free loopback port (browser tests and
benchmarks): started, waited for, and stopped (or killed) by its caller."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running server: its base URL and process."""

    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """``kill -9``: no shutdown handler runs."""
        self.process.kill()
        self.process.wait()


def start_server(db: str, *extra: str, timeout: float = 60.0) -> Server:
    """``python -m gpuplan serve --db DB --port FREE`` from this checkout, once it answers."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen(
        [sys.executable, "-m", "gpuplan", "serve", "--db", db, "--port", str(port), *extra],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gpuplan serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/presets", timeout=5):
                return Server(url, process)
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"gpuplan serve did not answer within {timeout} s")


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """``--db URL`` and ``--postgres`` for the web benchmarks."""
    parser.add_argument("--db", default=None, help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--postgres", action="store_true",
                        help="start a throw-away PostgreSQL server (tests/postgres.py) for it")


@contextlib.contextmanager
def benchmark_store(args: argparse.Namespace) -> Iterator[str]:
    """The store URL the options ask for: a throw-away PostgreSQL server, ``--db``, or a
    fresh SQLite file in a temp folder."""
    if args.postgres:
        from postgres import running_postgres

        with running_postgres() as url:
            yield url
        return
    yield args.db or f"sqlite:///{Path(tempfile.mkdtemp(prefix='gpuplan-bench-')) / 'runs.sqlite'}"
