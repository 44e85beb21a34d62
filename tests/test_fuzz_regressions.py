"""Regression tests for what the fuzzer of issue 17 found: 14 causes of tracebacks, inputs
accepted without a word, odd outputs; plus determinism and the result invariants."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from gpuplan.cli import app
from gpuplan.errors import InputError, InvariantError
from test_bad_input import COMPANY, CONFIG, SMALL, fails, offer_row, runner


def write(path: Path, data: Any) -> str:
    text = data if isinstance(data, str) else yaml.safe_dump(data)
    path.write_text(text, encoding="utf-8")
    return str(path)


def small(**workload: Any) -> dict[str, Any]:
    data = copy.deepcopy(SMALL)
    data["inference"][0].update(workload)
    return data


# ---- the 14 causes of tracebacks ---------------------------------------------------------


@pytest.mark.parametrize("base", [5, [1], {"a": 1}, True])
def test_1_extends_that_is_not_text(tmp_path: Path, base: Any) -> None:
    path = write(tmp_path / "s.yaml", small() | {"extends": base})
    for command in (["plan", path], ["simulate", path], ["compare", path]):
        fails(command, "extends", "preset name or a scenario file path")


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "a" * 300],
        ["simulate", "a" * 300],
        ["compare", "a" * 300],
        ["catalog", "offers", "--offers", "a" * 300],
        ["tco", "--gpu", "h100", "--country", "FR", "--offers", "a" * 300],
        ["catalog", "import-skypilot", "a" * 300],
    ],
)
def test_2_names_over_255_bytes(args: list[str]) -> None:
    fails(args, "255 bytes")


def test_2_long_model_name_is_an_unknown_model() -> None:
    fails(["estimate", "inference", "--model", "a" * 300, "--gpu", "h100"], "Unknown model")
    fails(["estimate", "inference", "--model", "a" * 300 + ".json", "--gpu", "h100"], "255 bytes")


@pytest.mark.parametrize("spelling", ["../d/s.yaml", "sub/../s.yaml", "./s.yaml"])
def test_3_extends_loop_under_another_spelling(tmp_path: Path, spelling: str) -> None:
    folder = tmp_path / "d"
    (folder / "sub").mkdir(parents=True)
    path = write(folder / "s.yaml", {"extends": spelling, "name": "x"})
    fails(["plan", path], "extends", "extends itself")


def test_3_long_extends_chain_is_bounded(tmp_path: Path) -> None:
    for n in range(20):
        write(tmp_path / f"s{n}.yaml", {"extends": f"s{n + 1}.yaml", "name": "x"})
    write(tmp_path / "s20.yaml", SMALL)
    fails(["plan", str(tmp_path / "s0.yaml")], "extends", "more than 16")


def test_4_deep_yaml(tmp_path: Path) -> None:
    path = write(tmp_path / "deep.yaml", "a: " + "[" * 500 + "]" * 500 + "\n")
    for command in (["plan", path], ["simulate", path], ["compare", path]):
        fails(command, "deep.yaml", "deeper than 64 levels")


def test_4_yaml_alias_bomb(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 9):
        lines.append(f"{chr(97 + n)}: &{chr(97 + n)} [{', '.join(['*' + chr(96 + n)] * 10)}]")
    path = write(tmp_path / "bomb.yaml", "\n".join(lines) + "\n")
    fails(["plan", path], "bomb.yaml", "aliases", "200,000")


def test_4_aliases_within_the_bound_still_work(tmp_path: Path) -> None:
    from gpuplan.userfiles import load_yaml_text

    data = load_yaml_text("a: &x [1, 2]\nb: *x\n", "f")
    assert data == {"a": [1, 2], "b": [1, 2]}


def test_5_deep_config_json(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    fails(["estimate", "inference", "--model", str(path), "--gpu", "h100"], "model", "64 levels")
    path.write_text(json.dumps(CONFIG | {"note": "[[[[" * 100}), encoding="utf-8")
    result = runner.invoke(app, ["estimate", "inference", "--model", str(path), "--gpu", "h100"])
    assert result.exit_code in (0, 2) and "64 levels" not in result.output  # brackets in text


def test_6_csv_cell_over_the_field_limit(tmp_path: Path) -> None:
    row = offer_row()
    header, values = row.splitlines()
    path = tmp_path / "offers.csv"
    path.write_text(f"{header}\n{'x' * 200_000}{values[6:]}\n", encoding="utf-8")
    fails(["catalog", "offers", "--offers", str(path)], "offers.csv line 2", "128 KiB")


def test_7_failed_writes_name_the_path(tmp_path: Path) -> None:
    vms = tmp_path / "vms.csv"
    vms.write_text(
        "InstanceType,AcceleratorName,AcceleratorCount,Price,SpotPrice,Region\n"
        "p5.48xlarge,H100,8,98.32,,us-east-1\n",
        encoding="utf-8",
    )
    fails(["catalog", "import-skypilot", str(vms), "-o", "/dev/full"], "output", "/dev/full")
    fails(["catalog", "import-skypilot", str(vms), "-o", str(tmp_path)], "output")
    before = vms.read_text(encoding="utf-8")
    fails(["catalog", "import-skypilot", str(vms), "-o", str(vms)], "output", "input file")
    assert vms.read_text(encoding="utf-8") == before


def test_8_horizon_past_year_9999(tmp_path: Path) -> None:
    data = small() | {"horizon": {"start": "9990-Q1", "periods": 80}}
    fails(["plan", write(tmp_path / "s.yaml", data)], "horizon.start", "1900-2199")


@pytest.mark.parametrize("tokens", [5e-324, 1e-3])
def test_9_vanishing_demand(tmp_path: Path, tokens: float) -> None:
    path = write(tmp_path / "s.yaml", small(tokens_per_day=tokens))
    fails(["plan", path, "--no-baselines"], "inference.chat", "tokens_per_day", "1 token a day")
    fails(
        ["estimate", "fleet", "--model", "mixtral-8x7b", "--gpu", "h100",
         "--tokens-per-day", "1e-320"],
        "tokens_per_day",
    )  # fmt: skip


@pytest.mark.parametrize("section", ["5", "2020-01-01", "abc"])
def test_10_inference_section_of_the_wrong_type(tmp_path: Path, section: str) -> None:
    text = yaml.safe_dump({k: v for k, v in SMALL.items() if k != "inference"})
    path = write(tmp_path / "s.yaml", text + f"inference: {section}\n")
    fails(["plan", path], "inference", "valid list")


def test_11_duplicate_ownership_rows(tmp_path: Path) -> None:
    site = {"site": "paris", "country": "FR", "gpu": "h100-sxm"}
    data = small() | {"supply": {"ownership": [site, site]}}
    fails(["plan", write(tmp_path / "s.yaml", data), "--no-baselines"], "supply.ownership")


@pytest.mark.parametrize(
    ("low", "high", "words"),
    [(1e-300, 1e300, ("1e300", "±1e30")), (1e-20, 1e20, ("orders of magnitude",))],
)
def test_12_lognormal_too_wide(tmp_path: Path, low: float, high: float, words: tuple) -> None:
    dist = {"low": low, "high": high, "shape": "lognormal"}
    company = copy.deepcopy(COMPANY)
    company["company"]["opening_cash"] = dist
    path = write(tmp_path / "c.yaml", company)
    fails(["simulate", path, "-n", "10"], "company.opening_cash", *words)
    fails(["compare", path], "company.opening_cash", *words)
    plan_path = write(tmp_path / "s.yaml", small(tokens_per_day=dist))
    fails(["plan", plan_path], "inference.chat.tokens_per_day", *words)


def test_12_lognormal_tail_bound_is_the_samplers_extreme() -> None:
    """The bound is on the value the samplers can draw at u = 1 - 1e-12 (z = 7.03): a range
    whose tail stays inside 1e30 is accepted and samples finite values."""
    import numpy as np

    from gpuplan.uncertainty.distributions import Distribution

    dist = Distribution(low=1.0, high=1e6, shape="lognormal")  # tail exp(6.9+29.5)=6e15
    assert np.isfinite(dist.ppf(np.array([1e-12, 1 - 1e-12]))).all()
    with pytest.raises(ValueError, match="orders of magnitude"):
        Distribution(low=1.0, high=1e16, shape="lognormal")  # tail exp(18.4+78.6) > 1e30


@pytest.mark.parametrize("field", ["opening_cash", "operating"])
def test_13_extreme_company_numbers(tmp_path: Path, field: str) -> None:
    company = copy.deepcopy(COMPANY)
    if field == "operating":
        company["company"]["operating"]["rd_operations_per_year"] = 1.797e308
    else:
        company["company"]["opening_cash"] = 1.797e308
    path = write(tmp_path / "c.yaml", company)
    for command in (["compare", path], ["compare", path, "--json"], ["simulate", path]):
        message = fails(command, f"company.{field}", "1.797e308", "±1e30")
        assert message.count("1.797e308") == 1


def test_14_sobol_samples_bounded_by_memory() -> None:
    message = fails(["simulate", "mistral", "--sobol", "--sobol-samples", "1048576"])
    assert "sobol_samples" in message and "GiB of memory" in message and "at most" in message
    message = fails(["simulate", "mistral", "-n", "9000000"], "samples", "GiB of memory")


def test_14_memory_model_against_a_hand_count() -> None:
    """23 inputs x 60 months: a Monte Carlo sample holds 2*23 + 2*60 = 166 floats (1,328 B);
    a Sobol evaluation 40 floats a month, 25 evaluations per base sample."""
    from gpuplan.presets import load_company
    from gpuplan.uncertainty.montecarlo import memory_needed
    from gpuplan.uncertainty.sampling import uncertain_inputs

    spec = load_company("mistral")
    k, months = len(uncertain_inputs(spec)), spec.horizon_months
    assert memory_needed(spec, 1000, None) == 1000 * 8 * (2 * k + 2 * months)
    assert memory_needed(spec, 0, 1024) == 1024 * (k + 2) * months * 40 * 8


# ---- inputs once accepted without a word ---------------------------------------------------


@pytest.mark.parametrize("code", ["Fq", "ZZ", "QQ"])
def test_country_codes_checked_against_the_iso_table(tmp_path: Path, code: str) -> None:
    fails(["catalog", "offers", "--country", code], "country", "ISO 3166")
    fails(["tco", "--gpu", "h100", "--country", code], "country")
    data = small() | {"rules": {"excluded_countries": [code]}}
    fails(["plan", write(tmp_path / "s.yaml", data)], "rules.excluded_countries", "ISO 3166")


def test_valid_countries_and_aliases_still_work() -> None:
    from gpuplan.catalog.places import country_code

    assert country_code("fr") == "FR"
    assert country_code("UK") == "GB"
    result = runner.invoke(app, ["catalog", "offers", "--country", "gb", "--json"])
    assert result.exit_code == 0
    assert {o["country"] for o in json.loads(result.stdout)["offers"]} == {"GB"}


def test_compare_refuses_the_correlations_simulate_refuses(tmp_path: Path) -> None:
    company = copy.deepcopy(COMPANY)
    company["company"]["opening_cash"] = {"low": 1e7, "high": 2e8, "shape": "uniform"}
    for pair, words in (
        (["opening_cash", "opening_cash"], "itself"),
        (["opening_cash", "nosuch"], "not an uncertain input"),
    ):
        company["company"]["correlations"] = [{"inputs": pair, "rho": 0.5}]
        path = write(tmp_path / "c.yaml", company)
        fails(["simulate", path, "-n", "10"], "correlations[0].inputs", words)
        fails(["compare", path], "correlations[0].inputs", words)


def test_simulate_and_compare_validate_the_whole_file(tmp_path: Path) -> None:
    data = small() | COMPANY | {"horizon": {"start": "2026-Q1", "periods": "x"}}
    path = write(tmp_path / "s.yaml", data)
    for command in (["simulate", path, "-n", "10"], ["compare", path], ["plan", path]):
        fails(command, "horizon.periods")
    company_only = COMPANY | {"horizn": {"start": "2026-Q1"}}
    path = write(tmp_path / "c.yaml", company_only)
    for command in (["simulate", path, "-n", "10"], ["compare", path]):
        fails(command, "horizn", "Did you mean 'horizon'")


@pytest.mark.parametrize("text", ["-0.5", "1.5", "1_", "x"])
def test_audit_max_age_days_is_a_whole_number(text: str) -> None:
    fails(["catalog", "audit", "--max-age-days", text], "max_age_days")


@pytest.mark.parametrize("text", ["1_", "1__0", "_1", "1._5"])
def test_numbers_follow_pythons_underscore_rule(text: str) -> None:
    fails(["tco", "--gpu", "h100", "--country", "FR", "--utilisation", text], "utilisation")


def test_underscores_between_digits_still_parse() -> None:
    from gpuplan.cli.common import parse_number

    assert parse_number("15_000_000", "x") == 15e6
    assert parse_number("1_000.5", "x") == 1000.5


# ---- odd outputs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"), [("--params", "1e308"), ("--tokens", "1e31"), ("--params", "1e300")]
)
def test_extreme_option_values_name_their_option(option: str, value: str) -> None:
    args = ["estimate", "training", "--params", "7e9", "--tokens", "1T", "--gpu", "h100"]
    args[args.index(option) + 1] = value
    message = fails(args, option.removeprefix("--"))
    assert "seq_len" not in message


def test_infeasible_plan_reports_no_cost(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", small(residency="ME"))
    result = runner.invoke(app, ["plan", path, "--json", "--no-baselines"])
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["status"] == "infeasible"
    assert payload["npv_usd"] is None and payload["total_cost_usd"] is None
    assert payload["lp_bound_usd"] is None
    assert not any("inf GPUs" in line for line in payload["diagnosis"])


def test_break_even_above_one_is_said_in_words() -> None:
    from gpuplan.economics.rent_vs_own import verdict

    assert verdict(True, 2.4, False) == "renting is cheaper at any utilisation"
    assert verdict(True, 0.59, False) == "owning is cheaper above 59% utilisation"
    assert verdict(False, None, True) == "owning is cheaper at any utilisation"
    result = runner.invoke(app, ["tco", "--gpu", "h100", "--country", "FR", "--json"])
    alternatives = json.loads(result.stdout)["alternatives"]
    for a in alternatives:
        if a["break_even_utilisation"] is not None and a["break_even_utilisation"] > 1:
            assert a["verdict"] == "renting is cheaper at any utilisation"


def test_path_checks_before_the_file_system() -> None:
    from gpuplan.userfiles import user_path

    for bad in (5, None, ["a"], "", "a\x00b", "x" * 5000):
        with pytest.raises(InputError):
            user_path(bad, "field")
    assert user_path("a/b.yaml", "field") == Path("a/b.yaml")


# ---- determinism and invariants ----------------------------------------------------------


def _without_timings(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in {"solve_seconds"}}


def test_plan_is_deterministic(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", SMALL)
    runs = [runner.invoke(app, ["plan", path, "--json"]) for _ in range(2)]
    assert all(r.exit_code == 0 for r in runs), runs[0].output
    first, second = (_without_timings(json.loads(r.stdout)) for r in runs)
    assert first == second
    assert first["npv_usd"] > 0


def test_simulate_is_deterministic_per_seed(tmp_path: Path) -> None:
    company = copy.deepcopy(COMPANY)
    company["company"]["opening_cash"] = {"low": 1e7, "high": 2e8, "shape": "uniform"}
    path = write(tmp_path / "c.yaml", company)
    outputs = [
        runner.invoke(app, ["simulate", path, "-n", "500", "--seed", seed, "--json"]).stdout
        for seed in ("7", "7", "8")
    ]
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


def test_simulation_invariants_are_checked_in_the_code_path() -> None:
    import numpy as np

    from gpuplan.uncertainty.montecarlo import percentiles, probability_problems

    assert probability_problems({"a": [{"probability": 0.2}], "x_share": 1.0}) == []
    assert probability_problems({"per": [{"probability": 1.5}]}) == [
        "probability = 1.5 is not a probability in [0, 1]"
    ]
    assert probability_problems({"break_even_share": math.nan})
    values = percentiles(np.array([3.0, 1.0, 2.0, np.nan] * 10))
    assert values["p10"] is not None and values["p50"] is not None
    assert values["p10"] <= values["p50"] and values["p90"] is None  # NaN reads as 'never'


def test_a_solved_plan_that_breaks_check_plan_is_a_bug_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gpuplan.planning.optimise as optimise

    monkeypatch.setattr(optimise, "check_plan", lambda problem, solution: ["made up"])
    with pytest.raises(InvariantError, match="made up"):
        from gpuplan.planning.api import plan

        plan(SMALL, baselines=False)


# ---- found by the fuzzer after the first fixes ---------------------------------------------


def test_demand_growth_compounding_past_any_volume(tmp_path: Path) -> None:
    data = small(growth={"annual_growth": 1e30}) | {
        "horizon": {"start": "2026-01", "periods": 240, "period": "month"}
    }
    path = write(tmp_path / "s.yaml", data)
    fails(["plan", path, "--no-baselines"], "inference.chat.growth.annual_growth", "1e30")


@pytest.mark.parametrize("growth", [1e30, {"low": 0, "high": 1e30, "shape": "uniform"}])
def test_company_growth_compounding_past_any_number(tmp_path: Path, growth: Any) -> None:
    company = copy.deepcopy(COMPANY)
    company["company"]["horizon_months"] = 600
    company["company"]["revenue"] = {
        "api": [{"name": "api", "tokens_per_day": 1e9, "price_per_million": 2.0,
                 "volume_growth_per_year": growth}]
    }  # fmt: skip
    path = write(tmp_path / "c.yaml", company)
    for command in (["simulate", path, "-n", "20"], ["compare", path]):
        fails(command, "revenue.api[0].volume_growth_per_year", "compounds past")
    company["company"]["horizon_months"] = 12  # (1e30)^1: the bound, still a number
    result = runner.invoke(app, ["simulate", write(tmp_path / "c.yaml", company), "-n", "20"])
    assert result.exit_code == 0, result.output


def test_money_of_no_value() -> None:
    from gpuplan.humanize import money

    assert money(None) == "-"
    assert money(math.inf) == "-"
    assert money(70e6) == "$70M"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (10**400, "integer of about 401 digits"),
        (1e308, "1e+308"),
        ("1" + "0" * 5000, "more than 4,300 digits"),
    ],
)
def test_integers_too_large_in_config_json(tmp_path: Path, value: Any, words: str) -> None:
    path = tmp_path / "config.json"
    text = json.dumps(CONFIG | {"num_hidden_layers": "X"}).replace('"X"', str(value))
    path.write_text(text, encoding="utf-8")
    fails(["estimate", "fleet", "--model", str(path), "--gpu", "h100",
           "--requests-per-second", "250"], words)  # fmt: skip


def test_integers_too_large_in_scenario_yaml(tmp_path: Path) -> None:
    text = yaml.safe_dump(small()).replace("1000000000.0", "1" + "0" * 5000)
    fails(["plan", write(tmp_path / "s.yaml", text)], "s.yaml", "more than 4,300 digits")
    text = yaml.safe_dump(small()).replace("1000000000.0", "1" + "0" * 400)
    fails(["plan", write(tmp_path / "s.yaml", text)], "inference.chat.tokens_per_day")


@pytest.mark.parametrize(
    "extra", [["--gpus", "1e30", "--years", "1e30"], ["--utilisation", "1e-30", "--years", "1e-30"]]
)
def test_tco_extreme_but_valid_numbers(extra: list[str]) -> None:
    result = runner.invoke(app, ["tco", "--gpu", "h100", "--country", "FR", "--json", *extra])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(name))
    assert payload["ownership"]["cost_per_gpu_hour"] > 0


def test_annuity_factors_at_the_limits() -> None:
    """CRF(r, n) tends to r for long lives and to 1/n for short ones; SFF to 0 and 1/n
    (hand limits of r(1+r)^n/((1+r)^n-1) and r/((1+r)^n-1))."""
    from gpuplan.economics.ownership import capital_recovery_factor, sinking_fund_factor

    assert capital_recovery_factor(0.08, 1e30) == pytest.approx(0.08)
    assert capital_recovery_factor(0.08, 1e-30) == pytest.approx(1e30, rel=0.05)
    assert sinking_fund_factor(0.08, 1e30) == 0.0
    assert capital_recovery_factor(0.08, 5) == pytest.approx(0.250456, rel=1e-5)
    assert sinking_fund_factor(0.08, 5) == pytest.approx(0.170456, rel=1e-5)


def test_largest_need_is_a_number(tmp_path: Path) -> None:
    """1e30 tokens/day at 1e30 GPUs per 1e9 tokens/day needs 1e51 GPUs: said as a number
    (once 'inf GPUs'), because every input is bounded by 1e30."""
    data = small(tokens_per_day=1e30, gpus_per_billion_tokens_per_day={"h100-sxm": 1e30})
    result = runner.invoke(app, ["plan", write(tmp_path / "s.yaml", data), "--json",
                                 "--no-baselines"])  # fmt: skip
    assert result.exit_code == 2
    (message,) = json.loads(result.stdout)["diagnosis"]
    assert "1e51 GPUs (inference.chat)" in message and "inf GPUs" not in message


@pytest.mark.parametrize(
    ("site", "rules", "field"),
    [
        ({"life_years": 1e30}, {}, "supply.ownership.0.life_years"),
        ({"lead_time_months": 1e30}, {}, "supply.ownership.0.lead_time_months"),
        ({}, {"lead_time_months": 1e29}, "rules.lead_time_months"),
    ],
)
def test_owned_life_and_lead_time_bounded(
    tmp_path: Path, site: dict[str, Any], rules: dict[str, Any], field: str
) -> None:  # regression: 'year 10000 is out of range' from a 1e30-month lead time
    owned = {"site": "paris", "country": "FR", "gpu": "h100-sxm"} | site
    data = small() | {"supply": {"ownership": [owned]}, "rules": rules}
    fails(["plan", write(tmp_path / "s.yaml", data), "--no-baselines"], field, "at most")


def test_custom_offer_term_bounded(tmp_path: Path) -> None:
    offer = {"provider": "Neo", "jurisdiction": "EU", "region": "paris", "country": "FR",
             "region_group": "EU", "gpu": "h100-sxm", "pricing_model": "contract",
             "term_months": 10**29, "price_per_gpu_hour": 2.0, "source": "a quote"}  # fmt: skip
    data = small() | {"supply": {"offers": [offer]}}
    fails(["plan", write(tmp_path / "s.yaml", data)], "supply.offers.0.term_months")


def test_empty_offers_option_names_the_option() -> None:
    fails(["catalog", "offers", "--offers", ""], "offers", "not a file")
    fails(["catalog", "import-skypilot", "nosuch.csv"], "vms_csv", "not a file")
    fails(["catalog", "import-skypilot", ""], "vms_csv", "not a file")


def test_compare_of_a_plan_company_without_months(tmp_path: Path) -> None:
    """compare does not solve plans: a company whose compute comes from a plan without its
    months is told so (once an IndexError when a price was given)."""
    data = small() | COMPANY
    data["company"] = dict(data["company"], compute={"plan": {"on_demand_price_per_gpu_hour": 2}})
    fails(["compare", write(tmp_path / "s.yaml", data)], "compute.plan.months")


def test_extends_naming_no_scenario_names_extends(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", small() | {"extends": "ß"})
    fails(["plan", path], "extends", "in s.yaml", "Unknown scenario file or preset 'ß'")
