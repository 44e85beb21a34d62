"""Roofline step times of continuous-batching LLM serving, vectorised with numpy.

One *step* of a replica (``tp`` GPUs) advances every running sequence by one output token
and, with chunked prefill (Sarathi-Serve, arXiv:2403.02310), also processes the prompts of
newly admitted requests: in steady state B·I/O prefill tokens per step for B running
sequences with I input and O output tokens. Its time is the sum of kernels that do not
overlap:

* linear layers: the roofline of GEMM FLOPs / (peak·eff_c) and weight bytes read /
  (bandwidth·eff_m) (Williams et al. 2009), softened to (t_f^p + t_b^p)^(1/p). Dense
  GEMMs (attention projections, dense MLPs, LM head) see all T tokens of the step; each
  routed expert is its own GEMM of T·k/D rows (D distinct experts touched) with its own
  arithmetic intensity, summed over the touched experts (grouped GEMM), so small expert
  GEMMs pay their weight reads instead of hiding them behind the step's total FLOPs;
* attention: the decode tokens' max(KV bytes read, attention FLOPs) plus the prompt
  tokens' attention FLOPs (two kernels, one after the other), against the same roofs, over
  the keys each query attends (windowed and chunked layers:
  :meth:`Architecture.mean_attended_keys`);
* tensor-parallel all-reduces: two per layer (Megatron-LM, arXiv:1909.08053), ring
  volume 2(tp-1)/tp of the activations over the scale-up link, plus a fixed latency;
* fixed per-step, per-layer (kernel launch) and per-sequence (host scheduling, sampling)
  overheads;
* host (CPU) time per running request of the engine's executor, overlapped with the GPU:
  the step lasts max(GPU time, host time) (:attr:`StepTimes.total`);
* MoE token dispatch and combine: every routed token slot gathers and scatters its hidden
  vector (bf16) through HBM on the way to and from its expert, on every GPU of the tensor-
  parallel group (activations are replicated), at the fitted fraction of HBM bandwidth
  these small scattered kernels reach;
* expert parallelism (``ep`` > 1): attention runs data-parallel in ``ep`` groups, each GPU
  holds ``E/ep`` experts; the MoE layers gather the groups' tokens and scatter the results
  (an all-gather and a reduce-scatter per MoE layer instead of two all-reduces per layer),
  and the step waits for the GPU whose experts drew the most tokens
  (:func:`busiest_group_load`); with attention data-parallel the prompts admitted in a step
  land on one group each, and the step waits for the group that drew the most prompt tokens;
* grouped expert GEMMs compute whole row tiles: each expert's rows are padded to the
  kernel's M tile (:func:`padded_expert_rows`);
* shallow GEMMs run below the deep-GEMM efficiency: a GEMM of reduction depth K at
  K/(K + k0) of it (output-tile fill and epilogue), which slows the row-parallel GEMMs whose
  depth tensor parallelism splits and the narrow expert GEMMs of fine-grained MoEs
  (:meth:`ServingCosts.dense_depth_factor`, :meth:`ServingCosts.expert_depth_factor`).

Tensor peaks of power-limited parts (PCIe/NVL cards at a fraction of the SXM board power)
are scaled down by :func:`power_clock_factor`.

All times in seconds; arrays broadcast over ``tp`` and ``batch``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from gpuplan.catalog.gpus import GPU, list_gpus
from gpuplan.compute.serving_calibration import ServingCalibration
from gpuplan.compute.serving_memory import ArrayLike, FloatArray, ServingCosts
from gpuplan.units import BYTES_PER_ELEMENT


@dataclass(frozen=True)
class Rates:
    """Achievable rates of one GPU for one weight precision (FLOP/s, bytes/s)."""

    gemm_flops: float
    attention_flops: float
    memory_bytes: float
    link_bytes: float

    @classmethod
    def build(
        cls, gpu: GPU, precision: str, kv_precision: str, calibration: ServingCalibration
    ) -> Rates:
        fitted = calibration.fitted
        efficiency = fitted.compute_efficiency_for(gpu.vendor) * power_clock_factor(
            gpu, fitted.power_clock_exponent
        )
        fp4 = BYTES_PER_ELEMENT[precision] < 1 and gpu.peak_tflops(precision) == gpu.fp4_tflops
        gemm_efficiency = efficiency * (fitted.fp4_gemm_efficiency if fp4 else 1.0)
        # Attention runs at the KV precision's rate when the GPU has it (fp8 attention),
        # else at bf16; never at fp4.
        attention_precision = "fp8" if kv_precision in ("fp8", "int8", "fp4", "int4") else "bf16"
        if not gpu.supports(attention_precision):
            attention_precision = "bf16"
        link = (gpu.scaleup_bandwidth_gbps or 0.0) * 1e9 * fitted.link_efficiency
        return cls(
            gemm_flops=gpu.peak_flops(precision) * gemm_efficiency,
            attention_flops=gpu.peak_flops(attention_precision)
            * efficiency
            * fitted.attention_efficiency,
            memory_bytes=gpu.memory_bandwidth_bytes_per_s * fitted.memory_efficiency,
            link_bytes=link,
        )


def power_clock_factor(gpu: GPU, exponent: float) -> float:
    """Fraction of the datasheet tensor peak a power-limited part sustains, in (0, 1]:
    (W per peak FLOP of the part / median W per peak FLOP of its generation's SXM/OAM
    parts)^exponent, capped at 1. H100 PCIe: 350 W / 756 TFLOP/s against H100 SXM's
    700 W / 989 TFLOP/s = 0.65 (dynamic power ~ f·V², and at the voltage floor clocks fall
    about in proportion to power). 1 where the generation has no SXM/OAM part."""
    reference = _generation_watts_per_tflop(gpu.generation)
    if exponent == 0 or reference is None:
        return 1.0
    return float(min(1.0, gpu.tdp_w / gpu.bf16_tflops / reference) ** exponent)


@cache
def _generation_watts_per_tflop(generation: str) -> float | None:
    """Median board W per dense bf16 TFLOP/s of the generation's SXM/OAM parts (None if
    it has none)."""
    peers = [
        g.tdp_w / g.bf16_tflops
        for g in list_gpus()
        if g.generation == generation and g.form_factor.upper().startswith(("SXM", "OAM"))
    ]
    return float(np.median(peers)) if peers else None


@dataclass(frozen=True)
class StepTimes:
    """Per-step time components of a replica, seconds (arrays over tp x batch)."""

    linear: FloatArray
    attention: FloatArray
    communication: FloatArray
    overhead: FloatArray
    host: FloatArray
    """Host (CPU) time of the step, overlapped with the GPU's work."""
    compute_bound: Any

    @property
    def total(self) -> FloatArray:
        """GPU time, or the host's when it is longer (the executor prepares a step while the
        GPU runs the previous one: TensorRT-LLM's overlap scheduler)."""
        gpu = self.linear + self.attention + self.communication + self.overhead
        return np.maximum(gpu, self.host)


