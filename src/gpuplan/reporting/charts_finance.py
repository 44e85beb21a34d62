"""Charts of a company's Monte Carlo (the ``simulate(...)`` summary in, figure out): the cash
fan chart, runway and break-even distributions, tornado and Sobol bars; and the report-check
findings (``check_report()`` rows in)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from gpuplan import humanize
from gpuplan.reporting.style import (
    BAND_FILL,
    VERDICT_COLOURS,
    empty,
    finish,
    money_axis,
    money_text,
)


def cash_fan_chart(summary: Mapping[str, Any]) -> go.Figure:
    """Cash at each month end: the P10-P90 band around the median (USD)."""
    fan = summary.get("cash_by_month")
    title = f"{summary['company']}: cash, P10-P90 band around the median"
    if not fan:
        return empty(title, "The simulation kept no monthly cash.")
    band = {"line": {"width": 0}}
    traces = (  # the P90 edge first, so the P10 edge fills up to it
        ("p90", "P90", {**band, "showlegend": False}),
        ("p10", "P10-P90", {**band, "fill": "tonexty", "fillcolor": BAND_FILL}),
        ("p50", "Median", {"line": {"color": "#4C78A8"}}),
    )
    figure = go.Figure()
    for key, name, style in traces:
        figure.add_scatter(
            x=fan["month"],
            y=fan[key],
            mode="lines",
            name=name,
            text=money_text(fan[key]),
            hovertemplate="%{x}: %{text}<extra>" + key.upper() + "</extra>",
            **style,
        )
    figure.add_hline(y=0, line={"color": "#E45756", "dash": "dot"})
    return finish(figure, title, yaxis=money_axis([*fan["p10"], *fan["p90"]], "cash"))


def _distribution(
    histogram: Mapping[str, Any] | None, title: str, what: str, beyond: str
) -> go.Figure:
    if not histogram or not (sum(histogram["counts"]) + histogram["beyond_horizon"]):
        return empty(title, "No samples.")
    total = sum(histogram["counts"]) + histogram["beyond_horizon"]
    if not sum(histogram["counts"]):
        return empty(title, f"All samples {beyond}.")
    edges = histogram["edges"]
    figure = go.Figure()
    figure.add_bar(
        x=edges[:-1],
        y=[c / total for c in histogram["counts"]],
        width=1.0,
        offset=0,
        marker_color="#4C78A8",
        name=what,
        hovertemplate="month %{x}: %{y:.1%} of samples<extra></extra>",
    )
    share = histogram["beyond_horizon"] / total
    if share:
        figure.add_annotation(
            text=f"{humanize.percent(share)} of samples {beyond}",
            x=1,
            y=1,
            xref="paper",
            yref="paper",
            showarrow=False,
            xanchor="right",
        )
    return finish(
        figure,
        title,
        showlegend=False,
        bargap=0.05,
        xaxis={"title": "months from the start"},
        yaxis={"title": "share of samples", "tickformat": ".1%"},
    )


def runway_chart(summary: Mapping[str, Any]) -> go.Figure:
    """Distribution of runway (months until cash runs out), one-month bins."""
    return _distribution(
        summary.get("runway_histogram"),
        f"{summary['company']}: runway distribution",
        "runway",
        "never run out of cash within the horizon",
    )


def break_even_chart(summary: Mapping[str, Any]) -> go.Figure:
    """Distribution of the break-even month (first month of operating profit)."""
    return _distribution(
        summary.get("break_even_histogram"),
        f"{summary['company']}: break-even month distribution",
        "break-even",
        "never break even within the horizon",
    )


def tornado_chart(summary: Mapping[str, Any], top: int = 12) -> go.Figure:
    """Runway with each input at its low and high end, others nominal (largest swing on top)."""
    title = f"{summary['company']}: what moves runway (one input at a time)"
    rows = [r for r in summary["tornado"] if r["swing_months"] > 0][:top]
    if not rows:
        return empty(title, "No uncertain input moves runway.")
    horizon = float(summary["horizon_months"])

    def capped(value: float | None) -> float:
        return horizon if value is None else float(value)

    nominal = summary["runway_months"]["p50"]
    base = capped(nominal)
    names = [humanize.label(r["input"].replace(".", " ")) for r in reversed(rows)]
    figure = go.Figure()
    for end, colour in (("low", "#E45756"), ("high", "#54A24B")):
        values = [capped(r[f"runway_{end}"]) - base for r in reversed(rows)]
        figure.add_bar(
            y=names,
            x=values,
            base=base,
            orientation="h",
            name=f"input at its {end} end",
            marker_color=colour,
            text=[
                humanize.figure(r[f"{end}_value"], humanize.kind_of(r["input"]))
                for r in reversed(rows)
            ],
            hovertemplate="%{y}: %{text} -> runway %{x:.1f} months<extra></extra>",
        )
    return finish(
        figure,
        title,
        barmode="overlay",
        height=max(300, 40 * len(rows) + 120),
        xaxis={"title": f"runway, months (horizon {horizon:g})"},
    )


def sobol_chart(summary: Mapping[str, Any], top: int = 12) -> go.Figure:
    """First-order and total Sobol indices of runway (share of its variance)."""
    title = f"{summary['company']}: Sobol indices of runway"
    rows = (summary.get("sobol") or [])[:top]
    if not rows:
        return empty(title, "Sobol indices were not computed (simulate --sobol).")
    names = [humanize.label(r["input"].replace(".", " ")) for r in reversed(rows)]
    figure = go.Figure()
    for key, name in (("first_order", "first order"), ("total", "total")):
        figure.add_bar(
            y=names,
            x=[max(0.0, r[key]) for r in reversed(rows)],
            orientation="h",
            name=name,
            hovertemplate="%{y}: %{x:.0%}<extra>" + name + "</extra>",
        )
    return finish(
        figure,
        title,
        barmode="group",
        height=max(300, 40 * len(rows) + 120),
        xaxis={"title": "share of runway variance", "tickformat": ".0%"},
    )


def findings_chart(rows: Sequence[Mapping[str, Any]]) -> go.Figure:
    """The report check: recomputed against stated value of each figure (ratio of range
    midpoints, log scale), coloured by verdict."""
    title = "The report's figures, recomputed (recomputed / stated)"
    points = []
    for r in rows:
        stated = sum(r["stated"]) / 2
        recomputed = sum(r["recomputed"]) / 2
        if stated > 0 and recomputed > 0 and math.isfinite(recomputed / stated):
            points.append((r, recomputed / stated))
    if not points:
        return empty(title, "No figure to compare.")
    figure = go.Figure()
    for verdict, colour in VERDICT_COLOURS.items():
        chosen = [(r, ratio) for r, ratio in points if r["verdict"] == verdict]
        figure.add_scatter(
            x=[ratio for _, ratio in chosen],
            y=[f"{r['section']} {r['id']}" for r, _ in chosen],
            mode="markers",
            name=verdict,
            marker={"color": colour, "size": 10},
            text=[r["claim"] for r, _ in chosen],
            hovertemplate="%{text}<br>recomputed / stated = %{x:.2f}<extra></extra>",
        )
    figure.add_vline(x=1.0, line={"color": "#333", "dash": "dot"})
    return finish(
        figure,
        title,
        height=max(300, 22 * len(points) + 120),
        xaxis={"title": "recomputed / stated", "type": "log"},
    )
