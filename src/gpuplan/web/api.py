"""The JSON API under ``/api``: thin callers of the same Python functions as the CLI.

Estimates answer at once and are saved as runs; plans and simulations are jobs (POST
returns the id, GET the status, progress and result). Bad input is HTTP 400 with the
field and message of the :class:`~gpuplan.errors.GpuplanError` the CLI would print.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from gpuplan.store import RunStore, diff_runs
from gpuplan.store.saving import RunTimer
from gpuplan.web import schemas
from gpuplan.web.jobs import JobRunner, QueueFull

router = APIRouter(
    prefix="/api",
    responses={400: {"model": schemas.Problem, "description": "Bad input, named."}},
)


def _store(request: Request) -> RunStore:
    store: RunStore = request.app.state.store
    return store


def _runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.runner
    return runner


def _saved(request: Request, kind: str, label: str, arguments: dict[str, Any],
           result: Any, timer: RunTimer) -> schemas.Saved:
    payload = result.model_dump(mode="json")
    wall, cpu = timer.seconds()
    run_id = _store(request).save(kind, label, arguments, payload, wall_seconds=wall,
                                  cpu_seconds=cpu, source="web")
    return schemas.Saved(run_id=run_id, result=payload)


@router.get("/gpus", tags=["catalog"])
def gpus() -> list[dict[str, Any]]:
    """The GPU catalog: peaks, memory, bandwidth, power, source and as-of date."""
    import gpuplan

    return [gpu.model_dump(mode="json") for gpu in gpuplan.list_gpus()]


@router.get("/models", tags=["catalog"])
def models() -> list[dict[str, Any]]:
    """The model catalog (architecture summarised as parameter counts)."""
    import gpuplan

    return [
        m.model_dump(mode="json", exclude={"config", "architecture"})
        | {"params_total": m.params_total, "params_active": m.params_active}
        for m in gpuplan.list_models()
    ]


@router.get("/offers", tags=["catalog"])
def offers(
    gpu: str | None = Query(None, max_length=50),
    region_group: str | None = Query(None, max_length=10),
    pricing: str | None = Query(None, max_length=30),
    provider: str | None = Query(None, max_length=100),
    jurisdiction: str | None = Query(None, max_length=10),
    country: str | None = Query(None, max_length=10),
) -> list[dict[str, Any]]:
    """Cloud offers matching every filter, cheapest per GPU-hour first, with as-of dates."""
    import gpuplan

    rows = gpuplan.query_offers(gpu=gpu, region_group=region_group, pricing=pricing,
                                provider=provider, jurisdiction=jurisdiction, country=country)
    return [o.model_dump(mode="json") for o in rows]


@router.get("/presets", tags=["scenarios"])
def presets() -> list[schemas.Preset]:
    """The shipped scenarios with their description and named overrides."""
    import gpuplan
    from gpuplan.presets import read_scenario

    listed = []
    for name in gpuplan.list_presets():
        data = read_scenario(name)
        listed.append(schemas.Preset(name=name, description=str(data.get("description", "")),
                                     overrides=sorted(data.get("overrides") or {})))
    return listed


@router.get("/presets/{name}", tags=["scenarios"])
def preset(name: str) -> schemas.PresetText:
    """A preset's YAML text (the editor starts from it)."""
    from gpuplan.web.scenario_input import preset_text

    return schemas.PresetText(name=name, yaml=preset_text(name))


@router.post("/scenarios/validate", tags=["scenarios"])
def validate(body: schemas.ScenarioText) -> schemas.Validation:
    """Check a scenario as the CLI would; each problem with its field path and line."""
    from gpuplan.web.scenario_input import validate_text

    problems = [schemas.Finding(field=f.field, line=f.line, message=f.message)
                for f in validate_text(body.yaml)]
    return schemas.Validation(valid=not problems, problems=problems)


