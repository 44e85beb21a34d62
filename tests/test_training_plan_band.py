"""The planner reads a training run's need as (P10, P50, P90) GPU-hours and says which it
planned on (issue 10): P50 by default, a per-run percentile when the scenario asks."""

from __future__ import annotations

from typing import Any

import pytest

from gpuplan.compute.training import estimate_training

# Through the planner's entry module: the adapter and loader move (planning restructure).
from gpuplan.planning.api import build_problem, load_scenario


def scenario(**run: Any) -> dict[str, Any]:
    """One 7B pre-training run on H100 over a year (no inference)."""
    return {
        "name": "band",
        "horizon": {"start": "2026-Q1", "periods": 4, "period": "quarter"},
        "training": [
            {
                "id": "pretrain-7b",
                "model": "mistral-7b",
                "tokens": 2e12,
                "gpus": ["h100-sxm"],
                "earliest_start": "2026-01",
                "deadline": "2026-12",
                "min_cluster_gpus": 256,
                **run,
            }
        ],
    }


@pytest.mark.parametrize(("percentile", "index"), [(None, 1), ("p10", 0), ("p90", 2)])
def test_need_carries_the_band_and_the_percentile_planned_on(
    percentile: str | None, index: int
) -> None:
    extra = {} if percentile is None else {"estimate": percentile}
    need = build_problem(load_scenario(scenario(**extra))).training[0]
    direct = estimate_training("mistral-7b", tokens=2e12, gpu="h100-sxm", gpus=256)
    expected = (direct.gpu_hours_p10, direct.gpu_hours, direct.gpu_hours_p90)
    assert need.gpu_hours_band["h100-sxm"] == pytest.approx(expected)
    assert need.gpu_hours["h100-sxm"] == pytest.approx(expected[index])
    assert need.planned_on == (percentile or "p50")
    assert f"planned on {(percentile or 'p50').upper()} = " in need.band_note()


def test_given_hours_are_planned_as_given() -> None:
    need = build_problem(load_scenario(scenario(gpu_hours={"h100-sxm": 250_000}))).training[0]
    assert need.planned_on == "given" and need.gpu_hours["h100-sxm"] == 250_000
    assert (
        need.band_note() == "training pretrain-7b on h100-sxm: planned on the given 250K GPU-hours"
    )