def smooth_max(first: ArrayLike, second: ArrayLike, sharpness: float) -> Any:
    """(a^p + b^p)^(1/p): the roofline max(a, b) softened where math and memory traffic
    only partly overlap (p = 1: they add up; p -> inf: ideal roofline)."""
    top = np.maximum(first, second)
    return top * np.power(
        np.power(first / top, sharpness) + np.power(second / top, sharpness), 1.0 / sharpness
    )


def busiest_group_load(items: ArrayLike, groups: ArrayLike) -> Any:
    """Expected max / mean load of ``groups`` GPUs when ``items`` (routed token slots, or
    newly admitted prompts) land uniformly at random: 1 + sqrt(2 ln(n) / m) for mean load
    m = items / n (balls into bins: max load m + sqrt(2 m ln n), Raab & Steger, RANDOM 1998,
    Theorem 1), at most n (all on one GPU); 1 for one GPU. Uniform routing is the best
    case: trained routers are more skewed."""
    groups = np.asarray(groups, dtype=float)
    mean = np.maximum(np.asarray(items, dtype=float) / groups, 1e-12)
    spread = 1.0 + np.sqrt(2.0 * np.log(np.maximum(groups, 1.0)) / mean)
    return np.where(groups > 1, np.minimum(spread, groups), 1.0)


def padded_expert_rows(rows: ArrayLike, tile: float) -> Any:
    """Rows a grouped GEMM computes for an expert of ``rows`` tokens: whole M tiles,
    tile x ceil(rows / tile) (DeepGEMM's grouped contiguous layout aligns each expert's
    rows to its M block of 128, ``get_m_alignment_for_contiguous_layout``)."""
    rows = np.asarray(rows, dtype=float)
    return np.where(rows > 0, tile * np.ceil(rows / tile), 0.0)


