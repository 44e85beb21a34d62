"""Achievable-efficiency factors of the serving model, fitted on published serving results.

The roofline in :mod:`gpuplan.compute.serving_roofline` is ideal hardware; these few,
physical factors scale it to what serving software reaches. Every efficiency is a fraction
of a datasheet peak in (0, 1]. They are fitted by ``scripts/fit_inference.py`` jointly on
MLPerf Llama 2 70B results and the TensorRT-LLM / SGLang / vLLM serving tables (known
input/output shapes) and stored, with the fit date, data, residuals and the out-of-sample
uncertainty band, in ``catalog/data/inference_calibration.json``. Factors not fitted
(``fixed``) carry their source in that file.
"""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from gpuplan.catalog.tables import packaged_data


class FittedFactors(BaseModel):
    """The fitted parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    compute_efficiency: dict[str, float] = Field(
        description="Achievable fraction (0-1] of the dense tensor peak in large GEMMs "
        "(prefill and large-batch decode), by GPU vendor (kernel and software maturity). "
        "Key 'default' for other vendors."
    )
    fp4_gemm_efficiency: float = Field(
        gt=0,
        le=1,
        description="Fraction (0-1] of the fp8 GEMM efficiency that fp4 GEMMs reach on the "
        "same GPU (block-scale handling, smaller tiles): measured from Blackwell fp4 rows.",
    )
    attention_efficiency: float = Field(
        gt=0,
        le=1,
        description="Fraction (0-1] of the GEMM efficiency that attention kernels reach on "
        "their FLOPs (softmax and masking between the matmuls; FlashAttention).",
    )
    memory_efficiency: float = Field(
        gt=0, le=1, description="Achievable fraction (0-1] of HBM bandwidth streaming weights/KV."
    )
    power_clock_exponent: float = Field(
        ge=0,
        le=1,
        description="Tensor clocks of a power-limited part fall as (its W per peak FLOP / "
        "its generation's SXM/OAM parts')^exponent (0 = no throttling, 1 = clock "
        "proportional to power).",
    )
    roofline_sharpness: float = Field(
        default=8.0,
        ge=1,
        description="p of the smooth roofline (t_flops^p + t_bytes^p)^(1/p): 1 = no overlap "
        "of weight streaming and math, large = ideal max().",
    )
    step_overhead_s: float = Field(
        ge=0,
        description="Seconds per step no roofline sees: scheduling, sampling, detokenising "
        "(the ceiling of small and sparse models at high token rates).",
    )
    layer_overhead_s: float = Field(
        ge=0, description="Seconds per layer per step: kernel launches and synchronisation."
    )
    sequence_overhead_s: float = Field(
        default=0.0,
        ge=0,
        description="Seconds per running sequence per step: per-request scheduling, "
        "sampling and detokenising on the host.",
    )
    allreduce_latency_s: float = Field(
        ge=0, description="Fixed latency of one tensor-parallel all-reduce, seconds."
    )
    link_efficiency: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Achieved fraction (0-1] of the datasheet per-direction scale-up "
        "(NVLink / Infinity Fabric) bandwidth in collectives: NCCL's all-reduce bus "
        "bandwidth over the link's line rate. Fitted on the tp 2-8 rows.",
    )
    dispatch_efficiency: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="Achieved fraction (0-1] of the HBM bandwidth of the MoE token "
        "permute / unpermute kernels (scattered row gathers, activation quantisation, "
        "top-k combine) on their 4·k·hidden bf16 values per token per MoE layer. Fitted "
        "on the MoE rows of the calibration.",
    )
    latency_tail_factor: float = Field(
        ge=1, description="p99 / mean of TTFT and TPOT under random arrivals."
    )
    arrival_headroom: float = Field(
        gt=0,
        le=1,
        description="Fraction of saturated throughput a server sustains with Poisson "
        "arrivals while meeting p99 latency targets (queueing headroom).",
    )
    software_vintage: dict[str, float] = Field(
        default_factory=dict,
        description="Speed (0-1] of an older software round relative to the fitted current "
        "one (MLPerf v5.1), by round ('mlperf-v4.1', 'mlperf-v5.0'), each fitted on that "
        "round's MLPerf Llama 2 70B rows; estimates use the current software (1.0).",
    )

    def compute_efficiency_for(self, vendor: str) -> float:
        return self.compute_efficiency.get(vendor, self.compute_efficiency["default"])


class FixedFactors(BaseModel):
    """Parameters set from documentation, not fitted (sources in the data file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kv_cache_memory_fraction: float = Field(
        gt=0,
        le=1,
        description="Fraction (0-1] of the memory left free after weights, runtime reserve "
        "and activations that the engine gives the KV cache (TensorRT-LLM "
        "KvCacheConfig.free_gpu_memory_fraction and trtllm-bench "
        "--kv_cache_free_gpu_mem_fraction, default 0.9).",
    )
    runtime_reserve_bytes: float = Field(
        ge=0,
        description="Device memory per GPU no engine can use for weights, KV or activations: "
        "memory the driver keeps (PyTorch sees 79.22 GiB of an 80 GiB H100) plus the CUDA "
        "context, cuBLAS and communicator workspaces (1.79 GiB at tp 1); vLLM memory "
        "profile of Llama 3 8B on H100, vllm-project/vllm PR #10511 (2024-12-14).",
    )
    fp4_scale_bytes_per_weight: float = Field(ge=0)
    activation_bytes: float = Field(gt=0, description="Bytes per activation element (bf16).")
    gemm_depth_overhead: float = Field(
        default=0.0,
        ge=0,
        description="k0, the fixed cost of a GEMM output tile (pipeline fill, epilogue) in "
        "reduction elements: a GEMM of depth K runs at K/(K + k0) of the deep-GEMM "
        "efficiency. 490 from DeepGEMM's H800 FP8 dense GEMMs at M = 4,096 (README @ "
        "8002b769, 2025-03-25: K = 512 at 751 TFLOP/s, K = 16,384 at 1,426; the fit also "
        "gives K = 1,536 at 1,114 vs 1,125 and K = 2,048 at 1,186 vs 1,168 measured).",
    )
    host_seconds_per_sequence: float = Field(
        default=0.0,
        ge=0,
        description="Host (CPU) time per running request per step of the engine's Python "
        "executor (scheduling, request bookkeeping, sampling and response handling), "
        "overlapped with the GPU's previous step: the step lasts max(GPU time, host "
        "time). 29.4 µs = TensorRT-LLM's measured host step of 45.11 ms per iteration at "
        "1,536 running requests per rank (GB200, GPT-OSS-120B, attention DP 2, ISL/OSL "
        "1k/1k, a host-bound run; NVIDIA/TensorRT-LLM PR #10273, 2025-12-24).",
    )
    expert_gemm_row_tile: float = Field(
        default=128.0,
        ge=1,
        description="M tile of grouped expert GEMMs: each expert's rows are padded to a "
        "multiple (DeepGEMM contiguous layout, get_m_alignment_for_contiguous_layout = 128).",
    )


class UncertaintyBand(BaseModel):
    """P10/P90 of measured / predicted throughput per GPU, from out-of-sample residuals
    (split conformal: the empirical quantiles of leave-one-model-out and leave-one-GPU-out
    ratios, Vovk et al. 2005; Lei et al. 2018)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    p10_ratio: float = Field(gt=0, description="P10 of measured / predicted.")
    p90_ratio: float = Field(gt=0, description="P90 of measured / predicted.")
    residuals: int = Field(ge=1, description="Out-of-sample residuals the quantiles come from.")
    source: str = Field(description="Which cross-validation produced the residuals.")


class ServingCalibration(BaseModel):
    """Everything the serving model needs beyond architecture and datasheet."""

    model_config = ConfigDict(frozen=True, extra="allow")

    fitted: FittedFactors
    fixed: FixedFactors
    uncertainty: UncertaintyBand = UncertaintyBand(
        p10_ratio=1.0, p90_ratio=1.0, residuals=1, source="none (no band)"
    )
    fit_date: str | None = None


@cache
def default_calibration() -> ServingCalibration:
    """The shipped calibration (loaded once)."""
    text = packaged_data("inference_calibration.json").read_text(encoding="utf-8")
    return ServingCalibration.model_validate_json(text)
