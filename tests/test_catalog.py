"""GPU and model catalogs: completeness, provenance, lookups."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gpuplan.catalog.gpus import get_gpu, list_gpus
from gpuplan.catalog.models import get_model, list_models
from gpuplan.errors import InputError, UnknownIdError

REQUIRED_GPUS = [
    "a100-40gb",
    "a100-80gb",
    "h100-sxm",
    "h100-pcie",
    "h800",
    "h200",
    "h20",
    "b200",
    "gb200",
    "b300",
    "gb300",
    "mi300x",
    "mi325x",
    "mi355x",
    "l40s",
    "tpu-v5p",
]
PORTFOLIO = [
    "mistral-7b",
    "mixtral-8x7b",
    "mixtral-8x22b",
    "codestral-22b",
    "mistral-large-2402",
    "mistral-large-2",
    "pixtral-12b",
    "mistral-small-3.1",
    "pixtral-large",
    "llama-2-7b",
    "llama-2-13b",
    "llama-2-70b",
    "llama-3-8b",
    "llama-3-70b",
    "llama-3.1-405b",
    "deepseek-v3",
    "gpt-3-175b",
]


@pytest.mark.parametrize("gpu_id", REQUIRED_GPUS)
def test_required_gpus_present_with_provenance(gpu_id: str) -> None:
    gpu = get_gpu(gpu_id.upper())
    assert gpu.id == gpu_id
    assert gpu.source and gpu.as_of


def test_aliases_resolve() -> None:
    assert get_gpu("H100").id == "h100-sxm"
    assert get_gpu("MI300X").id == "mi300x"


def test_unknown_gpu_suggests_nearest() -> None:
    with pytest.raises(UnknownIdError, match="h100-sxm"):
        get_gpu("h100-sxn")


def test_fp4_on_hopper_is_a_named_error() -> None:
    with pytest.raises(InputError, match=r"precision.*h100-sxm has no fp4"):
        get_gpu("h100-sxm").peak_tflops("fp4")


def test_gpu_figures_match_reference_datasheet_table(calibration_dir: Path) -> None:
    """Dense bf16 peak and memory agree with shared/reference gpu_specs.csv (datasheets)."""
    with (calibration_dir / "gpu_specs.csv").open() as handle:
        rows = {r["accelerator"]: r for r in csv.DictReader(handle)}
    pairs = {
        "h100-sxm": "H100 SXM5 80GB",
        "a100-80gb": "A100 80GB SXM4",
        "mi300x": "MI300X",
        "h200": "H200 SXM 141GB",
        "l40s": "L40S",
        "tpu-v5p": "TPU v5p",
    }
    for gpu_id, name in pairs.items():
        gpu = get_gpu(gpu_id)
        assert gpu.bf16_tflops == pytest.approx(float(rows[name]["bf16_dense_tflops"]))
        assert gpu.memory_gb == pytest.approx(float(rows[name]["memory_gb"]))


def test_dense_not_sparse_peaks() -> None:
    """H100 SXM: datasheet 1,979 bf16 TFLOP/s is with sparsity; dense is 989.4."""
    assert get_gpu("h100-sxm").bf16_tflops == pytest.approx(989.4)
    for gpu in list_gpus():
        if gpu.fp8_tflops:
            assert gpu.fp8_tflops == pytest.approx(2 * gpu.bf16_tflops, rel=0.02)


@pytest.mark.parametrize("model_id", PORTFOLIO)
def test_portfolio_models_present(model_id: str) -> None:
    entry = get_model(model_id)
    assert entry.source
    assert entry.params_total >= entry.params_active > 0


def test_estimates_are_labelled() -> None:
    estimates = [m for m in list_models() if m.status == "estimate"]
    assert estimates and all(m.note and "ESTIMATE" in m.note for m in estimates)
