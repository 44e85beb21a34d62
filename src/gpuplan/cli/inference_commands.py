"""``gpuplan estimate inference|fleet`` and ``gpuplan search deployments``."""

from __future__ import annotations

from typing import Any

import typer

from gpuplan.cli import estimate_app, search_app
from gpuplan.cli.common import handle_errors, positive_number, print_json, print_table
from gpuplan.cli.runs_commands import DB, SAVE, save_run

MODEL = typer.Option(..., "--model", help="Catalog model id or a config.json path.")
INPUT = typer.Option("1000", "--input-tokens", help="Prompt tokens per request.")
OUTPUT = typer.Option("250", "--output-tokens", help="Generated tokens per request.")
TTFT = typer.Option(None, "--max-ttft-ms", help="p99 time-to-first-token limit, ms.")
TPOT = typer.Option(None, "--max-tpot-ms", help="p99 time-per-output-token limit, ms.")
PRICE = typer.Option(None, "--price-per-gpu-hour", help="USD per GPU-hour (else reference).")
JSON = typer.Option(False, "--json", help="Print one JSON object.")

COSTS_HELP = (
    "cost_per_million_output_tokens = all GPU cost ÷ output tokens (input free; compare with "
    "per-output-token prices); cost_per_million_tokens = all GPU cost ÷ (input + output "
    "tokens); the *_by_gpu_time pair splits GPU time between prompts and decoding, to price "
    "input and output separately."
)
INFERENCE_HELP = (
    "Throughput, latency, memory and cost of serving a model on one GPU type.\n\n"
    "Throughput is output tokens/s per GPU: P50 with a P10-P90 band from the calibration's "
    "out-of-sample residuals. " + COSTS_HELP + " The batch curve shows the p99 TTFT/TPOT it "
    "judges against the p99 targets (and the mean TPOT)."
)
FLEET_HELP = (
    "GPUs, replicas, utilisation and cost of serving a daily token demand.\n\n"
    "GPUs and costs come as P50 with P10/P90: the fleet sized at the P90/P10 throughput of "
    "the out-of-sample band. " + COSTS_HELP
)
SEARCH_HELP = (
    "Cheapest GPU x precision x tp (x ep) x batch deployments meeting a latency target.\n\n"
    "Columns: out tok/s/GPU = output tokens/s per GPU (P50); $/M tok (in+out) = all GPU cost "
    "÷ (input + output tokens), at the fleet's utilisation when a demand is given (the "
    "ranking); $/M out tok = all GPU cost ÷ output tokens at full utilisation. Default tp: "
    "1, 2, 4, 8 that divide the attention heads, with the KV heads dividing tp or tp dividing "
    "them (what vLLM, SGLang and TensorRT-LLM can run; powers of two pack 8-GPU nodes). "
    "ep: GPUs the routed experts of a MoE model are spread over (1, or tp with attention "
    "data-parallel); both are tried."
)


def _optional(text: str | None, field: str) -> float | None:
    return positive_number(text, field) if text is not None else None


def _count(text: str, field: str) -> float:
    return positive_number(text, field)


