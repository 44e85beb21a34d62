"""Charts of a procurement plan (:class:`~gpuplan.planning.result.PlanResult` in, figure out):
fleet over time, cost by category and year, the optimum against the baselines, utilisation,
where each workload runs, and the schedule of committed capacity."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import plotly.graph_objects as go

from gpuplan import humanize
from gpuplan.reporting import tables
from gpuplan.reporting.style import (
    COUNT_AXIS,
    PERCENT_AXIS,
    empty,
    finish,
    mode_colour,
    money_axis,
    money_text,
    period_axis,
)

if TYPE_CHECKING:
    from gpuplan.planning.result import PlanResult

FleetDimension = Literal["mode", "provider", "country", "gpu"]


def fleet_chart(result: PlanResult, by: FleetDimension = "mode") -> go.Figure:
    """GPUs in service per period, stacked by supply mode, provider, country or GPU type."""
    title = f"Fleet by {by}: GPUs in service per period"
    if not len(result.fleet):
        return empty(title, "The plan holds no GPUs.")
    table = tables.fleet_by(result, by)
    figure = go.Figure()
    for name in table.columns:
        figure.add_bar(
            x=list(table.index),
            y=table[name].tolist(),
            name=humanize.label(str(name)) if by == "mode" else str(name),
            marker_color=mode_colour(str(name)) if by == "mode" else None,
            hovertemplate="%{x}: %{y:,.0f} GPUs<extra>%{fullData.name}</extra>",
        )
    return finish(
        figure,
        title,
        barmode="stack",
        showlegend=True,
        xaxis=period_axis(result.periods),
        yaxis={"title": "GPUs", **COUNT_AXIS},
    )


def cost_chart(result: PlanResult) -> go.Figure:
    """Undiscounted cost by category and year (residual value negative, a credit)."""
    title = "Cost by category and year (undiscounted)"
    if not len(result.cost_by_category):
        return empty(title, "The plan costs nothing.")
    table = tables.cost_by_year(result)
    figure = go.Figure()
    for category in table.columns:
        values = table[category]
        figure.add_bar(
            x=[str(y) for y in table.index],
            y=values.tolist(),
            name=humanize.label(str(category)),
            marker_color=mode_colour(str(category)),
            text=money_text(values),
            hovertemplate="%{x}: %{text}<extra>%{fullData.name}</extra>",
            textposition="none",
        )
    extremes = [*table.clip(lower=0).sum(axis=1), *table.clip(upper=0).sum(axis=1)]
    return finish(
        figure,
        title,
        barmode="relative",
        showlegend=True,
        xaxis={"type": "category"},
        yaxis=money_axis(extremes),
    )


def baselines_chart(result: PlanResult) -> go.Figure:
    """Net present cost of the optimum against each baseline (infeasible ones marked)."""
    title = "Optimum against the baselines (net present cost)"
    frame = tables.optimum_and_baselines(result)
    if len(frame) <= 1:
        return empty(title, "The plan was solved without baselines.")
    feasible = frame[frame.status == "optimal"]
    figure = go.Figure()
    figure.add_bar(
        x=feasible.plan.tolist(),
        y=feasible.npv_usd.tolist(),
        text=money_text(feasible.npv_usd),
        textposition="outside",
        marker_color=["#54A24B" if p == "Optimum" else "#BAB0AC" for p in feasible.plan],
        hovertemplate="%{x}: %{text}<extra></extra>",
    )
    for name in frame[frame.status != "optimal"].plan:
        figure.add_annotation(x=name, y=0, text="infeasible", showarrow=False, yshift=12)
        figure.add_bar(x=[name], y=[0], showlegend=False)
    return finish(figure, title, showlegend=False, yaxis=money_axis(feasible.npv_usd * 1.15))


def utilisation_chart(result: PlanResult) -> go.Figure:
    """Share of each mode's fleet that serves workloads, per period."""
    title = "Utilisation by supply mode"
    use = result.utilisation
    if not len(use):
        return empty(title, "The plan holds no GPUs.")
    figure = go.Figure()
    for mode, rows in use.groupby("mode", sort=False):
        figure.add_scatter(
            x=rows.period.tolist(),
            y=rows.utilisation.tolist(),
            mode="lines+markers",
            name=humanize.label(str(mode)),
            line={"color": mode_colour(str(mode))},
            hovertemplate="%{x}: %{y:.0%}<extra>%{fullData.name}</extra>",
        )
    return finish(
        figure,
        title,
        showlegend=True,
        xaxis=period_axis(result.periods),
        yaxis={"title": "used / in fleet", "range": [0, 1.05], **PERCENT_AXIS},
    )


def sovereignty_chart(result: PlanResult) -> go.Figure:
    """Where each workload runs: GPU-periods per workload by the country of its data centre."""
    title = "Where each workload runs (GPU-periods by country)"
    table = tables.workload_countries(result)
    if not len(table):
        return empty(title, "No workload was placed.")
    figure = go.Figure()
    for country in table.columns:
        figure.add_bar(
            y=list(table.index),
            x=table[country].tolist(),
            name=str(country),
            orientation="h",
            hovertemplate="%{y}: %{x:,.0f} GPU-periods<extra>%{fullData.name}</extra>",
        )
    return finish(
        figure,
        title,
        barmode="stack",
        showlegend=True,
        xaxis={"title": "GPU-periods", **COUNT_AXIS},
    )


def schedule_chart(result: PlanResult) -> go.Figure:
    """The order schedule on a timeline: each reservation and purchase at the month it must be
    signed or ordered, by supplier (marker area ~ GPUs; rentals, renewed each period, left
    out)."""
    title = "Order schedule: reservations and purchases by order month"
    orders = result.orders[result.orders.action != "rent"]
    if not len(orders):
        return empty(title, "The plan commits to nothing: all capacity is rented per use.")
    figure = go.Figure()
    for (action, gpu), rows in orders.groupby(["action", "gpu"], sort=True):
        mode = "owned" if action == "buy" else "reserved"
        figure.add_scatter(
            x=rows.order_month.tolist(),
            y=[f"{p} {r}" for p, r in zip(rows.provider, rows.region, strict=True)],
            mode="markers",
            name=f"{str(action).capitalize()} {gpu}",
            marker={
                "size": [max(8.0, min(40.0, g**0.5)) for g in rows.gpus],
                "color": mode_colour(mode),
                "line": {"width": 1, "color": "#333"},
            },
            customdata=[
                [humanize.count(g), i, u, humanize.money(c)]
                for g, i, u, c in zip(
                    rows.gpus, rows.in_service, rows.until, rows.commitment_usd, strict=True
                )
            ],
            hovertemplate="%{x} %{y}: %{customdata[0]} GPUs, in service %{customdata[1]}-"
            "%{customdata[2]}, commits %{customdata[3]}<extra>%{fullData.name}</extra>",
        )
    return finish(figure, title, showlegend=True, xaxis={"title": "order by"})
