"""The MoE step term (:mod:`gpuplan.compute.moe_step`) against hand calculations.

Tokens per expert, the all-to-all bytes of a routed token, the GEMM depth and row-tile
factors (DeepGEMM's k0 = 490 and 128-row tile, the serving calibration's figures), the
share of routed copies that cross the scale-up link or the network, and what the
estimator does with a stated layout (DeepSeek-V3, arXiv:2412.19437 §3.2).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gpuplan.compute.moe_step import (
    MoELayout,
    MoEShape,
    all_to_all_bytes_per_token,
    all_to_all_cost,
    default_expert_parallel,
    expert_gemm_time_factor,
    moe_shape,
    moe_step_costs,
    permutation_cost,
    tokens_per_expert,
)
from gpuplan.compute.training import estimate_training
from gpuplan.compute.utilisation import load_utilisation_fit
from gpuplan.errors import InputError
from test_training_band import _fit_script


def granite_3b() -> MoEShape:
    """Granite 3.0 3B-A800M: 40 experts, top-8, expert width 512, 32 layers (report Table 1)."""
    return moe_shape(experts=40, experts_per_token=8, expert_width=512, moe_layers=32)


def layout(ep: float, tokens: float = 4096.0, exposed: float = 1.0) -> MoELayout:
    return MoELayout(
        expert_parallel=np.asarray(ep, dtype=float),
        micro_batch_tokens=np.asarray(tokens, dtype=float),
        exposed_all_to_all=np.asarray(exposed, dtype=float),
    )


def test_tokens_per_expert_is_tokens_times_ep_times_top_k_over_experts() -> None:
    # Granite 3B-A800M, one 4,096-token sequence, data parallel only: 4096·8/40 = 819.2.
    assert float(tokens_per_expert(granite_3b(), layout(1.0))) == pytest.approx(819.2)
    # Mixtral-like 8 experts top-2 pooled over 8 GPUs: 4096·8·2/8 = 8,192 rows.
    mixtral = moe_shape(experts=8, experts_per_token=2, expert_width=14336, moe_layers=32)
    assert float(tokens_per_expert(mixtral, layout(8.0))) == pytest.approx(8192.0)


def test_all_to_all_bytes_per_token_by_hand() -> None:
    # h = 4,096, top-2, one layer, bf16: dispatch + combine, forward + backward = 4·2·4096·2.
    shape = moe_shape(experts=16, experts_per_token=2, expert_width=6400, moe_layers=1)
    assert float(all_to_all_bytes_per_token(shape, 4096, 2.0)) == 65_536.0


def test_gemm_time_factor_by_hand() -> None:
    # h = 980, w = 490, m_e = 256 rows (two whole 128-row tiles, no padding):
    # [(2 + 490/980 + 490/490) + 1 + 490/256] / 3 = (3.5 + 2.9140625) / 3.
    assert float(expert_gemm_time_factor(980, 490, 256)) == pytest.approx(6.4140625 / 3)
    # 100 rows are computed as a 128-row tile: the forward and input-gradient GEMMs pay 1.28x.
    padded = float(expert_gemm_time_factor(1e12, 1e12, 100))
    assert padded == pytest.approx((1.28 * 2 + 1 + 4.9) / 3)
    # Unbounded rows and depth: every GEMM at the deep rate.
    assert float(expert_gemm_time_factor(1e12, 1e12, np.inf)) == pytest.approx(1.0)


def test_all_to_all_cost_splits_link_and_network_by_hand() -> None:
    shape = moe_shape(experts=64, experts_per_token=2, expert_width=6400, moe_layers=1)
    common = {
        "activation_bytes": 2.0,
        "scaleup_domain": 8,
        "scaleup_bandwidth": 450e9,
        "network_bandwidth": 50e9,
        "peak_flops": 1e15,
        "flops_per_token": 1e9,  # ideal compute time 1 µs per token
    }
    # ep 8 in one NVLink domain: 7/8 of 65,536 bytes over 450 GB/s = 0.12743 µs.
    inside = float(all_to_all_cost(shape, layout(8.0), 4096, **common))
    assert inside == pytest.approx(65_536 * 7 / 8 / 450e9 / 1e-6)
    # ep 64 over 8 domains: 7/64 over NVLink, 56/64 over the 50 GB/s network.
    spread = float(all_to_all_cost(shape, layout(64.0), 4096, **common))
    assert spread == pytest.approx(65_536 * (7 / 64 / 450e9 + 56 / 64 / 50e9) / 1e-6)
    # Half exposed costs half; no expert parallelism, or all hidden, costs nothing.
    half = float(all_to_all_cost(shape, layout(8.0, exposed=0.5), 4096, **common))
    assert half == pytest.approx(inside / 2)
    assert float(all_to_all_cost(shape, layout(1.0), 4096, **common)) == 0.0
    assert float(all_to_all_cost(shape, layout(64.0, exposed=0.0), 4096, **common)) == 0.0


def test_permutation_traffic_by_hand() -> None:
    # 2 × 4·k·h values of 2 bytes per MoE layer: k = 8, h = 1,536, 32 layers = 6.29 MB per
    # token; at 3.35 TB/s that is 1.878 µs against 1 µs of ideal compute.
    cost = permutation_cost(
        granite_3b(),
        1536,
        activation_bytes=2.0,
        memory_bandwidth=3.35e12,
        peak_flops=1e15,
        flops_per_token=1e9,
    )
    assert float(cost) == pytest.approx(8 * 8 * 1536 * 2 * 32 / 3.35e12 / 1e-6)


def test_dense_rows_cost_nothing_and_default_ep_is_one_domain() -> None:
    dense = moe_shape(experts=0, experts_per_token=0, expert_width=1, moe_layers=0)
    gemm, other = moe_step_costs(
        dense,
        layout(1.0),
        4096,
        flops_per_token=1e10,
        peak_flops=1e15,
        memory_bandwidth=3e12,
        scaleup_domain=8,
        scaleup_bandwidth=450e9,
        network_bandwidth=50e9,
    )
    assert float(gemm) == 0.0 and float(other) == 0.0
    assert default_expert_parallel([256, 4, 0], 8, 2048).tolist() == [8.0, 4.0, 1.0]
    assert float(default_expert_parallel(16, 8, 2)) == 2.0


def test_fitted_expert_gemm_efficiency_is_a_fraction_and_the_constant_is_off() -> None:
    k = load_utilisation_fit().coefficients
    assert 0.0 < k.expert_gemm_efficiency <= 1.0
    assert k.moe_step == 1.0 and k.moe == 1.0


def test_fine_grained_experts_cost_more_per_active_flop() -> None:
    """Granite 3.0 3B-A800M (40 experts of width 512, top-8) runs at a lower MFU than a dense
    model of equal active parameters on the same GPUs; the stated layout matters."""
    run = {"tokens": 1e12, "gpu": "h100", "gpus": 256, "seq_len": 4096}
    moe = estimate_training("granite-3.0-3b-a800m", expert_parallel=1, **run)
    dense = estimate_training(params=moe.params_active, **run)
    assert moe.mfu < 0.8 * dense.mfu
    # DeepSeek-V3 at 64-way expert parallelism over 8 nodes: hiding the all-to-all
    # (DualPipe) is worth more than a third of the hours.
    v3 = {"tokens": 1e12, "gpu": "h800", "gpus": 2048, "precision": "fp8", "seq_len": 4096}
    hidden = estimate_training("deepseek-v3", expert_parallel=64, exposed_all_to_all=0, **v3)
    exposed = estimate_training("deepseek-v3", expert_parallel=64, exposed_all_to_all=1, **v3)
    assert exposed.gpu_hours > 1.5 * hidden.gpu_hours
    assert "expert parallel 64 (given)" in hidden.notes[-1]


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"expert_parallel": 0}, "expert_parallel"),
        ({"expert_parallel": 2.5}, "expert_parallel"),
        ({"exposed_all_to_all": 1.5}, "exposed_all_to_all"),
        ({"exposed_all_to_all": math.nan}, "exposed_all_to_all"),
        ({"expert_parallel": 16}, "expert_parallel"),  # Mixtral has 8 experts
        ({"expert_parallel": 8, "gpus": 4}, "expert_parallel"),
    ],
)
def test_bad_layouts_name_their_field(settings: dict[str, float], field: str) -> None:
    """Each bad layout is one InputError naming its field (CLI exit 2), never a number."""
    with pytest.raises(InputError) as raised:
        estimate_training("mixtral-8x7b", tokens=1e12, gpu="h100", **settings)  # type: ignore[arg-type]
    assert raised.value.field == field


@pytest.mark.slow
def test_moe_term_beats_the_constant_on_the_moe_runs_out_of_sample(calibration_dir: Path) -> None:
    """Each MoE run left out and predicted by a refit without it: the computed term's median
    |error| over the seven MoE runs is below the round-four constant's (16% against 21% when
    written); the term is kept only while this holds."""
    script = _fit_script()
    rows = script.load_calibration_rows(calibration_dir)
    moe = [r for r in rows if r.kind == "run_hours" and r.is_moe]
    year = script.reference_year(rows)

    def median_error(without: frozenset[str]) -> float:
        errors = []
        for run in moe:
            fit = script.fit_once([r for r in rows if r is not run], without, year)
            errors.append(abs(np.expm1(-script.hours_log_residual(run, fit))))
        return float(np.median(errors))

    computed = median_error(script.HELD_TERMS)
    constant = median_error(script.HELD_TERMS - {"moe"} | {"moe_step"})
    assert computed < constant
