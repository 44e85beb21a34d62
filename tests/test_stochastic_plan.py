"""The two-stage stochastic plan against a newsvendor computed by hand.

One quarter (2,190 h), no discounting. A chat workload needs 10 H100s per 1e9 tokens/day:
50 GPUs in the low future (5e9), 150 in the high one (15e9), equally likely; the nominal
(mean) volume is 10e9 -> 100 GPUs. A reservation signed now costs $1.20/GPU-hour
($2,628 per GPU for the quarter) whatever the volume; on-demand costs $2.00 ($4,380).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gpuplan.cli import app
from gpuplan.errors import InputError
from gpuplan.planning.stochastic import Risk, stochastic_plan
from gpuplan.planning.stochastic.result import cvar
from test_planner_scenarios import tiny

RESERVED, ON_DEMAND = 1.2 * 2190, 2.0 * 2190
LOW, HIGH = {"inference[0].tokens_per_day": 5e9}, {"inference[0].tokens_per_day": 15e9}


def newsvendor() -> dict[str, Any]:
    data = tiny()
    data["horizon"]["periods"] = 1
    data["inference"][0]["sovereignty"] = "eu_data"
    data["inference"][0]["tokens_per_day"] = {"low": 5e9, "high": 15e9, "shape": "uniform"}
    data["supply"]["offers"] = [
        {"provider": "Nebius", "jurisdiction": "EU", "region": "eu-north1", "country": "FI",
         "region_group": "EU", "gpu": "h100-sxm", "pricing_model": "on_demand",
         "price_per_gpu_hour": 2.0, "source": "test"},
        {"provider": "AWS", "jurisdiction": "US", "region": "eu-north-1", "country": "SE",
         "region_group": "EU", "gpu": "h100-sxm", "pricing_model": "reserved_1y",
         "term_months": 3, "price_per_gpu_hour": 1.2, "source": "test"},
    ]  # fmt: skip
    return data


def reserved_gpus(result: Any) -> float:
    rows = result.commitments
    return float(rows.loc[rows["mode"] == "reserved", "gpus"].sum())


def test_two_futures_match_the_hand_computed_newsvendor() -> None:
    result = stochastic_plan(newsvendor(), futures=[LOW, HIGH])
    # Reserving R in [50, 150] costs 2,628 R + 0.5 x 4,380 (150 - R): slope +438 > 0, and
    # below 50 the slope is 2,628 - 4,380 < 0: reserve the low future's 50.
    assert reserved_gpus(result) == pytest.approx(50.0, abs=1e-6)
    rp = 50 * RESERVED + 0.5 * 100 * ON_DEMAND  # 350,400
    assert result.recourse_problem == pytest.approx(rp, rel=1e-9)
    # Deterministic plan reserves the nominal 100: 262,800 or 262,800 + 50 x 4,380.
    eev = 100 * RESERVED + 0.5 * 50 * ON_DEMAND  # 372,300
    assert result.vss == pytest.approx(eev - rp, rel=1e-9)  # 21,900
    # Perfect foresight reserves exactly each future's need.
    ws = 0.5 * (50 + 150) * RESERVED  # 262,800
    assert result.evpi == pytest.approx(rp - ws, rel=1e-9)  # 87,600
    assert result.decision_point == "2026-Q2"


def test_cvar_weight_buys_insurance_against_the_high_future() -> None:
    # Objective E + 1 x CVaR_0.5 (= the worse future): slope 438 - 1,752 < 0 up to 150.
    result = stochastic_plan(newsvendor(), futures=[LOW, HIGH], risk=Risk(alpha=0.5, weight=1.0))
    assert reserved_gpus(result) == pytest.approx(150.0, abs=1e-6)
    assert result.recourse_problem == pytest.approx(2 * 150 * RESERVED, rel=1e-9)  # 788,400
    assert result.vss >= -1e-6 and result.evpi >= -1e-6


def test_sampled_futures_repeat_with_the_seed_and_values_are_never_negative() -> None:
    first = stochastic_plan(newsvendor(), futures=12, seed=5, out_of_sample=6)
    again = stochastic_plan(newsvendor(), futures=12, seed=5, out_of_sample=6)
    assert first.commitments.equals(again.commitments)
    assert first.vss >= -1e-6 and first.evpi >= -1e-6
    # Newsvendor: reserve up to the (4,380 - 2,628) / 4,380 = 40 % quantile of the demand,
    # between the sample's smallest and largest volume.
    reserved = reserved_gpus(first)
    assert 50.0 <= reserved <= 150.0
    summary = first.to_dict()
    assert set(summary["out_of_sample"]) == {"stochastic", "deterministic"}
    npv = summary["stochastic_plan"]["npv_usd"]
    assert npv["p10"] <= npv["p50"] <= npv["p90"]


def test_cvar_of_a_sample_is_the_mean_of_its_worst_tail() -> None:
    assert cvar([1.0, 2.0, 3.0, 4.0], 0.5) == pytest.approx(3.5)
    assert cvar([10.0, 0.0], 0.5) == pytest.approx(10.0)


def test_bad_requests_name_the_field() -> None:
    with pytest.raises(InputError, match="decision_point"):
        stochastic_plan(newsvendor(), futures=[LOW], decision_point="2030-01")
    with pytest.raises(InputError, match="futures"):
        stochastic_plan(newsvendor(), futures=0)


def test_cli_prints_the_plan_as_json(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "newsvendor.yaml"
    path.write_text(yaml.safe_dump(newsvendor()))
    runner = CliRunner()
    result = runner.invoke(app, ["plan", str(path), "--futures", "4", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["futures"] == 4 and payload["commitments"][0]["mode"] == "reserved"
    assert payload["vss_usd"] >= -1e-6
    bad = runner.invoke(app, ["plan", str(path), "--futures", "4", "--risk", "cvar:1.5:1"])
    assert bad.exit_code == 2 and "--risk" in bad.output
    lonely = runner.invoke(app, ["plan", str(path), "--risk", "cvar:0.9:1"])
    assert lonely.exit_code == 2 and "--futures" in lonely.output


def test_a_single_plan_keeps_the_stochastic_commitments() -> None:
    # What 'simulate --futures' plans with: the 50 reserved GPUs are kept, and the nominal
    # 100-GPU need is topped up on demand: 50 x 2,628 + 50 x 4,380 = 350,400.
    from gpuplan.planning.api import plan

    stochastic = stochastic_plan(newsvendor(), futures=[LOW, HIGH])
    kept = plan(newsvendor(), baselines=False, extra_constraints=[stochastic.commitments_kept()])
    assert kept.npv_usd == pytest.approx(50 * RESERVED + 50 * ON_DEMAND, rel=1e-9)
    assert plan(newsvendor(), baselines=False).npv_usd == pytest.approx(100 * RESERVED, rel=1e-9)


def slipping_h200() -> dict[str, Any]:
    """Two quarters of 100 GPUs; on-demand H100 at $2.00/h, or H200 reserved a quarter at a
    time at $1.20/h, whose availability may slip by 0 to 3 months (mean 1.5: one quarter)."""
    data = newsvendor()
    data["horizon"]["periods"] = 2
    chat = data["inference"][0]
    chat.update(tokens_per_day=10e9, gpus=["h100", "h200"])
    chat["gpus_per_billion_tokens_per_day"] = {"h100": 10, "h200": 10}
    data["supply"]["offers"][1]["gpu"] = "h200"
    data["supply"]["availability_slip_months"] = {"h200": {"low": 0, "high": 3, "shape": "uniform"}}
    return data


def test_a_slipping_gpu_is_committed_only_where_every_future_has_it() -> None:
    slip = "supply.availability_slip_months.h200"
    result = stochastic_plan(slipping_h200(), futures=[{slip: 0.0}, {slip: 3.0}])
    # Q1 H200 cannot be reserved now (it may not exist then): both futures rent 100 H100s
    # in Q1 (438,000); the order for Q2 is signed now (262,800).
    orders = result.commitments
    assert orders[["period", "gpu", "gpus"]].values.tolist() == [["2026-Q2", "h200", 100.0]]
    assert result.recourse_problem == pytest.approx(100 * ON_DEMAND + 100 * RESERVED, rel=1e-9)
    # Foresight: the on-time future reserves both quarters (525,600), the slipped one cannot.
    ws = 0.5 * (200 * RESERVED) + 0.5 * (100 * ON_DEMAND + 100 * RESERVED)
    assert result.evpi == pytest.approx(result.recourse_problem - ws, rel=1e-9)  # 87,600
    # The deterministic plan sees the mean slip (1.5 months: one quarter late): same plan.
    assert result.vss == pytest.approx(0.0, abs=1e-6)


def test_futures_sample_availability_slips_and_lead_times_inside_their_ranges() -> None:
    from gpuplan.planning.adapters.tables import build_problem
    from gpuplan.scenario.loading import load_scenario
    from gpuplan.uncertainty.futures import apply_changes, sample_futures

    data = slipping_h200()
    trend = {"low": -0.3, "high": -0.1, "shape": "uniform"}
    data["supply"]["price_trend"] = {"gpus": {"h100": trend}}
    data["supply"]["ownership"] = [
        {"site": "paris-1", "gpu": "h200", "country": "FR", "jurisdiction": "EU",
         "capex_per_gpu_usd": 40000, "opex_per_gpu_year_usd": 4000, "life_years": 4,
         "residual_fraction": 0.1, "lead_time_months": {"low": 3, "high": 9, "shape": "uniform"}}
    ]  # fmt: skip
    futures = sample_futures(data, 40, seed=3)
    slips = [f["supply.availability_slip_months.h200"] for f in futures]
    leads = [f["supply.ownership[0].lead_time_months"] for f in futures]
    trends = [f["supply.price_trend.gpus.h100"] for f in futures]
    assert 0 <= min(slips) < 1 and 2 < max(slips) <= 3  # 40 uniform draws reach both ends
    assert 3 <= min(leads) <= max(leads) <= 9
    assert -0.3 <= min(trends) <= max(trends) <= -0.1
    assert sample_futures(data, 40, seed=3) == futures
    # A 2.5-month slip moves the H200 offers and site one quarter later; a 7-month lead time
    # is 3 quarters.
    late = apply_changes(
        data,
        {"supply.availability_slip_months.h200": 2.5, "supply.ownership[0].lead_time_months": 7},
    )
    options = {o.id: o for o in build_problem(load_scenario(late)).options}
    firsts = {o.gpu: o.first_period for o in options.values() if o.mode != "on_demand"}
    assert firsts == {"h200": 1}
    assert options["owned:paris-1:h200"].lead_periods == 3


def test_batches_agree_on_the_hand_computed_first_stage() -> None:
    # Batches of one future: candidates reserve 50 (low) and 150 (high), their mean and the
    # deterministic plan 100 (one candidate); screened on the low future, 50 wins, whose cost
    # over both futures is the extensive form's optimum (350,400).
    result = stochastic_plan(
        newsvendor(), futures=[LOW, HIGH], decomposition="batches", batch_size=1
    )
    assert reserved_gpus(result) == pytest.approx(50.0, abs=1e-6)
    assert result.recourse_problem == pytest.approx(50 * RESERVED + 0.5 * 100 * ON_DEMAND)
    assert result.problem_size["batches"] == 2 and result.problem_size["candidates"] == 3


def test_batches_bound_the_extensive_form_from_above_and_keep_values_non_negative() -> None:
    whole = stochastic_plan(newsvendor(), futures=16, seed=2)
    batched = stochastic_plan(newsvendor(), futures=16, seed=2, decomposition="batches",
                              batch_size=4)  # fmt: skip
    assert batched.recourse_problem >= whole.recourse_problem - 1e-6
    assert batched.vss >= -1e-6 and batched.evpi >= -1e-6
    one_batch = stochastic_plan(newsvendor(), futures=16, seed=2, decomposition="batches",
                                batch_size=16)  # fmt: skip
    assert one_batch.recourse_problem == pytest.approx(whole.recourse_problem, rel=1e-9)
    with pytest.raises(InputError, match="decomposition"):
        stochastic_plan(newsvendor(), futures=2, decomposition="benders")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="batch_size"):
        stochastic_plan(newsvendor(), futures=2, decomposition="batches", batch_size=0)


@pytest.mark.slow
def test_batches_in_two_processes_equal_batches_in_one() -> None:
    """Batches solved at once in spawned processes (models rebuilt there) agree on the same
    first stage and cost as the same batches solved one after another."""
    one = stochastic_plan(newsvendor(), futures=16, seed=2, decomposition="batches",
                          batch_size=4)  # fmt: skip
    two = stochastic_plan(newsvendor(), futures=16, seed=2, decomposition="batches",
                          batch_size=4, workers=2)  # fmt: skip
    assert two.recourse_problem == pytest.approx(one.recourse_problem, rel=1e-9)
    assert two.first_stage == pytest.approx(one.first_stage, abs=1e-6)
    assert two.problem_size == one.problem_size
    with pytest.raises(InputError, match="workers"):
        stochastic_plan(newsvendor(), futures=2, decomposition="batches", workers=0)


def test_small_samples_keep_whole_servers_in_every_future() -> None:
    # Whole servers of 8 GPUs. Reserving R now: the low future rents up to 56 (7 servers),
    # the high one up to 152 (19). R = 48: 126,144 + 0.5 x 4,380 x (8 + 104) = 371,424;
    # R = 56: 147,168 + 0.5 x 4,380 x 96 = 357,408; R = 64: 168,192 + 0.5 x 4,380 x 88 =
    # 360,912. The relaxed recourse keeps whole GPUs but not whole servers: the plain
    # newsvendor's 50 reserved and 350,400.
    data = newsvendor()
    data["solver"] = {"integer_gpus": True, "whole_servers": True}
    result = stochastic_plan(data, futures=[LOW, HIGH])
    assert result.integer_recourse
    assert reserved_gpus(result) == pytest.approx(56.0, abs=1e-6)
    assert result.recourse_problem == pytest.approx(357_408, rel=1e-9)
    # Deterministic: 104 reserved for the nominal 100 (273,312; 96 + 8 rented costs 287,328);
    # the high future rents 48 more: EEV 378,432. Foresight: 56 and 152 reserved: 273,312.
    assert result.vss == pytest.approx(378_432 - 357_408, rel=1e-9)
    assert result.evpi == pytest.approx(357_408 - 273_312, rel=1e-9)
    relaxed = stochastic_plan(data, futures=[LOW, HIGH], integer_recourse=False)
    assert relaxed.recourse_problem == pytest.approx(50 * RESERVED + 0.5 * 100 * ON_DEMAND)
    assert not relaxed.integer_recourse


@pytest.mark.slow
def test_simulate_runs_the_company_on_the_stochastic_plan() -> None:
    # The stochastic plan's commitments are kept in the company's plan: its nominal NPV can
    # only rise over the free deterministic plan's; P(cash out) is given for every year.
    runner = CliRunner()
    command = ["simulate", "mistral", "-o", "planned-compute", "--samples", "200", "--json"]
    free = json.loads(runner.invoke(app, command).stdout)
    kept = runner.invoke(app, [*command, "--futures", "2"])
    assert kept.exit_code == 0, kept.output
    result = json.loads(kept.stdout)
    assert result["plan"]["stochastic_futures"] == 2
    assert result["plan"]["npv_usd"] >= free["plan"]["npv_usd"] * (1 - 1e-3)
    by_year = [year["probability"] for year in result["prob_cash_out_by_year"]]
    assert len(by_year) == 5 and by_year == sorted(by_year)


def test_futures_draw_where_in_the_serving_estimate_band_a_workload_falls() -> None:
    from collections import Counter

    from gpuplan.planning.adapters.tables import build_problem
    from gpuplan.scenario.loading import load_scenario
    from gpuplan.uncertainty.futures import sample_futures

    data = tiny()
    del data["inference"][0]["gpus_per_billion_tokens_per_day"]  # sized by the estimator
    data["inference"][0]["tokens_per_day"] = 500e9  # many replicas, so the band shows
    drawn = Counter(f["inference[0].estimate"] for f in sample_futures(data, 2000, seed=1))
    # Swanson's 30-40-30: within 3 standard errors (about 0.03) of each weight.
    assert {k: round(v / 2000, 1) for k, v in drawn.items()} == {"p10": 0.3, "p50": 0.4, "p90": 0.3}

    def peak(estimate: str) -> float:
        data["inference"][0]["estimate"] = estimate
        need = build_problem(load_scenario(data)).inference[0]
        return max(next(iter(need.gpus.values())))

    assert peak("p10") < peak("p50") < peak("p90")


def test_cli_solves_in_batches_and_names_a_bad_decomposition(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "newsvendor.yaml"
    path.write_text(yaml.safe_dump(newsvendor()))
    runner = CliRunner()
    command = ["plan", str(path), "--futures", "4", "--decomposition", "batches"]
    result = runner.invoke(app, [*command, "--batch-size", "2", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["decomposition"] == "batches" and payload["problem_size"]["batches"] == 2
    bad = runner.invoke(app, ["plan", str(path), "--futures", "4", "--decomposition", "pH"])
    assert bad.exit_code == 2 and "--decomposition" in bad.output and "batches" in bad.output
    lonely = runner.invoke(app, ["plan", str(path), "--decomposition", "batches"])
    assert lonely.exit_code == 2 and "--futures" in lonely.output
