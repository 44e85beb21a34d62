"""Bad input on every command: exit status 2, one 'Error:' paragraph naming the field, no
traceback, and no silently wrong number (the brief's rule). Cases that once crashed or passed
silently are marked 'regression'; the others are a representative set of what already held."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from gpuplan.cli import app
from gpuplan.errors import CatalogError, InputError

runner = CliRunner()

SMALL = {
    "name": "small",
    "horizon": {"start": "2026-Q1", "periods": 2, "period": "quarter"},
    "inference": [
        {
            "id": "chat",
            "model": "mixtral-8x7b",
            "tokens_per_day": 1.0e9,
            "gpus": ["h100-sxm"],
            "residency": "EU",
        }
    ],
}
"""A scenario that solves in milliseconds: one EU inference workload over two quarters."""

COMPANY = {
    "company": {
        "name": "Lab",
        "start": "2025-01",
        "horizon_months": 24,
        "opening_cash": 1.0e8,
        "operating": {"rd_operations_per_year": 1.0e7},
    }
}

CONFIG = {
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "vocab_size": 32000,
}
"""A Llama-style config.json (Mistral 7B shapes)."""


def fails(args: list[str], *fields: str) -> str:
    """Run the CLI, check the bad-input contract and return the message."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: "), result.output
    for field in fields:
        assert field in result.output, (field, result.output)
    return result.output


def scenario_file(tmp_path: Path, change: dict[str, Any] | None = None, **workload: Any) -> str:
    """SMALL with top-level ``change`` and ``workload`` fields of its one workload changed."""
    data = copy.deepcopy(SMALL) | (change or {})
    if workload:
        data["inference"][0].update(workload)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def offer_row(**change: str) -> str:
    row = {
        "provider": "Lambda",
        "provider_hq_jurisdiction": "US",
        "instance_type": "gpu_8x_h100_sxm5",
        "region": "us-east-1",
        "country": "US",
        "region_group": "US",
        "gpu": "h100-sxm",
        "gpus_per_instance": "8",
        "pricing_model": "on_demand",
        "price_per_gpu_hour": "2.5",
        "currency": "USD",
        "as_of": "2025-06-01",
        "source": "test row",
    } | change
    return ",".join(row) + "\n" + ",".join(row.values()) + "\n"


# ---- catalogs and user CSVs ------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\xff\xfeprovider\n", ("offers.csv", "not UTF-8")),  # regression: traceback
        (b"", ("offers.csv", "is empty")),  # regression: silently ignored
        (offer_row().split("\n")[0].encode() + b"\n", ("offers.csv", "no offer rows")),
        (offer_row(price_per_gpu_hour="inf").encode(), ("price_per_gpu_hour", "finite")),
        (offer_row(price_per_gpu_hour="-2").encode(), ("line 2", "price_per_gpu_hour")),
        (offer_row(gpu="h999").encode(), ("line 2", "gpu", "Unknown GPU")),
        (offer_row(pricing_model="weekly").encode(), ("line 2", "pricing_model")),
        (offer_row(country="France").encode(), ("line 2", "country", "ISO 3166")),
        (b"a,b\n1,2\n", ("line 2", "provider: Field required")),
    ],
)
def test_malformed_user_offer_csv(tmp_path: Path, content: bytes, words: tuple[str, ...]) -> None:
    csv_path = tmp_path / "offers.csv"
    csv_path.write_bytes(content)
    fails(["catalog", "offers", "--offers", str(csv_path)], *words)
    with pytest.raises(CatalogError):
        from gpuplan.catalog.offers import load_offers

        load_offers(csv_path)


def test_offer_csv_that_is_a_folder(tmp_path: Path) -> None:  # regression: traceback
    fails(["catalog", "offers", "--offers", str(tmp_path)], str(tmp_path), "not a file")


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--gpu", "h999", "Unknown GPU"),
        ("--region-group", "MARS", "region group"),
        ("--pricing", "weekly", "pricing model"),
        ("--provider", "nobody", "provider"),
        ("--country", "France", "country"),  # regression: silently 0 offers
    ],
)
def test_offer_filters(option: str, value: str, field: str) -> None:
    fails(["catalog", "offers", option, value], field)


