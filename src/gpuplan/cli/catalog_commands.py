"""``gpuplan catalog gpus|models|trends``."""

from __future__ import annotations

import typer

from gpuplan import humanize
from gpuplan.cli import catalog_app
from gpuplan.cli.common import handle_errors, print_json, print_table, say


@catalog_app.command("gpus")
@handle_errors
def catalog_gpus(as_json: bool = typer.Option(False, "--json", help="Print JSON rows.")) -> None:
    """List the GPU catalog: dense peaks per precision, memory, bandwidth, power, source."""
    from gpuplan.catalog.gpus import list_gpus

    gpus = list_gpus()
    if as_json:
        print_json({"gpus": [gpu.model_dump(mode="json") for gpu in gpus]})
        return
    print_table(
        "GPU catalog (dense TFLOP/s, GB, TB/s)",
        [
            "id",
            "bf16",
            "fp8",
            "fp4",
            "memory GB",
            "TB/s",
            "scale-up GB/s",
            "TDP W",
            "year",
            "as of",
        ],
        [
            [
                g.id,
                g.bf16_tflops,
                g.fp8_tflops,
                g.fp4_tflops,
                g.memory_gb,
                g.memory_bandwidth_tbps,
                g.scaleup_bandwidth_gbps,
                g.tdp_w,
                str(g.release_year),
                str(g.as_of),
            ]
            for g in gpus
        ],
    )


@catalog_app.command("models")
@handle_errors
def catalog_models(as_json: bool = typer.Option(False, "--json", help="Print JSON rows.")) -> None:
    """List the model catalog: total and active parameters, KV bytes per token, source."""
    from gpuplan.catalog.models import list_models

    models = list_models()
    rows = [
        {
            "id": m.id,
            "name": m.name,
            "org": m.org,
            "status": m.status,
            "params_total": m.params_total,
            "params_active": m.params_active,
            "kv_cache_bytes_per_token_bf16": m.architecture.kv_bytes_per_token("bf16"),
            "sliding_window": m.architecture.sliding_window,
            "attention_chunk_size": m.architecture.attention_chunk_size,
            "local_attention_layers": m.architecture.local_attention_layers,
            "moe": m.architecture.is_moe,
            "source": m.source,
            "note": m.note,
        }
        for m in models
    ]
    if as_json:
        print_json({"models": rows})
        return
    print_table(
        "Model catalog",
        ["id", "status", "total params (B)", "active params (B)", "KV kB/token (bf16)", "window"],
        [
            [
                m.id,
                m.status,
                m.params_total / 1e9,
                m.params_active / 1e9,
                m.architecture.kv_bytes_per_token("bf16") / 1e3,
                m.architecture.sliding_window,
            ]
            for m in models
        ],
    )


@catalog_app.command("trends")
@handle_errors
def catalog_trends(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Annual rental price change per GPU and pricing model, and the new-generation pattern."""
    from gpuplan.catalog.trends import generation_pattern, trend_table

    trends = list(trend_table().values())
    pattern = generation_pattern()
    if as_json:
        print_json(
            {
                "trends": [t.model_dump(mode="json") for t in trends],
                "generation_pattern": pattern.model_dump(mode="json") if pattern else None,
            }
        )
        return
    print_table(
        "Rental price trends (annual change; * = pooled over GPUs without their own history)",
        ["gpu", "pricing", "low", "mid", "high", "voices", "from"],
        [
            [
                t.gpu,
                t.pricing_model,
                f"{humanize.change(t.annual_change_low)}",
                f"{humanize.change(t.annual_change_mid)}",
                f"{humanize.change(t.annual_change_high)}",
                t.n_voices,
                t.voices,
            ]
            for t in trends
        ],
    )
    if pattern:
        say(
            f"New generation launch price: {pattern.launch_price_ratio_mid:.2f}x the previous "
            f"generation's at the same provider and date ({pattern.launch_price_ratio_low:.2f}-"
            f"{pattern.launch_price_ratio_high:.2f}x, {pattern.n_pairs} pairs)."
        )
        if pattern.annual_change_after_launch_mid is not None:
            say(
                f"In its first two years a generation's price changed "
                f"{humanize.change(pattern.annual_change_after_launch_mid)}/year "
                f"({humanize.change(pattern.annual_change_after_launch_low)} to "
                f"{humanize.change(pattern.annual_change_after_launch_high)}): "
                f"{pattern.after_launch_voices}."
            )
