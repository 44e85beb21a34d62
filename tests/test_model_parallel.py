"""The model-parallel layout and its costs (gpuplan.compute.model_parallel), from hand
calculations: a layout forced by the batch, tensor-parallel traffic for a given h and t, the
interleaved 1F1B bubble, and the rules a user's layout must keep."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from gpuplan.catalog.gpus import get_gpu
from gpuplan.cli import app
from gpuplan.compute.model_parallel import (
    default_layout,
    pipeline_bubble,
    tensor_communication,
)
from gpuplan.compute.training import estimate_training
from gpuplan.compute.training_core import hardware_arrays
from gpuplan.compute.utilisation import (
    UtilisationCoefficients,
    inverse_mfu,
    load_utilisation_fit,
    utilisation_inputs,
)
from gpuplan.errors import InputError

H100_LAYOUT = {"memory_tensor": 1.0, "memory_context": 1.0, "scaleup_domain": 8.0}


@pytest.mark.parametrize(
    ("gpus", "tensor", "pipeline", "data"),
    [
        # 4M tokens of 8,192-token sequences = 512 sequences: at most 512 replicas.
        (256, 1, 1, 256),  # 256 <= 512: pure data parallelism
        (4096, 8, 1, 512),  # 4,096 / 512 = 8: tensor parallelism over the NVLink server
        (8192, 8, 2, 512),  # 16-way: the server's 8, then 2 pipeline stages
        (16384, 8, 4, 512),
    ],
)
def test_the_batch_forces_model_parallelism_tensor_first(
    gpus: int, tensor: int, pipeline: int, data: int
) -> None:
    layout = default_layout(
        gpus=gpus,
        batch_sequences=4 * 2**20 / 8192,
        num_layers=32,
        has_scaleup_bandwidth=True,
        **H100_LAYOUT,
    )
    assert (float(layout.tensor), float(layout.pipeline), float(layout.context)) == (
        tensor,
        pipeline,
        1,
    )
    assert float(layout.data) == data


def test_default_layout_rounds_up_to_a_power_of_two_and_keeps_memorys_degrees() -> None:
    """768 GPUs on 256 sequences need 3-way model parallelism: 4 (a power of two), with 192
    replicas; memory's 8-way tensor and 16-way context parallelism (a 131k sequence) stay,
    and a GPU without a scale-up bandwidth figure puts the batch's share in pipeline."""
    forced = default_layout(
        gpus=768, batch_sequences=256, num_layers=40, has_scaleup_bandwidth=True, **H100_LAYOUT
    )
    assert (float(forced.tensor), float(forced.pipeline), float(forced.data)) == (4, 1, 192)
    long = default_layout(
        gpus=16384,
        batch_sequences=128,
        memory_tensor=8,
        memory_context=16,
        scaleup_domain=8,
        num_layers=126,
        has_scaleup_bandwidth=True,
    )
    assert (float(long.tensor), float(long.context), float(long.pipeline)) == (8, 16, 1)
    no_fabric = default_layout(
        gpus=64, batch_sequences=16, num_layers=32, has_scaleup_bandwidth=False, **H100_LAYOUT
    )
    assert (float(no_fabric.tensor), float(no_fabric.pipeline)) == (1, 4)


def test_tensor_parallel_traffic_against_a_hand_calculation() -> None:
    """h = 4,096, L = 32, t = 4: per token per layer 8 collectives × 2 bytes × 4,096 × 3/4
    = 49,152 bytes; a GPU of the group sees every token of its group and holds a quarter of
    the 4.8e10 FLOPs per token, so at 989.4 TFLOP/s and 450 GB/s per direction the traffic
    takes 49,152 × 32 / 450e9 = 3.495e-6 s per token against 4.8e10 / 4 / 989.4e12 =
    1.2129e-5 s of ideal compute: 0.2882."""
    ratio = tensor_communication(
        hidden_size=4096,
        num_layers=32,
        tensor_parallel=4,
        flops_per_token=4.8e10,
        peak_flops=989.4e12,
        scaleup_bandwidth=450e9,
    )
    assert float(ratio) == pytest.approx(0.2882, rel=1e-3)
    none = tensor_communication(
        hidden_size=4096,
        num_layers=32,
        tensor_parallel=1,
        flops_per_token=4.8e10,
        peak_flops=989.4e12,
        scaleup_bandwidth=np.nan,
    )
    assert float(none) == 0.0


def test_scaleup_bandwidth_is_one_direction_of_the_datasheet_figure() -> None:
    """H100 SXM: NVLink '900 GB/s' counts both directions, 450 GB/s each way."""
    hardware = hardware_arrays([get_gpu("h100")], ["bf16"], load_utilisation_fit())
    assert float(hardware.scaleup_bandwidth[0]) == pytest.approx(450e9)


def test_pipeline_bubble_against_narayanan() -> None:
    """(p − 1)/(m·v): p = 4 stages, m = 8 micro-batches, 32 layers in virtual stages of two
    (v = 4): 3/32; Llama 3.1 405B's 16 stages, 16 micro-batches, 126 layers (v = 3): 15/48;
    one stage: none."""
    bubble = pipeline_bubble(
        pipeline_parallel=np.array([4, 16, 1]),
        micro_batches=np.array([8, 16, 8]),
        num_layers=np.array([32, 126, 32]),
    )
    assert bubble.tolist() == pytest.approx([3 / 32, 15 / 48, 0.0])