def test_skypilot_import_bad_files(tmp_path: Path) -> None:
    binary = tmp_path / "vms.csv"
    binary.write_bytes(b"\xff\xfe")
    fails(["catalog", "import-skypilot", str(binary)], "not UTF-8")  # regression
    good = tmp_path / "good.csv"
    good.write_text(
        "InstanceType,AcceleratorName,AcceleratorCount,Price,SpotPrice,Region\n"
        "p5.48xlarge,H100,8,98.32,,us-east-1\n",
        encoding="utf-8",
    )
    fails(  # regression: traceback on an unwritable output path
        ["catalog", "import-skypilot", str(good), "-o", str(tmp_path / "no" / "out.csv")],
        "output",
    )
    fails(["catalog", "import-skypilot", str(good), "--provider", "nobody"], "provider")


def test_audit_thresholds() -> None:
    fails(["catalog", "audit", "--outlier-factor", "0.5"], "outlier_factor")
    fails(["catalog", "audit", "--max-age-days", "-5"], "max_age_days")


# ---- estimates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hidden_size": "big"}, "hidden_size"),  # regression: traceback
        ({"hidden_size": 4096.5}, "hidden_size"),  # regression: silently truncated
        ({"num_hidden_layers": -3}, "num_hidden_layers"),
        ({"num_key_value_heads": 5}, "num_key_value_heads"),
        ({"hidden_size": None}, "hidden_size"),
    ],
)
def test_bad_config_json(tmp_path: Path, change: dict[str, Any], field: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(CONFIG | change), encoding="utf-8")
    fails(["estimate", "training", "--model", str(path), "--tokens", "1T", "--gpu", "h100"], field)


def test_config_json_nan_and_encoding(tmp_path: Path) -> None:  # regression: tracebacks
    path = tmp_path / "config.json"
    path.write_text(json.dumps(CONFIG).replace("4096", "NaN"), encoding="utf-8")
    fails(["estimate", "inference", "--model", str(path), "--gpu", "h100"], "hidden_size")
    path.write_bytes(b"\xff\xfe{}")
    fails(["estimate", "inference", "--model", str(path), "--gpu", "h100"], "model", "UTF-8")
    from gpuplan.compute.hf_config import architecture_from_hf_config

    with pytest.raises(InputError, match="hidden_size"):
        architecture_from_hf_config(CONFIG | {"hidden_size": "big"})


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["training", "--model", "mixtral-8x7b", "--tokens", "nan", "--gpu", "h100"], "tokens"),
        (["training", "--model", "mixtral-8x7b", "--tokens", "-5T", "--gpu", "h100"], "tokens"),
        (["training", "--model", "nosuch", "--tokens", "8T", "--gpu", "h100"], "Unknown model"),
        (
            [
                "training",
                "--model",
                "mixtral-8x7b",
                "--tokens",
                "8T",
                "--gpu",
                "h100",
                "--gpus",
                "1",
            ],
            "gpus",
        ),
        (["implied", "--gpu", "h800"], "gpu_hours"),
        (["inference", "--model", "mixtral-8x7b", "--gpu", "h100", "--tp", "3"], "tp"),
        (
            ["inference", "--model", "mixtral-8x7b", "--gpu", "h100", "--precision", "fp4"],
            "precision",
        ),
        (
            [
                "fleet",
                "--model",
                "mistral-large-2",
                "--gpu",
                "h200",
                "--tokens-per-day",
                "20B",
                "--peak-factor",
                "0.5",
            ],
            "peak_factor",
        ),
    ],
)
def test_estimate_inputs(args: list[str], field: str) -> None:
    fails(["estimate", *args], field)


def test_search_precision() -> None:  # regression: said the model "does not fit"
    fails(["search", "deployments", "--model", "mixtral-8x7b", "--precision", "int3"], "precision")
    fails(
        ["search", "deployments", "--model", "mixtral-8x7b", "--gpu", "a100-40gb",
         "--precision", "fp8"],
        "precision", "a100-40gb",
    )  # fmt: skip
    fails(["search", "deployments", "--model", "mixtral-8x7b", "--price", "h100=-2"], "price")