@estimate_app.command("inference", help=INFERENCE_HELP)
@handle_errors
def estimate_inference_command(
    model: str = MODEL,
    gpu: str = typer.Option(..., "--gpu", help="GPU id or alias, e.g. h100."),
    tp: int | None = typer.Option(None, "--tp", help="Tensor-parallel degree (default: best)."),
    ep: int | None = typer.Option(
        None,
        "--ep",
        help="MoE expert-parallel degree: 1, or equal to tp (experts spread over the replica, "
        "attention data-parallel). Default: both are tried.",
    ),
    precision: str | None = typer.Option(None, "--precision", help="bf16, fp8 or fp4 weights."),
    kv_precision: str | None = typer.Option(None, "--kv-precision", help="KV-cache precision."),
    input_tokens: str = INPUT,
    output_tokens: str = OUTPUT,
    max_ttft_ms: str | None = TTFT,
    max_tpot_ms: str | None = TPOT,
    batch_size: int | None = typer.Option(None, "--batch-size", help="Fix the batch size."),
    price: str | None = PRICE,
    as_json: bool = JSON,
    save: bool = SAVE,
    db: str | None = DB,
) -> None:
    """Throughput, latency, memory and cost of serving a model on one GPU type."""
    from gpuplan.compute.inference import COST_DEFINITIONS, estimate_inference
    from gpuplan.store.saving import RunTimer

    timer = RunTimer()
    arguments: dict[str, Any] = {
        "input_tokens": _count(input_tokens, "input_tokens"),
        "output_tokens": _count(output_tokens, "output_tokens"),
        "tp": tp,
        "ep": ep,
        "precision": precision,
        "kv_precision": kv_precision,
        "max_ttft_ms": _optional(max_ttft_ms, "max_ttft_ms"),
        "max_tpot_ms": _optional(max_tpot_ms, "max_tpot_ms"),
        "batch_size": batch_size,
        "price_per_gpu_hour": _optional(price, "price_per_gpu_hour"),
    }
    result = estimate_inference(model, gpu, **arguments)
    if save:
        save_run(db, "estimate-inference", f"{result.model} on {result.gpu}",
                 {"model": model, "gpu": gpu, **arguments}, result.model_dump(mode="json"), timer)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    fields = result.model_dump(exclude={"curve", "step_ms"})
    print_table(
        f"Inference: {result.model} on {result.gpu} (tokens/s = output tokens; P10/P90 from "
        "out-of-sample residuals)",
        ["quantity", "value", "definition"],
        [[key, value, COST_DEFINITIONS.get(key, "")] for key, value in fields.items()],
    )
    print_table(
        "Batch curve (same tp and precision; 'meets latency' judges p99 against the p99 targets)",
        [
            "batch",
            "out tok/s/GPU",
            "p99 TTFT ms",
            "p99 TPOT ms",
            "mean TPOT ms",
            "fits",
            "meets latency",
        ],
        [
            [
                p.batch_size,
                p.output_tokens_per_second_per_gpu,
                p.ttft_p99_ms,
                p.tpot_p99_ms,
                p.tpot_ms,
                p.fits_memory,
                p.meets_latency,
            ]
            for p in result.curve
        ],
    )


@estimate_app.command("fleet", help=FLEET_HELP)
@handle_errors
def estimate_fleet_command(
    model: str = MODEL,
    gpu: str = typer.Option(..., "--gpu", help="GPU id or alias."),
    tokens_per_day: str | None = typer.Option(
        None, "--tokens-per-day", help="Input + output tokens served per day, e.g. 50B."
    ),
    requests_per_second: str | None = typer.Option(
        None, "--requests-per-second", help="Average requests per second (instead of tokens)."
    ),
    peak_factor: str = typer.Option("1", "--peak-factor", help="Peak / average demand."),
    input_tokens: str = INPUT,
    output_tokens: str = OUTPUT,
    max_ttft_ms: str | None = TTFT,
    max_tpot_ms: str | None = TPOT,
    precision: str | None = typer.Option(None, "--precision", help="bf16, fp8 or fp4 weights."),
    tp: int | None = typer.Option(None, "--tp", help="Tensor-parallel degree (default: best)."),
    ep: int | None = typer.Option(
        None,
        "--ep",
        help="MoE expert-parallel degree: 1, or equal to tp (experts spread over the replica, "
        "attention data-parallel). Default: both are tried.",
    ),
    price: str | None = PRICE,
    as_json: bool = JSON,
    save: bool = SAVE,
    db: str | None = DB,
) -> None:
    """GPUs, replicas, utilisation and cost of serving a daily token demand."""
    from gpuplan.compute.fleet import estimate_fleet
    from gpuplan.compute.inference import COST_DEFINITIONS
    from gpuplan.store.saving import RunTimer

    timer = RunTimer()
    arguments: dict[str, Any] = {
        "tokens_per_day": _optional(tokens_per_day, "tokens_per_day"),
        "requests_per_second": _optional(requests_per_second, "requests_per_second"),
        "peak_factor": positive_number(peak_factor, "peak_factor"),
        "input_tokens": _count(input_tokens, "input_tokens"),
        "output_tokens": _count(output_tokens, "output_tokens"),
        "max_ttft_ms": _optional(max_ttft_ms, "max_ttft_ms"),
        "max_tpot_ms": _optional(max_tpot_ms, "max_tpot_ms"),
        "precision": precision,
        "tp": tp,
        "ep": ep,
        "price_per_gpu_hour": _optional(price, "price_per_gpu_hour"),
    }
    result = estimate_fleet(model, gpu, **arguments)
    if save:
        save_run(db, "estimate-fleet", f"{result.model} on {result.gpu}",
                 {"model": model, "gpu": gpu, **arguments}, result.model_dump(mode="json"), timer)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    print_table(
        f"Fleet: {result.model} on {result.gpu} (P10/P90: sized at the P90/P10 throughput)",
        ["quantity", "value", "definition"],
        [
            [k, v, COST_DEFINITIONS.get(k, "")]
            for k, v in result.model_dump(exclude={"serving"}).items()
        ],
    )


