"""Regressions for the planner's semantics (issue 11): provider aliases, custom offers checked
against the reference tables, the country table (Hungary), infeasible plans without an NPV,
baseline diagnoses that name their own restriction, the status header, no-ownership notes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from gpuplan.cli.plan_commands import plan_header
from gpuplan.errors import InputError
from gpuplan.planning.adapters.tables import build_problem
from gpuplan.planning.api import plan
from gpuplan.planning.optimise import optimise
from gpuplan.planning.problem import Rules
from gpuplan.scenario.loading import load_scenario
from planner_tables import inference, offer, problem
from test_planner_scenarios import tiny


def _offers(data: dict[str, Any]) -> list[dict[str, Any]]:
    return data["supply"]["offers"]


def test_custom_offer_written_with_an_alias_is_the_same_provider() -> None:
    # 'nebius' is the provider table's alias of Nebius: it must meet rules about Nebius.
    data = tiny(rules={"excluded_providers": ["Nebius"]})
    _offers(data)[0]["provider"] = "nebius"
    options = build_problem(load_scenario(data)).options
    assert {o.provider for o in options} == {"AWS"}
    # Share cap: Nebius at $1, AWS at $2 (both EU data centres, eu_data), at most 30 % with
    # Nebius: 30 GPUs x $1 + 70 x $2 per GPU-hour, 2,190 h a quarter, 4 quarters.
    data = tiny(rules={"provider_share": {"Nebius": 0.3}})
    nebius, aws = _offers(data)
    nebius.update(provider="nebius", price_per_gpu_hour=1.0)
    aws.update(price_per_gpu_hour=2.0)
    result = plan(data, ["data_only"], baselines=False)
    assert result.npv_usd == pytest.approx((30 * 1.0 + 70 * 2.0) * 2190 * 4, rel=1e-9)


def test_custom_offer_contradicting_the_provider_table_names_both_values() -> None:
    data = tiny()
    _offers(data)[1].update(provider="Azure", jurisdiction="EU", region="swedencentral")
    with pytest.raises(InputError) as error:
        build_problem(load_scenario(data))
    assert error.value.field == "supply.offers.1.jurisdiction"
    assert "says EU" in str(error.value) and "US jurisdiction" in str(error.value)


def test_custom_offer_outside_the_eea_cannot_claim_the_eu_zone() -> None:
    data = tiny()
    _offers(data)[0].update(country="CH", region="zurich")
    with pytest.raises(InputError) as error:
        build_problem(load_scenario(data))
    assert error.value.field == "supply.offers.0.region_group"
    assert "says EU" in str(error.value) and "Switzerland (CH) is in zone CH" in str(error.value)


def test_zone_and_jurisdiction_default_from_the_reference_tables() -> None:
    data = tiny()
    for row in _offers(data):
        del row["region_group"]
    del _offers(data)[0]["jurisdiction"]
    options = {o.provider: o for o in build_problem(load_scenario(data)).options}
    assert (options["Nebius"].jurisdiction, options["Nebius"].region_group) == ("EU", "EU")
    assert options["AWS"].region_group == "EU"  # Sweden


def test_a_site_in_hungary_is_in_the_eu_zone() -> None:
    # Hungary is an EU member state since 2004; the old private EU list left it out.
    data = tiny()
    data["supply"]["ownership"] = [
        {"site": "budapest-1", "country": "HU", "gpu": "h100", "capex_per_gpu_usd": 30_000,
         "opex_per_gpu_year_usd": 3_000, "lead_time_months": 3, "life_years": 5,
         "residual_fraction": 0.1},
    ]  # fmt: skip
    owned = [o for o in build_problem(load_scenario(data)).options if o.mode == "owned"]
    assert [(o.country, o.region_group) for o in owned] == [("HU", "EU")]


def test_an_infeasible_plan_reports_no_npv() -> None:
    result = plan(tiny(), ["big"], baselines=False)
    assert result.status == "infeasible"
    assert math.isnan(result.npv_usd)
    payload = result.to_dict()
    assert payload["npv_usd"] is None and payload["total_cost_usd"] is None


def test_baseline_diagnosis_names_its_own_restriction() -> None:
    # Only on-demand offers and no ownership site: the all_reserved and all_owned baselines
    # have nothing to use; the diagnosis says so rather than blaming another rule.
    p = problem(
        [offer("alpha-od", 1000.0), offer("beta-od", 1200.0)],
        periods=3,
        inference_needs=(inference([10.0] * 3),),
        rules=Rules(max_provider_share=0.6),
    )
    result = optimise(p)
    why = result.baselines.set_index("name").why_infeasible
    assert "all_reserved baseline" in why["all_reserved"]
    assert "no EU offer of h100-sxm is allowed" in why["all_reserved"]
    assert "all_owned baseline" in why["all_owned"]
    assert "provider_share" not in why["all_reserved"]


def test_no_ownership_site_is_said() -> None:
    result = plan(tiny(), baselines=False)
    assert any("buying GPUs was not an option" in note for note in result.notes)


def test_header_states_status_and_both_gaps() -> None:
    result = plan(tiny(), baselines=False)
    header = plan_header(result)
    assert "optimal (HiGHS: within 0.00% of the best plan)" in header
    assert "$1.75M" in header
    result.integrality_gap, result.lp_bound_usd = 0.25, 1_314_000.0
    assert "The LP relaxation ($1.31M) is 25% lower" in plan_header(result)


def test_the_supply_mode_table_lists_exactly_the_planner_modes() -> None:
    from typing import get_args

    from gpuplan.planning.modes import supply_modes
    from gpuplan.planning.problem import Mode

    assert list(supply_modes()) == list(get_args(Mode))
    # Every catalog pricing model maps to a mode (capacity blocks to two: by length).
    from gpuplan.catalog.offers import DEFAULT_TERM_MONTHS

    listed = {p for row in supply_modes().values() for p in row.catalog_pricing_models}
    assert listed == set(DEFAULT_TERM_MONTHS)


def test_a_user_constraint_family_joins_the_model() -> None:
    # A at 1,000 and B at 1,200 per GPU-month, 10 GPUs for 3 months; the user's own rule:
    # at most 4 of A's GPUs in any month -> 4 x 1,000 + 6 x 1,200 = 11,200 a month.
    def at_most_four_from_alpha(ctx: Any) -> None:
        fleet = ctx.blocks["fleet"].where(option=0)
        rows = ctx.builder.add_rows("alpha_cap", {"period": np.arange(ctx.horizon)}, upper=4.0)
        ctx.builder.add_entries(rows.start + np.arange(rows.size), fleet, 1.0)

    p = problem(
        [offer("alpha-od", 1000.0), offer("beta-od", 1200.0)],
        periods=3,
        inference_needs=(inference([10.0] * 3),),
    )
    result = optimise(p, baselines=False, extra_constraints=[at_most_four_from_alpha])
    assert result.npv_usd == pytest.approx(3 * 11_200.0, rel=1e-9)
    assert optimise(p, baselines=False).npv_usd == pytest.approx(3 * 10_000.0, rel=1e-9)


def test_each_check_reports_the_family_its_plan_breaks() -> None:
    import dataclasses

    from gpuplan.planning.checks import check_availability, check_capacity, check_plan

    p = problem([offer("alpha-od", 1000.0, availability_gpus=12)], periods=2,
                inference_needs=(inference([10.0, 10.0]),))  # fmt: skip
    solution = optimise(p, baselines=False).solution
    assert solution is not None and check_plan(p, solution) == []
    # 20 GPUs in the fleet in month 1: over the 12-GPU cap; 5 in month 2: below the use.
    fleet = solution.fleet.copy()
    fleet[0] = [20.0, 5.0]
    broken = dataclasses.replace(solution, fleet=fleet)
    assert check_availability(p, broken) == ["availability[alpha-od,2025-01]: 20.0 GPUs > cap 12"]
    assert check_capacity(p, broken) == ["capacity[alpha-od,2025-02]: 10.0 used > fleet 5.0"]


def test_inference_is_sized_for_the_peak_within_each_period() -> None:
    # 10e9 tokens/day growing 80 %/year, 10 GPUs per 1e9 tokens/day, quarterly: quarter q
    # must serve the volume at its end, 100 x 1.8 ** ((q + 1) / 4) GPUs (Q1: 115.8, not 100).
    data = tiny()
    data["inference"][0]["growth"] = {"annual_growth": 0.8}
    need = build_problem(load_scenario(data)).inference[0].gpus["h100-sxm"]
    assert need == pytest.approx([100 * 1.8 ** ((q + 1) / 4) for q in range(4)], rel=1e-12)
    # A step table: 5e9 from January, 9e9 from February, 6e9 from April: Q1 serves 9e9.
    del data["inference"][0]["growth"], data["inference"][0]["tokens_per_day"]
    data["inference"][0]["table"] = [
        {"from": "2026-01", "tokens_per_day": 5e9},
        {"from": "2026-02", "tokens_per_day": 9e9},
        {"from": "2026-04", "tokens_per_day": 6e9},
    ]
    need = build_problem(load_scenario(data)).inference[0].gpus["h100-sxm"]
    assert need == pytest.approx([90.0, 60.0, 60.0, 60.0], rel=1e-12)


def test_order_schedule_says_what_to_sign_when_in_whole_servers() -> None:
    from planner_tables import owned

    # The 4-month load of the reservation test: 10 GPUs reserved for 6 months at 600 per
    # GPU-month (600 / 730 per GPU-hour), signed one month ahead (the mode table's notice),
    # 10 GPUs = 2 eight-GPU servers, committing 10 x 6 x 600 = 36,000 USD.
    p = problem(
        [offer("cloud-od", 1000.0), offer("cloud-1y", 600.0, mode="reserved", term_periods=6)],
        inference_needs=(inference([10.0] * 4 + [0.0] * 8),),
    )
    orders = optimise(p, baselines=False).orders
    assert len(orders) == 1
    row = orders.iloc[0]
    assert (row.order_month, row.action, row.gpus, row.servers) == ("2024-12", "reserve", 10, 2)
    assert row.unit_price_usd == pytest.approx(600 / 730)
    assert row.commitment_usd == pytest.approx(36_000.0)
    # Owning for 9 months (the break-even test): buy 10 GPUs at 8,000 in month 0.
    p = problem(
        [offer("cloud-od", 1000.0), owned("own", 8000.0, 0.0, 12)],
        inference_needs=(inference([10.0] * 9 + [0.0] * 3),),
    )
    row = optimise(p, baselines=False).orders.iloc[0]
    assert (row.order_month, row.action, row.in_service, row.until) == (
        "2025-01",
        "buy",
        "2025-01",
        "2025-12",
    )
    assert (row.unit_price_usd, row.commitment_usd) == (8000.0, 80_000.0)


def test_a_baseline_training_diagnosis_judges_the_clusters_it_may_use() -> None:
    from planner_tables import owned, training

    # On-demand capped at 64 GPUs; the run needs 128 at once, so it can only run on owned
    # GPUs. The all_on_demand baseline is infeasible because of the cap, not another rule.
    p = problem(
        [offer("alpha-od", 1000.0, availability_gpus=64), owned("own", 9000.0, 0.0, 24)],
        training_needs=(training(300.0, 128.0, 0, 5),),
    )
    result = optimise(p)
    assert result.status == "optimal"
    why = result.baselines.set_index("name").why_infeasible["all_on_demand"]
    assert "the largest cluster allowed under no sovereignty rule and the all_on_demand" in why
    assert "has 64 GPUs, below the minimum of 128" in why


def test_utilisation_counts_peak_sizing_and_idle_owned_capacity_is_costed() -> None:
    from planner_tables import owned

    # 10 GPUs for 10 months, sized for a peak twice the average (load factor 0.5). Owning
    # (8,000 capex + 12 x 100 opex = 9,200 per GPU) beats renting (10 x 1,000); the owned
    # GPUs are busy half the time for 10 months, then idle 2 months at 100 each.
    need = inference([10.0] * 10 + [0.0] * 2, load_factor=0.5)
    p = problem(
        [offer("cloud-od", 1000.0), owned("own", 8000.0, 100.0, 12)], inference_needs=(need,)
    )
    use = optimise(p, baselines=False).utilisation
    mine = use[use["mode"] == "owned"]
    np.testing.assert_allclose(mine.utilisation, [0.5] * 10 + [0.0] * 2)
    np.testing.assert_allclose(mine.idle_cost_usd, [0.0] * 10 + [1000.0] * 2)


def test_a_price_trend_makes_later_starts_cheaper() -> None:
    # One on-demand GPU for 12 months at 1,000 USD/month, prices falling 10 %/year: the
    # month-t rental costs 1,000 x 0.9 ** (t / 12) (no discounting).
    p = problem([offer("cloud-od", 1000.0, price_trend=-0.1)], inference_needs=(
        inference([1.0] * 12),))  # fmt: skip
    expected = sum(1000.0 * 0.9 ** (t / 12) for t in range(12))
    assert optimise(p, baselines=False).npv_usd == pytest.approx(expected, rel=1e-9)
    # From a scenario: the per-provider trend beats the GPU's, which beats the default.
    data = tiny()
    data["supply"]["price_trend"] = {
        "default": -0.05, "gpus": {"h100": -0.2}, "providers": {"nebius": -0.3},
    }  # fmt: skip
    trends = {o.provider: o.price_trend for o in build_problem(load_scenario(data)).options}
    assert trends == {"Nebius": -0.3, "AWS": -0.2}


def test_training_slack_moves_the_deadline_and_runs_do_not_pause_by_default() -> None:
    data = tiny()
    data["training"] = [
        {"id": "pretrain", "model": "mistral-7b", "tokens": 1e12, "gpus": ["h100"],
         "earliest_start": "2026-01", "deadline": "2026-12", "slack_months": 3,
         "gpu_hours": {"h100": 100_000}, "min_cluster_gpus": 64},
    ]  # fmt: skip
    run = build_problem(load_scenario(data)).training[0]
    assert (run.earliest, run.deadline, run.may_pause) == (0, 2, False)  # 2026-Q3
    data["training"][0]["slack_months"] = 12
    with pytest.raises(InputError) as error:
        build_problem(load_scenario(data))
    assert error.value.field == "training.pretrain.slack_months"


def test_site_power_in_mw_and_all_in_kw_per_gpu_from_the_ownership_data() -> None:
    # H100 SXM: 700 W TDP x 1.82 server overhead (DGX H100: 10.2 kW for 8 x 700 W) x PUE
    # 1.3 = 1.656 kW per GPU at the facility meter.
    data = tiny()
    data["supply"]["ownership"] = [
        {"site": "paris-1", "country": "FR", "gpu": "h100", "power_mw": 2.5},
    ]
    p = build_problem(load_scenario(data))
    (site,) = [o for o in p.options if o.billing == "own"]
    assert site.site_kw_per_gpu == pytest.approx(0.7 * 1.82 * 1.3, rel=1e-9)
    assert p.rules.site_power_kw == {"paris-1": 2500.0}


def test_whole_servers_rent_and_buy_in_units_of_eight() -> None:
    from gpuplan.planning.problem import SolverSettings

    # 10 GPUs for 3 months at 1,000 per GPU-month: continuous 30,000; in 8-GPU servers the
    # plan rents 2 servers (16 GPUs) a month: 48,000, and the order schedule says so.
    p = problem([offer("cloud-od", 1000.0)], periods=3, inference_needs=(inference([10.0] * 3),))
    assert optimise(p, baselines=False).npv_usd == pytest.approx(30_000.0)
    whole = p.model_copy(update={"solver": SolverSettings(whole_servers=True)})
    result = optimise(whole, baselines=False)
    assert result.npv_usd == pytest.approx(48_000.0)
    assert list(result.orders.servers) == [2, 2, 2] and list(result.orders.gpus) == [16] * 3


def test_a_site_has_no_utilisation_field_the_plan_computes_it() -> None:
    # The site's 'utilisation' had no effect on the plan; the plan's utilisation table says
    # how busy owned GPUs are, so the field is gone and naming it is a clear error.
    data = tiny()
    data["supply"]["ownership"] = [
        {"site": "paris-1", "country": "FR", "gpu": "h100", "utilisation": 0.8},
    ]
    with pytest.raises(InputError, match="unknown field"):
        load_scenario(data)


def test_offer_prices_follow_the_catalog_trend_unless_the_scenario_sets_one() -> None:
    # The AWS offer alone under eu_data: 100 GPUs at $1/h, 2,190 h a quarter; a unit
    # started in quarter q pays (1 + g)^(q/4) with g the catalog's on-demand H100 SXM
    # trend (mid of its range; position 0 takes the low end, 1 the high end).
    from gpuplan.catalog.trends import price_trend

    low, mid, high = price_trend("h100-sxm", "on_demand")
    data = tiny(rules={"excluded_providers": ["Nebius"]})
    del data["supply"]["price_trend"]

    def flat_npv(g: float) -> float:
        return sum(100 * 1.0 * 2190 * (1 + g) ** (q / 4) for q in range(4))

    result = plan(data, ["data_only"], baselines=False)
    assert result.npv_usd == pytest.approx(flat_npv(mid), rel=1e-9)
    option = result.problem.options[0]
    assert option.price_trend_from == f"catalog h100-sxm/on_demand: {mid:+.0%}/year"
    assert set(result.orders["price_trend_from"]) == {option.price_trend_from}
    for position, g in ((0.0, low), (1.0, high), (0.25, (low + mid) / 2)):
        data["supply"]["price_trend"] = {"catalog_position": position}
        result = plan(data, ["data_only"], baselines=False)
        assert result.npv_usd == pytest.approx(flat_npv(g), rel=1e-9)
    # A scenario figure wins: per GPU type over the default over the catalog.
    data["supply"]["price_trend"] = {"default": 0.1, "gpus": {"h100": -0.2}}
    result = plan(data, ["data_only"], baselines=False)
    assert result.npv_usd == pytest.approx(flat_npv(-0.2), rel=1e-9)
    assert result.problem.options[0].price_trend_from == "supply.price_trend.gpus.h100"


def test_power_expansion_defaults_come_from_the_sourced_table() -> None:
    # A quarterly site with 2.5 MW may add power: 36 months = 12 quarters of lead time,
    # USD 11.7M per MW = 11,700 per kW once (Cushman & Wakefield 2025 average), no charge.
    data = tiny()
    data["supply"]["ownership"] = [
        {"site": "paris-1", "country": "FR", "gpu": "h100", "power_mw": 2.5}
    ]
    rules = build_problem(load_scenario(data)).rules
    expansion = rules.power_expansion["paris-1"]
    assert (expansion.lead_periods, expansion.lead_months) == (12, 36)
    assert expansion.usd_per_kw == pytest.approx(11_700.0)
    assert expansion.usd_per_kw_period == 0.0
    data["supply"]["power_expansion"] = {"lead_time_months": 7, "usd_per_mw_year": 1.2e6,
                                         "max_mw": 4}  # fmt: skip
    expansion = build_problem(load_scenario(data)).rules.power_expansion["paris-1"]
    assert expansion.lead_periods == 3  # 7 months: 3 quarters
    assert expansion.usd_per_kw_period == pytest.approx(1.2e6 / 1000 / 4)
    assert expansion.max_added_kw == pytest.approx(4000.0)
    # A site's own figures win over the scenario's; without either, null fixes its power.
    data["supply"]["ownership"][0]["power_expansion"] = {"usd_per_mw": 5e6}
    expansion = build_problem(load_scenario(data)).rules.power_expansion["paris-1"]
    assert (expansion.usd_per_kw, expansion.lead_periods) == (pytest.approx(5000.0), 3)
    data["supply"]["power_expansion"] = None
    expansion = build_problem(load_scenario(data)).rules.power_expansion["paris-1"]
    assert (expansion.usd_per_kw, expansion.lead_periods) == (pytest.approx(5000.0), 12)
    del data["supply"]["ownership"][0]["power_expansion"]
    assert build_problem(load_scenario(data)).rules.power_expansion == {}
    data["supply"]["ownership"].append(
        {**data["supply"]["ownership"][0], "gpu": "h200", "power_expansion": {"max_mw": 1}}
    )
    data["supply"]["ownership"][0]["power_expansion"] = {"max_mw": 2}
    with pytest.raises(InputError, match=r"supply\.ownership\.1\.power_expansion"):
        build_problem(load_scenario(data))
