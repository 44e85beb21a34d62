"""Fleet sizing: whole serving replicas for a daily token demand, utilisation and cost.

Demand is the average rate of requests of a fixed shape (``input_tokens`` in,
``output_tokens`` out), given as total tokens per day (input + output) or requests per
second. The fleet is sized for the peak (average x ``peak_factor``) with whole replicas of
``tp`` GPUs, each serving at the best latency-feasible point of :func:`estimate_inference`.
Costs are at a price per GPU-hour for every GPU of the fleet, all day. P10/P90 GPU counts
and costs size the fleet at the P90/P10 throughput of the serving estimate's band.
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from gpuplan.catalog.gpus import GPU
from gpuplan.catalog.models import ModelEntry
from gpuplan.compute.inference import COST_DEFINITIONS, InferenceEstimate, estimate_inference
from gpuplan.compute.serving_calibration import ServingCalibration
from gpuplan.errors import InputError
from gpuplan.humanize import plain
from gpuplan.units import HOURS_PER_DAY, MEGA, SECONDS_PER_DAY


class FleetEstimate(BaseModel):
    """GPUs, replicas, utilisation and cost of serving a demand."""

    model_config = ConfigDict(frozen=True)

    model: str
    gpu: str
    precision: str
    tensor_parallel: int
    replicas: int = Field(description="Serving replicas of tensor_parallel GPUs (P50).")
    gpus: int = Field(description="replicas x tensor_parallel (P50).")
    replicas_p10: int = Field(description="Replicas at the P90 throughput per GPU.")
    replicas_p90: int = Field(description="Replicas at the P10 throughput per GPU.")
    gpus_p10: int = Field(description="GPUs at the P90 throughput per GPU (P10 of GPUs).")
    gpus_p90: int = Field(description="GPUs at the P10 throughput per GPU (P90 of GPUs).")
    requests_per_second_average: float
    requests_per_second_peak: float
    tokens_per_day: float = Field(description="Input + output tokens served per day.")
    output_tokens_per_day: float
    peak_factor: float
    utilisation: float = Field(description="Average demand / fleet capacity (0-1).")
    price_per_gpu_hour: float | None
    cost_per_day_usd: float | None = None
    cost_per_year_usd: float | None = None
    cost_per_day_usd_p10: float | None = None
    cost_per_day_usd_p90: float | None = None
    cost_per_million_output_tokens: float | None = Field(
        default=None, description=COST_DEFINITIONS["cost_per_million_output_tokens"]
    )
    cost_per_million_output_tokens_p10: float | None = None
    cost_per_million_output_tokens_p90: float | None = None
    cost_per_million_tokens: float | None = Field(
        default=None, description=COST_DEFINITIONS["cost_per_million_tokens"]
    )
    cost_per_million_input_tokens_by_gpu_time: float | None = Field(
        default=None, description=COST_DEFINITIONS["cost_per_million_input_tokens_by_gpu_time"]
    )
    cost_per_million_output_tokens_by_gpu_time: float | None = Field(
        default=None, description=COST_DEFINITIONS["cost_per_million_output_tokens_by_gpu_time"]
    )
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
                f"must be at least {plain(MIN_TOKENS_PER_DAY)} token a day to size a fleet "
                f"(got {plain(tokens_per_day)}).",
            )
        return tokens_per_day / tokens_per_request / SECONDS_PER_DAY
    assert requests_per_second is not None
    if not requests_per_second * tokens_per_request * SECONDS_PER_DAY >= MIN_TOKENS_PER_DAY:
        raise InputError(
            "requests_per_second",
            f"must be at least {plain(MIN_TOKENS_PER_DAY)} token a day to size a fleet "
            f"(got {plain(requests_per_second)} requests/s).",
        )
    return requests_per_second


def size_fleet(serving: InferenceEstimate, average_rps: float, peak_factor: float) -> FleetEstimate:
    """Whole replicas for the peak rate at the operating point ``serving``."""
    if not peak_factor >= 1:
        raise InputError("peak_factor", f"must be >= 1 (peak / average demand; got {peak_factor}).")
    peak = average_rps * peak_factor
    per_replica = serving.requests_per_second_per_replica
    band = serving.output_tokens_per_second_per_gpu_p90 / serving.output_tokens_per_second_per_gpu
    low = serving.output_tokens_per_second_per_gpu_p10 / serving.output_tokens_per_second_per_gpu
    replicas = replicas_for(peak, per_replica)
    replicas_p10 = replicas_for(peak, per_replica * band)
    replicas_p90 = replicas_for(peak, per_replica * low)
    tp = serving.tensor_parallel
    gpus = replicas * tp
    utilisation = average_rps / (replicas * per_replica)
    tokens_per_day = average_rps * (serving.input_tokens + serving.output_tokens) * SECONDS_PER_DAY
    output_per_day = average_rps * serving.output_tokens * SECONDS_PER_DAY
    input_per_day = tokens_per_day - output_per_day
    price = serving.price_per_gpu_hour
    costs: dict[str, float | None] = {}
    if price is not None:
        day = {
            name: n * tp * HOURS_PER_DAY * price
            for name, n in (("", replicas), ("_p10", replicas_p10), ("_p90", replicas_p90))
        }
        split = serving.prefill_time_fraction
        costs = {
            "cost_per_day_usd": day[""],
            "cost_per_day_usd_p10": day["_p10"],
            "cost_per_day_usd_p90": day["_p90"],
            "cost_per_year_usd": day[""] * 365.0,
            "cost_per_million_output_tokens": day[""] / output_per_day * MEGA,
            "cost_per_million_output_tokens_p10": day["_p10"] / output_per_day * MEGA,
            "cost_per_million_output_tokens_p90": day["_p90"] / output_per_day * MEGA,
            "cost_per_million_tokens": day[""] / tokens_per_day * MEGA,
            "cost_per_million_input_tokens_by_gpu_time": day[""] * split / input_per_day * MEGA,
            "cost_per_million_output_tokens_by_gpu_time": day[""]
            * (1.0 - split)
            / output_per_day
            * MEGA,
        }
    return FleetEstimate(
        model=serving.model,
        gpu=serving.gpu,
        precision=serving.precision,
        tensor_parallel=tp,
        replicas=replicas,
        gpus=gpus,
        replicas_p10=replicas_p10,
        replicas_p90=replicas_p90,
        gpus_p10=replicas_p10 * tp,
        gpus_p90=replicas_p90 * tp,
        requests_per_second_average=average_rps,
        requests_per_second_peak=peak,
        tokens_per_day=tokens_per_day,
        output_tokens_per_day=output_per_day,
        peak_factor=peak_factor,
        utilisation=utilisation,
        price_per_gpu_hour=price,
        serving=serving,
        **costs,
    )


def replicas_for(peak_rps: float, replica_rps: float) -> int:
    """Whole replicas to carry ``peak_rps`` at ``replica_rps`` each (at least one)."""
    return max(1, math.ceil(peak_rps / replica_rps - 1e-9))


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
    ep: int | None = None,
    price_per_gpu_hour: float | None = None,
    calibration: ServingCalibration | None = None,
) -> FleetEstimate:
    """GPUs (whole replicas of ``tp`` GPUs) to serve a demand at its peak, with cost.

    ``tokens_per_day`` counts input + output tokens; alternatively ``requests_per_second``.
    ``tp`` None picks the degree with the highest throughput per GPU (fewest GPUs);
    ``ep`` as in :func:`estimate_inference` (MoE expert parallelism).
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
        ep=ep,
        precision=precision,
        kv_precision=kv_precision,
        max_ttft_ms=max_ttft_ms,
        max_tpot_ms=max_tpot_ms,
        price_per_gpu_hour=price_per_gpu_hour,
        calibration=calibration,
    )
    return size_fleet(serving, average, peak_factor)
