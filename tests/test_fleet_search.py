"""Fleet sizing and deployment search: whole replicas, utilisation, ranking, CLI errors."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from gpuplan.catalog.gpus import get_gpu
from gpuplan.catalog.models import ModelEntry
from gpuplan.cli import app
from gpuplan.compute.deployment_search import search_deployments
from gpuplan.compute.fleet import estimate_fleet
from gpuplan.compute.hf_config import architecture_from_hf_config
from gpuplan.compute.serving_config import tensor_parallel_options
from gpuplan.errors import InfeasibleError, InputError

runner = CliRunner()


def test_fleet_whole_replicas_for_the_peak() -> None:
    fleet = estimate_fleet(
        "mistral-7b",
        "h100",
        tokens_per_day=50e9,
        peak_factor=2.0,
        input_tokens=1000,
        output_tokens=250,
        max_tpot_ms=50,
        price_per_gpu_hour=2.0,
    )
    # 50e9 tokens/day / 1,250 tokens per request / 86,400 s = 462.96 requests/s on average.
    assert fleet.requests_per_second_average == pytest.approx(50e9 / 1250 / 86400)
    capacity = fleet.serving.requests_per_second_per_replica
    assert fleet.replicas == math.ceil(2 * fleet.requests_per_second_average / capacity)
    assert fleet.gpus == fleet.replicas * fleet.tensor_parallel
    assert fleet.utilisation == pytest.approx(
        fleet.requests_per_second_average / (fleet.replicas * capacity)
    )
    assert fleet.cost_per_day_usd == pytest.approx(fleet.gpus * 24 * 2.0)
    assert fleet.cost_per_million_tokens == pytest.approx(fleet.cost_per_day_usd / 50e3)


def test_fleet_needs_one_demand() -> None:
    with pytest.raises(InputError, match="exactly one"):
        estimate_fleet("mistral-7b", "h100")
    with pytest.raises(InputError, match="peak_factor"):
        estimate_fleet("mistral-7b", "h100", tokens_per_day=1e9, peak_factor=0.5)


def test_search_ranks_by_cost_and_meets_the_target() -> None:
    result = search_deployments("llama-2-70b", max_tpot_ms=50, top=20)
    costs = [o.cost_per_million_tokens for o in result.options]
    assert costs == sorted(costs)
    assert all(o.tpot_p99_ms <= 50 for o in result.options)
    assert result.configurations_evaluated > 10_000


def test_search_price_override_changes_the_ranking() -> None:
    cheap = search_deployments("mistral-7b", gpus=["h100", "a100"], prices={"a100": 0.01})
    assert cheap.options[0].gpu == "a100-80gb"
    assert cheap.options[0].price_per_gpu_hour == 0.01


def test_search_with_an_impossible_target_says_the_best_reachable() -> None:
    with pytest.raises(InfeasibleError, match="best reachable"):
        search_deployments("llama-2-70b", max_tpot_ms=0.5)


def test_cli_inference_json_keys() -> None:
    out = runner.invoke(
        app,
        [
            "estimate",
            "inference",
            "--model",
            "llama-3-8b",
            "--gpu",
            "h100",
            "--input-tokens",
            "1k",
            "--output-tokens",
            "200",
            "--price-per-gpu-hour",
            "2.5",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    for key in (
        "output_tokens_per_second_per_gpu",
        "batch_size",
        "ttft_ms",
        "tpot_ms",
        "weights_gb_per_gpu",
        "kv_cache_gb_per_sequence",
        "max_batch_size",
        "cost_per_million_output_tokens",
        "output_tokens_per_second_per_gpu_p10",
        "output_tokens_per_second_per_gpu_p90",
        "cost_per_million_output_tokens_p10",
        "cost_per_million_output_tokens_p90",
    ):
        assert payload[key] is not None, key
    assert (
        payload["output_tokens_per_second_per_gpu_p10"]
        < payload["output_tokens_per_second_per_gpu"]
        < payload["output_tokens_per_second_per_gpu_p90"]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["estimate", "inference", "--model", "llama-2-70b", "--gpu", "h1000"], "Did you mean"),
        (
            [
                "estimate",
                "inference",
                "--model",
                "llama-3.1-405b",
                "--gpu",
                "h100",
                "--tp",
                "2",
                "--precision",
                "bf16",
            ],
            "missing",
        ),
        (
            [
                "estimate",
                "inference",
                "--model",
                "llama-2-70b",
                "--gpu",
                "h100",
                "--max-tpot-ms",
                "1",
            ],
            "best reachable",
        ),
        (
            [
                "estimate",
                "inference",
                "--model",
                "llama-2-70b",
                "--gpu",
                "h100",
                "--input-tokens",
                "lots",
            ],
            "input_tokens",
        ),
        (["estimate", "fleet", "--model", "mistral-7b", "--gpu", "h100"], "exactly one"),
        (["search", "deployments", "--model", "mistral-7b", "--price", "h100"], "GPU=USD"),
    ],
)
def test_cli_bad_input_exits_2_with_a_message(args: list[str], message: str) -> None:
    out = runner.invoke(app, args)
    assert out.exit_code == 2
    assert message in out.output
    assert "Traceback" not in out.output


def test_fleet_band_sizes_gpus_at_the_p90_and_p10_throughput() -> None:
    fleet = estimate_fleet(
        "llama-3.1-8b",
        "h100",
        tokens_per_day=200e9,
        input_tokens=1000,
        output_tokens=250,
        price_per_gpu_hour=2.0,
    )
    serving = fleet.serving
    per_replica = serving.requests_per_second_per_replica
    fast = (
        per_replica
        * serving.output_tokens_per_second_per_gpu_p90
        / (serving.output_tokens_per_second_per_gpu)
    )
    slow = (
        per_replica
        * serving.output_tokens_per_second_per_gpu_p10
        / (serving.output_tokens_per_second_per_gpu)
    )
    rps = fleet.requests_per_second_average
    assert fleet.gpus_p10 == math.ceil(rps / fast) * fleet.tensor_parallel
    assert fleet.gpus_p90 == math.ceil(rps / slow) * fleet.tensor_parallel
    assert fleet.gpus_p10 <= fleet.gpus <= fleet.gpus_p90
    assert fleet.cost_per_million_output_tokens_p90 == pytest.approx(
        fleet.gpus_p90 * 24 * 2.0 / fleet.output_tokens_per_day * 1e6
    )
    # One definition per cost: all GPU cost over output tokens, and over all tokens.
    assert fleet.cost_per_million_output_tokens == pytest.approx(
        fleet.gpus * 24 * 2.0 / fleet.output_tokens_per_day * 1e6
    )
    assert fleet.cost_per_million_tokens == pytest.approx(
        fleet.gpus * 24 * 2.0 / fleet.tokens_per_day * 1e6
    )


def test_default_tp_divides_the_node_and_the_kv_heads() -> None:
    # Llama 2 70B: 64 attention heads, 8 KV heads. tp 3 and 6 are not offered (6 of 8
    # GPUs per node; KV heads not shardable), only 1, 2, 4, 8.
    result = search_deployments("llama-2-70b", gpus=["h100"], precisions=["fp8"], top=20)
    assert {o.tensor_parallel for o in result.options} <= {1, 2, 4, 8}


def test_explicit_tp_the_engines_cannot_run_is_refused() -> None:
    # 40 attention heads and 8 KV heads (Llama 4 Scout's attention): tp 5 divides the
    # heads but 8 KV heads cannot be split 5 ways nor replicated evenly.
    config = {
        "vocab_size": 202048,
        "hidden_size": 5120,
        "intermediate_size": 16384,
        "num_hidden_layers": 4,
        "num_attention_heads": 40,
        "num_key_value_heads": 8,
        "head_dim": 128,
    }
    model = ModelEntry(
        id="scout-like",
        name="scout-like",
        org="test",
        status="user",
        source="test config",
        config=config,
        architecture=architecture_from_hf_config(config),
    )
    with pytest.raises(InputError, match="KV heads must divide tp"):
        tensor_parallel_options(model, get_gpu("h100"), tp=5)
    assert list(tensor_parallel_options(model, get_gpu("h100"))) == [1.0, 2.0, 4.0, 8.0]


def test_cli_fleet_json_carries_the_band() -> None:
    out = runner.invoke(
        app,
        [
            "estimate",
            "fleet",
            "--model",
            "llama-3.1-8b",
            "--gpu",
            "h100",
            "--tokens-per-day",
            "100B",
            "--price-per-gpu-hour",
            "2",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["gpus_p10"] <= payload["gpus"] <= payload["gpus_p90"]
    assert (
        payload["cost_per_million_output_tokens_p10"]
        <= payload["cost_per_million_output_tokens"]
        <= payload["cost_per_million_output_tokens_p90"]
    )
