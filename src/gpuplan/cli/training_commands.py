"""``gpuplan estimate training|implied|portfolio``: thin callers of gpuplan.compute.training."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from gpuplan import humanize
from gpuplan.cli import estimate_app
from gpuplan.cli.common import (
    handle_errors,
    parse_number,
    positive_number,
    print_json,
    print_table,
    say,
    whole_number,
)
from gpuplan.cli.runs_commands import DB, SAVE, save_run

if TYPE_CHECKING:
    from gpuplan.compute.training import TrainingEstimate

MODEL_HELP = "Catalog model id (see `gpuplan catalog models`) or a config.json path."
PARAMS_HELP = "Parameter count instead of a model, e.g. 70B or 7e10 (6·N·D FLOPs)."


def _optional_number(text: str | None, field: str) -> float | None:
    return None if text is None else positive_number(text, field)


def _optional_int(text: str | None, field: str) -> int | None:
    return None if text is None else whole_number(text, field)


def _estimate_rows(estimate: TrainingEstimate) -> list[list[str]]:
    """(quantity, P10, P50, P90) rows for the readable table, in human numbers."""

    def band(low: float | None, mid: float | None, high: float | None, fmt: Any) -> list[str]:
        return [fmt(v) if v is not None else "-" for v in (low, mid, high)]

    e = estimate
    rows = [
        ["training FLOPs", "", humanize.flops(e.training_flops), ""],
        ["run MFU (P50 assumed)", "", humanize.percent(e.mfu), ""],
        ["GPU-hours", *band(e.gpu_hours_p10, e.gpu_hours, e.gpu_hours_p90, humanize.count)],
        [
            "wall clock",
            *band(e.wall_clock_days_p10, e.wall_clock_days, e.wall_clock_days_p90, humanize.days),
        ],
        ["cost", *band(e.cost_usd_p10, e.cost_usd, e.cost_usd_p90, humanize.money)],
        ["min GPUs for memory", "", humanize.count(e.min_gpus_for_memory or 0), ""],
    ]
    return [
        row for row in rows if row[2] != "-"
    ]  # no wall clock without GPUs, no cost without a price


def _settings_line(estimate: TrainingEstimate) -> str:
    return (
        f"covers: {estimate.scope} (goodput {humanize.percent(estimate.goodput)}); "
        f"global batch {humanize.tokens(estimate.global_batch_tokens)}; "
        f"software of {estimate.software_year}; P10-P90 from out-of-sample (leave-one-lab-out) "
        "residuals of published runs of its size class"
    )


@estimate_app.command("training")
@handle_errors
def estimate_training_command(
    model: str | None = typer.Option(None, "--model", help=MODEL_HELP),
    params: str | None = typer.Option(None, "--params", help=PARAMS_HELP),
    active_params: str | None = typer.Option(
        None, "--active-params", help="Active parameters per token (MoE), e.g. 12.9B."
    ),
    tokens: str = typer.Option(..., "--tokens", help="Training tokens, e.g. 15T or 15e12."),
    gpu: str = typer.Option(..., "--gpu", help="GPU id (see `gpuplan catalog gpus`)."),
    gpus: str | None = typer.Option(None, "--gpus", help="GPUs in the cluster (wall clock)."),
    precision: str = typer.Option("bf16", "--precision", help="bf16 or fp8 (fp4 on Blackwell)."),
    seq_len: str | None = typer.Option(None, "--seq-len", help="Training sequence length."),
    price: str | None = typer.Option(
        None, "--price-per-gpu-hour", help="USD per GPU-hour (adds cost)."
    ),
    batch: str | None = typer.Option(
        None,
        "--global-batch-tokens",
        help="Tokens per optimiser step (default: published runs' practice).",
    ),
    software_year: str | None = typer.Option(
        None, "--software-year", help="Year of the training stack (default: today's)."
    ),
    scope: str = typer.Option(
        "wall_clock",
        "--scope",
        help="What the hours cover: step_time, pretraining, wall_clock, full_training.",
    ),
    tensor_parallel: str | None = typer.Option(
        None,
        "--tensor-parallel",
        help="Tensor-parallel GPUs (a power of two within the scale-up domain; needs --gpus). "
        "Default: the layout the batch and memory force.",
    ),
    pipeline_parallel: str | None = typer.Option(
        None, "--pipeline-parallel", help="Pipeline stages (needs --gpus; default as above)."
    ),
    context_parallel: str | None = typer.Option(
        None, "--context-parallel", help="Context-parallel GPUs (needs --gpus)."
    ),
    expert_parallel: str | None = typer.Option(
        None,
        "--expert-parallel",
        help="MoE: GPUs sharing one set of experts (default: one NVLink domain; 1 = none).",
    ),
    exposed_all_to_all: str = typer.Option(
        "1",
        "--exposed-all-to-all",
        help="MoE: share of the all-to-all not hidden under compute (0-1, default 1).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    save: bool = SAVE,
    db: str | None = DB,
) -> None:
    """Training FLOPs, GPU-hours (P10/P50/P90), wall clock, memory minimum and cost."""
    from gpuplan.compute.training import estimate_training
    from gpuplan.store.saving import RunTimer

    timer = RunTimer()
    arguments: dict[str, Any] = {
        "params": _optional_number(params, "params"),
        "active_params": _optional_number(active_params, "active_params"),
        "tokens": positive_number(tokens, "tokens"),
        "gpu": gpu,
        "gpus": _optional_int(gpus, "gpus"),
        "precision": precision,
        "seq_len": _optional_int(seq_len, "seq_len"),
        "price_per_gpu_hour": _optional_number(price, "price_per_gpu_hour"),
        "global_batch_tokens": _optional_number(batch, "global_batch_tokens"),
        "software_year": _optional_int(software_year, "software_year"),
        "scope": scope,
        "tensor_parallel": _optional_int(tensor_parallel, "tensor_parallel"),
        "pipeline_parallel": _optional_int(pipeline_parallel, "pipeline_parallel"),
        "context_parallel": _optional_int(context_parallel, "context_parallel"),
        "expert_parallel": _optional_int(expert_parallel, "expert_parallel"),
        "exposed_all_to_all": parse_number(exposed_all_to_all, "exposed_all_to_all"),
    }
    estimate = estimate_training(model, **arguments)
    payload = estimate.model_dump(mode="json")
    if save:
        label = f"{estimate.model} on {estimate.gpu}"
        save_run(db, "estimate-training", label, {"model": model, **arguments}, payload, timer)
    if as_json:
        print_json(payload)
        return
    subject = estimate.model or f"{humanize.count(estimate.params_total)} params"
    print_table(
        f"Training {subject} on {humanize.tokens(estimate.tokens)}, "
        f"{estimate.gpu} {estimate.precision}",
        ["quantity", "P10", "P50", "P90"],
        _estimate_rows(estimate),
    )
    say(f"note: {_settings_line(estimate)}")
    for note in estimate.notes:
        say(f"note: {note}")


@estimate_app.command("implied")
@handle_errors
def estimate_implied_command(
    gpu_hours: str | None = typer.Option(None, "--gpu-hours", help="GPU-hours, e.g. 1.2M."),
    cost_usd: str | None = typer.Option(None, "--cost-usd", help="Dollars spent (with a price)."),
    price: str | None = typer.Option(None, "--price-per-gpu-hour", help="USD per GPU-hour."),
    gpu: str = typer.Option(..., "--gpu", help="GPU id."),
    model: str | None = typer.Option(None, "--model", help=MODEL_HELP),
    params: str | None = typer.Option(None, "--params", help=PARAMS_HELP),
    active_params: str | None = typer.Option(None, "--active-params", help="Active (MoE)."),
    gpus: str | None = typer.Option(None, "--gpus", help="GPUs in the cluster."),
    precision: str = typer.Option("bf16", "--precision", help="bf16 or fp8."),
    seq_len: str | None = typer.Option(None, "--seq-len", help="Training sequence length."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """The reverse question: the FLOPs and tokens a GPU-hour or dollar figure implies."""
    from gpuplan.compute.training import implied_training

    implied = implied_training(
        _optional_number(gpu_hours, "gpu_hours"),
        _optional_number(cost_usd, "cost_usd"),
        _optional_number(price, "price_per_gpu_hour"),
        gpu=gpu,
        precision=precision,
        gpus=_optional_int(gpus, "gpus"),
        model=model,
        params=_optional_number(params, "params"),
        active_params=_optional_number(active_params, "active_params"),
        seq_len=_optional_int(seq_len, "seq_len"),
    )
    payload = implied.model_dump(mode="json")
    if as_json:
        print_json(payload)
        return
    print_table(
        f"What {humanize.count(implied.gpu_hours)} {implied.gpu} GPU-hours imply "
        f"(run MFU {humanize.percent(implied.mfu)})",
        ["quantity", "P10", "P50", "P90"],
        [
            [
                "training FLOPs",
                *(humanize.flops(payload[f"training_flops{s}"]) for s in ("_p10", "", "_p90")),
            ],
            ["tokens", *(humanize.tokens(payload[f"tokens{s}"]) for s in ("_p10", "", "_p90"))],
        ],
    )


@estimate_app.command("portfolio")
@handle_errors
def estimate_portfolio_command(
    gpu: str | None = typer.Option(None, "--gpu", help="GPU id (default h100-sxm)."),
    gpus: str | None = typer.Option(None, "--gpus", help="Cluster size (default 1024)."),
    price: str | None = typer.Option(
        None,
        "--price-per-gpu-hour",
        help="USD per GPU-hour (default: the GPU's cheapest current on-demand offer).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Training estimates for the report's Mistral portfolio (token counts are assumptions)."""
    from gpuplan.compute.portfolio import estimate_portfolio

    portfolio = estimate_portfolio(
        gpu, _optional_int(gpus, "gpus"), _optional_number(price, "price")
    )
    defaults, runs = portfolio.defaults, portfolio.runs
    if as_json:
        print_json(
            {
                "defaults": defaults.model_dump(mode="json"),
                "price_per_gpu_hour": portfolio.price_per_gpu_hour,
                "price_source": portfolio.price_source,
                "runs": [
                    {
                        **e.model_dump(mode="json"),
                        "tokens_status": r.tokens_status,
                        "tokens_source": r.tokens_source,
                    }
                    for r, e in runs
                ],
            }
        )
        return
    first = runs[0][1]
    print_table(
        f"Mistral portfolio training on {humanize.number(first.gpus)} x {first.gpu} "
        f"{first.precision} at {humanize.money(first.price_per_gpu_hour)}/GPU-hour (tokens are "
        "assumptions)",
        [
            "model",
            "tokens",
            "FLOPs",
            "MFU",
            "GPU-h P10",
            "GPU-h P50",
            "GPU-h P90",
            "wall clock P50",
            "cost P50",
            "min GPUs",
        ],
        [
            [
                e.model,
                humanize.count(e.tokens),
                humanize.flops(e.training_flops),
                humanize.percent(e.mfu),
                humanize.count(e.gpu_hours_p10),
                humanize.count(e.gpu_hours),
                humanize.count(e.gpu_hours_p90),
                humanize.days(e.wall_clock_days) if e.wall_clock_days is not None else "-",
                humanize.money(e.cost_usd) if e.cost_usd is not None else "-",
                humanize.count(e.min_gpus_for_memory or 0),
            ]
            for _, e in runs
        ],
    )
    say(f"note: {defaults.gpus_status}; {defaults.seq_len_status}.")
    say(f"note: price from {portfolio.price_source or 'nowhere: no offer, no cost'}.")
