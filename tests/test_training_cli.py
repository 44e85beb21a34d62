"""`gpuplan estimate training|implied|portfolio` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gpuplan.cli import app

runner = CliRunner()


def run_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_training_json_has_the_documented_keys() -> None:
    payload = run_json(
        "estimate",
        "training",
        "--model",
        "mistral-7b",
        "--tokens",
        "8T",
        "--gpu",
        "H100",
        "--gpus",
        "1024",
        "--price-per-gpu-hour",
        "2.5",
    )
    for key in (
        "training_flops",
        "gpu_hours",
        "gpu_hours_p10",
        "gpu_hours_p90",
        "mfu",
        "wall_clock_days",
        "min_gpus_for_memory",
        "cost_usd",
    ):
        assert payload[key] is not None, key
    hours = payload["gpu_hours"]
    assert isinstance(hours, float)
    assert payload["wall_clock_days"] == pytest.approx(hours / 1024 / 24)
    assert payload["cost_usd"] == pytest.approx(hours * 2.5)


@pytest.mark.parametrize("tokens", ["15e12", "15T", "15_000_000_000_000"])
def test_number_formats_agree(tokens: str) -> None:
    payload = run_json(
        "estimate", "training", "--params", "7B", "--tokens", tokens, "--gpu", "a100"
    )
    assert payload["training_flops"] == pytest.approx(6 * 7e9 * 15e12)
    assert payload["wall_clock_days"] is None and payload["cost_usd"] is None


def test_table_output_and_config_path(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "vocab_size": 32000,
                "hidden_size": 4096,
                "intermediate_size": 11008,
                "num_hidden_layers": 32,
                "num_attention_heads": 32,
            }
        )
    )
    result = runner.invoke(
        app, ["estimate", "training", "--model", str(config), "--tokens", "2T", "--gpu", "a100"]
    )
    assert result.exit_code == 0, result.output
    assert "GPU-hours" in result.stdout and "P90" in result.stdout


def test_implied_and_portfolio() -> None:
    implied = run_json(
        "estimate", "implied", "--gpu-hours", "1.2M", "--gpu", "h100", "--model", "mistral-7b"
    )
    assert implied["tokens_p10"] < implied["tokens"] < implied["tokens_p90"]  # type: ignore[operator]
    portfolio = run_json("estimate", "portfolio")
    runs = portfolio["runs"]
    assert isinstance(runs, list) and len(runs) == 9
    assert {r["tokens_status"] for r in runs} == {"assumption"}
    assert all(r["gpu"] == "h100-sxm" and r["cost_usd"] > 0 for r in runs)
    table = runner.invoke(app, ["estimate", "portfolio"])
    assert table.exit_code == 0 and "mixtral-8x22b" in table.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--params", "7B", "--tokens", "0", "--gpu", "h100"], "tokens"),
        (["--params", "-7B", "--tokens", "1T", "--gpu", "h100"], "params"),
        (["--params", "seven", "--tokens", "1T", "--gpu", "h100"], "params"),
        (["--params", "7B", "--tokens", "lots", "--gpu", "h100"], "tokens"),
        (
            ["--model", "mistral-7b", "--tokens", "1T", "--gpu", "h100", "--precision", "fp4"],
            "precision",
        ),
        (["--model", "mistral-7b", "--tokens", "1T", "--gpu", "h1OO"], "Did you mean"),
        (["--model", "mistrall-7b", "--tokens", "1T", "--gpu", "h100"], "mistral-7b"),
        (["--model", "mistral-large-2", "--tokens", "1T", "--gpu", "h100", "--gpus", "8"], "gpus"),
    ],
)
def test_bad_input_exits_2_with_one_message(args: list[str], expected: str) -> None:
    result = runner.invoke(app, ["estimate", "training", *args])
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output


def test_config_missing_a_key_names_it(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"vocab_size": 32000, "hidden_size": 4096}))
    result = runner.invoke(
        app, ["estimate", "training", "--model", str(config), "--tokens", "1T", "--gpu", "h100"]
    )
    assert result.exit_code == 2
    assert "num_attention_heads" in result.output or "num_hidden_layers" in result.output
    assert "Traceback" not in result.output


def test_table_shows_the_band_in_hours_days_and_money() -> None:
    """Human numbers: tokens as 15T, GPU-hours with a suffix, money as $...M, days."""
    result = runner.invoke(
        app,
        ["estimate", "training", "--model", "llama-3-70b", "--tokens", "15T", "--gpu", "h100",
         "--gpus", "2048", "--price-per-gpu-hour", "2.5", "--scope", "pretraining"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "15T tokens" in out and "1.5e+13" not in out
    for row in ("GPU-hours", "Wall clock", "Cost"):
        line = next(x for x in out.splitlines() if row in x)
        assert line.count("M") >= 3 or "days" in line, line  # P10, P50, P90 all filled
    assert "$" in out and "days" in out and "covers: pretraining" in out


def test_bad_scope_is_exit_2() -> None:
    result = runner.invoke(
        app, ["estimate", "training", "--params", "7B", "--tokens", "1T", "--gpu", "h100",
              "--scope", "everything"],
    )  # fmt: skip
    assert result.exit_code == 2 and "scope" in result.output
