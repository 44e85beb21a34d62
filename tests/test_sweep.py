"""Sweeps: grids and sampled jobs, run here, on a process pool and on Ray, against plan()."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from gpuplan.cli import app
from gpuplan.planning.api import plan
from gpuplan.sweep import (
    base_mapping,
    grid_jobs,
    parse_grid,
    results_table,
    run_jobs,
    sampled_jobs,
    summary,
)
from gpuplan.sweep.run import TIMING_COLUMNS
from test_planner_scenarios import tiny

# tiny(): the chat-eu workload needs 10 GPUs per 1e9 tokens/day; the EU-operated offer costs
# $2/GPU-hour for 4 quarters of 2,190 h, capped at 150 GPUs; discount rate 0.
VOLUMES = [5e9, 10e9, 20e9]
HAND_NPV = {5e9: 50 * 2.0 * 2190 * 4, 10e9: 100 * 2.0 * 2190 * 4}  # 876,000 and 1,752,000


def tokens_grid() -> dict[str, list[Any]]:
    return {"inference.chat-eu.tokens_per_day": VOLUMES}


def reproducible(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return results_table(rows).drop(columns=list(TIMING_COLUMNS))


def test_grid_sweep_matches_hand_calculation_and_goes_on_past_infeasible() -> None:
    table = results_table(run_jobs(grid_jobs(tiny(), tokens_grid())))
    assert list(table["set:inference.chat-eu.tokens_per_day"]) == VOLUMES
    assert list(table["status"]) == ["optimal", "optimal", "infeasible"]
    assert table["npv_usd"].iloc[0] == pytest.approx(HAND_NPV[5e9], rel=1e-9)
    assert table["npv_usd"].iloc[1] == pytest.approx(HAND_NPV[10e9], rel=1e-9)
    assert table["peak_gpus"].iloc[1] == pytest.approx(100.0, rel=1e-9)
    # 20e9 tokens/day needs 200 GPUs; the EU-operated offer has 150.
    assert "can supply 150" in table["error"].iloc[2]
    counts = summary(table)["by_status"]
    assert counts == {"optimal": 2, "infeasible": 1}


def test_sweep_equals_running_each_job_alone() -> None:
    jobs = grid_jobs(tiny(), {"horizon.discount_rate": [0.0, 0.1]})
    table = results_table(run_jobs(jobs))
    for job, npv in zip(jobs, table["npv_usd"], strict=True):
        alone = tiny()
        alone["horizon"] = {
            **alone["horizon"],
            "discount_rate": job.changes["horizon.discount_rate"],
        }
        assert npv == pytest.approx(plan(alone, baselines=False).npv_usd, rel=1e-12)


def test_a_wrong_path_fails_its_job_with_the_field_named() -> None:
    table = results_table(run_jobs(grid_jobs(tiny(), {"horizon.discount_rte": [0.1]})))
    assert table["status"].iloc[0] == "error"
    assert "discount_rte" in table["error"].iloc[0]
    assert "discount_rate" in table["error"].iloc[0]  # the did-you-mean


def test_a_crashing_job_is_retried_then_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    from gpuplan.sweep import engines, run

    calls = {"n": 0}

    def flaky(job: Any) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] < 3:
            raise MemoryError("worker ran out of memory")
        return run.run_job(job)

    monkeypatch.setattr(engines, "run_job", flaky)
    rows = run_jobs(grid_jobs(tiny(), {"horizon.discount_rate": [0.0]}), retries=2)
    assert rows[0]["status"] == "optimal" and rows[0]["attempts"] == 3
    calls["n"] = -10
    rows = run_jobs(grid_jobs(tiny(), {"horizon.discount_rate": [0.0]}), retries=1)
    assert rows[0]["status"] == "failed"
    assert "MemoryError: worker ran out of memory (after 2 attempts)" in rows[0]["error"]


def test_sampled_jobs_draw_inside_the_ranges_and_repeat_with_the_seed() -> None:
    base = tiny()
    base["inference"][0]["tokens_per_day"] = {"low": 4e9, "high": 12e9, "shape": "uniform"}
    jobs = sampled_jobs(base, 20, seed=7)
    values = [job.changes["inference[0].tokens_per_day"] for job in jobs]
    assert all(4e9 <= v <= 12e9 for v in values)
    assert len(set(values)) == 20
    assert values == [
        j.changes["inference[0].tokens_per_day"] for j in sampled_jobs(base, 20, seed=7)
    ]
    table = results_table(run_jobs(jobs[:3]))
    # Cost is linear in volume: 10 GPUs per 1e9 tokens/day at $2/h x 8,760 h.
    for value, npv in zip(values[:3], table["npv_usd"], strict=True):
        assert npv == pytest.approx(value / 1e9 * 10 * 2.0 * 8760, rel=1e-9)


@pytest.mark.slow
def test_process_pool_gives_the_same_table_as_one_process() -> None:
    jobs = grid_jobs(tiny(), tokens_grid())
    alone = reproducible(run_jobs(jobs))
    pooled = reproducible(run_jobs(jobs, workers=2))
    pd.testing.assert_frame_equal(alone, pooled)


@pytest.mark.slow
def test_ray_gives_the_same_table_as_the_local_pool() -> None:
    pytest.importorskip("ray")
    jobs = grid_jobs(tiny(), tokens_grid())
    on_ray = reproducible(run_jobs(jobs, engine="ray", workers=2))
    pd.testing.assert_frame_equal(reproducible(run_jobs(jobs)), on_ray)


def test_grid_parsing_names_what_is_wrong() -> None:
    assert parse_grid(["a.b=1,2.5,x"]) == {"a.b": [1, 2.5, "x"]}
    from gpuplan.errors import InputError

    with pytest.raises(InputError, match="PATH=V1,V2"):
        parse_grid(["discount_rate"])
    with pytest.raises(InputError, match="given twice"):
        parse_grid(["a=1", "a=2"])


def test_cli_sweep_writes_parquet_and_csv_and_summarises(tmp_path: Path) -> None:
    import yaml

    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(tiny()))
    out = tmp_path / "results.parquet"
    runner = CliRunner()
    args = ["sweep", str(scenario), "--grid", "inference.chat-eu.tokens_per_day=5e9,10e9"]
    result = runner.invoke(app, [*args, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["by_status"] == {"optimal": 2}
    assert payload["metrics"]["npv_usd"]["p50"] == pytest.approx(sum(HAND_NPV.values()) / 2)
    assert pd.read_parquet(out)["npv_usd"].tolist() == pytest.approx(list(HAND_NPV.values()))
    assert len(pd.read_csv(out.with_suffix(".csv"))) == 2
    bad = runner.invoke(app, ["sweep", str(scenario)])
    assert bad.exit_code == 2 and "--grid" in bad.output


def test_base_mapping_merges_extends_and_overrides() -> None:
    data = base_mapping("mistral")
    assert "extends" not in data and "horizon" in data
