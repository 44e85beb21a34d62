"""Kill the server (``kill -9``) while a plan job runs, restart it, check the store.

Run: ``PYTHONPATH=src python3 benchmarks/web_kill_during_plan.py [--db URL]``. Saves five
estimates, queues a plan of ``path-a-cloud-only``, kills the server once the job is running,
checks the job's worker process is gone too, restarts the server on the same store and
prints: the job's status and reason, whether every earlier run is still whole, and the
seconds from restart to the job being marked failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
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


def run(db: str) -> None:
    """The kill-and-restart check on the store at ``db``."""
    server = start_server(db)
    body = {"model": "mixtral-8x7b", "tokens": 8e12, "gpu": "h100", "gpus": 1024}
    saved = {call(server.url, "/api/estimate/training", body)["run_id"] for _ in range(5)}
    job = call(server.url, "/api/jobs", {"kind": "plan", "preset": "path-a-cloud-only"})["id"]
    deadline = time.monotonic() + 120
    while call(server.url, f"/api/jobs/{job}")["status"] != "running":
        if time.monotonic() > deadline:
            raise SystemExit("the job never started")
        time.sleep(0.2)
    time.sleep(1.0)
    workers = children(server.process.pid)
    server.kill()
    time.sleep(2.0)
    orphans = [pid for pid in workers if alive(pid)]
    restarted_at = time.monotonic()
    server = start_server(db)
    try:
        outcome = call(server.url, f"/api/jobs/{job}")
        marked_after = time.monotonic() - restarted_at
        whole = [call(server.url, f"/api/runs/{run_id}") for run_id in saved]
    finally:
        server.stop()
    intact = all(r["status"] == "succeeded" and r["result"]["gpu_hours"] > 0 for r in whole)
    print(f"kill -9 of the server during a plan job ({db.split(':')[0]} store)")
    print(f"  job after restart: {outcome['status']}: {outcome['error']}")
    print(f"  worker processes left running after the kill: {len(orphans)} of {len(workers)}")
    print(f"  earlier runs intact: {sum(r['status'] == 'succeeded' for r in whole)} of "
          f"{len(saved)} ({'yes' if intact else 'NO'})")
    print(f"  marked failed within {marked_after:.1f} s of the restart (server start included)")


if __name__ == "__main__":
    main()
