"""Regression pins of the serving estimate, and the layout search against layouts one by one.

The pins are NOT validation: they are what ``estimate_inference`` and ``search_deployments``
returned on main at 49b683e (calibration of 2026-12-02), recorded before the speed work
(shared layout evaluation, cached serving costs), so that work provably changes no result;
re-recorded on r3-inference after the round-three model change (MoE dispatch on every GPU
of a tensor-parallel group, fitted link and dispatch efficiencies, shallow-GEMM factor) and
its refit, and on r4-inference after the round-four change (TensorRT-LLM's KV-memory rule,
binary HBM GB, cited runtime reserve) and its refit, and on i-mixtral after the refit with
the MLPerf v5.0 Llama 2 70B rows (a fitted v5.0 software speed), and on i-moe after the
round-six change (prompt and decode attention added, chunked attention, latent decode
FLOPs, overlapped host time) and its refit. When the serving model or its fit changes on
purpose, re-record them from the new code (the failing assertion prints
the new value).
Accuracy is checked against published results in tests/test_inference_validation.py and
benchmarks/inference_accuracy.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gpuplan.compute.deployment_search import search_deployments
from gpuplan.compute.inference import estimate_inference
from gpuplan.compute.serving_memory import expected_distinct_experts
from gpuplan.errors import InfeasibleError, InputError

PRICE = 2.0  # USD per GPU-hour, so the cost pins do not follow the price table

FIELDS = (
    "tensor_parallel",
    "expert_parallel",
    "batch_size",
    "max_batch_size",
    "output_tokens_per_second_per_gpu",
    "tpot_ms",
    "ttft_ms",
    "cost_per_million_output_tokens",
    "moe_experts_touched_per_layer",
)

PINS: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    (  # dense, tp given
        "llama-2-70b",
        "h200",
        {"input_tokens": 684, "output_tokens": 294, "tp": 1},
        {
            "tensor_parallel": 1,
            "expert_parallel": 1,
            "batch_size": 442,
            "max_batch_size": 445,
            "output_tokens_per_second_per_gpu": 2338.5846449353708,
            "tpot_ms": 189.00320796907275,
            "ttft_ms": 358.63742855205277,
            "cost_per_million_output_tokens": 0.23756059322407333,
            "moe_experts_touched_per_layer": None,
        },
    ),
    (  # dense, every tp
        "llama-3.1-8b",
        "h100",
        {"input_tokens": 2048, "output_tokens": 128, "max_tpot_ms": 30},
        {
            "tensor_parallel": 1,
            "expert_parallel": 1,
            "batch_size": 34,
            "max_batch_size": 467,
            "output_tokens_per_second_per_gpu": 2682.436718284295,
            "tpot_ms": 12.675042720764214,
            "ttft_ms": 46.789692394126156,
            "cost_per_million_output_tokens": 0.20710854118895775,
            "moe_experts_touched_per_layer": None,
        },
    ),
    (  # MoE, every (tp, ep): ep = tp = 4 wins
        "mixtral-8x7b",
        "h100",
        {"input_tokens": 1000, "output_tokens": 200, "max_tpot_ms": 50},
        {
            "tensor_parallel": 4,
            "expert_parallel": 4,
            "batch_size": 256,
            "max_batch_size": 3176,
            "output_tokens_per_second_per_gpu": 3041.1374598374173,
            "tpot_ms": 21.04475737950415,
            "ttft_ms": 40.89276989362807,
            "cost_per_million_output_tokens": 0.18268018558597354,
            "moe_experts_touched_per_layer": 8.0,
        },
    ),
    (  # MoE, every (tp, ep): ep = tp (attention data-parallel) wins
        "deepseek-v3",
        "b200",
        {"input_tokens": 1000, "output_tokens": 1000},
        {
            "tensor_parallel": 8,
            "expert_parallel": 8,
            "batch_size": 9272,
            "max_batch_size": 9296,
            "output_tokens_per_second_per_gpu": 5449.383961243961,
            "tpot_ms": 212.68459118366633,
            "ttft_ms": 337.7664478047908,
            "cost_per_million_output_tokens": 0.10194832287588262,
            "moe_experts_touched_per_layer": 256.0,
        },
    ),
    (  # MoE, TPOT target
        "deepseek-v3",
        "h200",
        {"input_tokens": 1000, "output_tokens": 1000, "max_tpot_ms": 50},
        {
            "tensor_parallel": 8,
            "expert_parallel": 1,
            "batch_size": 8,
            "max_batch_size": 828,
            "output_tokens_per_second_per_gpu": 48.702249788302744,
            "tpot_ms": 20.532932345975087,
            "ttft_ms": 53.042461470966266,
            "cost_per_million_output_tokens": 11.40718463665283,
            "moe_experts_touched_per_layer": 101.96216232138947,
        },
    ),
    (  # small MoE, TTFT target
        "qwen3-30b-a3b",
        "h100",
        {"input_tokens": 1000, "output_tokens": 1000, "max_ttft_ms": 2000},
        {
            "tensor_parallel": 2,
            "expert_parallel": 2,
            "batch_size": 1024,
            "max_batch_size": 1220,
            "output_tokens_per_second_per_gpu": 13814.222492062148,
            "tpot_ms": 37.06325131900855,
            "ttft_ms": 61.65159460543179,
            "cost_per_million_output_tokens": 0.04021620151802143,
            "moe_experts_touched_per_layer": 128.0,
        },
    ),
    (  # MoE, ep given
        "llama-4-maverick",
        "b200",
        {"input_tokens": 1000, "output_tokens": 1000, "ep": 8},
        {
            "tensor_parallel": 8,
            "expert_parallel": 8,
            "batch_size": 4624,
            "max_batch_size": 4664,
            "output_tokens_per_second_per_gpu": 9176.908418023508,
            "tpot_ms": 62.98417437236316,
            "ttft_ms": 105.55462939948082,
            "cost_per_million_output_tokens": 0.06053842211876506,
            "moe_experts_touched_per_layer": 128.0,
        },
    ),
]


@pytest.mark.parametrize(("model", "gpu", "request_shape", "pinned"), PINS)
def test_estimate_matches_its_regression_pin(
    model: str, gpu: str, request_shape: dict[str, Any], pinned: tuple[Any, ...]
) -> None:
    estimate = estimate_inference(model, gpu, price_per_gpu_hour=PRICE, **request_shape)
    assert estimate.model_dump(include=set(FIELDS)) == pytest.approx(pinned, rel=1e-9)


def test_curve_pins_of_an_expert_parallel_estimate() -> None:
    # ep = tp = 8: the grid's batches are 8 x the per-group batch, so the curve holds the
    # powers of two from 8 to 4,096 (recorded like the pins above).
    estimate = estimate_inference("deepseek-v3", "b200", input_tokens=1000, output_tokens=1000)
    curve = {point.batch_size: point for point in estimate.curve}
    assert list(curve) == [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
    assert curve[4096].output_tokens_per_second_per_gpu == pytest.approx(
        4769.192771622185, rel=1e-9
    )
    assert curve[8].tpot_p99_ms == pytest.approx(37.8215321604749, rel=1e-9)
    assert all(point.fits_memory and point.meets_latency for point in curve.values())


def test_search_matches_its_regression_pin() -> None:
    search = search_deployments("deepseek-v3", max_tpot_ms=50, price_per_gpu_hour=PRICE, top=3)
    assert (search.configurations_evaluated, search.feasible_deployments) == (150_102, 51)
    top = [
        (o.gpu, o.precision, o.tensor_parallel, o.expert_parallel, o.batch_size)
        for o in search.options
    ]
    assert top == [
        ("gb300", "fp4", 8, 8, 136),
        ("b300", "fp4", 8, 8, 120),
        ("gb300", "fp4", 8, 1, 86),
    ]
    assert search.options[0].output_tokens_per_second_per_gpu == pytest.approx(
        799.4730197404123, rel=1e-9
    )


@pytest.mark.parametrize(
    ("model", "gpu", "request_shape"),
    [
        ("mixtral-8x7b", "h100", {"input_tokens": 1000, "output_tokens": 200, "max_tpot_ms": 50}),
        ("deepseek-v3", "b200", {"input_tokens": 1000, "output_tokens": 1000}),
        ("qwen3-235b-a22b", "h200", {"input_tokens": 4000, "output_tokens": 500}),
    ],
)
def test_all_layouts_at_once_equal_the_best_layout_alone(
    model: str, gpu: str, request_shape: dict[str, Any]
) -> None:
    # Evaluating every (tp, ep) layout in one grid must give the layout that wins when
    # each is estimated on its own: holds whatever the serving model's terms are.
    together = estimate_inference(model, gpu, **request_shape)
    alone = []
    for tp in (1, 2, 4, 8):
        for ep in (1, tp) if tp > 1 else (1,):
            try:
                alone.append(estimate_inference(model, gpu, tp=tp, ep=ep, **request_shape))
            except (InfeasibleError, InputError):  # does not fit, or engines cannot run it
                continue
    best = max(alone, key=lambda e: e.output_tokens_per_second_per_gpu)
    assert (together.tensor_parallel, together.expert_parallel, together.batch_size) == (
        best.tensor_parallel,
        best.expert_parallel,
        best.batch_size,
    )
    assert together.output_tokens_per_second_per_gpu == best.output_tokens_per_second_per_gpu


def test_distinct_experts_when_every_token_uses_every_expert() -> None:
    # k = E: any step of at least one token touches all E experts; none at zero tokens
    # (and no log(0) warning).
    touched = expected_distinct_experts(8, 8, np.array([0.0, 1.0, 37.0]))
    assert touched.tolist() == [0.0, 8.0, 8.0]
