"""Request and response bodies of the JSON API (pydantic v2; they make the OpenAPI schema).

Numbers are bounded to physically meaningful ranges (at least one token, a thousand
parameters, $0.0001 per GPU-hour, a tenth of a year...) so a request is refused at the door
(422) rather than tying up a worker; estimator arguments mirror the CLI's options.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def example(values: dict[str, Any]) -> ConfigDict:
    """Strict config with one request example (shown at /docs, tried by schemathesis)."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [values]})


class Request(BaseModel):
    """Strict base: unknown fields are an error, as in scenario files."""

    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """A refused request: the field at fault and what to do (as the CLI prints it)."""

    field: str
    message: str


class TrainingRequest(Request):
    model_config = example({"model": "mixtral-8x7b", "tokens": 8e12, "gpu": "h100", "gpus": 1024})

    model: str | None = Field(default=None, max_length=100, description="Catalog model id.")
    params: float | None = Field(default=None, ge=1e3, le=1e15, allow_inf_nan=False)
    active_params: float | None = Field(default=None, ge=1e3, le=1e15, allow_inf_nan=False)
    tokens: float = Field(ge=1, le=1e18, allow_inf_nan=False, description="Training tokens.")
    gpu: str = Field(max_length=50, description="GPU id or alias.")
    gpus: int | None = Field(default=None, ge=1, le=10_000_000)
    precision: str = Field(default="bf16", max_length=10)
    seq_len: int | None = Field(default=None, ge=1, le=10_000_000)
    price_per_gpu_hour: float | None = Field(default=None, ge=1e-4, le=1e4, allow_inf_nan=False)


class ServingShape(Request):
    input_tokens: float = Field(default=1000.0, ge=1, le=1e7, allow_inf_nan=False)
    output_tokens: float = Field(default=250.0, ge=1, le=1e7, allow_inf_nan=False)
    max_ttft_ms: float | None = Field(default=None, ge=1e-3, le=1e7, allow_inf_nan=False)
    max_tpot_ms: float | None = Field(default=None, ge=1e-3, le=1e7, allow_inf_nan=False)
    precision: str | None = Field(default=None, max_length=10)
    tp: int | None = Field(default=None, ge=1, le=64)
    price_per_gpu_hour: float | None = Field(default=None, ge=1e-4, le=1e4, allow_inf_nan=False)


class InferenceRequest(ServingShape):
    model_config = example({"model": "mixtral-8x7b", "gpu": "h100", "max_tpot_ms": 50})

    model: str = Field(max_length=100)
    gpu: str = Field(max_length=50)
    kv_precision: str | None = Field(default=None, max_length=10)
    batch_size: int | None = Field(default=None, ge=1, le=4096)


class FleetRequest(ServingShape):
    model_config = example(
        {"model": "mistral-large-2", "gpu": "h200", "tokens_per_day": 2e10, "peak_factor": 2}
    )

    model: str = Field(max_length=100)
    gpu: str = Field(max_length=50)
    tokens_per_day: float | None = Field(default=None, ge=1, le=1e16, allow_inf_nan=False)
    requests_per_second: float | None = Field(default=None, ge=1e-6, le=1e9, allow_inf_nan=False)
    peak_factor: float = Field(default=1.0, ge=1, le=100, allow_inf_nan=False)
    kv_precision: str | None = Field(default=None, max_length=10)


class SearchRequest(Request):
    model_config = example({"model": "mixtral-8x7b", "max_tpot_ms": 50, "top": 3})

    model: str = Field(max_length=100)
    input_tokens: float = Field(default=1000.0, ge=1, le=1e7, allow_inf_nan=False)
    output_tokens: float = Field(default=250.0, ge=1, le=1e7, allow_inf_nan=False)
    max_ttft_ms: float | None = Field(default=None, ge=1e-3, le=1e7, allow_inf_nan=False)
    max_tpot_ms: float | None = Field(default=None, ge=1e-3, le=1e7, allow_inf_nan=False)
    tokens_per_day: float | None = Field(default=None, ge=1, le=1e16, allow_inf_nan=False)
    requests_per_second: float | None = Field(default=None, ge=1e-6, le=1e9, allow_inf_nan=False)
    peak_factor: float = Field(default=1.0, ge=1, le=100, allow_inf_nan=False)
    gpus: list[str] | None = Field(default=None, max_length=30)
    precisions: list[str] | None = Field(default=None, max_length=5)
    price_per_gpu_hour: float | None = Field(default=None, ge=1e-4, le=1e4, allow_inf_nan=False)
    top: int = Field(default=10, ge=1, le=100)


class TcoRequest(Request):
    """The options of ``gpuplan tco`` (all but ``--offers``, a file)."""

    model_config = example({"gpu": "h100-sxm", "country": "FR", "utilisation": 0.7, "years": 5})

    gpu: str = Field(max_length=50)
    country: str = Field(max_length=10, description="ISO 3166 alpha-2, e.g. FR.")
    utilisation: float = Field(default=0.8, ge=0.01, le=1, allow_inf_nan=False)
    years: float | None = Field(default=None, ge=0.1, le=20, allow_inf_nan=False)
    gpus: int = Field(default=1, ge=1, le=10_000_000, description="GPUs for capex/opex totals.")
    provider: str | None = Field(default=None, max_length=100, description="Also show it.")
    provider_jurisdiction: str | None = Field(default=None, max_length=10)
    region_group: str | None = Field(default=None, max_length=10)
    offer_country: str | None = Field(default=None, max_length=10)
    pricing: str | None = Field(default=None, max_length=30)


class ScenarioText(Request):
    yaml: str = Field(max_length=1_000_000, description="The scenario as YAML text.")


class Finding(BaseModel):
    field: str
    line: int | None
    message: str


class Validation(BaseModel):
    valid: bool
    problems: list[Finding]


class JobRequest(Request):
    model_config = example({"kind": "simulate", "preset": "report-runway-1", "samples": 1000})

    kind: Literal["plan", "simulate", "sweep"]
    preset: str | None = Field(default=None, max_length=100, description="A preset name ...")
    yaml: str | None = Field(default=None, max_length=1_000_000, description="... or YAML text.")
    overrides: list[str] = Field(default_factory=list, max_length=20)
    samples: int = Field(default=10_000, ge=1, le=1_000_000, description="simulate only.")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    sobol: bool = False
    grid: list[str] = Field(default_factory=list, max_length=10, description="sweep only: "
                            "PATH=V1,V2 items, as 'gpuplan sweep --grid'.")
    futures: int | None = Field(default=None, ge=1, le=200,
                                description="sweep only: sampled futures instead of a grid.")
    what: Literal["plan", "simulate"] = Field(default="plan", description="sweep only.")


class RunSummary(BaseModel):
    id: str
    kind: str
    label: str
    status: str
    inputs_hash: str
    gpuplan_version: str
    price_as_of: str | None
    seed: int | None
    error: str | None
    phase: str | None
    fraction: float | None
    source: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    wall_seconds: float | None
    cpu_seconds: float | None


class RunDetail(RunSummary):
    request: dict[str, Any]
    resolved: dict[str, Any] | None
    result: dict[str, Any] | None


class JobCreated(BaseModel):
    id: str
    status: str
    url: str


class Preset(BaseModel):
    name: str
    description: str
    overrides: list[str]


class PresetText(BaseModel):
    name: str
    yaml: str


class Saved(BaseModel):
    """An estimate and the id of the run it was saved as."""

    run_id: str
    result: dict[str, Any]