def test_estimate_reports_the_forced_layout_and_a_given_layout_costs_more() -> None:
    """Llama 3 8B on 4,096 H100 with a 4M-token batch of 8k sequences is forced to 8-way
    tensor parallelism; at its default layout (pure data parallelism) 256 GPUs cost fewer
    hours than the same 256 GPUs run TP4 × PP4 (traffic and bubble are costs)."""
    run = {"tokens": 15e12, "gpu": "h100", "seq_len": 8192, "global_batch_tokens": 4 * 2**20}
    wide = estimate_training("llama-3-8b", gpus=4096, **run)  # type: ignore[arg-type]
    assert (wide.tensor_parallel, wide.pipeline_parallel, wide.data_parallel) == (8, 1, 512)
    plain = estimate_training("llama-3-8b", gpus=256, **run)  # type: ignore[arg-type]
    assert (plain.tensor_parallel, plain.pipeline_parallel) == (1, 1)
    split = estimate_training(
        "llama-3-8b",
        gpus=256,
        tensor_parallel=4,
        pipeline_parallel=4,
        **run,  # type: ignore[arg-type]
    )
    assert (split.tensor_parallel, split.pipeline_parallel, split.data_parallel) == (4, 4, 16)
    assert split.gpu_hours > plain.gpu_hours


@pytest.mark.parametrize(
    ("layout", "gpus", "field"),
    [
        ({"tensor_parallel": 3}, 768, "tensor_parallel"),  # not a power of two
        ({"tensor_parallel": 16}, 1024, "tensor_parallel"),  # beyond the 8-GPU NVLink domain
        ({"pipeline_parallel": 64}, 1024, "pipeline_parallel"),  # 32 layers only
        ({"tensor_parallel": 8, "pipeline_parallel": 3}, 1000, "gpus"),  # 24 does not divide
        ({"tensor_parallel": 2}, None, "gpus"),  # data parallelism needs n
        ({"tensor_parallel": 1}, 1024, "tensor_parallel"),  # 1,024 replicas, 512 sequences
        ({"context_parallel": 0}, 1024, "context_parallel"),
        ({"tensor_parallel": float("nan")}, 1024, "tensor_parallel"),  # API callers only
        ({"pipeline_parallel": float("inf")}, 1024, "pipeline_parallel"),
    ],
)
def test_a_layout_that_breaks_a_rule_names_it(
    layout: dict[str, int], gpus: int | None, field: str
) -> None:
    with pytest.raises(InputError) as error:
        estimate_training(
            "llama-3-8b",
            tokens=15e12,
            gpu="h100",
            gpus=gpus,
            seq_len=8192,
            global_batch_tokens=4 * 2**20,
            **layout,  # type: ignore[arg-type]
        )
    assert error.value.field == field


def test_cli_takes_a_layout_and_refuses_a_bad_one_with_exit_2() -> None:
    runner = CliRunner()
    base = ["estimate", "training", "--model", "llama-3-8b", "--tokens", "15T", "--gpu", "h100"]
    good = runner.invoke(
        app, [*base, "--gpus", "768", "--tensor-parallel", "4", "--pipeline-parallel", "4"]
    )
    assert good.exit_code == 0, good.output
    assert "layout tensor 4 x pipeline 4 x context 1 x data 48" in good.output
    bad = runner.invoke(app, [*base, "--gpus", "768", "--tensor-parallel", "3"])
    assert bad.exit_code == 2
    assert "tensor_parallel" in bad.output and "Traceback" not in bad.output


def test_time_budget_adds_exposed_traffic_to_each_stage_and_stretches_it_by_the_bubble() -> None:
    """With matmul time a = 1 and nothing else, f_tp = 1, β = 1: 1/MFU = (1 + T_tp)·(1 +
    bubble) = (1 + 0.2882)·(1 + 3/32) = 1.40897; half the traffic exposed: 1.1441 × 1.09375
    = 1.2514."""

    x = utilisation_inputs(
        peak_flops=989.4e12,
        bf16_peak_flops=989.4e12,
        memory_bandwidth=3.35e12,
        hidden_size=4096,
        attention_share=0.0,
        gpus=256,
        global_batch_tokens=np.inf,
        flops_per_token=4.8e10,
        num_layers=32,
        tensor_communication=0.2882,
        pipeline_bubble=3 / 32,
    )
    k = {
        "base": 1.0, "memory": 0.0, "memory_width": 0.0, "attention": 0.0, "scale_out": 0.0,
        "communication": 1.0, "software_age": 0.0, "moe": 1.0, "hours_lost_per_failure": 0.0,
        "pipeline_bubble": 1.0,
    }  # fmt: skip
    full = UtilisationCoefficients(**k, tensor_exposed=1.0)
    half = UtilisationCoefficients(**k, tensor_exposed=0.5)
    assert float(inverse_mfu(x, full)) == pytest.approx(1.40897, rel=1e-5)
    assert float(inverse_mfu(x, half)) == pytest.approx(1.1441 * 1.09375, rel=1e-4)
