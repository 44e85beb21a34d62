"""Scenario files, overrides, errors, the plan() API, the CLI, and the shipped examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from gpuplan.cli import app
from gpuplan.errors import InputError, UnknownIdError
from gpuplan.planning.adapters.tables import build_problem
from gpuplan.planning.api import plan, scenario_schema
from gpuplan.planning.checks import check_plan
from gpuplan.scenario.loading import load_scenario
from gpuplan.scenario.presets import list_presets

EXAMPLES = [
    "european-lab",
    "path-a-cloud-only",
    "path-b-own-inference",
    "path-c-hyperscaler-parent",
]
SLOW_EXAMPLES = {"european-lab", "path-a-cloud-only", "path-b-own-inference"}
"""Presets whose solve with baselines takes more than ~5 s of CPU: run by ``.ci/run`` only."""


def tiny(**changes: Any) -> dict[str, Any]:
    """A 4-quarter scenario with its own offers and GPU figures (no catalogs needed)."""
    data: dict[str, Any] = {
        "name": "tiny",
        "horizon": {"start": "2026-Q1", "periods": 4, "period": "quarter", "discount_rate": 0.0},
        "inference": [
            {
                "id": "chat-eu",
                "model": "mixtral-8x7b",
                "tokens_per_day": 10e9,
                "gpus": ["h100"],
                "residency": "EU",
                "sovereignty": "eu_operator",
                "gpus_per_billion_tokens_per_day": {"h100": 10},
            }
        ],
        "supply": {
            "builtin_offers": False,
            "price_trend": {"default": 0.0},  # flat prices, as the hand calculations assume
            "offers": [
                {"provider": "Nebius", "jurisdiction": "EU", "region": "eu-north1",
                 "country": "FI", "region_group": "EU", "gpu": "h100-sxm",
                 "pricing_model": "on_demand", "price_per_gpu_hour": 2.0,
                 "availability_gpus": 150, "source": "test"},
                {"provider": "AWS", "jurisdiction": "US", "region": "eu-north-1",
                 "country": "SE", "region_group": "EU", "gpu": "h100-sxm",
                 "pricing_model": "on_demand", "price_per_gpu_hour": 1.0, "source": "test"},
            ],
        },
        "overrides": {
            "data_only": {"inference.chat-eu.sovereignty": "eu_data"},
            "big": {"inference.chat-eu.tokens_per_day": 20e9},
            "discounted": {"horizon": {"discount_rate": 0.1}},
        },
    }  # fmt: skip
    data.update(changes)
    return data


def test_tiny_scenario_plan_matches_hand_calculation() -> None:
    # 100 GPUs (10e9 tokens/day x 10 per 1e9) from the EU-operator offer at $2/h for
    # 4 quarters of 2,190 h: 100 x 2 x 2,190 x 4 = 1,752,000 USD.
    result = plan(tiny())
    assert result.status == "optimal"
    assert result.npv_usd == pytest.approx(1_752_000.0, rel=1e-9)
    assert set(result.fleet.provider) == {"Nebius"}
    # Under eu_data the US-operated EU region at $1/h is allowed: half the cost.
    assert plan(tiny(), ["data_only"]).npv_usd == pytest.approx(876_000.0, rel=1e-9)
    # A nested-mapping override merges: 10 %/year, quarterly payments at the start.
    expected = sum(438_000.0 * 1.1 ** (-q / 4) for q in range(4))
    assert plan(tiny(), ["discounted"]).npv_usd == pytest.approx(expected, rel=1e-9)


def test_tiny_infeasible_scenario_names_workload_period_rule_and_shortfall() -> None:
    result = plan(tiny(), ["big"])
    assert result.status == "infeasible"
    first = result.diagnosis.iloc[0]
    assert (first.workload, first.period) == ("chat-eu", "2026-Q1")
    assert "eu_operator" in first.rule
    assert first.shortfall == pytest.approx(50.0, rel=1e-6)
    assert "needs 200 h100-sxm-equivalent GPUs" in first.message
    assert "shared with the other workloads" not in first.message  # the only workload
    assert "can supply 150" in first.message


def test_typo_names_field_and_nearest_valid_name() -> None:
    data = tiny()
    data["inference"][0]["peek_factor"] = 2.0
    with pytest.raises(InputError) as error:
        load_scenario(data)
    assert error.value.field == "inference.chat-eu.peek_factor"
    assert "Did you mean 'peak_factor'?" in str(error.value)


def test_unknown_ids_name_the_field_and_suggest() -> None:
    data = tiny()
    data["inference"][0]["gpus"] = ["h100-sxn"]
    with pytest.raises(InputError) as error:
        build_problem(load_scenario(data))
    assert error.value.field == "inference.chat-eu.gpus" and "h100-sxm" in str(error.value)
    with pytest.raises(UnknownIdError, match="data_only"):
        load_scenario(tiny(), ["data_onyl"])
    data = tiny(rules={"excluded_providers": ["Nebiuss"]})
    with pytest.raises(InputError, match="Nebius"):
        build_problem(load_scenario(data))


def test_tokens_csv_is_read_relative_to_the_yaml(tmp_path: Path) -> None:
    import yaml

    (tmp_path / "volumes.csv").write_text("from,tokens_per_day\n2026-01,5e9\n2026-07,10e9\n")
    data = tiny()
    del data["inference"][0]["tokens_per_day"]
    data["inference"][0]["csv"] = "volumes.csv"
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    problem = build_problem(load_scenario(tmp_path / "s.yaml"))
    assert problem.inference[0].gpus["h100-sxm"] == (50.0, 50.0, 100.0, 100.0)


def test_schema_has_descriptions_and_forbids_extra_fields() -> None:
    schema = scenario_schema()
    horizon = schema["$defs"]["Horizon"]
    assert horizon["additionalProperties"] is False
    assert "month or quarter" in horizon["properties"]["period"]["description"]


def test_cli_plan_json_and_infeasible_exit(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny()))
    runner = CliRunner()
    ok = runner.invoke(app, ["plan", str(path), "--json", "--no-baselines"])
    assert ok.exit_code == 0, ok.output
    payload = json.loads(ok.output)
    assert payload["status"] == "optimal"
    assert payload["npv_usd"] == pytest.approx(1_752_000.0)
    assert {"period", "provider", "region", "country", "gpu", "mode", "gpus"} <= set(
        payload["fleet"][0]
    )
    bad = runner.invoke(app, ["plan", str(path), "--override", "big"])
    assert bad.exit_code == 2
    assert "chat-eu" in bad.output and "Shortfall: 50" in bad.output
    schema = runner.invoke(app, ["schema"])
    assert schema.exit_code == 0 and json.loads(schema.output)["title"] == "Scenario"


def test_examples_are_shipped() -> None:
    assert set(EXAMPLES) <= set(list_presets())


@pytest.fixture(
    params=[
        pytest.param(name, marks=pytest.mark.slow) if name in SLOW_EXAMPLES else name
        for name in EXAMPLES
    ]
)
def example(request: pytest.FixtureRequest, planned: Any) -> tuple[str, Any]:
    return request.param, planned(request.param)


def test_example_optimal_is_never_dearer_than_a_baseline_and_passes_checks(
    example: tuple[str, Any],
) -> None:
    name, result = example
    assert result.status == "optimal", result.messages
    feasible = result.baselines[result.baselines.status != "infeasible"]
    assert (feasible.npv_usd >= result.npv_usd * (1 - 1e-6)).all(), name
    infeasible = result.baselines[result.baselines.status == "infeasible"]
    assert all("needs" in str(why) for why in infeasible.why_infeasible), name
    assert check_plan(result.problem, result.solution) == []
    np.testing.assert_allclose(result.cost_by_category.usd.sum(), result.total_cost_usd)