async def _estimate(request: Request, kind: str, function: Any, body: schemas.Request,
                    positional: tuple[str, ...]) -> schemas.Saved:
    """Call an estimator with the body's fields (``positional`` ones first, the model a
    catalog id) and save the answer as a run, in one of the app's estimate threads.

    A plain executor with a few threads (``ServerSettings.estimate_threads``) rather than
    the 40-thread pool of ``def`` endpoints: its hand-over is lighter and fewer threads
    fight for the GIL (``benchmarks/web_estimate_load.py``)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(request.app.state.estimate_threads, _estimate_and_save,
                                      request, kind, function, body, positional)


def _estimate_and_save(request: Request, kind: str, function: Any, body: schemas.Request,
                       positional: tuple[str, ...]) -> schemas.Saved:
    """:func:`_estimate` in its thread; CPU seconds are this thread's, not those of the
    requests served alongside it."""
    timer, arguments = RunTimer(cpu_clock=time.thread_time), body.model_dump()
    first = [arguments.pop(name) for name in positional]
    first[0] = _catalog_model(first[0])
    result = function(*first, **arguments)
    return _saved(request, kind, f"{result.model} on {result.gpu}", body.model_dump(), result,
                  timer)


@router.post("/estimate/training", tags=["estimates"])
async def estimate_training(body: schemas.TrainingRequest, request: Request) -> schemas.Saved:
    """Training FLOPs, GPU-hours P10/P50/P90, wall clock and cost (saved as a run)."""
    import gpuplan

    return await _estimate(request, "estimate-training", gpuplan.estimate_training, body,
                           ("model",))


@router.post("/estimate/inference", tags=["estimates"])
async def estimate_inference(body: schemas.InferenceRequest, request: Request) -> schemas.Saved:
    """Best serving point of a model on a GPU under latency targets (saved as a run)."""
    import gpuplan

    return await _estimate(request, "estimate-inference", gpuplan.estimate_inference, body,
                           ("model", "gpu"))


@router.post("/estimate/fleet", tags=["estimates"])
async def estimate_fleet(body: schemas.FleetRequest, request: Request) -> schemas.Saved:
    """GPUs, replicas and cost to serve a daily demand at its peak (saved as a run)."""
    import gpuplan

    return await _estimate(request, "estimate-fleet", gpuplan.estimate_fleet, body,
                           ("model", "gpu"))


@router.post("/search/deployments", tags=["estimates"])
def search_deployments(body: schemas.SearchRequest) -> dict[str, Any]:
    """Cheapest deployments meeting the latency targets, best first."""
    import gpuplan

    arguments = body.model_dump()
    model = _catalog_model(arguments.pop("model"))
    return dict(gpuplan.search_deployments(model, **arguments).model_dump(mode="json"))


@router.post("/tco", tags=["estimates"])
def tco(body: schemas.TcoRequest) -> dict[str, Any]:
    """Owning a GPU in a country against the cheapest, median and named rentals of each
    pricing model (as ``gpuplan tco``)."""
    import gpuplan

    owned = gpuplan.ownership_cost(body.gpu, body.country, utilisation=body.utilisation,
                                   years=body.years, n_gpus=body.gpus)
    result = gpuplan.rent_vs_own(
        body.gpu, body.country, ownership=owned, provider=body.provider,
        jurisdiction=body.provider_jurisdiction, region_group=body.region_group,
        offer_country=body.offer_country, pricing=body.pricing,
    )
    return dict(result.model_dump(mode="json"))


def _catalog_model(model: str | None) -> str | None:
    """Catalog ids only: a path would make the server read its own files."""
    from gpuplan.web.scenario_input import refuse_files

    refuse_files({"model": model}, [])
    return model


def queue_job(body: schemas.JobRequest, request: Request) -> str:
    """Queue a job from an API request or the editor's form; raises :class:`QueueFull`."""
    from gpuplan.errors import InputError
    from gpuplan.presets import list_presets
    from gpuplan.web.scenario_input import preset_text, refuse_files, scenario_from_text

    if (body.preset is None) == (body.yaml is None):
        raise InputError("preset", "give either a preset name or the scenario's yaml text.")
    text = body.yaml if body.yaml is not None else preset_text(str(body.preset))
    scenario = scenario_from_text(text)
    label = str(scenario.get("name") or body.preset or "scenario")
    job: dict[str, Any] = {"scenario": scenario, "overrides": body.overrides,
                           "preset": body.preset}
    if body.kind == "simulate":
        job |= {"samples": body.samples, "seed": body.seed, "sobol": body.sobol}
    if body.kind == "sweep":
        from gpuplan.sweep import parse_grid

        for path, values in parse_grid(body.grid).items():  # nor may a grid name a file
            head, _, last = path.rpartition(".")
            for value in values:
                refuse_files({last: value}, list_presets(), head)
        job |= {"grid": body.grid, "futures": body.futures, "what": body.what,
                "samples": min(body.samples, 10_000), "seed": body.seed}
    return _runner(request).submit(body.kind, label, job, body.seed)


@router.post("/jobs", status_code=202, tags=["jobs"],
             responses={429: {"model": schemas.Problem, "description": "Queue full."}})
def submit_job(body: schemas.JobRequest, request: Request) -> Any:
    """Queue a plan or simulation of a preset or of YAML text; returns the job id at once."""
    try:
        run_id = queue_job(body, request)
    except QueueFull as error:
        return JSONResponse({"field": "queue", "message": str(error)}, status_code=429,
                            headers={"Retry-After": "10"})
    return schemas.JobCreated(id=run_id, status="queued", url=f"/api/jobs/{run_id}")


@router.get("/jobs/{run_id}", tags=["jobs"])
def job(run_id: str, request: Request) -> schemas.RunDetail:
    """A job's status, phase, fraction done, error or result."""
    return schemas.RunDetail.model_validate(_store(request).get(run_id).to_dict())


@router.get("/runs", tags=["runs"])
def runs(
    request: Request,
    q: str | None = Query(None, max_length=200, description="Label text, id prefix, status."),
    kind: str | None = Query(None, max_length=32),
    limit: int = Query(50, ge=1, le=1000),
) -> list[schemas.RunSummary]:
    """Saved runs, newest first."""
    return [schemas.RunSummary.model_validate(r.summary())
            for r in _store(request).list(q, kind, limit)]


@router.get("/runs/{run_id}", tags=["runs"])
def run(run_id: str, request: Request) -> schemas.RunDetail:
    """One saved run whole: request, resolved inputs, result, timings."""
    return schemas.RunDetail.model_validate(_store(request).get(run_id).to_dict())


@router.get("/runs/{a}/diff/{b}", tags=["runs"])
def diff(a: str, b: str, request: Request) -> dict[str, Any]:
    """Run b against run a: headline numbers, cost by category, fleet, commitments."""
    store = _store(request)
    return diff_runs(store.get(a), store.get(b))