def test_tco_inputs() -> None:
    fails(["tco", "--gpu", "h100", "--country", "FR", "--gpus", "1.5"], "gpus")  # regression
    fails(["tco", "--gpu", "h100", "--country", "ZZ"], "country")
    fails(["tco", "--gpu", "h100", "--country", "FR", "--utilisation", "70"], "utilisation")
    fails(["tco", "--gpu", "l40s", "--country", "US"], "owned accelerator")  # mi300x has data now
    fails(["tco", "--gpu", "h100", "--country", "DE", "--provider-jurisdiction", "Mars"], "Mars")
    fails(["tco", "--gpu", "h100", "--country", "DE", "--offer-country", "PT"], "No current")
    fails(["--as-of", "2019-01-01", "tco", "--gpu", "h100", "--country", "DE"], "as_of")


# ---- scenario files and plans ----------------------------------------------------------


def test_scenario_file_problems(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"\xff\xfename: x\n")
    fails(["plan", str(path)], "s.yaml", "UTF-8")  # regression: traceback
    fails(["plan", str(tmp_path)], "scenario", "folder")
    path.write_text("name: x\n  horizon: [\n", encoding="utf-8")
    fails(["plan", str(path)], "s.yaml", "not valid YAML")
    path.write_text("- a\n- b\n", encoding="utf-8")
    fails(["plan", str(path)], "s.yaml", "mapping")
    path.write_text("extends: s.yaml\nname: x\n", encoding="utf-8")
    fails(["plan", str(path)], "extends")
    path.write_text("extends: nosuch-preset\nname: x\n", encoding="utf-8")
    fails(["plan", str(path)], "nosuch-preset")
    fails(["plan", scenario_file(tmp_path), "-o", "nosuch"], "override")


@pytest.mark.parametrize(
    ("change", "workload", "fields"),
    [
        ({"horizn": {}}, {}, ("horizn", "Did you mean 'horizon'")),
        ({}, {"tokens_per_dya": 1}, ("inference.chat.tokens_per_dya", "tokens_per_day")),
        ({}, {"tokens_per_day": float("nan")}, ("inference.chat.tokens_per_day", "finite")),
        ({}, {"tokens_per_day": float("inf")}, ("inference.chat.tokens_per_day", "finite")),
        ({}, {"tokens_per_day": "lots"}, ("inference.chat.tokens_per_day",)),  # 15T is valid
        ({}, {"tokens_per_day": {"low": 2, "high": 1, "shape": "uniform"}}, ("swap them",)),
        ({}, {"tokens_per_day": {"low": 1, "high": 2, "shape": "gaussian"}}, ("shape",)),
        ({}, {"gpus": "h100-sxm"}, ("inference.chat.gpus",)),
        ({}, {"gpus": ["h999"]}, ("inference.chat.gpus", "Unknown GPU")),
        ({}, {"precision": "int3"}, ("inference.chat", "precision")),
        ({}, {"peak_factor": 0.5}, ("inference.chat", "peak_factor")),
        ({"inference": {"id": "chat"}}, {}, ("inference",)),
        ({"horizon": {"start": "2026-13", "periods": 2}}, {}, ("horizon.start",)),
        (
            {"horizon": {"start": "2026-Q1", "periods": 2, "discount_rate": 12}},
            {},
            ("horizon.discount_rate", "0.12"),
        ),
        ({"rules": {"excluded_countries": ["France"]}}, {}, ("rules.excluded_countries",)),
        ({"rules": {"excluded_countries": ["PT"]}}, {}, ("rules.excluded_countries", "PT")),
        ({"supply": {"providers": ["nobody"]}}, {}, ("supply.providers",)),
        ({"supply": {"offers_csv": "nosuch.csv"}}, {}, ("supply.offers_csv",)),
        ({"overrides": {"bad": 5}}, {}, ("overrides.bad",)),
        (
            {
                "training": [
                    {
                        "id": "run",
                        "model": "mixtral-8x7b",
                        "tokens": 1e12,
                        "gpus": ["h100-sxm"],
                        "earliest_start": "2026-06",
                        "deadline": "2026-03",
                    }
                ]
            },
            {},
            ("deadline is before earliest_start",),
        ),
    ],
)
def test_bad_scenarios(
    tmp_path: Path, change: dict[str, Any], workload: dict[str, Any], fields: tuple[str, ...]
) -> None:
    fails(["plan", scenario_file(tmp_path, change, **workload), "--no-baselines"], *fields)


