"""The GPU catalog: per-precision dense peaks, memory, bandwidth, interconnect and power.

Figures are dense (never with 2:4 sparsity) and SI: TFLOP/s = 1e12 FLOP/s, GB = 1e9 bytes,
TB/s = 1e12 bytes/s, scale-up bandwidth in GB/s per GPU (one direction). Rows live in
``data/gpus.csv`` with a source and an as-of date each.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from gpuplan.catalog.tables import packaged_data, read_table, split_aliases
from gpuplan.errors import InputError, UnknownIdError
from gpuplan.units import COMPUTE_PRECISION, TERA


class GPU(BaseModel):
    """One accelerator model, as its datasheet describes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="Canonical lower-case id, e.g. 'h100-sxm'.")
    name: str
    vendor: str
    generation: str = Field(description="Micro-architecture, e.g. 'hopper', 'cdna3', 'tpu-v5p'.")
    form_factor: str
    release_year: int = Field(ge=2010, le=2035)
    bf16_tflops: float = Field(gt=0, description="Dense bf16 (or fp16) tensor peak, TFLOP/s.")
    fp8_tflops: float | None = Field(default=None, gt=0, description="Dense fp8 peak, TFLOP/s.")
    fp4_tflops: float | None = Field(default=None, gt=0, description="Dense fp4 peak, TFLOP/s.")
    memory_gb: float = Field(gt=0, description="HBM/GDDR capacity, GB (1e9 bytes).")
    memory_bandwidth_tbps: float = Field(gt=0, description="Memory bandwidth, TB/s.")
    scaleup_bandwidth_gbps: float | None = Field(
        default=None, gt=0, description="NVLink/Infinity Fabric/ICI bandwidth per GPU, GB/s."
    )
    scaleup_domain: int = Field(ge=1, description="GPUs joined by the scale-up fabric.")
    tdp_w: float = Field(gt=0, description="Board power, W.")
    aliases: Annotated[tuple[str, ...], BeforeValidator(split_aliases)] = ()
    source: str = Field(min_length=3)
    as_of: date
    notes: str | None = None

    def peak_tflops(self, precision: str) -> float:
        """Dense tensor peak for a storage precision (fp16 -> bf16 peak, int8 -> fp8 peak)."""
        compute = COMPUTE_PRECISION.get(precision)
        if compute is None:
            raise InputError(
                "precision", f"'{precision}' is not one of {sorted(COMPUTE_PRECISION)}."
            )
        value = {"bf16": self.bf16_tflops, "fp8": self.fp8_tflops, "fp4": self.fp4_tflops}[compute]
        if value is None:
            supported = [p for p in ("bf16", "fp8", "fp4") if getattr(self, f"{p}_tflops")]
            raise InputError(
                "precision",
                f"{self.id} has no {compute} tensor cores; use one of {', '.join(supported)}.",
            )
        return value

    def peak_flops(self, precision: str) -> float:
        """Dense tensor peak in FLOP/s."""
        return self.peak_tflops(precision) * TERA

    def supports(self, precision: str) -> bool:
        compute = COMPUTE_PRECISION.get(precision)
        return compute is not None and getattr(self, f"{compute}_tflops") is not None

    @property
    def memory_bytes(self) -> float:
        return self.memory_gb * 1e9

    @property
    def memory_bandwidth_bytes_per_s(self) -> float:
        return self.memory_bandwidth_tbps * TERA


@cache
def gpu_catalog() -> dict[str, GPU]:
    """All GPUs by canonical id (loaded once, on first use)."""
    return {gpu.id: gpu for gpu in read_table(packaged_data("gpus.csv"), GPU)}


@cache
def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for gpu in gpu_catalog().values():
        index[gpu.id] = gpu.id
        for alias in gpu.aliases:
            index[alias] = gpu.id
    return index


def get_gpu(gpu: str | GPU) -> GPU:
    """Look a GPU up by id or alias, case-insensitively (``H100`` -> ``h100-sxm``)."""
    if isinstance(gpu, GPU):
        return gpu
    key = gpu.strip().lower().replace("_", "-").replace(" ", "-")
    canonical = _alias_index().get(key)
    if canonical is None:
        raise UnknownIdError("GPU", gpu, _alias_index().keys())
    return gpu_catalog()[canonical]


def list_gpus() -> list[GPU]:
    """Every GPU in the catalog, in file order."""
    return list(gpu_catalog().values())
