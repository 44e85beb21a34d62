"""Achievable-efficiency factors of the serving model, fitted on MLPerf Inference.

The roofline in :mod:`gpuplan.compute.serving_roofline` is ideal hardware; these few,
physical factors scale it to what serving software reaches. They are fitted by
``scripts/fit_inference.py`` on MLPerf Llama 2 70B results and stored, with the fit date,
data and residuals, in ``catalog/data/inference_calibration.json``. Factors not fitted
(``fixed``) carry their source in that file.
"""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from gpuplan.catalog.tables import packaged_data


class FittedFactors(BaseModel):
    """The fitted parameters (dimensionless)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    compute_efficiency: dict[str, float] = Field(
        description="Achievable fraction of the dense tensor peak in GEMMs, by GPU vendor "
        "(software maturity: kernels, fusion, scheduling). Key 'default' for other vendors."
    )
    fp4_compute_ratio: float = Field(
        gt=0, le=1.5, description="fp4 GEMM efficiency relative to fp8 on the same GPU."
    )
    memory_efficiency: float = Field(
        gt=0, le=1, description="Achievable fraction of HBM bandwidth when streaming weights/KV."
    )
    roofline_sharpness: float = Field(
        default=8.0,
        ge=1,
        description="p of the smooth roofline (t_flops^p + t_bytes^p)^(1/p): 1 = no overlap "
        "of weight streaming and math, large = ideal max().",
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
        description="Speed of an older software round relative to the fitted current one "
        "(e.g. MLPerf v4.1 = 0.85); estimates use the current software (1.0).",
    )

    def compute_efficiency_for(self, vendor: str) -> float:
        return self.compute_efficiency.get(vendor, self.compute_efficiency["default"])


class FixedFactors(BaseModel):
    """Parameters set from documentation, not fitted (sources in the data file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    usable_memory_fraction: float = Field(gt=0, le=1)
    step_overhead_s_per_layer: float = Field(ge=0)
    allreduce_latency_s: float = Field(ge=0)
    link_efficiency: float = Field(gt=0, le=1)
    fp4_scale_bytes_per_weight: float = Field(ge=0)
    activation_bytes: float = Field(gt=0, description="Bytes per activation element (bf16).")


class ServingCalibration(BaseModel):
    """Everything the serving model needs beyond architecture and datasheet."""

    model_config = ConfigDict(frozen=True, extra="allow")

    fitted: FittedFactors
    fixed: FixedFactors
    fit_date: str | None = None


@cache
def default_calibration() -> ServingCalibration:
    """The shipped calibration (loaded once)."""
    text = packaged_data("inference_calibration.json").read_text(encoding="utf-8")
    return ServingCalibration.model_validate_json(text)
