"""The planning core on tiny hand-built tables whose optimum is known by hand.

Every solved plan is re-checked constraint by constraint with ``check_plan``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gpuplan.planning.checks import check_plan
from gpuplan.planning.optimise import optimise, solve_plan
from gpuplan.planning.problem import PowerExpansion, Rules
from planner_tables import GPU, inference, offer, owned, problem, solve_checked, training


@pytest.mark.parametrize(
    ("months", "expected", "mode"), [(7, 70_000.0, "on_demand"), (9, 80_000.0, "owned")]
)
def test_owning_pays_off_after_exactly_eight_months(
    months: int, expected: float, mode: str
) -> None:
    # 10 GPUs for `months` months from the start of a 12-month horizon, no discounting.
    # Rent: 1,000 USD per GPU-month. Own: 8,000 USD capex, no opex, 12-month life, no
    # residual value, so a unit bought at month 0 costs 8,000 whatever it does:
    # owning is cheaper exactly when the load lasts more than 8,000 / 1,000 = 8 months.
    load = [10.0] * months + [0.0] * (12 - months)
    p = problem(
        [offer("cloud-od", 1000.0), owned("own", 8000.0, 0.0, 12)],
        inference_needs=(inference(load),),
    )
    solved = solve_checked(p)
    assert solved.solution.npv_usd == pytest.approx(expected, rel=1e-6)
    used = solved.solution.inference[0].sum(axis=1)
    chosen = [o.mode for o, u in zip(p.options, used, strict=True) if u > 1e-6]
    assert chosen == [mode]


def test_discounting_of_a_constant_rental() -> None:
    # 1 GPU on-demand for 12 months at 1,000 USD/month, 10 %/year, paid at the start of
    # each month: NPV = sum_t 1000 * 1.1 ** (-t / 12).
    p = problem([offer("cloud-od", 1000.0)], rate=0.10, inference_needs=(inference([1.0] * 12),))
    solved = solve_checked(p)
    expected = sum(1000.0 * 1.1 ** (-t / 12) for t in range(12))
    assert solved.solution.npv_usd == pytest.approx(expected, rel=1e-9)


def test_owned_gpu_arrives_after_lead_time_and_is_credited_book_value() -> None:
    # Own: 12,000 USD capex, 100 USD/month power and operations, 24-month life, 25 %
    # residual, 3-month lead. On-demand 1,000 covers months 0-2 (3,000 per GPU). Bought at
    # month 0, in service months 3-11 (9 months, 900 opex); at the horizon end (age 9 of
    # 24) the book value is 12,000 * (1 - 0.75 * 9/24) = 8,625. Per GPU:
    # 3,000 + 12,000 + 900 - 8,625 = 7,275; renting all year would cost 12,000.
    p = problem(
        [
            offer("cloud-od", 1000.0),
            owned("own", 12_000.0, 100.0, 24, lead_periods=3, residual_fraction=0.25),
        ],
        inference_needs=(inference([2.0] * 12),),
    )
    solved = solve_checked(p)
    assert solved.solution.npv_usd == pytest.approx(2 * 7275.0, rel=1e-6)
    fleet_owned = solved.solution.fleet[1]
    np.testing.assert_allclose(fleet_owned, [0, 0, 0] + [2.0] * 9, atol=1e-6)


@pytest.mark.parametrize(
    ("zone", "sovereignty", "price"),
    [
        ("any", "none", 1000.0),
        ("EU", "none", 1500.0),
        ("EU", "eu_data", 1500.0),
        ("EU", "eu_operator", 1800.0),
    ],
)
def test_residency_and_sovereignty_force_dearer_eu_offers(
    zone: str, sovereignty: str, price: float
) -> None:
    # A US offer at 1,000, an EU region of a US provider at 1,500, an EU provider at 1,800.
    options = [
        offer("usco-us", 1000.0, region="us-east", country="US", region_group="US"),
        offer("usco-eu", 1500.0),
        offer("euco-eu", 1800.0, jurisdiction="EU", country="FR", region="paris"),
    ]
    need = inference([10.0] * 12, zone=zone, sovereignty=sovereignty)
    solved = solve_checked(problem(options, inference_needs=(need,)))
    assert solved.solution.npv_usd == pytest.approx(10 * 12 * price, rel=1e-9)


def test_provider_share_cap_splits_capacity() -> None:
    # A at 1,000 and B at 1,200 per GPU-month, at most 60 % of the fleet with one provider:
    # 10 GPUs -> 6 from A and 4 from B, 10,800 USD a month.
    p = problem(
        [offer("alpha-od", 1000.0), offer("beta-od", 1200.0)],
        periods=3,
        inference_needs=(inference([10.0] * 3),),
        rules=Rules(max_provider_share=0.6),
    )
    solved = solve_checked(p)
    np.testing.assert_allclose(solved.solution.fleet[:, 0], [6.0, 4.0], atol=1e-6)
    assert solved.solution.npv_usd == pytest.approx(3 * 10_800.0, rel=1e-9)


@pytest.mark.parametrize(
    ("first", "last", "mode"), [(0, 2, "on_demand"), (0, 3, "reserved"), (8, 11, "reserved")]
)
def test_reservation_lasts_its_whole_term(first: int, last: int, mode: str) -> None:
    # On-demand 1,000; a 6-month reservation at 600/month costs 3,600 per GPU whatever is
    # used: a 3-month load rents (3,000), a 4-month load reserves (3,600 < 4,000), and the
    # reservation stays in the fleet (and is paid) for all 6 months, past the horizon too.
    load = [10.0 if first <= t <= last else 0.0 for t in range(12)]
    p = problem(
        [offer("cloud-od", 1000.0), offer("cloud-1y", 600.0, mode="reserved", term_periods=6)],
        inference_needs=(inference(load),),
    )
    solved = solve_checked(p)
    months = last - first + 1
    expected = 10 * (3600.0 if mode == "reserved" else 1000.0 * months)
    assert solved.solution.npv_usd == pytest.approx(expected, rel=1e-9)
    if mode == "reserved":
        # One 6-month commitment per GPU, in the fleet through the load (a reservation
        # starting up to two months earlier costs the same: only the total is unique).
        assert solved.solution.new_units[1].sum() == pytest.approx(10.0, abs=1e-6)
        reserved = solved.solution.fleet[1]
        np.testing.assert_allclose(reserved[first : last + 1], 10.0, atol=1e-6)


def test_training_run_stays_on_one_cluster_large_enough() -> None:
    # 300 H100-months within months 2-4 on one cluster of >= 100 GPUs. Two cheap providers
    # (1,000) are each capped at 80 GPUs; together they could hold it but a run may not
    # span clusters, so it goes to the 1,400 provider capped at 150: 300 x 1,400.
    options = [
        offer("alpha-od", 1000.0, availability_gpus=80),
        offer("beta-od", 1000.0, availability_gpus=80),
        offer("gamma-od", 1400.0, availability_gpus=150),
    ]
    p = problem(options, training_needs=(training(300.0, 100.0, 2, 4),))
    solved = solve_checked(p)
    assert solved.solution.npv_usd == pytest.approx(300 * 1400.0, rel=1e-6)
    used = solved.solution.training[0]
    assert used[:, :2].sum() == pytest.approx(0.0, abs=1e-6)
    active = used.sum(axis=0)
    assert all(x == pytest.approx(0, abs=1e-6) or x >= 100 - 1e-6 for x in active)


def test_lp_relaxation_bounds_the_integer_plan() -> None:
    # 150 H100-months in months 2-3 on >= 100 GPUs held at once. Committed capacity alpha
    # (1-month reservations at 500, cap 120) must hold >= 100 GPUs in any month the run uses
    # it: 100 + 100 reserved GPU-months = 100,000 USD, cheaper than on-demand gamma
    # (150 x 1,400 = 210,000). The LP relaxation lets the held size drop below 100
    # (120 + 30): bound 75,000, integrality gap (100 - 75) / 100.
    options = [
        offer("alpha-1m", 500.0, mode="reserved", term_periods=1, availability_gpus=120),
        offer("gamma-od", 1400.0, availability_gpus=150),
    ]
    p = problem(options, training_needs=(training(150.0, 100.0, 2, 3),))
    result = optimise(p)
    assert result.npv_usd == pytest.approx(100_000.0, rel=1e-6)
    assert result.lp_bound_usd == pytest.approx(75_000.0, rel=1e-6)
    assert result.integrality_gap == pytest.approx(0.25, rel=1e-6)


def test_pay_per_use_cluster_is_rented_for_part_of_a_period() -> None:
    # On-demand capacity is paid per GPU-hour used: 150 H100-months on >= 100 GPUs at once
    # rents 150 GPU-months (e.g. 150 GPUs for one month), no minimum-size waste.
    p = problem(
        [offer("alpha-od", 1000.0, availability_gpus=120)],
        training_needs=(training(150.0, 100.0, 2, 3),),
    )
    assert solve_checked(p).solution.npv_usd == pytest.approx(150_000.0, rel=1e-6)


def test_capex_budget_limits_purchases() -> None:
    # 8,000 USD a GPU, budget 16,000 a month: 2 GPUs can be bought in month 0, so of the
    # 3 GPUs needed all year 2 are owned (8,000 each, no residual, 12-month life) and 1 is
    # rented in month 0 and then bought in month 1 (1,000 + 8,000 * 11/12 book-value net).
    p = problem(
        [offer("cloud-od", 1000.0), owned("own", 8000.0, 0.0, 12)],
        inference_needs=(inference([3.0] * 12),),
        rules=Rules(capex_budget=(16_000.0,) * 12),
    )
    solved = solve_checked(p)
    assert solved.solution.new_units[1, 0] == pytest.approx(2.0, abs=1e-6)
    assert solved.solution.npv_usd == pytest.approx(
        2 * 8000.0 + 1000.0 + 8000.0 * 11 / 12, rel=1e-6
    )


def test_mixed_gpu_types_count_by_relative_throughput() -> None:
    # The workload needs 10 H100s or 4 B200s per month: a B200 at 2,000 serves 2.5 H100s
    # worth (800 per H100-equivalent) against 1,000 for an H100: all B200, 4 x 2,000.
    options = [offer("cloud-h100", 1000.0), offer("cloud-b200", 2000.0, gpu="b200")]
    need = inference([10.0], gpus={GPU: (10.0,), "b200": (4.0,)})
    solved = solve_checked(problem(options, periods=1, inference_needs=(need,)))
    assert solved.solution.npv_usd == pytest.approx(8000.0, rel=1e-9)


def test_optimal_never_dearer_than_baselines() -> None:
    p = problem(
        [
            offer("cloud-od", 1000.0),
            offer("cloud-1y", 650.0, mode="reserved", term_periods=12),
            offer("cloud-spot", 400.0, mode="spot"),
            owned("own", 15_000.0, 150.0, 36, lead_periods=4, residual_fraction=0.2),
        ],
        periods=24,
        rate=0.08,
        inference_needs=(inference([10.0 + t for t in range(24)]),),
        training_needs=(training(400.0, 64.0, 3, 8, interruptible=True),),
    )
    result = optimise(p)
    assert result.status == "optimal"
    feasible = result.baselines[result.baselines.status == "optimal"]
    assert len(feasible) == 4
    assert (feasible.npv_usd >= result.npv_usd - 1e-6 * abs(result.npv_usd)).all()
    # Each baseline's own plan also passes the checker.
    from gpuplan.planning.baselines import BASELINES, restricted_upper
    from gpuplan.planning.model.build import build_model

    model = build_model(p)
    for baseline in BASELINES:
        solved = solve_plan(p, model, upper=restricted_upper(model, baseline))
        assert check_plan(p, solved.solution) == [], baseline.name


def test_infeasible_inference_is_diagnosed_in_users_terms() -> None:
    # EU-operator offers are capped at 1,500 GPUs; the workload needs 2,400 in month 2.
    options = [
        offer("usco-eu", 1000.0),
        offer("euco-eu", 1800.0, jurisdiction="EU", availability_gpus=1500),
    ]
    need = inference([1000.0, 1000.0, 2400.0], sovereignty="eu_operator")
    result = optimise(problem(options, periods=3, inference_needs=(need,)))
    assert result.status == "infeasible"
    row = result.diagnosis.iloc[0]
    assert (row.workload, row.period) == ("chat", "2025-03")
    assert row.shortfall == pytest.approx(900.0, rel=1e-6)
    assert "eu_operator" in row.rule and "availability" in row.rule
    message = result.messages[0]
    assert "2,400 h100-sxm-equivalent GPUs" in message
    assert "can supply 1,500" in message and "Shortfall: 900" in message


def test_infeasible_training_cluster_and_lead_time_are_diagnosed() -> None:
    options = [
        offer("alpha-od", 1000.0, availability_gpus=64),
        owned("own", 9000.0, 0.0, 24, lead_periods=6),
    ]
    run = training(100.0, 128.0, 0, 5)
    result = optimise(
        problem(options, training_needs=(run,), rules=Rules(min_owned_gpus=(10.0,) * 12))
    )
    assert result.status == "infeasible"
    by_kind = {r.kind: r for r in result.diagnosis.itertuples()}
    assert "cluster size" in by_kind["training"].rule
    assert "has 64 GPUs, below the minimum of 128" in by_kind["training"].message
    assert "lead time" in by_kind["rule"].rule
    owned_rows = result.diagnosis[result.diagnosis.kind == "rule"]
    assert list(owned_rows.period) == [f"2025-{m:02d}" for m in range(1, 7)]
    assert "first owned GPU arrives in 2025-07" in by_kind["rule"].message


@pytest.mark.parametrize(("may_pause", "expected"), [(True, 500_000.0), (False, 520_000.0)])
def test_a_run_that_may_not_pause_holds_one_unbroken_stretch(
    may_pause: bool, expected: float
) -> None:
    # Offer alpha (1,000 per GPU-month, cap 150) also serves 100 inference GPUs in months
    # 1-2; gamma (1,400, cap 300) is another cluster. The run needs 300 H100-months on >= 100
    # GPUs in months 0-3. Pausing: 150 + 150 on alpha in months 0 and 3, inference on alpha:
    # 300k + 200k. Unbroken: every active month but the last uses >= 100. Best: months 0-2
    # at 150, 100, 50 (the last month may be partial), so inference has 50 + 100 of
    # alpha in months 1-2 and 50 GPU-months on gamma: 300k + 150k + 70k = 520k. (Months 0-3
    # would take >= 200 of alpha in months 1-2, leaving 100 to gamma: 540k; all on gamma:
    # 420k + 200k = 620k.)
    options = [
        offer("alpha-od", 1000.0, availability_gpus=150),
        offer("gamma-od", 1400.0, availability_gpus=300),
    ]
    p = problem(
        options,
        periods=4,
        inference_needs=(inference([0.0, 100.0, 100.0, 0.0]),),
        training_needs=(training(300.0, 100.0, 0, 3, may_pause=may_pause),),
    )
    solved = solve_checked(p)
    assert solved.solution.npv_usd == pytest.approx(expected, rel=1e-6)
    assert optimise(p, baselines=False).npv_usd == pytest.approx(expected, rel=1e-6)


def test_site_power_limits_the_owned_fleet() -> None:
    # Owning beats renting for a 9-month load (the break-even test), but the site has
    # 10 kW and each GPU draws 2 kW all-in: 5 GPUs owned (5 x 8,000), 5 rented for
    # 9 months (5 x 9 x 1,000) = 85,000.
    p = problem(
        [offer("cloud-od", 1000.0), owned("own", 8000.0, 0.0, 12, site_kw_per_gpu=2.0)],
        inference_needs=(inference([10.0] * 9 + [0.0] * 3),),
        rules=Rules(site_power_kw={"paris-1": 10.0}),
    )
    solved = solve_checked(p)
    assert solved.solution.npv_usd == pytest.approx(85_000.0, rel=1e-6)
    np.testing.assert_allclose(solved.solution.fleet[1], 5.0, atol=1e-6)


def test_more_site_power_is_bought_when_it_beats_renting_and_arrives_after_its_lead_time() -> None:
    # The site above (10 kW, 2 kW per GPU, 10 GPUs for 9 months), renting at 1,500 a
    # month, may add power at 1,000 per kW (2,000 per GPU) in service 2 months after
    # the order. Per extra GPU bought in month s >= 2 (book value credited at the horizon,
    # month 12): rent s months + capex less credit + power = 1,500 s + 8,000 (12 - s) / 12
    # + 2,000 = 10,000 + 833.33 s, cheapest at s = 2: 11,666.67 < 9 x 1,500 = 13,500
    # renting. So 10 kW is ordered in month 0 and 5 more GPUs bought in month 2:
    # 5 x 8,000 + 5 x 11,666.67 = 98,333.33 (without the option: 5 x 8,000 + 5 x 13,500 =
    # 107,500).
    expansion = PowerExpansion(lead_periods=2, lead_months=2, usd_per_kw=1000.0)
    p = problem(
        [offer("cloud-od", 1500.0), owned("own", 8000.0, 0.0, 12, site_kw_per_gpu=2.0)],
        inference_needs=(inference([10.0] * 9 + [0.0] * 3),),
        rules=Rules(site_power_kw={"paris-1": 10.0}, power_expansion={"paris-1": expansion}),
    )
    solved = solve_checked(p)
    assert solved.solution.npv_usd == pytest.approx(98_333.33, rel=1e-6)
    np.testing.assert_allclose(solved.solution.added_power_kw[0], [10.0] + [0.0] * 11, atol=1e-6)
    np.testing.assert_allclose(solved.solution.fleet[1, :2], 5.0, atol=1e-6)
    np.testing.assert_allclose(solved.solution.fleet[1, 2:9], 10.0, atol=1e-6)
    result = optimise(p, baselines=False)
    power = result.orders[result.orders["action"] == "add power"]
    assert power[["order_month", "in_service", "power_mw"]].values.tolist() == [
        ["2025-01", "2025-03", pytest.approx(0.01)]
    ]
    assert result.orders["commitment_usd"][power.index[0]] == pytest.approx(10_000.0)
    costs = result.cost_by_category
    assert costs[costs["category"] == "site_power"]["usd"].sum() == pytest.approx(10_000.0)
    without = problem(
        [offer("cloud-od", 1500.0), owned("own", 8000.0, 0.0, 12, site_kw_per_gpu=2.0)],
        inference_needs=(inference([10.0] * 9 + [0.0] * 3),),
        rules=Rules(site_power_kw={"paris-1": 10.0}),
    )
    assert solve_checked(without).solution.npv_usd == pytest.approx(107_500.0, rel=1e-6)
    # A check twin: power drawn beyond what was added in time is reported.
    broken = solved.solution.added_power_kw.copy()
    broken[0, 0] = 0.0
    issues = check_plan(p, dataclasses.replace(solved.solution, added_power_kw=broken))
    assert any(i.startswith("site_power[paris-1,2025-03]") for i in issues)


def test_block_at_reads_a_dense_grid_by_its_keys() -> None:
    """fleet.at(option=o, period=t) is column start + o * T + t on an options x periods grid
    (hand-computed: start 10, T 4, (2, 3) -> 21), and a block that is not a dense grid is
    refused rather than indexed wrongly."""
    from gpuplan.planning.model.linear import ModelBuilder

    builder = ModelBuilder()
    builder.add_columns("other", {"k": np.arange(10)})
    option, period = np.divmod(np.arange(3 * 4), 4)
    fleet = builder.add_columns("fleet", {"option": option, "period": period})
    assert fleet.at(option=np.array([2, 0]), period=np.array([3, 1])).tolist() == [21, 11]
    sparse = builder.add_columns("sparse", {"site": np.array([1, 1]), "period": np.arange(2)})
    with pytest.raises(TypeError, match="not a dense grid"):
        sparse.at(site=1, period=0)
