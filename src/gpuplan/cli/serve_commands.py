"""``gpuplan serve``: the web app and JSON API (FastAPI + uvicorn)."""

from __future__ import annotations

import os

import typer

from gpuplan.cli import app
from gpuplan.cli.common import handle_errors
from gpuplan.cli.runs_commands import DB

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command("serve")
@handle_errors
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback only "
                             "unless a token is set)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    token: str | None = typer.Option(
        None, "--token", help="Access token every request must carry (or $GPUPLAN_TOKEN); "
        "required to bind beyond 127.0.0.1."),
    db: str | None = DB,
    job_workers: int = typer.Option(1, "--job-workers", help="Plan/simulate jobs run at once."),
    max_queued_jobs: int = typer.Option(8, "--max-queued-jobs",
                                        help="Jobs waiting or running before 429."),
    job_cpu_seconds: int = typer.Option(600, "--job-cpu-seconds", help="CPU limit of a job."),
    max_body_bytes: int = typer.Option(2_000_000, "--max-body-bytes",
                                       help="Largest request body accepted."),
    workers: int = typer.Option(
        1, "--workers", help="Server processes sharing the port (one per core answers bursts "
        "of requests faster); each has its own job queue of --max-queued-jobs."),
) -> None:
    """Serve the web app (editor, runs, comparison, catalog) and the JSON API (/docs)."""
    import uvicorn

    from gpuplan.errors import InputError
    from gpuplan.web.app import ServerSettings, guarded_app, settings_environment

    token = token or os.environ.get("GPUPLAN_TOKEN") or None
    if host not in LOOPBACK and not token:
        raise InputError(
            "host", f"binding {host} exposes gpuplan beyond this machine; set an access "
            "token with --token or GPUPLAN_TOKEN, or bind 127.0.0.1."
        )
    for name, value in (("port", port), ("workers", workers), ("job_workers", job_workers),
                        ("max_queued_jobs", max_queued_jobs),
                        ("job_cpu_seconds", job_cpu_seconds), ("max_body_bytes", max_body_bytes)):
        if value < (0 if name == "port" else 1):
            raise InputError(name, f"must be a positive number (got {value}).")
    settings = ServerSettings(db=db, token=token, max_body_bytes=max_body_bytes,
                              job_workers=job_workers, max_queued_jobs=max_queued_jobs,
                              job_cpu_seconds=job_cpu_seconds)
    typer.echo(f"gpuplan serving on http://{host}:{port} (API docs at /docs)", err=True)
    if workers == 1:
        uvicorn.run(guarded_app(settings), host=host, port=port, log_level="warning")
        return
    os.environ.update(settings_environment(settings))
    uvicorn.run("gpuplan.web.app:guarded_app_from_environment", factory=True, workers=workers,
                host=host, port=port, log_level="warning")