def allreduce_time(
    tokens: ArrayLike,
    tp: ArrayLike,
    hidden: int,
    layers: int,
    rates: Rates,
    cal: ServingCalibration,
) -> Any:
    """Two ring all-reduces per layer of ``tokens`` x hidden activations (bf16):
    2·layers·(latency + 2(tp-1)/tp · bytes / link bandwidth); zero at tp = 1."""
    tp = np.asarray(tp, dtype=float)
    volume = np.asarray(tokens, dtype=float) * hidden * cal.fixed.activation_bytes
    if rates.link_bytes <= 0:
        per_call = np.where(tp > 1, np.inf, 0.0)
    else:
        per_call = (
            cal.fitted.allreduce_latency_s + 2.0 * (tp - 1.0) / tp * volume / rates.link_bytes
        )
    return np.where(tp > 1, 2.0 * layers * per_call, 0.0)


def expert_parallel_time(
    tokens: ArrayLike, ep: ArrayLike, costs: ServingCosts, rates: Rates, cal: ServingCalibration
) -> Any:
    """MoE communication with attention data-parallel over ``ep`` groups: per MoE layer an
    all-gather of the step's ``tokens`` hidden vectors before the experts and a
    reduce-scatter after, each (ep-1)/ep of the activations per GPU over the scale-up link
    plus the collective latency; zero at ep = 1."""
    ep = np.asarray(ep, dtype=float)
    volume = np.asarray(tokens, dtype=float) * costs.arch.hidden_size * cal.fixed.activation_bytes
    if rates.link_bytes <= 0:
        return np.where(ep > 1, np.inf, 0.0)
    per_call = cal.fitted.allreduce_latency_s + (ep - 1.0) / ep * volume / rates.link_bytes
    return np.where(ep > 1, 2.0 * costs.arch.num_moe_layers * per_call, 0.0)


def linear_time(
    costs: ServingCosts,
    rates: Rates,
    tp: ArrayLike,
    tokens: ArrayLike,
    calibration: ServingCalibration,
    ep: ArrayLike = 1.0,
    dense_tokens: ArrayLike | None = None,
) -> Any:
    """Linear layers of a step of ``tokens`` tokens on each of ``tp`` GPUs: the dense GEMMs'
    roofline over ``dense_tokens`` (default ``tokens``; with attention data-parallel, ep x
    the busiest group's tokens), their weights read once per attention group, plus, per
    MoE layer, the D/ep touched experts of a GPU, each with the roofline of its own GEMM
    (T·k/D rows padded to whole tiles, against one expert's weights split tp/ep ways),
    times the load of the busiest GPU over the mean. Dense models: the dense term only."""
    tp = np.asarray(tp, dtype=float)
    ep = np.asarray(ep, dtype=float)
    tokens = np.asarray(tokens, dtype=float)
    sharpness = calibration.fitted.roofline_sharpness
    dense_flops = costs.matmul_flops_per_token - costs.routed_flops_per_token
    dense_tokens = tokens if dense_tokens is None else np.asarray(dense_tokens, dtype=float)
    depth_overhead = calibration.fixed.gemm_depth_overhead
    dense = smooth_max(
        dense_tokens
        * dense_flops
        / tp
        * costs.dense_depth_factor(tp / ep, depth_overhead)
        / rates.gemm_flops,
        costs.streamed_dense_bytes * ep / tp / rates.memory_bytes,
        sharpness,
    )
    arch = costs.arch
    if not arch.is_moe:
        return dense
    shard = tp / ep
    rows = padded_expert_rows(
        costs.tokens_per_touched_expert(tokens), calibration.fixed.expert_gemm_row_tile
    )
    flops_per_row = costs.routed_flops_per_token / (arch.num_moe_layers * arch.experts_per_token)
    one_expert = smooth_max(
        rows
        * flops_per_row
        / shard
        * costs.expert_depth_factor(shard, depth_overhead)
        / rates.gemm_flops,
        costs.expert_bytes / shard / rates.memory_bytes + 0.0 * rows,
        sharpness,
    )
    # Every GPU of an attention group permutes all the step's T·k token slots (activations
    # are replicated across tensor parallelism); with ep groups each GPU takes T·k/ep.
    dispatch = (
        tokens
        * costs.dispatch_bytes_per_token
        / ep
        / (rates.memory_bytes * calibration.fitted.dispatch_efficiency)
    )
    imbalance = busiest_group_load(tokens * arch.experts_per_token, ep)
    experts_per_gpu = costs.experts_touched(tokens) / ep
    return dense + arch.num_moe_layers * imbalance * (experts_per_gpu * one_expert + dispatch)