def test_override_naming_a_missing_path(tmp_path: Path) -> None:
    change = {"overrides": {"bad": {"inference.nochat.tokens_per_day": 1}}}
    fails(["plan", scenario_file(tmp_path, change), "-o", "bad"], "overrides.bad", "chat")


def test_tokens_csv_with_a_bad_row(tmp_path: Path) -> None:  # regression: pydantic dump
    (tmp_path / "volumes.csv").write_text("from,tokens_per_day\n2026-01,abc\n", encoding="utf-8")
    path = scenario_file(tmp_path, tokens_per_day=None, csv="volumes.csv")
    message = fails(["plan", path, "--no-baselines"], "inference.chat.csv", "line 2")
    assert "validation error" not in message


def test_demand_no_allowed_offer_can_serve(tmp_path: Path) -> None:  # regression: traceback
    path = scenario_file(tmp_path, residency="ME")
    fails(["plan", path, "--no-baselines"], "infeasible", "ME inference demand", "chat")


def test_solver_failure_is_explained(tmp_path: Path) -> None:  # regression: empty message
    path = scenario_file(tmp_path, tokens_per_day=1.0e30)
    fails(["plan", path, "--no-baselines"], "infeasible", "inference.chat", "tokens_per_day")


def test_zero_demand_plans_nothing(tmp_path: Path) -> None:  # regression: traceback
    result = runner.invoke(app, ["plan", scenario_file(tmp_path, tokens_per_day=0), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["status"] == "optimal"
    assert payload["npv_usd"] == 0.0


def test_excluded_countries_are_case_insensitive(tmp_path: Path) -> None:  # regression
    from gpuplan.planning.adapters.tables import build_problem
    from gpuplan.scenario.loading import load_scenario

    scenario = copy.deepcopy(SMALL) | {"rules": {"excluded_countries": ["fr"]}}
    options = build_problem(load_scenario(scenario)).options
    assert options and all(o.country != "FR" for o in options)
    assert any(o.country == "FR" for o in build_problem(load_scenario(SMALL)).options)


# ---- company finances ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"opening_cash": float("nan")}, ("company.opening_cash", "finite")),  # regression
        ({"opening_cash": float("inf")}, ("company.opening_cash", "finite")),  # regression
        ({"opening_cash": -5}, ("company.opening_cash",)),
        ({"opening_cahs": 5}, ("company.opening_cahs", "Did you mean 'opening_cash'")),
        ({"start": "2025-13"}, ("company.start", "YYYY-MM")),
        ({"people": {"location": "x"}}, ("company.people",)),
        ({"funding": [{"month": "2026-01", "amount": 1e8}]}, ("company.funding[0]", "kind")),
        (
            {"funding": [{"kind": "equity", "month": "2024-01", "amount": 1e8}]},
            ("funding[0].month", "before the horizon start"),
        ),
    ],
)
def test_bad_company(tmp_path: Path, change: dict[str, Any], fields: tuple[str, ...]) -> None:
    data = copy.deepcopy(COMPANY)
    data["company"].update(change)
    path = tmp_path / "company.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    fails(["simulate", str(path), "-n", "10"], *fields)
    fails(["compare", str(path)], *fields)


def test_simulate_options(tmp_path: Path) -> None:
    path = tmp_path / "company.yaml"
    path.write_text(yaml.safe_dump(COMPANY), encoding="utf-8")
    fails(["simulate", str(path), "-n", "1.5"], "samples")  # regression: silently 1
    fails(["simulate", str(path), "-n", "1e12"], "samples")  # regression: MemoryError
    fails(["simulate", str(path), "-n", "10", "--seed", "-1"], "seed")  # regression
    fails(["simulate", str(path), "--sobol", "--sobol-samples", "3"], "sobol_samples")
    fails(["simulate", scenario_file(tmp_path)], "company")
    fails(["compare", "mistral", "nosuch"], "nosuch")
