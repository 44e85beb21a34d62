"""200 concurrent estimate requests to a real ``gpuplan serve`` over loopback.

Run: ``PYTHONPATH=src python3 benchmarks/web_estimate_load.py [--requests 200] [--workers 2]
[--db URL]``. Starts ``gpuplan serve --workers N`` on a free port with a fresh SQLite store
(or ``--db``, ``--postgres``), warms every process up with requests of each kind, then opens
``--requests`` connections at once, each sending one estimate (training, inference and fleet
in turn, over several models and GPUs, every body different so no cache could answer), each
saved as a run; prints throughput, p50/p99 latency, the server's and the load generator's
CPU per request, and errors. Target
(issue 15): 0 errors, p99 under 1 s.

The load generator is aiohttp's client (about 0.5 ms of CPU per request here; httpx's took
3-4 ms, as much as the server, and the two share this machine's cores).
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

MODELS_ON_GPUS = [("mixtral-8x7b", "h100"), ("llama-3.1-70b", "h200"), ("llama-3.1-8b", "b200"),
                  ("deepseek-v3", "h200"), ("mistral-large-2", "b200")]


def request_body(n: int) -> tuple[str, dict[str, object]]:
    """The ``n``-th request: training, inference and fleet estimates in turn, over
    :data:`MODELS_ON_GPUS`, with a token count no other request has."""
    model, gpu = MODELS_ON_GPUS[n // 3 % len(MODELS_ON_GPUS)]
    scale = 1 + n / 1000
    kind = ("training", "inference", "fleet")[n % 3]
    if kind == "training":
        return "/api/estimate/training", {"model": model, "tokens": 8e12 * scale, "gpu": gpu,
                                          "gpus": 1024}
    serving = {"model": model, "gpu": gpu, "input_tokens": 1000 * scale, "max_tpot_ms": 50}
    if kind == "fleet":
        serving |= {"tokens_per_day": 2e10 * scale, "peak_factor": 2}
    return f"/api/estimate/{kind}", serving


WARM_UP = 3
"""Requests per server process before the burst (one per kind: imports, catalogs), sent
twice over, each on a new connection so that every process gets some."""


async def fire(url: str, count: int, workers: int = 1) -> tuple[list[float], list[str], float,
                                                                 float]:
    """Send ``count`` requests at once, each on its own connection; latencies (s), errors,
    the time the whole burst took (s) and this process's CPU seconds during it."""
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(force_close=True),
                                     timeout=timeout) as warm:
        for _ in range(2):
            for n in range(WARM_UP * workers):
                path, body = request_body(count + n)
                async with warm.post(path, json=body) as answer:
                    answer.raise_for_status()
    connector = aiohttp.TCPConnector(limit=count)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as client:

        async def one(n: int) -> tuple[float, str | None]:
            path, body = request_body(n)
            start = time.perf_counter()
            try:
                async with client.post(path, json=body) as answer:
                    await answer.read()
                    error = None if answer.status == 200 else f"HTTP {answer.status}"
            except (aiohttp.ClientError, TimeoutError) as failure:
                error = type(failure).__name__
            return time.perf_counter() - start, error

        started, cpu_started = time.perf_counter(), time.process_time()
        results = await asyncio.gather(*(one(n) for n in range(count)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return [r[0] for r in results], [r[1] for r in results if r[1]], elapsed, cpu


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds so far of a process and its worker processes (Linux /proc,
    all their threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    children = [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                for child in (task / "children").read_text().split()]
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(server_cpu_seconds(child) for child in children)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2,
                        help="server processes (gpuplan serve --workers; one per core)")
    add_store_options(parser)
    args = parser.parse_args()
    with benchmark_store(args) as db:
        run(db, args.requests, args.workers)


def run(db: str, requests: int, workers: int) -> None:
    """Start a server of ``workers`` processes on ``db``, fire ``requests`` at once, print
    the figures."""
    server = start_server(db, "--workers", str(workers))
    try:
        cpu_before = server_cpu_seconds(server.process.pid)
        latencies, errors, elapsed, client_cpu = asyncio.run(
            fire(server.url, requests, workers))
        server_cpu = server_cpu_seconds(server.process.pid) - cpu_before
    finally:
        server.stop()
    latencies.sort()
    p99 = latencies[math.ceil(0.99 * len(latencies)) - 1]  # nearest-rank percentile
    print(f"{requests} concurrent estimate requests over loopback "
          f"({db.split(':')[0]} store, each saved as a run; {workers} server processes)")
    print(f"  throughput {requests / elapsed:.1f} requests/s ({elapsed:.2f} s in all)")
    print(f"  latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    sent = requests + 2 * WARM_UP * workers
    print(f"  server CPU {server_cpu * 1000 / sent:.1f} ms per request "
          f"(so about {sent / server_cpu:.0f} requests/s per free core); load generator CPU "
          f"{client_cpu * 1000 / requests:.1f} ms per request")
    print(f"  machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(shared: figures are upper bounds)")
    print(f"  errors {len(errors)}" + (f": {sorted(set(errors))}" if errors else ""))
    print(f"  target: 0 errors, p99 < 1000 ms -> {'met' if not errors and p99 < 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
