"""Deployment search: every GPU x precision x tensor-parallel degree x batch, ranked by cost.

The analytical answer to what Vidur-Search (arXiv:2405.05465) finds by simulation: for a
model, a request shape, a latency target and optionally a demand, evaluate each catalog GPU
at each weight precision it supports, tp 1, 2, 4, 8 within its scale-up domain (for MoE models
also ep = tp: experts spread over the replica, attention data-parallel) and batch 1-4,096
(numpy over layout x batch), keep the best feasible batch per (GPU, precision, layout) and rank by
cost per million tokens (input + output) at the given or reference prices.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from gpuplan.catalog.gpus import GPU, get_gpu, list_gpus
from gpuplan.catalog.models import ModelEntry, get_model
from gpuplan.catalog.prices import resolve_price
from gpuplan.compute.fleet import demand_requests_per_second, replicas_for
from gpuplan.compute.inference import COST_DEFINITIONS, latency_target
from gpuplan.compute.serving_calibration import ServingCalibration, default_calibration
from gpuplan.compute.serving_config import (
    WEIGHT_PRECISIONS,
    check_shape,
    parallel_layouts,
    resolve_config,
)
from gpuplan.compute.serving_grid import evaluate_grid
from gpuplan.errors import InfeasibleError, InputError
from gpuplan.units import HOURS_PER_DAY, MEGA, SECONDS_PER_HOUR


class DeploymentOption(BaseModel):
    """One ranked deployment: the best batch of a GPU x precision x tp (x ep for MoE)."""

    model_config = ConfigDict(frozen=True)

    rank: int
    gpu: str
    precision: str
    kv_precision: str
    tensor_parallel: int
    expert_parallel: int = Field(
        default=1, description="GPUs the routed experts are spread over (ep = tp: attention DP)."
    )
    batch_size: int
    output_tokens_per_second_per_gpu: float = Field(description="P50 output tokens/s per GPU.")
    ttft_p99_ms: float
    tpot_p99_ms: float
    price_per_gpu_hour: float
    cost_per_million_tokens: float = Field(
        description=COST_DEFINITIONS["cost_per_million_tokens"]
        + ", at the fleet's utilisation (1.0 without a demand)"
    )
    cost_per_million_output_tokens: float = Field(
        description=COST_DEFINITIONS["cost_per_million_output_tokens"] + ", at full utilisation"
    )
    replicas: int | None = None
    gpus: int | None = None
    cost_per_day_usd: float | None = None


class DeploymentSearch(BaseModel):
    """Ranked deployments and what the search covered."""

    model_config = ConfigDict(frozen=True)

    model: str
    input_tokens: float
    output_tokens: float
    max_ttft_ms: float | None
    max_tpot_ms: float | None
    requests_per_second: float | None
    peak_factor: float
    configurations_evaluated: int = Field(description="GPU x precision x tp (x ep) x batch points.")
    feasible_deployments: int
    unpriced_gpus: list[str] = Field(description="GPUs skipped: no price given or in the table.")
    options: list[DeploymentOption]


def search_deployments(
    model: str | Path | ModelEntry,
    *,
    input_tokens: float = 1000.0,
    output_tokens: float = 250.0,
    max_ttft_ms: float | None = None,
    max_tpot_ms: float | None = None,
    tokens_per_day: float | None = None,
    requests_per_second: float | None = None,
    peak_factor: float = 1.0,
    gpus: list[str] | None = None,
    precisions: list[str] | None = None,
    prices: dict[str, float] | None = None,
    price_per_gpu_hour: float | None = None,
    top: int = 10,
    calibration: ServingCalibration | None = None,
) -> DeploymentSearch:
    """Cheapest deployments of ``model`` meeting the latency targets, best first.

    ``prices`` maps GPU ids to USD per GPU-hour (overrides the reference table);
    ``price_per_gpu_hour`` prices every GPU the same. With a demand (tokens per day, input +
    output, or requests per second) each option is sized in whole replicas for the peak.
    """
    cal = calibration or default_calibration()
    entry = get_model(model)
    check_shape(input_tokens, output_tokens, entry)
    target = latency_target(max_ttft_ms, max_tpot_ms)
    if top < 1:
        raise InputError("top", f"must be at least 1 (got {top}).")
    if not peak_factor >= 1:
        raise InputError("peak_factor", f"must be >= 1 (got {peak_factor}).")
    demand = (
        demand_requests_per_second(tokens_per_day, requests_per_second, input_tokens, output_tokens)
        if tokens_per_day is not None or requests_per_second is not None
        else None
    )
    devices: list[GPU] = [get_gpu(g) for g in gpus] if gpus else list_gpus()
    overrides = {get_gpu(k).id: v for k, v in (prices or {}).items()}
    wanted = [p.lower() for p in precisions] if precisions else list(WEIGHT_PRECISIONS)
    for precision in wanted:
        if precision not in WEIGHT_PRECISIONS:
            raise InputError(
                "precision", f"'{precision}' is not one of {', '.join(WEIGHT_PRECISIONS)}."
            )
    if not any(d.supports(p) for d in devices for p in wanted):
        raise InfeasibleError(
            f"precision: none of the GPUs searched ({', '.join(d.id for d in devices)}) has "
            f"{' or '.join(wanted)} tensor cores; allow another precision or GPU."
        )
    candidates: list[dict[str, float | str | int]] = []
    unpriced: list[str] = []
    evaluated = 0
    best_tpot, best_ttft = math.inf, math.inf
    for device in devices:
        price, _ = resolve_price(device, overrides.get(device.id, price_per_gpu_hour))
        if price is None:
            unpriced.append(device.id)
            continue
        tp, ep = parallel_layouts(entry, device)
        for precision in wanted:
            if not device.supports(precision):
                continue
            config = resolve_config(entry, device, precision, None, cal)
            grid = evaluate_grid(
                config.costs, device, tp, input_tokens, output_tokens, target, cal, ep=ep
            )
            evaluated += grid.tpot_s.size
            if grid.fits.any():
                best_tpot = min(best_tpot, float(grid.tpot_p99_s[grid.fits].min()))
                best_ttft = min(best_ttft, float(grid.ttft_p99_s[grid.fits].min()))
            score = np.where(grid.feasible, grid.throughput_per_gpu, -1.0)
            cols = np.argmax(score, axis=1)
            for row, col in enumerate(cols):
                per_gpu = float(score[row, col])
                if per_gpu <= 0:
                    continue
                candidates.append(
                    {
                        "gpu": device.id,
                        "precision": precision,
                        "kv_precision": config.kv_precision,
                        "tensor_parallel": int(grid.tp[row, 0]),
                        "expert_parallel": int(grid.ep[row, 0]),
                        "batch_size": int(grid.batch[row, col]),
                        "output_tokens_per_second_per_gpu": per_gpu,
                        "ttft_p99_ms": float(grid.ttft_p99_s[row, col] * 1e3),
                        "tpot_p99_ms": float(grid.tpot_p99_s[row, col] * 1e3),
                        "price_per_gpu_hour": price,
                    }
                )
    if not candidates:
        raise _explain_empty(entry.id, unpriced, devices, best_tpot, best_ttft, target)
    ranked = sorted(
        (_costed(c, input_tokens, output_tokens, demand, peak_factor) for c in candidates),
        key=lambda c: float(c["cost_per_million_tokens"] or 0.0),
    )
    options = [
        DeploymentOption.model_validate({"rank": i + 1, **c}) for i, c in enumerate(ranked[:top])
    ]
    return DeploymentSearch(
        model=entry.id,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        max_ttft_ms=max_ttft_ms,
        max_tpot_ms=max_tpot_ms,
        requests_per_second=demand,
        peak_factor=peak_factor,
        configurations_evaluated=evaluated,
        feasible_deployments=len(candidates),
        unpriced_gpus=unpriced,
        options=options,
    )


def _costed(
    option: dict[str, float | str | int],
    input_tokens: float,
    output_tokens: float,
    demand: float | None,
    peak_factor: float,
) -> dict[str, float | str | int | None]:
    """Add costs: at full utilisation, or sized in whole replicas for a demand."""
    price = float(option["price_per_gpu_hour"])
    per_gpu = float(option["output_tokens_per_second_per_gpu"])
    tokens_per_output = (input_tokens + output_tokens) / output_tokens
    per_output = price / SECONDS_PER_HOUR / per_gpu * MEGA
    costed: dict[str, float | str | int | None] = {
        **option,
        "cost_per_million_output_tokens": per_output,
        "cost_per_million_tokens": per_output / tokens_per_output,
    }
    if demand is not None:
        tp = int(option["tensor_parallel"])
        replica_rps = per_gpu * tp / output_tokens
        replicas = replicas_for(demand * peak_factor, replica_rps)
        cost_day = replicas * tp * HOURS_PER_DAY * price
        tokens_day = demand * (input_tokens + output_tokens) * 86400.0
        costed.update(
            replicas=replicas,
            gpus=replicas * tp,
            cost_per_day_usd=cost_day,
            cost_per_million_tokens=cost_day / tokens_day * MEGA,
        )
    return costed


def _explain_empty(
    model_id: str,
    unpriced: list[str],
    devices: list[GPU],
    best_tpot: float,
    best_ttft: float,
    target: object,
) -> InfeasibleError:
    if len(unpriced) == len(devices):
        return InfeasibleError(
            f"No GPU has a price: give --price-per-gpu-hour or prices for {', '.join(unpriced)}."
        )
    if math.isinf(best_tpot):
        return InfeasibleError(
            f"{model_id} does not fit on any priced GPU at tp <= 8; use pipeline parallelism "
            "across nodes or a GPU with more memory."
        )
    return InfeasibleError(
        f"No deployment of {model_id} meets the latency target; the best reachable on any "
        f"priced GPU is p99 TPOT {best_tpot * 1e3:.1f} ms and p99 TTFT {best_ttft * 1e3:.0f} ms "
        "(not necessarily together). Relax the target."
    )
