"""One look for every chart: colours per supply mode, number formats on axes, the layout."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from gpuplan import humanize

MODE_COLOURS = {
    "on_demand": "#4C78A8",
    "spot": "#9ECAE9",
    "reserved": "#F58518",
    "owned": "#54A24B",
    "capex": "#2E7D32",
    "owned_opex": "#88D27A",
    "residual_value": "#B279A2",
}
"""Supply modes (and the cost categories of owning) in the same colour in every chart (the
web app reuses them)."""
BAND_FILL = "rgba(76, 120, 168, 0.18)"
VERDICT_COLOURS = {"consistent": "#54A24B", "inconsistent": "#F58518", "contradicted": "#E45756"}
COUNT_AXIS = {"exponentformat": "B"}
PERCENT_AXIS = {"tickformat": ".0%"}


def mode_colour(mode: str) -> str | None:
    """The colour of a supply mode (``None`` lets plotly choose for anything else)."""
    return MODE_COLOURS.get(mode)


def finish(figure: go.Figure, title: str, **layout: Any) -> go.Figure:
    """Common layout: title, white template, legend above the plot, compact margins."""
    defaults: dict[str, Any] = {
        "title": {"text": title, "x": 0.0, "xanchor": "left"},
        "template": "plotly_white",
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0.0},
        "margin": {"l": 70, "r": 20, "t": 50, "b": 110},
        "height": 460,
    }
    figure.update_layout(**(defaults | layout))
    return figure


def empty(title: str, reason: str) -> go.Figure:
    """A figure that says why there is nothing to draw (e.g. a plan without purchases)."""
    figure = go.Figure()
    figure.add_annotation(text=reason, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return finish(figure, title, height=200)


def money_axis(values: Iterable[float], title: str = "USD") -> dict[str, Any]:
    """A money axis with about five round ticks written the humanize way (``−$2.3B``, not
    plotly's ``$−2.3G``); ``values`` are the extremes the axis must show (stack totals)."""
    finite = [float(v) for v in values if math.isfinite(float(v))] + [0.0]
    low, high = min(finite), max(finite)
    raw = (high - low) / 5 or 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = np.arange(math.floor(low / step), math.ceil(high / step) + 1) * step
    text = [humanize.money(t) if t else "$0" for t in ticks]
    return {"title": title, "tickvals": ticks.tolist(), "ticktext": text}


def period_axis(periods: Sequence[str], title: str = "") -> dict[str, Any]:
    """A category axis of planning periods in calendar order (not order of appearance)."""
    return {
        "title": title,
        "type": "category",
        "categoryorder": "array",
        "categoryarray": list(periods),
    }


def money_text(values: Any) -> list[str]:
    """Hover and label text for money values: ``$1.66M``."""
    return [humanize.money(float(v)) for v in values]
