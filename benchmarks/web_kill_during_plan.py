"""Kill a server (``kill -9``) while a plan job runs and a second server on the same store
is saving runs; restart it; check the store.

Run: ``PYTHONPATH=src python3 benchmarks/web_kill_during_plan.py [--db URL | --postgres]``.
Server A saves five estimates and queues a plan of ``path-a-cloud-only``; once the job runs,
server B starts on the same store (it must leave A's running job alone) and is sent estimates
from several threads while A is killed; A's job worker must die with it. A is restarted on
the same store. Prints: the job's status and reason, whether every run saved before and
during the kill is whole, B's errors, and the seconds from restart to the job being marked
failed; on SQLite also ``PRAGMA integrity_check``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from web_server import add_store_options, benchmark_store, start_server  # noqa: E402


def call(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}{path}", data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_store_options(parser)
    args = parser.parse_args()
    with benchmark_store(args) as db:
        run(db)


ESTIMATE = {"model": "mixtral-8x7b", "tokens": 8e12, "gpu": "h100", "gpus": 1024}


def wait_until_running(url: str, job: str) -> None:
    deadline = time.monotonic() + 120
    while call(url, f"/api/jobs/{job}")["status"] != "running":
        if time.monotonic() > deadline:
            raise SystemExit("the job never started")
        time.sleep(0.2)


def burst(url: str, stop: threading.Event, saved: list[str], errors: list[str]) -> None:
    """Save estimates on ``url`` one after the other until ``stop`` is set."""
    while not stop.is_set():
        try:
            saved.append(call(url, "/api/estimate/training", ESTIMATE)["run_id"])
        except OSError as error:
            errors.append(str(error))


def integrity(db: str) -> str:
    """``PRAGMA integrity_check`` of a SQLite store ("ok" when sound); "-" for PostgreSQL."""
    if not db.startswith("sqlite"):
        return "-"
    from sqlalchemy import create_engine, text

    engine = create_engine(db)
    with engine.connect() as connection:
        answer = str(connection.execute(text("PRAGMA integrity_check")).scalar())
    engine.dispose()
    return answer


def run(db: str) -> None:
    """The kill-and-restart check on the store at ``db``."""
    first = start_server(db)
    saved = [call(first.url, "/api/estimate/training", ESTIMATE)["run_id"] for _ in range(5)]
    job = call(first.url, "/api/jobs", {"kind": "plan", "preset": "path-a-cloud-only"})["id"]
    wait_until_running(first.url, job)
    second = start_server(db)
    try:
        left_alone = call(second.url, f"/api/jobs/{job}")["status"] == "running"
        stop, during, errors = threading.Event(), list[str](), list[str]()
        senders = [threading.Thread(target=burst, args=(second.url, stop, during, errors))
                   for _ in range(4)]
        for sender in senders:
            sender.start()
        time.sleep(1.0)
        workers = children(first.process.pid)
        first.kill()
        time.sleep(2.0)
        stop.set()
        for sender in senders:
            sender.join()
        orphans = [pid for pid in workers if alive(pid)]
        restarted_at = time.monotonic()
        first = start_server(db)
        try:
            outcome = call(first.url, f"/api/jobs/{job}")
            marked_after = time.monotonic() - restarted_at
            whole = [call(first.url, f"/api/runs/{run_id}") for run_id in saved + during]
        finally:
            first.stop()
    finally:
        second.stop()
    intact = sum(r["status"] == "succeeded" and r["result"]["gpu_hours"] > 0 for r in whole)
    print(f"kill -9 of server A during a plan job, server B saving runs on the same "
          f"{db.split(':')[0]} store")
    print(f"  B started while A's job ran and left it running: {'yes' if left_alone else 'NO'}")
    print(f"  job after A's restart: {outcome['status']}: {outcome['error']}")
    print(f"  A's worker processes left running after the kill: {len(orphans)} of "
          f"{len(workers)}")
    print(f"  runs whole: {intact} of {len(whole)} (5 saved before, {len(during)} by B around "
          f"the kill); B's errors: {len(errors)}")
    print(f"  marked failed within {marked_after:.1f} s of the restart (server start included)")
    print(f"  integrity check: {integrity(db)}")


if __name__ == "__main__":
    main()
