"""The fixed time per optimizer step t_step (issue 10: small models on many GPUs run short,
latency-bound steps): hand calculations of the step's ideal compute time and of the budget
it adds, t_step ÷ t_ideal with t_ideal = FLOPs per token × B ÷ (n × P)."""

from __future__ import annotations

import numpy as np
import pytest

from gpuplan.compute import training
from gpuplan.compute.training import estimate_training
from gpuplan.compute.utilisation import (
    UtilisationCoefficients,
    inverse_mfu,
    load_utilisation_fit,
    utilisation_inputs,
)

H100_BF16 = 989.4e12
"""H100 SXM dense bf16 peak, FLOP/s (NVIDIA H100 datasheet; catalog row h100-sxm)."""


def step_time_only(software_age: float = 0.0, moe: float = 1.0) -> UtilisationCoefficients:
    """a = 1 and t_step = 0.1 s, every other cost off (age and MoE factors as given)."""
    return UtilisationCoefficients(
        base=1.0, memory=0.0, memory_width=0.0, attention=0.0, scale_out=0.0,
        communication=0.0, software_age=software_age, moe=moe, hours_lost_per_failure=0.0,
        step_seconds=0.1,
    )  # fmt: skip


def test_ideal_step_and_added_budget_hand_calculation() -> None:
    """A 135M model (6·N = 8.1e8 FLOPs per token, no attention) with a 2,097,152-token
    batch on H100: on 64 GPUs the ideal step is 8.1e8 × 2,097,152 ÷ (64 × 989.4e12) =
    26.8264 ms, so t_step = 0.1 s adds 0.1 ÷ 0.0268264 = 3.7277 to a = 1 (MFU 0.2115); on 8
    GPUs 214.611 ms, adding 0.46596; a batch whose spread is unknown (∞) adds nothing."""
    k = step_time_only()
    x = utilisation_inputs(
        peak_flops=H100_BF16,
        bf16_peak_flops=H100_BF16,
        memory_bandwidth=3.35e12,
        hidden_size=576,
        attention_share=0.0,
        gpus=np.array([64.0, 8.0, 64.0]),
        global_batch_tokens=np.array([2_097_152.0, 2_097_152.0, np.inf]),
        flops_per_token=8.1e8,
        num_layers=30,
    )
    assert x.ideal_step_seconds[:2] == pytest.approx([0.0268264, 0.214611], rel=1e-5)
    assert inverse_mfu(x, k) == pytest.approx([4.72770, 1.46596, 1.0], rel=1e-5)


def test_step_time_scales_with_software_age_and_moe_like_the_rest_of_the_step() -> None:
    """The fixed step time is part of the step, so an older stack (e = 0.2 per year, 2 years:
    × 1.4) and the MoE factor (× 1.5) stretch it as they stretch the compute: with a = 1 and
    t_step ÷ t_ideal = 0.46596 (8 GPUs above), 1.46596 × 1.4 × 1.5 = 3.07852."""
    k = step_time_only(software_age=0.2, moe=1.5)
    x = utilisation_inputs(
        peak_flops=H100_BF16, bf16_peak_flops=H100_BF16, memory_bandwidth=3.35e12,
        hidden_size=576, attention_share=0.0, gpus=8, global_batch_tokens=2_097_152,
        flops_per_token=8.1e8, num_layers=30, software_age=2, is_moe=True,
    )  # fmt: skip
    assert inverse_mfu(x, k) == pytest.approx(3.07852, rel=1e-5)


def test_estimator_adds_the_shipped_step_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through ``estimate_training`` (step-time scope: no goodput, no failures; today's
    stack; dense): the shipped fit and the same fit with t_step = 0 differ in 1/MFU by
    exactly t_step ÷ t_ideal, t_ideal = 6 × 135e6 × 2,097,152 ÷ (64 × 989.4e12) = 26.8264 ms.
    The shipped t_step is a physical time, inside its fit bounds (0, 1] s."""
    shipped = load_utilisation_fit()
    t_step = shipped.coefficients.step_seconds
    assert 0.0 < t_step <= 1.0
    run = {
        "params": 135e6, "tokens": 2e12, "gpu": "h100", "gpus": 64,
        "global_batch_tokens": 2_097_152, "scope": "step_time",
    }  # fmt: skip
    with_step = estimate_training(**run)  # type: ignore[arg-type]
    held = shipped.model_copy(
        update={"coefficients": shipped.coefficients.model_copy(update={"step_seconds": 0.0})}
    )
    monkeypatch.setattr(training, "load_utilisation_fit", lambda: held)
    without_step = estimate_training(**run)  # type: ignore[arg-type]
    added = 1.0 / with_step.mfu - 1.0 / without_step.mfu
    assert added == pytest.approx(t_step / 0.0268264, rel=1e-5)
    assert with_step.gpu_hours / without_step.gpu_hours == pytest.approx(
        without_step.mfu / with_step.mfu, rel=1e-9
    )