def _prices(entries: list[str]) -> dict[str, float]:
    from gpuplan.errors import InputError

    prices = {}
    for entry in entries:
        gpu, sep, value = entry.partition("=")
        if not sep:
            raise InputError("price", f"'{entry}' is not GPU=USD_PER_HOUR, e.g. h100=2.5.")
        prices[gpu.strip()] = positive_number(value, f"price[{gpu.strip()}]")
    return prices


@search_app.command("deployments", help=SEARCH_HELP)
@handle_errors
def search_deployments_command(
    model: str = MODEL,
    input_tokens: str = INPUT,
    output_tokens: str = OUTPUT,
    max_ttft_ms: str | None = TTFT,
    max_tpot_ms: str | None = TPOT,
    tokens_per_day: str | None = typer.Option(
        None, "--tokens-per-day", help="Input + output tokens per day (sizes replicas)."
    ),
    requests_per_second: str | None = typer.Option(None, "--requests-per-second"),
    peak_factor: str = typer.Option("1", "--peak-factor", help="Peak / average demand."),
    gpus: list[str] = typer.Option([], "--gpu", help="Restrict to these GPUs (repeatable)."),
    precisions: list[str] = typer.Option([], "--precision", help="Restrict precisions."),
    price: str | None = PRICE,
    prices: list[str] = typer.Option([], "--price", help="GPU=USD per GPU-hour (repeatable)."),
    top: int = typer.Option(10, "--top", help="How many deployments to list."),
    as_json: bool = JSON,
) -> None:
    """Cheapest GPU x precision x tp x batch deployments meeting a latency target."""
    from gpuplan.compute.deployment_search import search_deployments

    result = search_deployments(
        model,
        input_tokens=_count(input_tokens, "input_tokens"),
        output_tokens=_count(output_tokens, "output_tokens"),
        max_ttft_ms=_optional(max_ttft_ms, "max_ttft_ms"),
        max_tpot_ms=_optional(max_tpot_ms, "max_tpot_ms"),
        tokens_per_day=_optional(tokens_per_day, "tokens_per_day"),
        requests_per_second=_optional(requests_per_second, "requests_per_second"),
        peak_factor=positive_number(peak_factor, "peak_factor"),
        gpus=gpus or None,
        precisions=precisions or None,
        prices=_prices(prices),
        price_per_gpu_hour=_optional(price, "price_per_gpu_hour"),
        top=top,
    )
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    print_table(
        f"Deployments of {result.model} ({result.configurations_evaluated:,} points evaluated; "
        f"unpriced: {', '.join(result.unpriced_gpus) or 'none'})",
        [
            "rank",
            "gpu",
            "prec",
            "tp",
            "ep",
            "batch",
            "out tok/s/GPU",
            "p99 TTFT ms",
            "p99 TPOT ms",
            "$/GPU-h",
            "$/M tok (in+out)",
            "$/M out tok",
            "GPUs",
        ],
        [
            [
                o.rank,
                o.gpu,
                o.precision,
                o.tensor_parallel,
                o.expert_parallel,
                o.batch_size,
                o.output_tokens_per_second_per_gpu,
                o.ttft_p99_ms,
                o.tpot_p99_ms,
                o.price_per_gpu_hour,
                o.cost_per_million_tokens,
                o.cost_per_million_output_tokens,
                o.gpus,
            ]
            for o in result.options
        ],
    )
