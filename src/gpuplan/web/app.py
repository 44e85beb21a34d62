"""The web application: ``create_app()`` wires the store, the job runner, the JSON API,
the pages and the guards. ``gpuplan serve`` runs it with uvicorn."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from gpuplan.errors import GpuplanError, InputError, UnknownIdError
from gpuplan.store import open_store
from gpuplan.store.engine import database_url
from gpuplan.web import api, pages
from gpuplan.web.jobs import JobRunner
from gpuplan.web.security import BodyTooLarge, Guard


@dataclass(frozen=True)
class ServerSettings:
    """How the server runs. ``max_body_bytes``: largest request body accepted;
    ``job_workers``: jobs run at once; ``max_queued_jobs``: jobs waiting or running before
    new ones get 429; ``job_cpu_seconds``: CPU-time limit of one job; ``estimate_threads``:
    threads computing and saving estimates (4 were too few for saves waiting on the disk;
    the 40 of FastAPI's pool for ``def`` endpoints measured slower)."""

    db: str | None = None
    token: str | None = None
    max_body_bytes: int = 2_000_000
    job_workers: int = 1
    max_queued_jobs: int = 8
    job_cpu_seconds: int = 600
    estimate_threads: int = 16


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """The ASGI app (the store is opened, and abandoned jobs failed, at startup)."""
    settings = settings or ServerSettings()
    url = database_url(settings.db)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(url)
        store.use_group_commit()
        store.fail_abandoned()
        runner = JobRunner(store, url, settings.job_workers, settings.max_queued_jobs,
                           settings.job_cpu_seconds)
        runner.start()
        estimate_threads = ThreadPoolExecutor(settings.estimate_threads, "gpuplan-estimate")
        app.state.store, app.state.runner = store, runner
        app.state.estimate_threads = estimate_threads
        try:
            yield
        finally:
            runner.stop()
            estimate_threads.shutdown()
            store.close()

    app = FastAPI(
        title="gpuplan",
        summary="Plan GPU procurement: catalogs, estimates, plans and simulations as jobs, "
        "saved runs.",
        version=_version(),
        lifespan=lifespan,
    )
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.exception_handler(GpuplanError)
    async def bad_input(request: Request, error: GpuplanError) -> Response:
        field = (
            error.field if isinstance(error, InputError)
            else error.kind if isinstance(error, UnknownIdError) else "input"
        )
        message = str(error).removeprefix(f"{field}: ")
        if request.url.path.startswith("/api/"):
            return JSONResponse({"field": field, "message": message}, status_code=400)
        return pages.error_page(request, field, message, 400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        """FastAPI's own refusals (malformed JSON, 404) in the API's Problem shape."""
        return JSONResponse({"field": "request", "message": str(error.detail)},
                            status_code=error.status_code, headers=error.headers)

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, error: BodyTooLarge) -> Response:
        return JSONResponse({"field": "body", "message": str(error)}, status_code=413)

    guarded = Guard(app, settings.max_body_bytes, settings.token)
    app.state.settings = settings
    app.state.guarded = guarded
    return app


def guarded_app(settings: ServerSettings | None = None) -> Guard:
    """:func:`create_app` behind its guards (size limit, token, CSRF): what uvicorn serves."""
    app = create_app(settings)
    guard: Guard = app.state.guarded
    return guard


SETTINGS_VARIABLE = "GPUPLAN_SERVE_SETTINGS"
"""Environment variable carrying :class:`ServerSettings` (JSON) to the worker processes of
``gpuplan serve --workers N``."""


def settings_environment(settings: ServerSettings) -> dict[str, str]:
    """The environment entry that :func:`guarded_app_from_environment` reads back."""
    return {SETTINGS_VARIABLE: json.dumps(asdict(settings))}


def guarded_app_from_environment() -> Guard:
    """:func:`guarded_app` in one of several server processes (uvicorn ``--workers``), with
    the settings the parent put in ``$GPUPLAN_SERVE_SETTINGS``. Each process has its own
    job queue and estimate threads; runs, jobs and their progress live in the shared store,
    so any process answers for any job."""
    return guarded_app(ServerSettings(**json.loads(os.environ[SETTINGS_VARIABLE])))


def _version() -> str:
    from gpuplan import __version__

    return __version__