def step_times(
    costs: ServingCosts,
    rates: Rates,
    tp: ArrayLike,
    batch: ArrayLike,
    input_tokens: float,
    output_tokens: float,
    calibration: ServingCalibration,
    ep: ArrayLike = 1.0,
) -> StepTimes:
    """Time of one continuous-batching step with ``batch`` running sequences per replica
    (``ep`` > 1: in ``ep`` attention groups of batch/ep sequences each)."""
    arch = costs.arch
    tp = np.asarray(tp, dtype=float)
    ep = np.asarray(ep, dtype=float)
    batch = np.asarray(batch, dtype=float)
    prefill_per_output = input_tokens / output_tokens
    tokens = batch * (1.0 + prefill_per_output)
    # Prompts admitted per step (batch / output tokens) each land on one attention group.
    prompt_spread = busiest_group_load(batch / output_tokens, ep)
    busiest_prefill = prefill_per_output * prompt_spread
    gemm = tokens * costs.matmul_flops_per_token / tp / rates.gemm_flops
    weights = costs.weights_read_per_step(tokens) / tp / rates.memory_bytes
    linear = linear_time(
        costs, rates, tp, tokens, calibration, ep, dense_tokens=batch * (1.0 + busiest_prefill)
    )
    decode_keys = arch.mean_attended_keys(input_tokens, input_tokens + output_tokens)
    prefill_keys = arch.mean_attended_keys(0.0, input_tokens)
    kv_read = batch / ep * decode_keys * costs.kv_bytes_per_token / costs.kv_shards(tp / ep)
    # Context and generation attention are two kernel launches of a step, one after the
    # other (TensorRT-LLM ``attention_inplace``: the context requests, then the generation
    # requests), so their times add: decode reads its KV (or computes, whichever is longer),
    # the prompt tokens compute.
    decode_attention = np.maximum(
        kv_read / rates.memory_bytes,
        batch * costs.decode_attention_flops_per_key * decode_keys / tp / rates.attention_flops,
    )
    prefill_attention = (
        batch
        * busiest_prefill
        * costs.attention_flops_per_key
        * prefill_keys
        / tp
        / rates.attention_flops
    )
    attention = decode_attention + prefill_attention
    communication = allreduce_time(
        tokens / ep, tp / ep, arch.hidden_size, arch.num_layers, rates, calibration
    ) + expert_parallel_time(tokens, ep, costs, rates, calibration)
    fitted = calibration.fitted
    overhead = (
        fitted.step_overhead_s
        + arch.num_layers * fitted.layer_overhead_s
        + batch / ep * fitted.sequence_overhead_s
        + 0.0 * tp
    )
    return StepTimes(
        linear=linear,
        attention=attention + 0.0 * batch,
        communication=communication + 0.0 * batch,
        overhead=overhead,
        host=batch / ep * calibration.fixed.host_seconds_per_sequence + 0.0 * tp,
        compute_bound=gemm >= weights,
    )


def prefill_time(
    costs: ServingCosts,
    rates: Rates,
    tp: ArrayLike,
    input_tokens: float,
    calibration: ServingCalibration,
    ep: ArrayLike = 1.0,
) -> Any:
    """Extra time one prompt of ``input_tokens`` adds to the step it joins: its GEMM and
    causal attention FLOPs (mean key count I/2 on full layers, less on windowed and chunked
    ones) and its all-reduces. With
    ``ep`` attention groups the prompt's attention and dense layers run on one group of
    tp/ep GPUs, its experts on all tp."""
    arch = costs.arch
    tp = np.asarray(tp, dtype=float)
    group = tp / np.asarray(ep, dtype=float)
    dense_flops = costs.matmul_flops_per_token - costs.routed_flops_per_token
    depth_overhead = calibration.fixed.gemm_depth_overhead
    dense_gemm = dense_flops / group * costs.dense_depth_factor(group, depth_overhead)
    routed_gemm = (
        costs.routed_flops_per_token / tp * costs.expert_depth_factor(group, depth_overhead)
    )
    gemm = input_tokens * (dense_gemm + routed_gemm) / rates.gemm_flops
    attention = (
        input_tokens
        * costs.attention_flops_per_key
        * arch.mean_attended_keys(0.0, input_tokens)
        / group
        / rates.attention_flops
    )
    communication = allreduce_time(
        input_tokens, group, arch.hidden_size, arch.num_layers, rates, calibration
    ) + expert_parallel_time(input_tokens, ep, costs, rates, calibration)
    return gemm + attention + communication


def decode_bytes_per_step(costs: ServingCosts, batch: ArrayLike, context: float) -> Any:
    """Bytes a pure decode step reads (all GPUs): weights touched by ``batch`` tokens plus
    the KV cache of ``batch`` sequences at ``context`` tokens."""
    batch = np.asarray(batch, dtype=float)
    return costs.weights_read_per_step(batch) + batch * costs.kv_bytes_per_sequence(context)
