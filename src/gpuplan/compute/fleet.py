"""Fleet sizing: whole serving replicas for a daily token demand, utilisation and cost.

Demand is the average rate of requests of a fixed shape (``input_tokens`` in,
``output_tokens`` out), given as total tokens per day (input + output) or requests per
second. The fleet is sized for the peak (average x ``peak_factor``) with whole replicas of
``tp`` GPUs, each serving at the best latency-feasible point of :func:`estimate_inference`.
Costs are at a price per GPU-hour for every GPU of the fleet, all day.
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from gpuplan.catalog.gpus import GPU
from gpuplan.catalog.models import ModelEntry
from gpuplan.compute.inference import InferenceEstimate, estimate_inference
from gpuplan.compute.serving_calibration import ServingCalibration
from gpuplan.errors import InputError
from gpuplan.units import HOURS_PER_DAY, MEGA, SECONDS_PER_DAY


class FleetEstimate(BaseModel):
    """GPUs, replicas, utilisation and cost of serving a demand."""

    model_config = ConfigDict(frozen=True)

    model: str
    gpu: str
    precision: str
    tensor_parallel: int
    replicas: int = Field(description="Serving replicas of tensor_parallel GPUs.")
    gpus: int = Field(description="replicas x tensor_parallel.")
    requests_per_second_average: float
    requests_per_second_peak: float
    tokens_per_day: float = Field(description="Input + output tokens served per day.")
    output_tokens_per_day: float
    peak_factor: float
    utilisation: float = Field(description="Average demand / fleet capacity (0-1).")
    price_per_gpu_hour: float | None
    cost_per_day_usd: float | None
    cost_per_year_usd: float | None
    cost_per_million_tokens: float | None = Field(
        default=None, description="Cost per million tokens, input and output together."
    )
    cost_per_million_input_tokens: float | None = None
    cost_per_million_output_tokens: float | None = None
    serving: InferenceEstimate = Field(description="The per-replica operating point.")


MIN_TOKENS_PER_DAY = 1.0
"""Smallest demand a fleet is sized for; below it per-token costs lose all meaning."""


def demand_requests_per_second(
    tokens_per_day: float | None,
    requests_per_second: float | None,
    input_tokens: float,
    output_tokens: float,
) -> float:
    """Average request rate from tokens per day (input + output) or requests per second."""
    if (tokens_per_day is None) == (requests_per_second is None):
        raise InputError(
            "tokens_per_day", "give exactly one of tokens_per_day or requests_per_second."
        )
    tokens_per_request = input_tokens + output_tokens
    if tokens_per_day is not None:
        if not tokens_per_day >= MIN_TOKENS_PER_DAY:
            raise InputError(
                "tokens_per_day",
                f"must be at least {MIN_TOKENS_PER_DAY:g} token a day to size a fleet "
                f"(got {tokens_per_day:g}).",
            )
        return tokens_per_day / tokens_per_request / SECONDS_PER_DAY
    assert requests_per_second is not None
    if not requests_per_second * tokens_per_request * SECONDS_PER_DAY >= MIN_TOKENS_PER_DAY:
        raise InputError(
            "requests_per_second",
            f"must be at least {MIN_TOKENS_PER_DAY:g} token a day to size a fleet "
            f"(got {requests_per_second:g} requests/s).",
        )
    return requests_per_second


def size_fleet(serving: InferenceEstimate, average_rps: float, peak_factor: float) -> FleetEstimate:
    """Whole replicas for the peak rate at the operating point ``serving``."""
    if not peak_factor >= 1:
        raise InputError("peak_factor", f"must be >= 1 (peak / average demand; got {peak_factor}).")
    peak = average_rps * peak_factor
    replicas = max(1, math.ceil(peak / serving.requests_per_second_per_replica - 1e-9))
    gpus = replicas * serving.tensor_parallel
    utilisation = average_rps / (replicas * serving.requests_per_second_per_replica)
    tokens_per_day = average_rps * (serving.input_tokens + serving.output_tokens) * SECONDS_PER_DAY
    output_per_day = average_rps * serving.output_tokens * SECONDS_PER_DAY
    price = serving.price_per_gpu_hour
    cost_day = gpus * HOURS_PER_DAY * price if price is not None else None
    split = serving.prefill_time_fraction
    input_per_day = tokens_per_day - output_per_day
    return FleetEstimate(
        model=serving.model,
        gpu=serving.gpu,
        precision=serving.precision,
        tensor_parallel=serving.tensor_parallel,
        replicas=replicas,
        gpus=gpus,
        requests_per_second_average=average_rps,
        requests_per_second_peak=peak,
        tokens_per_day=tokens_per_day,
        output_tokens_per_day=output_per_day,
        peak_factor=peak_factor,
        utilisation=utilisation,
        price_per_gpu_hour=price,
        cost_per_day_usd=cost_day,
        cost_per_year_usd=cost_day * 365.0 if cost_day is not None else None,
        cost_per_million_tokens=cost_day / tokens_per_day * MEGA if cost_day is not None else None,
        cost_per_million_input_tokens=(
            cost_day * split / input_per_day * MEGA if cost_day is not None else None
        ),
        cost_per_million_output_tokens=(
            cost_day * (1.0 - split) / output_per_day * MEGA if cost_day is not None else None
        ),
        serving=serving,
    )


def estimate_fleet(
    model: str | Path | ModelEntry,
    gpu: str | GPU,
    *,
    tokens_per_day: float | None = None,
    requests_per_second: float | None = None,
    peak_factor: float = 1.0,
    max_ttft_ms: float | None = None,
    max_tpot_ms: float | None = None,
    input_tokens: float = 1000.0,
    output_tokens: float = 250.0,
    precision: str | None = None,
    kv_precision: str | None = None,
    tp: int | None = None,
    price_per_gpu_hour: float | None = None,
    calibration: ServingCalibration | None = None,
) -> FleetEstimate:
    """GPUs (whole replicas of ``tp`` GPUs) to serve a demand at its peak, with cost.

    ``tokens_per_day`` counts input + output tokens; alternatively ``requests_per_second``.
    ``tp`` None picks the degree with the highest throughput per GPU (fewest GPUs).
    """
    if not peak_factor >= 1:
        raise InputError("peak_factor", f"must be >= 1 (peak / average demand; got {peak_factor}).")
    average = demand_requests_per_second(
        tokens_per_day, requests_per_second, input_tokens, output_tokens
    )
    serving = estimate_inference(
        model,
        gpu,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        tp=tp,
        precision=precision,
        kv_precision=kv_precision,
        max_ttft_ms=max_ttft_ms,
        max_tpot_ms=max_tpot_ms,
        price_per_gpu_hour=price_per_gpu_hour,
        calibration=calibration,
    )
    return size_fleet(serving, average, peak_factor)
