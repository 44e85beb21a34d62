"""200 concurrent estimate requests to a real ``gpuplan serve`` over loopback.

Run: ``PYTHONPATH=src python3 benchmarks/web_estimate_load.py [--requests 200] [--db URL]``.
Starts the server on a free port with a fresh SQLite store (or ``--db``), warms it with one
request, then sends all requests at once (training and inference estimates alternating, each
saved as a run) and prints throughput, p50/p99 latency and errors. Target (issue 15): 0
errors, p99 under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from web_server import add_store_options, benchmark_store, start_server  # noqa: E402

BODIES = [
    ("/api/estimate/training",
     {"model": "mixtral-8x7b", "tokens": 8e12, "gpu": "h100", "gpus": 1024}),
    ("/api/estimate/inference",
     {"model": "mixtral-8x7b", "gpu": "h100", "precision": "fp8", "max_tpot_ms": 50}),
]


async def fire(url: str, count: int) -> tuple[list[float], list[str], float]:
    import httpx2 as httpx

    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits) as client:
        for warm in range(len(BODIES)):  # imports, caches
            path, body = BODIES[warm]
            await client.post(path, json=body)

        async def one(n: int) -> tuple[float, str | None]:
            path, body = BODIES[n % len(BODIES)]
            start = time.perf_counter()
            try:
                answer = await client.post(path, json=body)
                error = None if answer.status_code == 200 else f"HTTP {answer.status_code}"
            except httpx.HTTPError as failure:
                error = type(failure).__name__
            return time.perf_counter() - start, error

        started = time.perf_counter()
        results = await asyncio.gather(*(one(n) for n in range(count)))
        elapsed = time.perf_counter() - started
    return [r[0] for r in results], [r[1] for r in results if r[1]], elapsed


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc, all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    add_store_options(parser)
    args = parser.parse_args()
    with benchmark_store(args) as db:
        run(db, args.requests)


def run(db: str, requests: int) -> None:
    """Start a server on ``db``, fire ``requests`` at once, print the figures."""
    server = start_server(db)
    try:
        cpu_before = server_cpu_seconds(server.process.pid)
        latencies, errors, elapsed = asyncio.run(fire(server.url, requests))
        server_cpu = server_cpu_seconds(server.process.pid) - cpu_before
    finally:
        server.stop()
    latencies.sort()
    p99 = latencies[math.ceil(0.99 * len(latencies)) - 1]  # nearest-rank percentile
    print(f"{requests} concurrent estimate requests over loopback "
          f"({db.split(':')[0]} store, each saved as a run)")
    print(f"  throughput {requests / elapsed:.1f} requests/s ({elapsed:.2f} s in all)")
    print(f"  latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    print(f"  server CPU {server_cpu * 1000 / (requests + len(BODIES)):.1f} ms per request "
          f"(so about {(requests + len(BODIES)) / server_cpu:.0f} requests/s per free core); "
          f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"  errors {len(errors)}" + (f": {sorted(set(errors))}" if errors else ""))
    print(f"  target: 0 errors, p99 < 1000 ms -> {'met' if not errors and p99 < 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
