"""Serving model against hand calculations (architecture numbers from the models' configs)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from gpuplan.catalog.gpus import get_gpu
from gpuplan.catalog.models import get_model
from gpuplan.compute.inference import estimate_inference
from gpuplan.compute.serving_calibration import (
    FittedFactors,
    ServingCalibration,
    default_calibration,
)
from gpuplan.compute.serving_grid import LatencyTarget, evaluate_grid
from gpuplan.compute.serving_memory import ServingCosts, expected_distinct_experts
from gpuplan.compute.serving_roofline import (
    Rates,
    busiest_group_load,
    decode_bytes_per_step,
    linear_time,
    padded_expert_rows,
    power_clock_factor,
    step_times,
)
from gpuplan.errors import InfeasibleError, InputError

FIXED = default_calibration().fixed
IDEAL_ROOFLINE = default_calibration().model_copy(
    update={
        "fitted": default_calibration().fitted.model_copy(
            update={"roofline_sharpness": 1000.0, "dispatch_efficiency": 1.0}
        ),
        "fixed": FIXED.model_copy(update={"gemm_depth_overhead": 0.0}),
    }
)
"""The ideal roofline (p = 1000), token dispatch at full HBM speed and every GEMM at its deep
efficiency: hand-computable."""


def test_mistral_7b_kv_cache_with_and_without_its_window_at_32k() -> None:
    # Mistral 7B: 32 layers, 8 KV heads of 128 dims, window 4096 (arXiv:2310.06825 Table 1).
    # Per token, bf16: 2 (K,V) x 8 x 128 x 32 layers x 2 bytes = 131,072 bytes.
    arch = get_model("mistral-7b").architecture
    assert arch.kv_bytes_per_token("bf16") == 131_072
    windowed = ServingCosts.build(arch, "bf16", "bf16", FIXED)
    full = ServingCosts.build(
        arch.model_copy(update={"sliding_window": None}), "bf16", "bf16", FIXED
    )
    # 32k context: the rolling buffer keeps 4,096 tokens -> 4096 x 131,072 = 536,870,912 B;
    # without the window all 32,768 tokens -> 4,294,967,296 B (8x more).
    assert windowed.kv_bytes_per_sequence(32_768) == 536_870_912
    assert full.kv_bytes_per_sequence(32_768) == 4_294_967_296


def test_expected_distinct_experts_formula() -> None:
    # E = 8, k = 2: one token touches 2 experts; two tokens 8(1 - (6/8)^2) = 3.5.
    assert expected_distinct_experts(8, 2, 1) == pytest.approx(2.0)
    assert expected_distinct_experts(8, 2, 2) == pytest.approx(3.5)
    assert expected_distinct_experts(8, 2, 64) == pytest.approx(8.0, abs=1e-6)


def test_mixtral_decode_bytes_per_step_batch_1_vs_64() -> None:
    # Mixtral 8x7B (config.json): hidden 4096, 32 layers, 32 heads / 8 KV heads of 128,
    # expert MLP 14336 wide (3 matrices), vocab 32000, 8 experts, top-2; bf16 weights.
    expert_bytes = 3 * 4096 * 14336 * 2  # 352,321,536 B per expert per layer
    attention = 4096 * 4096 * 2 + 2 * 4096 * 1024  # Q, O and K, V projections
    per_layer = attention + 2 * 4096 + 4096 * 8  # + two RMSNorms + router
    streamed = (32 * per_layer + 32000 * 4096 + 4096) * 2  # layers + LM head + final norm
    kv = 1024 * (2 * 8 * 128 * 32 * 2)  # one sequence at 1,024 tokens of context
    arch = get_model("mixtral-8x7b").architecture
    costs = ServingCosts.build(arch, "bf16", "bf16", FIXED)
    batch_1 = streamed + 32 * 2 * expert_bytes + kv  # 1 token -> 2 experts per layer
    experts_64 = 8 * (1 - 0.75**64)  # 64 tokens -> practically all 8 experts
    batch_64 = streamed + 32 * experts_64 * expert_bytes + 64 * kv
    assert decode_bytes_per_step(costs, 1, 1024) == pytest.approx(batch_1, rel=1e-12)
    assert decode_bytes_per_step(costs, 64, 1024) == pytest.approx(batch_64, rel=1e-12)
    # 25.6 GB at batch 1 vs 101.7 GB at batch 64: 64x the tokens for ~4x the bytes.
    assert batch_1 / 1e9 == pytest.approx(25.63, abs=0.01)
    assert batch_64 / 1e9 == pytest.approx(101.73, abs=0.01)


def test_mixtral_expert_gemms_each_get_their_own_roofline() -> None:
    # A step of 4 tokens, top-2 of 8: D = 8(1 - 0.75^4) = 5.46875 experts touched per layer,
    # each a GEMM of 4·2/D = 1.4629 rows. Round rates (1 PFLOP/s, 1 TB/s) and the ideal
    # roofline (p = 1000) make each term a plain max; bf16, tp = 1.
    arch = get_model("mixtral-8x7b").architecture
    costs = ServingCosts.build(arch, "bf16", "bf16", FIXED)
    rates = Rates(gemm_flops=1e15, attention_flops=1e15, memory_bytes=1e12, link_bytes=1e11)
    expert_params = 3 * 4096 * 14336  # 176,160,768 weights per expert per layer
    attention = 4096 * 4096 * 2 + 2 * 4096 * 1024
    per_layer = attention + 2 * 4096 + 4096 * 8
    dense_bytes = (32 * per_layer + 32000 * 4096 + 4096) * 2
    dense_params = 32 * (attention + 4096 * 8) + 32000 * 4096  # matmul weights outside experts
    touched = 8 * (1 - 0.75**4)
    rows = 4 * 2 / touched  # padded to one 128-row tile: compute stays below the weight reads
    dense = max(4 * 2 * dense_params / 1e15, dense_bytes / 1e12)  # bytes: 2.93 ms
    one_expert = max(rows * 2 * expert_params / 1e15, expert_params * 2 / 1e12)  # 0.352 ms
    # Dispatch + combine: each token's k = 2 bf16 copies of the 4,096-wide hidden vector are
    # written and read twice through HBM: 4·2·4096·2 = 65,536 bytes per token per layer.
    dispatch = 32 * 65536 / 1e12
    expected = dense + 32 * touched * one_expert + 4 * dispatch
    assert float(linear_time(costs, rates, 1, 4.0, IDEAL_ROOFLINE)) == pytest.approx(
        expected, rel=1e-3
    )
    # 4,096 tokens: every expert touched, 1,024 rows each -> compute-bound experts, and the
    # per-expert sum equals the aggregate FLOPs of the step over the peak.
    big = (
        4 * 2 * dense_params / 1e15 * 1024
        + 32 * 8 * 1024 * 2 * expert_params / 1e15
        + 4096 * dispatch
    )
    assert float(linear_time(costs, rates, 1, 4096.0, IDEAL_ROOFLINE)) == pytest.approx(
        big, rel=1e-3
    )


def test_8_bit_kv_cache_halves_kv_memory() -> None:
    common = {"input_tokens": 2000, "output_tokens": 500, "tp": 1, "precision": "fp8"}
    bf16 = estimate_inference("llama-3-8b", "h100", kv_precision="bf16", **common)
    fp8 = estimate_inference("llama-3-8b", "h100", kv_precision="fp8", **common)
    assert fp8.kv_cache_gb_per_sequence == pytest.approx(bf16.kv_cache_gb_per_sequence / 2)
    # Llama 3 8B: 32 layers x 2 x 8 KV heads x 128 x 2 B = 131,072 B/token x 2,500 tokens.
    assert bf16.kv_cache_gb_per_sequence == pytest.approx(131_072 * 2500 / 1e9)
    assert fp8.max_batch_size > bf16.max_batch_size


def test_weights_per_gpu_halve_with_tp_2() -> None:
    one = estimate_inference("llama-2-70b", "h200", input_tokens=500, output_tokens=100, tp=1)
    two = estimate_inference("llama-2-70b", "h200", input_tokens=500, output_tokens=100, tp=2)
    assert two.weights_gb_per_gpu == pytest.approx(one.weights_gb_per_gpu / 2)
    # 68.98B parameters at fp8 = 68.98 GB on one GPU.
    assert one.weights_gb_per_gpu == pytest.approx(68.98, abs=0.05)


def test_larger_batch_never_lowers_throughput_when_memory_bound() -> None:
    cal = default_calibration()
    model, gpu = get_model("llama-2-70b"), get_gpu("h100")
    costs = ServingCosts.build(model.architecture, "bf16", "bf16", cal.fixed)
    grid = evaluate_grid(costs, gpu, np.array([4.0, 8.0]), 200, 200, LatencyTarget(), cal)
    for row in range(2):
        memory_bound = ~grid.steps.compute_bound[row]
        throughput = grid.throughput_per_gpu[row][memory_bound]
        assert memory_bound.sum() > 8
        assert np.all(np.diff(throughput) >= 0)


def test_best_point_meets_latency_target_and_is_dearer_than_offline() -> None:
    offline = estimate_inference("llama-2-70b", "h100", input_tokens=1000, output_tokens=200)
    tight = estimate_inference(
        "llama-2-70b", "h100", input_tokens=1000, output_tokens=200, max_tpot_ms=30
    )
    assert tight.tpot_p99_ms <= 30
    assert tight.output_tokens_per_second_per_gpu < offline.output_tokens_per_second_per_gpu
    assert tight.cost_per_million_output_tokens is not None
    # cost = price / (tokens/s x 3600) x 1e6
    expected = tight.price_per_gpu_hour / (tight.output_tokens_per_second_per_gpu * 3600) * 1e6
    assert tight.cost_per_million_output_tokens == pytest.approx(expected)


def test_model_that_does_not_fit_says_what_is_missing_and_what_fits() -> None:
    # 405.85e9 weights x 2 B (bf16) = 811.7 GB, 405.85 GB per GPU at tp 2, plus
    # free memory whose 90% KV share holds one 1200-token sequence (516,096 B x 1,200 / 2
    # GPUs / 0.9 = 0.34 GB): 406.20 GB against 80 GiB - 2.76 GB = 83.14 GB usable.
    with pytest.raises(InfeasibleError, match=r"missing 323\.1 GB.*tp 8 at fp8"):
        estimate_inference(
            "llama-3.1-405b", "h100", tp=2, precision="bf16", input_tokens=1000, output_tokens=200
        )


def test_unreachable_latency_names_the_best_reachable() -> None:
    with pytest.raises(InfeasibleError, match=r"best reachable is p99 TPOT \d+\.\d ms"):
        estimate_inference(
            "llama-2-70b", "h100", input_tokens=1000, output_tokens=200, max_tpot_ms=1
        )


def test_bad_inputs_are_typed_errors() -> None:
    with pytest.raises(InputError, match="scale-up domain"):
        estimate_inference("llama-2-70b", "l40s", tp=2, input_tokens=10, output_tokens=10)
    with pytest.raises(InputError, match="context window"):
        estimate_inference("llama-2-7b", "h100", input_tokens=4000, output_tokens=500)
    with pytest.raises(InputError, match="fp4"):
        estimate_inference("llama-2-7b", "h100", precision="fp4", input_tokens=10, output_tokens=10)


def test_mlperf_h200_llama2_70b_offline_within_25_percent() -> None:
    # MLPerf Inference v5.1 closed, llama2-70b-99 Offline on 8x H200-SXM-141GB: 4,361
    # output tokens/s per GPU (median of 10 submissions, shared/reference/calibration/
    # inference_mlperf_llama2_70b.csv, from mlcommons/inference_results_v5.1), at the mean
    # input the fit estimates for the (unpublished) OpenOrca set.
    mean_input = (default_calibration().model_extra or {})["fit_data"]["mean_input_tokens"]
    result = estimate_inference(
        "llama-2-70b", "h200", input_tokens=mean_input["mlperf-openorca"], output_tokens=294.45
    )
    assert result.output_tokens_per_second_per_gpu == pytest.approx(4361, rel=0.25)


def test_trtllm_prefill_heavy_llama33_70b_h200_within_20_percent() -> None:
    # TensorRT-LLM perf overview (NVIDIA/TensorRT-LLM docs/source/performance/
    # perf-overview.md @ 00f37686): Llama 3.3 70B FP8, H200, tp 1, 2048 in / 128 out,
    # 442 output tokens/s per GPU. The prefill-heavy shape the old fit missed by +54-121%.
    result = estimate_inference(
        "llama-3.3-70b", "h200", input_tokens=2048, output_tokens=128, tp=1, precision="fp8"
    )
    assert result.output_tokens_per_second_per_gpu == pytest.approx(442, rel=0.20)


def test_calibration_file_records_fit_date_and_residuals() -> None:
    cal = default_calibration()
    extra = cal.model_extra or {}
    assert cal.fit_date
    assert extra["fit_quality"]["residuals"]


def test_every_fitted_efficiency_is_a_fraction_of_peak() -> None:
    # Efficiencies are fractions of a datasheet peak: in (0, 1], never above (the old fit
    # had NVIDIA compute at 1.08 of peak, compensating for a wrong input length).
    fitted = default_calibration().fitted
    fractions = [
        *fitted.compute_efficiency.values(),
        fitted.fp4_gemm_efficiency,
        fitted.attention_efficiency,
        fitted.memory_efficiency,
        fitted.link_efficiency,
        fitted.dispatch_efficiency,
        fitted.arrival_headroom,
        *fitted.software_vintage.values(),
    ]
    assert all(0 < f <= 1 for f in fractions)
    assert 0 <= fitted.power_clock_exponent <= 1


def test_calibration_refuses_an_efficiency_above_one() -> None:
    fitted = default_calibration().fitted.model_dump()
    with pytest.raises(ValidationError):
        FittedFactors.model_validate({**fitted, "memory_efficiency": 1.05})
    with pytest.raises(ValidationError):
        FittedFactors.model_validate({**fitted, "fp4_gemm_efficiency": 1.2})
    with pytest.raises(ValidationError):
        FittedFactors.model_validate({**fitted, "link_efficiency": 1.5})
    with pytest.raises(ValidationError):
        FittedFactors.model_validate({**fitted, "dispatch_efficiency": 0.0})


def test_moe_dispatch_is_paid_on_every_gpu_of_the_tensor_parallel_group() -> None:
    # Tensor parallelism replicates the activations: every GPU permutes all T·k token
    # slots, so the dispatch time does not shrink with tp; with ep attention groups each
    # GPU permutes T·k/ep. Mixtral 8x7B: 32 MoE layers x 4·k·hidden·2 B = 65,536 B per token
    # per layer; 1,000 tokens at 1 TB/s: 2.097 ms at full HBM speed, twice that at half.
    arch = get_model("mixtral-8x7b").architecture
    costs = ServingCosts.build(arch, "bf16", "bf16", FIXED)
    rates = Rates(gemm_flops=1e15, attention_flops=1e15, memory_bytes=1e12, link_bytes=1e11)

    def at(efficiency: float) -> ServingCalibration:
        fitted = IDEAL_ROOFLINE.fitted.model_copy(update={"dispatch_efficiency": efficiency})
        return IDEAL_ROOFLINE.model_copy(update={"fitted": fitted})

    full_speed = 32 * 1000 * 65536 / 1e12
    for tp in (1, 2, 8):
        slower = linear_time(costs, rates, tp, 1000.0, at(0.5))
        faster = linear_time(costs, rates, tp, 1000.0, at(1.0))
        assert float(slower - faster) == pytest.approx(full_speed, rel=1e-9)


def test_power_limited_part_runs_below_its_datasheet_peak() -> None:
    # H100 PCIe: 350 W for 756 bf16 TFLOP/s; H100 SXM 700 W for 989.4 (NVIDIA datasheets).
    # At exponent 1 the sustained fraction is (350/756) / (700/989.4) = 0.6544.
    assert power_clock_factor(get_gpu("h100-pcie"), 1.0) == pytest.approx(0.6544, abs=1e-3)
    assert power_clock_factor(get_gpu("h100-sxm"), 1.0) == 1.0
    assert power_clock_factor(get_gpu("h100-pcie"), 0.0) == 1.0


def test_band_brackets_the_p50_and_costs_move_inversely() -> None:
    result = estimate_inference("llama-3.1-8b", "h100", input_tokens=1000, output_tokens=250)
    band = default_calibration().uncertainty
    p50 = result.output_tokens_per_second_per_gpu
    assert result.output_tokens_per_second_per_gpu_p10 == pytest.approx(p50 * band.p10_ratio)
    assert result.output_tokens_per_second_per_gpu_p90 == pytest.approx(p50 * band.p90_ratio)
    assert (
        result.output_tokens_per_second_per_gpu_p10
        < p50
        < result.output_tokens_per_second_per_gpu_p90
    )
    cost = result.cost_per_million_output_tokens
    assert cost is not None
    assert result.cost_per_million_output_tokens_p10 == pytest.approx(cost / band.p90_ratio)
    assert result.cost_per_million_output_tokens_p90 == pytest.approx(cost / band.p10_ratio)


def test_batch_curve_reports_the_p99_it_judges() -> None:
    result = estimate_inference(
        "llama-2-70b", "h100", input_tokens=1000, output_tokens=200, max_tpot_ms=60
    )
    tail = default_calibration().fitted.latency_tail_factor
    for point in result.curve:
        assert point.tpot_p99_ms == pytest.approx(point.tpot_ms * tail)
        assert point.meets_latency == (point.tpot_p99_ms <= 60)


def test_busiest_group_load_is_the_balls_into_bins_maximum() -> None:
    # 800 token slots over 8 GPUs: mean 100, max ~ 100 + sqrt(2·100·ln 8) = 120.39
    # (Raab & Steger 1998) -> 1.2039 x the mean; one GPU: no imbalance.
    assert float(busiest_group_load(800.0, 8.0)) == pytest.approx(1.2039, abs=1e-4)
    assert float(busiest_group_load(800.0, 1.0)) == 1.0
    # More tokens per GPU even out: 80,000 slots -> 1 + sqrt(2 ln 8 / 10,000) = 1.0204.
    assert float(busiest_group_load(80_000.0, 8.0)) == pytest.approx(1.0204, abs=1e-4)
    # Few prompts per step: 0.1 prompts over 8 groups all land on one: max / mean = 8.
    assert float(busiest_group_load(0.1, 8.0)) == 8.0


def test_grouped_gemm_rows_are_padded_to_whole_tiles() -> None:
    assert padded_expert_rows(1.5, 128.0) == 128.0
    assert padded_expert_rows(128.0, 128.0) == 128.0
    assert padded_expert_rows(129.0, 128.0) == 256.0


def test_kv_cache_is_reserved_for_the_whole_request() -> None:
    # Llama 3 8B bf16 on H100 80 GB (80 GiB = 85.90e9 B), tp 1, 2000 in / 500 out. Memory left
    # after the 2.76 GB runtime reserve and 16.06 GB of weights: 67.08e9 B; TensorRT-LLM gives
    # the KV cache 90% of what the step's activations leave (free_gpu_memory_fraction 0.9).
    # Per sequence 131,072 B x 2,500 tokens = 327.7 MB of KV, activations 5 tokens x 2 B x
    # (4·4096 + 2·14336) = 0.45 MB and fp32 logits 128,256 x 4 B = 0.51 MB:
    # B <= 0.9 x 67.08e9 / (327.68e6 + 0.9 x 0.96e6) = 183.75 -> 183 sequences.
    result = estimate_inference(
        "llama-3-8b",
        "h100",
        input_tokens=2000,
        output_tokens=500,
        tp=1,
        precision="bf16",
        kv_precision="bf16",
    )
    assert result.max_batch_size == 183


def test_near_full_gpu_keeps_the_kv_pool_tensorrt_llm_gives_it() -> None:
    # Llama 3.1 70B fp8 on one H100 (TensorRT-LLM 0.17 perf overview, tp 1, 1000/1000:
    # 840 tok/s). 80 GiB - 2.76 GB reserve - 70.55 GB of weights = 12.59 GB free; the KV
    # cache gets 90% of it after the step's activations: per sequence 163,840 B x 2,000 =
    # 327.7 MB of fp8 KV plus 0.9 x (2 tokens x 2 B x (4·8192 + 2·28672) + 128,256 x 4 B):
    # 0.9 x 12.59e9 / 328.47e6 = 34.5 -> 34 sequences (the rule before round four, 90% of
    # 80e9 B minus the weights, left 1.45 GB: 4 sequences, and 147 tok/s).
    result = estimate_inference(
        "llama-3.1-70b", "h100", input_tokens=1000, output_tokens=1000, tp=1, precision="fp8"
    )
    assert result.max_batch_size == 34


def test_expert_parallel_layout_replicates_attention_and_splits_experts() -> None:
    # Mixtral 8x7B fp8 on 8 H100 with ep = tp = 8: each GPU holds one whole expert per layer
    # (32 x 176.2M weights) and all non-expert weights (46.70B - 45.10B = 1.61B): 7.24 GB.
    arch = get_model("mixtral-8x7b").architecture
    result = estimate_inference(
        "mixtral-8x7b", "h100", input_tokens=1000, output_tokens=250, tp=8, ep=8, precision="fp8"
    )
    routed = 32 * 8 * 3 * 4096 * 14336
    expected = routed / 8 + (arch.params_total - routed)
    assert result.expert_parallel == 8
    assert result.weights_gb_per_gpu == pytest.approx(expected / 1e9, rel=1e-6)
    tp_only = estimate_inference(
        "mixtral-8x7b", "h100", input_tokens=1000, output_tokens=250, tp=8, ep=1, precision="fp8"
    )
    assert tp_only.weights_gb_per_gpu == pytest.approx(arch.params_total / 8 / 1e9, rel=1e-6)


def test_expert_parallelism_is_checked_and_searched_for_moe_only() -> None:
    common = {"input_tokens": 1000, "output_tokens": 250}
    with pytest.raises(InputError, match="dense model"):
        estimate_inference("llama-3.1-70b", "h100", ep=8, **common)
    with pytest.raises(InputError, match="ep is 1 or equal to tp"):
        estimate_inference("mixtral-8x7b", "h100", tp=8, ep=4, **common)
    with pytest.raises(InputError, match="does not divide"):
        estimate_inference("mixtral-8x7b", "h100", ep=3, **common)
    from gpuplan.compute.serving_config import parallel_layouts

    tp, ep = parallel_layouts(get_model("mixtral-8x7b"), get_gpu("h100"))
    assert list(zip(tp, ep, strict=True)) == [
        (1, 1),
        (2, 1),
        (4, 1),
        (8, 1),
        (2, 2),
        (4, 4),
        (8, 8),
    ]
    _, dense_ep = parallel_layouts(get_model("llama-3.1-70b"), get_gpu("h100"))
    assert set(dense_ep) == {1.0}


def test_batch_and_step_tokens_are_capped_like_trtllm_bench() -> None:
    # trtllm-bench caps max_batch_size at 4,096 and max_num_tokens at 32,768
    # (tensorrt_llm/bench/build/tuning.py); a larger batch is refused by name.
    with pytest.raises(InputError, match="4,096"):
        estimate_inference(
            "llama-3-8b", "h200", input_tokens=128, output_tokens=128, batch_size=5000
        )
    # 2,048 in / 128 out: 17 tokens per sequence per step, so at most 32,768 / 17 = 1,927
    # sequences per step however much memory is free (B200, 8B model in fp8).
    result = estimate_inference(
        "llama-3-8b", "b200", input_tokens=2048, output_tokens=128, tp=1, precision="fp8"
    )
    assert result.batch_size <= 32_768 // 17


def test_attention_data_parallel_does_not_replicate_kv_heads() -> None:
    # Qwen3-235B-A22B: 4 KV heads. At tp 8 without attention DP each KV head sits on 2 GPUs
    # (a sequence's KV is split 4 ways, not 8); with ep = tp = 8 each GPU holds whole
    # sequences of its own. KV per sequence per GPU: 1/4 of the sequence vs all of it, on 8x
    # fewer sequences per GPU -> twice the sequences fit per replica (less the replicated
    # attention weights).
    common = {"input_tokens": 1000, "output_tokens": 1000, "tp": 8, "precision": "fp8"}
    tp_only = estimate_inference("qwen3-235b-a22b", "h200", ep=1, **common)
    expert_parallel = estimate_inference("qwen3-235b-a22b", "h200", ep=8, **common)
    assert tp_only.kv_cache_gb_per_sequence_per_gpu == pytest.approx(
        tp_only.kv_cache_gb_per_sequence / 4
    )
    assert expert_parallel.kv_cache_gb_per_sequence_per_gpu == pytest.approx(
        expert_parallel.kv_cache_gb_per_sequence
    )
    ratio = expert_parallel.max_batch_size / tp_only.max_batch_size
    assert 1.6 < ratio < 2.0


def test_shallow_gemms_run_below_the_deep_gemm_efficiency() -> None:
    # A GEMM of reduction depth K runs at K/(K + k0) of the deep-GEMM efficiency, k0 = 490
    # (DeepGEMM H800 FP8, M = 4,096: K = 512 at 751 TFLOP/s vs K = 16,384 at 1,426).
    # Mistral 7B (hidden 4,096, 32 layers, 32 x 128 query and 8 x 128 KV heads, MLP 14,336,
    # vocab 32,000): column-parallel outputs 2·(32·6,144 + 32·2·14,336 + 32,000) =
    # 2,292,224 per token, row-parallel (attention out + MLP down) 2·64·4,096 = 524,288;
    # matmul FLOPs 2·(32·218,112,000 + 131,072,000 + 4,096) = 14,221,320,192 per token.
    costs = ServingCosts.build(get_model("mistral-7b").architecture, "bf16", "bf16", FIXED)
    assert costs.column_parallel_outputs_per_token == 2_292_224
    assert costs.row_parallel_outputs_per_token == 524_288
    assert float(costs.dense_depth_factor(1, 490.0)) == pytest.approx(1.09704, abs=1e-5)
    # tp 8 cuts the down and output projections' depth 8-fold: 1 + 490·6,486,528/FLOPs.
    assert float(costs.dense_depth_factor(8, 490.0)) == pytest.approx(1.22350, abs=1e-5)
    # Qwen3-30B-A3B experts (hidden 2,048, 768 wide): gate/up of depth 2,048, down of depth
    # 768: 1 + 490·(2/2,048 + 1/768)/3 = 1.3722; Mixtral's (14,336 wide) 1 + 490·(2/4,096 +
    # 1/14,336)/3 = 1.09115.
    qwen = ServingCosts.build(get_model("qwen3-30b-a3b").architecture, "fp8", "fp8", FIXED)
    assert float(qwen.expert_depth_factor(1, 490.0)) == pytest.approx(1.37218, abs=1e-5)
    mixtral = ServingCosts.build(get_model("mixtral-8x7b").architecture, "fp8", "fp8", FIXED)
    assert float(mixtral.expert_depth_factor(1, 490.0)) == pytest.approx(1.09115, abs=1e-5)


ROUND_RATES = Rates(gemm_flops=1e15, attention_flops=1e15, memory_bytes=1e12, link_bytes=1e11)


def test_prompt_attention_adds_to_the_decode_kv_reads() -> None:
    # Context and generation attention are two kernels of a step, one after the other
    # (TensorRT-LLM attention_inplace), so their times add. Llama 3 8B (32 layers, 32 query
    # and 8 KV heads of 128), fp8 KV, tp 1, 10 sequences of 1,000 in / 100 out, round rates:
    # decode reads 10 · 1,050 keys · 65,536 B = 688.128 MB -> 0.688128 ms (its FLOPs, 10 ·
    # 1,050 · 524,288 = 5.5 GFLOP, take 5.5 µs); the step's 100 prompt tokens attend 500
    # keys on average: 100 · 500 · 524,288 = 26.2144 GFLOP -> 0.0262144 ms.
    costs = ServingCosts.build(get_model("llama-3-8b").architecture, "bf16", "fp8", FIXED)
    times = step_times(costs, ROUND_RATES, 1, 10, 1000, 100, default_calibration())
    assert float(times.attention) == pytest.approx(0.688128e-3 + 0.0262144e-3, rel=1e-9)


def test_attention_data_parallel_counts_attention_per_gpu() -> None:
    # Qwen3-235B-A22B (94 layers, 64 query heads of 128, 4 KV heads), fp8 KV, tp = ep = 8,
    # 368 sequences of 20,000 in / 2,000 out (the perf overview's H200 run): each GPU holds
    # its own 46 sequences with their whole KV (no head split): 46 · 21,000 keys · 96,256 B
    # = 92.983 GB read -> 92.983 ms at 1 TB/s. 368/2,000 = 0.184 prompts join a step, 0.023
    # per GPU: the balls-into-bins maximum puts them all on one GPU, which runs 3,680 prompt
    # tokens at 10,000 keys each: 3,680 · 10,000 · 3,080,192 FLOP = 113.35 TFLOP -> 113.35
    # ms at 1 PFLOP/s (its decode FLOPs, 2.98 ms, hide under the KV reads).
    costs = ServingCosts.build(get_model("qwen3-235b-a22b").architecture, "fp8", "fp8", FIXED)
    times = step_times(costs, ROUND_RATES, 8, 368, 20_000, 2_000, default_calibration(), ep=8)
    assert float(times.attention) == pytest.approx(92.983296e-3 + 113.3510656e-3, rel=1e-9)


def test_host_time_per_request_sets_the_step_when_longer_than_the_gpu() -> None:
    # TensorRT-LLM PR #10273: a host step of 45.11 ms at 1,536 running requests per rank
    # (GB200, attention DP 2, 3,072 in flight): 29.4 µs per request. A 1B-class step of
    # 3,072 sequences over 2 ranks waits for the host: 1,536 · 29.4 µs = 45.16 ms, however
    # fast the GPU; at 64 sequences the GPU's time is the step.
    assert FIXED.host_seconds_per_sequence == pytest.approx(29.4e-6)
    costs = ServingCosts.build(get_model("qwen3-30b-a3b").architecture, "fp8", "fp8", FIXED)
    fast = Rates(gemm_flops=1e18, attention_flops=1e18, memory_bytes=1e15, link_bytes=1e14)
    big = step_times(costs, fast, 2, 3072, 1000, 1000, default_calibration(), ep=2)
    assert float(big.host) == pytest.approx(45.1584e-3)
    assert float(big.total) == pytest.approx(45.1584e-3)
    small = step_times(costs, ROUND_RATES, 2, 64, 1000, 1000, default_calibration(), ep=2)
    gpu = small.linear + small.attention + small.communication + small.overhead
    assert float(small.total) == pytest.approx(float(gpu))
    assert float(gpu) > float(small.host)
