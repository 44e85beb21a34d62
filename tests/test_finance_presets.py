"""Presets, the report's scenarios, compare, check-report and the finance CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gpuplan.cli import app
from gpuplan.economics.cashflow import cash_flow
from gpuplan.economics.compare import compare_presets
from gpuplan.errors import UnknownIdError
from gpuplan.presets import (
    ARCHETYPES,
    list_presets,
    load_company,
    read_scenario,
    resolve_scenario_path,
)
from gpuplan.report.check_report import check_report

runner = CliRunner()


def test_every_preset_loads_and_every_range_has_a_source() -> None:
    from gpuplan.uncertainty.sampling import uncertain_inputs

    assert set(ARCHETYPES) <= set(list_presets())
    with_company = [name for name in list_presets() if "company" in read_scenario(name)]
    assert set(ARCHETYPES) <= set(with_company)
    for name in with_company:
        spec = load_company(name)
        for path, dist in uncertain_inputs(spec).items():
            assert dist.source, f"{name}: {path} has no source"


def test_resolver_takes_a_path_or_a_preset_name(tmp_path: Path) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text("company: {}\n")
    assert resolve_scenario_path(own) == own
    assert resolve_scenario_path("mistral").name == "mistral.yaml"
    with pytest.raises(UnknownIdError, match="Did you mean 'mistral'"):
        resolve_scenario_path("mistrall")


def test_report_runway_scenario_2_by_hand() -> None:
    """$640M, costs $380M/year, revenue at its mean $105M: net burn $275M/year, so cash runs
    out after 640 / 275 x 12 = 27.93 months."""
    flow = cash_flow(load_company("report-runway-2"))
    assert flow.runway_months[0] == pytest.approx(640 / 275 * 12)


def test_compare_computes_every_numeric_cell() -> None:
    table = compare_presets(list(ARCHETYPES))
    assert table["presets"][0] == "Mistral AI"
    numeric = [row for row in table["rows"] if row["kind"] == "computed"]
    assert {row["key"] for row in numeric} >= {"scale", "funding", "annual_cost", "capex", "team"}
    for row in numeric:
        for name, cell in row["values"].items():
            assert cell["text"], (row["key"], name)
            if row["key"] in {"scale", "annual_cost", "capex", "team"}:
                assert cell["low"] is not None and cell["high"] >= cell["low"]
    rows = {row["key"]: row["values"] for row in table["rows"]}
    # Mistral: $20M-$50M training + $50M-$150M inference (§5.2) over its first year, which
    # grows 20-60%/year: above $70M-$200M; team 400-600 (§5.3) exactly.
    assert rows["team"]["mistral"]["text"] == "400-600"
    assert rows["capex"]["mistral"]["text"] == "$0"
    # xAI: 200K H100 x $35-50K + 30K GB200 x $50-70K + 400-550K GB300 x $50-70K.
    low = 200e3 * 35e3 + 30e3 * 50e3 + 400e3 * 50e3
    high = 200e3 * 50e3 + 30e3 * 70e3 + 550e3 * 70e3
    assert (rows["capex"]["xai"]["low"], rows["capex"]["xai"]["high"]) == pytest.approx((low, high))


def test_compare_flags_every_gap_with_its_reason_and_dates_each_column() -> None:
    table = compare_presets(list(ARCHETYPES))
    rows = {row["key"]: row for row in table["rows"]}
    for row in table["rows"]:
        for name, cell in row["values"].items():
            if row["kind"] == "text":  # the report's words only, never mixed with a number
                assert set(cell) == {"text"}, (row["key"], name)
            elif cell.get("flag"):
                assert cell["flag"]["reason"] != "no reason recorded", (row["key"], name)
    openai = {key: row["values"]["openai"] for key, row in rows.items()}
    # year 2025: owned 80-100K H100 all year + 250-400K Stargate GB200 for 3 of 12 months
    # (62.5-100K), rented 100-140K: 142.5 / 242.5 = 58.8% and 200 / 340 = 58.8%, not 40%
    assert openai["owned_share"]["low"] == pytest.approx(100 * 142.5 / 242.5, rel=1e-3)
    assert openai["owned_share"]["flag"]["difference"] == "low +18.8 pt, high +18.8 pt"
    assert "Stargate" in openai["owned_share"]["flag"]["reason"]
    assert openai["infrastructure"]["text"] == "Hybrid (40% own + multi-cloud)"
    # $10B to 2024 + $10B (2025-04) + $30B (2025-12): $50B = +400% on "$10B+"; the second
    # tranche is dated after the report (2025-11-29)
    assert openai["funding"]["flag"]["difference"] == "low +400%, high +400%"
    assert "after the report's date (2025-11-29)" in openai["funding"]["flag"]["reason"]
    assert openai["as_of"]["text"] == "2025-12"
    # Mistral's scale is what its own spend rents: the report's 10K-50K is flagged as such
    assert "gpu-scale-vs-spend" in rows["scale"]["values"]["mistral"]["flag"]["reason"]
    assert rows["team"]["values"]["mistral"]["flag"] is None  # 400-600 both


def test_check_report_gives_every_figure_a_verdict() -> None:
    rows = {row["id"]: row for row in check_report()}
    assert all(
        row["verdict"] in {"consistent", "inconsistent", "contradicted"} for row in rows.values()
    )
    # 200,000 GPU-hours x $2-2.5 = $400K-$500K, not $400K-$450K (§2.1)
    assert rows["mistral-7b-training-cost"]["recomputed"] == pytest.approx([400e3, 500e3])
    assert rows["mistral-7b-training-cost"]["verdict"] == "inconsistent"
    assert "no traceable primary source" in rows["mistral-7b-training-cost"]["note"]
    # runway 640/100 = 6.4 and 640/60 = 10.67 years; 640/320 = 2.0 and 640/230 = 2.78 years
    assert rows["runway-scenario-1"]["recomputed"] == pytest.approx([6.4, 640 / 60], rel=1e-3)
    assert rows["runway-scenario-2"]["recomputed"] == pytest.approx([2.0, 640 / 230], rel=1e-3)
    # break-even revenue $200M / 50% and / 40%
    assert rows["break-even-revenue"]["recomputed"] == pytest.approx([400e6, 500e6])
    assert rows["gross-margin"]["recomputed"] == pytest.approx(
        [100 * (1 - 1 / 3), 100 * (1 - 0.5 / 9)]
    )
    assert rows["capital-ratio"]["recomputed"][0] == pytest.approx(50e9 / 640e6)
    assert rows["total-burn"]["recomputed"] == pytest.approx([160e6, 380e6])


def test_cli_simulate_json_has_the_agreed_keys() -> None:
    result = runner.invoke(app, ["simulate", "mistral", "--samples", "2k", "--seed", "1", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["samples"] == 2000
    assert set(payload["runway_months"]) == {"p10", "p50", "p90"}
    assert "break_even_month" in payload and "break_even_share" in payload
    assert payload["prob_cash_out_by_year"][0]["through"] == "2025-12"
    assert set(payload["tornado"][0]) >= {
        "input",
        "low_value",
        "high_value",
        "runway_low",
        "runway_high",
    }


def test_cli_compare_and_check_report_run() -> None:
    result = runner.invoke(app, ["compare", *ARCHETYPES])
    assert result.exit_code == 0, result.output
    assert "report: $70M-$200M" in result.output
    assert "DIFFERS" in result.output
    result = runner.invoke(app, ["check-report"])
    assert result.exit_code == 0, result.output
    assert "figures consistent" in result.output
    assert "contradicted" in result.output
    result = runner.invoke(app, ["check-report", "--json"])
    payload = json.loads(result.output)
    quoted = [row for row in payload["figures"] if row["quotes"]]
    assert quoted and all({"section", "text"} <= set(q) for r in quoted for q in r["quotes"])


def test_cli_bad_scenario_is_one_paragraph_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "company:\n  name: x\n  start: '2025-01'\n  horizon_months: 12\n  opening_cash: 1\n"
        "  revenue:\n    api:\n      - {name: a, tokens_per_day: 1, price_per_million: -3}\n"
    )
    result = runner.invoke(app, ["simulate", str(bad)])
    assert result.exit_code == 2
    assert "company.revenue.api[0].price_per_million" in result.output
    assert "Traceback" not in result.output


def test_planned_compute_buys_the_shortfall_on_demand() -> None:
    """Plan: 1,000 GPU-hours of capacity, demand 1,000 x scale; committed $5,000. At scale
    1.5 the shortfall is 500 GPU-hours x $4 = $2,000 on top."""
    from gpuplan.presets import company_from_mapping
    from gpuplan.uncertainty.montecarlo import evaluate_at

    spec = company_from_mapping(
        {
            "name": "Planned",
            "start": "2025-01",
            "horizon_months": 1,
            "opening_cash": 0,
            "compute": {
                "plan": {
                    "months": [
                        {
                            "month": "2025-01",
                            "committed_cost": 5000,
                            "capacity_gpu_hours": 1000,
                            "demand_gpu_hours": 1000,
                        }
                    ],
                    "demand_scale": {"low": 0.5, "high": 1.5, "shape": "uniform"},
                    "on_demand_price_per_gpu_hour": 4,
                    "inference_share": 1.0,
                }
            },
        }
    )
    flow = evaluate_at(
        spec, [{"compute.plan.demand_scale": 0.8}, {"compute.plan.demand_scale": 1.5}]
    )
    assert flow.cost_of_revenue[:, 0] == pytest.approx([5000, 7000])


def test_verdict_compares_ends_and_accepts_a_point_inside_an_uncertain_range() -> None:
    from gpuplan.economics.ranges import verdict

    assert verdict((100.0, 200.0), (105.0, 190.0), "USD", 0.1) == (True, "low +5%, high -5%")
    assert verdict((100.0, 200.0), (100.0, 250.0), "USD", 0.1)[0] is False
    assert verdict((200.0, 200.0), (80.0, 330.0), "GPU-hours", 0.1) == (
        True,
        "inside the recomputed range",
    )
    assert verdict((200.0, 200.0), (250.0, 330.0), "GPU-hours", 0.1)[0] is False
