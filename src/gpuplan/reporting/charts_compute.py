"""Charts of the compute and price estimates (result in, figure out): training GPU-hours with
their P10-P90 band across GPUs, the inference latency-throughput curve, the deployment Pareto
front, and the cost of owning against renting as utilisation varies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from gpuplan import humanize
from gpuplan.reporting.style import COUNT_AXIS, empty, finish
from gpuplan.units import HOURS_PER_YEAR

if TYPE_CHECKING:
    from gpuplan.compute.deployment_search import DeploymentOption, DeploymentSearch
    from gpuplan.compute.inference import InferenceEstimate
    from gpuplan.compute.training import TrainingEstimate
    from gpuplan.economics.rent_vs_own import RentVsOwn


def training_chart(estimates: Sequence[TrainingEstimate], title: str = "") -> go.Figure:
    """GPU-hours per GPU type at P50 with the P10-P90 band as error bars."""
    title = title or "Training GPU-hours by GPU (P50, bars P10-P90)"
    if not estimates:
        return empty(title, "No training estimate.")
    labels = [f"{e.gpu} {e.precision}" for e in estimates]
    p50 = [e.gpu_hours for e in estimates]
    figure = go.Figure()
    figure.add_bar(
        x=labels,
        y=p50,
        marker_color="#4C78A8",
        error_y={
            "type": "data",
            "symmetric": False,
            "array": [e.gpu_hours_p90 - e.gpu_hours for e in estimates],
            "arrayminus": [e.gpu_hours - e.gpu_hours_p10 for e in estimates],
        },
        text=[humanize.count(v) for v in p50],
        textposition="inside",
        customdata=[
            [
                humanize.count(e.gpu_hours_p10),
                humanize.count(e.gpu_hours_p90),
                humanize.percent(e.mfu),
            ]
            for e in estimates
        ],
        hovertemplate="%{x}: %{text} GPU-hours (P10 %{customdata[0]}, P90 %{customdata[1]}; "
        "MFU %{customdata[2]})<extra></extra>",
    )
    return finish(figure, title, showlegend=False, yaxis={"title": "GPU-hours", **COUNT_AXIS})


def inference_curve_chart(estimate: InferenceEstimate) -> go.Figure:
    """Throughput per GPU against time per output token as the batch grows (memory-fitting
    batches), with the chosen batch and the latency bound marked."""
    title = (
        f"{estimate.model} on {estimate.gpu} {estimate.precision} (tp {estimate.tensor_parallel}):"
        " throughput against latency"
    )
    points = [p for p in estimate.curve if p.fits_memory]
    if not points:
        return empty(title, "No batch fits in memory.")
    figure = go.Figure()
    figure.add_scatter(
        x=[p.tpot_ms for p in points],
        y=[p.output_tokens_per_second_per_gpu for p in points],
        mode="lines+markers+text",
        text=[str(p.batch_size) for p in points],
        textposition="top left",
        name="batch size",
        marker={"color": ["#4C78A8" if p.meets_latency else "#BAB0AC" for p in points]},
        hovertemplate="batch %{text}: %{y:,.0f} tokens/s per GPU at %{x:.1f} ms<extra></extra>",
    )
    figure.add_scatter(
        x=[estimate.tpot_ms],
        y=[estimate.output_tokens_per_second_per_gpu],
        mode="markers",
        marker={"size": 14, "color": "#54A24B", "symbol": "star"},
        name=f"chosen: batch {estimate.batch_size}",
    )
    if estimate.max_tpot_ms:
        figure.add_vline(
            x=estimate.max_tpot_ms,
            line={"color": "#E45756", "dash": "dot"},
            annotation_text=f"TPOT bound {estimate.max_tpot_ms:g} ms",
        )
    return finish(
        figure,
        title,
        xaxis={"title": "time per output token, ms"},
        yaxis={"title": "output tokens/s per GPU", **COUNT_AXIS},
    )


def pareto_front(options: Sequence[DeploymentOption]) -> list[DeploymentOption]:
    """The options no other beats on both cost per million tokens and P99 TPOT, by TPOT."""
    ordered = sorted(options, key=lambda o: (o.tpot_p99_ms, o.cost_per_million_tokens))
    front: list[DeploymentOption] = []
    for option in ordered:
        if not front or option.cost_per_million_tokens < front[-1].cost_per_million_tokens:
            front.append(option)
    return front


def deployment_chart(search: DeploymentSearch) -> go.Figure:
    """Cost per million tokens against P99 time per output token of every ranked deployment,
    with the Pareto front drawn through the undominated ones."""
    title = f"{search.model}: deployments, cost against latency"
    if not search.options:
        return empty(title, "No deployment meets the latency bounds.")
    figure = go.Figure()
    for gpu in sorted({o.gpu for o in search.options}):
        chosen = [o for o in search.options if o.gpu == gpu]
        figure.add_scatter(
            x=[o.tpot_p99_ms for o in chosen],
            y=[o.cost_per_million_tokens for o in chosen],
            mode="markers",
            name=gpu,
            text=[f"{o.precision} tp{o.tensor_parallel} batch {o.batch_size}" for o in chosen],
            hovertemplate="%{text}: $%{y:.3f} per M tokens at %{x:.1f} ms<extra>"
            + gpu
            + "</extra>",
        )
    front = pareto_front(search.options)
    figure.add_scatter(
        x=[o.tpot_p99_ms for o in front],
        y=[o.cost_per_million_tokens for o in front],
        mode="lines",
        line={"color": "#333", "dash": "dash", "shape": "hv"},
        name="Pareto front",
    )
    return finish(
        figure,
        title,
        xaxis={"title": "P99 time per output token, ms"},
        yaxis={"title": "USD per million tokens", "tickprefix": "$"},
    )


def tco_chart(result: RentVsOwn) -> go.Figure:
    """USD per useful GPU-hour against utilisation u: owning costs F / (8760 u) with F its
    annual cost per GPU; a pay-per-use rental costs its price p whatever u; a committed one
    p / u (paid every hour). Formulas: :mod:`gpuplan.economics.rent_vs_own`."""
    owned = result.ownership
    title = f"Owning {owned.gpu} in {owned.country} against renting, by utilisation"
    u = np.linspace(0.1, 1.0, 91)
    figure = go.Figure()
    figure.add_scatter(
        x=u,
        y=owned.annual_cost_per_gpu_usd / (HOURS_PER_YEAR * u),
        mode="lines",
        name=f"owned ({owned.years:g} years)",
        line={"color": "#54A24B", "width": 3},
        hovertemplate="u %{x:.0%}: $%{y:.2f} per useful GPU-hour<extra>owned</extra>",
    )
    for offer in result.alternatives:
        price = offer.price_per_gpu_hour
        where = " ".join(str(part) for part in (offer.provider, offer.region) if part)
        name = f"{humanize.label(offer.pricing_model)}: {where}"
        figure.add_scatter(
            x=u,
            y=np.full_like(u, price) if offer.pay_per_use else price / u,
            mode="lines",
            name=name,
            line={"dash": "solid" if offer.pay_per_use else "dash"},
            hovertemplate="u %{x:.0%}: $%{y:.2f}<extra>" + name + "</extra>",
        )
    figure.add_vline(
        x=owned.utilisation,
        line={"color": "#999", "dash": "dot"},
        annotation_text=f"planned {humanize.percent(owned.utilisation)}",
    )
    top = 3 * max([a.price_per_gpu_hour for a in result.alternatives] + [owned.cost_per_gpu_hour])
    return finish(
        figure,
        title,
        xaxis={"title": "utilisation", "tickformat": ".0%"},
        yaxis={"title": "USD per useful GPU-hour", "tickprefix": "$", "range": [0, top]},
    )
