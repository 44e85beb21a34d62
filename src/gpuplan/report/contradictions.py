"""Recompute one side of each of the report's internal contradictions from the other side.

The findings, with their quotes and inputs, are data (``report/data/report_contradictions.yaml``);
each ``recompute`` name there is one function here returning ``((low, high), method)``.
Verdicts are derived from the ranges by :mod:`gpuplan.report.check_report`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gpuplan.economics.company import month_index, month_label
from gpuplan.humanize import count, money, percent
from gpuplan.report.inputs import Range, input_ends, product, ratio
from gpuplan.units import HOURS_PER_DAY

DAYS_PER_YEAR = 365.0


def _margin_from_inference_spend(claim: dict[str, Any]) -> tuple[Range, str]:
    """Gross margin if inference is the cost of revenue: 1 - inference / revenue, in %."""
    low, high = ratio(claim, "inference", "revenue")
    return (100 * (1 - high), 100 * (1 - low)), (
        "gross margin = 1 - inference cost / revenue, at each end of the inference range"
    )


def _inference_spend_from_volume(claim: dict[str, Any]) -> tuple[Range, str]:
    """Tokens per day x 365 x cost per million tokens / 1e6, USD a year."""
    low, high = product(claim, "tokens_per_day", "cost_per_million")
    cost_low, cost_high = input_ends(claim, "cost_per_million")
    stated_low, stated_high = (float(v) for v in claim["stated"])
    needed = (
        stated_low / DAYS_PER_YEAR / cost_high * 1e6,
        stated_high / DAYS_PER_YEAR / cost_low * 1e6,
    )
    return (low * DAYS_PER_YEAR / 1e6, high * DAYS_PER_YEAR / 1e6), (
        "tokens/day x 365 x cost per 1M tokens; the stated spend would need "
        f"{count(needed[0])}-{count(needed[1])} tokens a day at that cost"
    )


def _break_even_revenue(claim: dict[str, Any]) -> tuple[Range, str]:
    """Operating costs / gross margin (Scenario A's own figures), and the operating result at
    the stated revenue: margin x revenue - operating costs."""
    costs, _ = input_ends(claim, "operating_costs")
    margin_low, margin_high = input_ends(claim, "gross_margin")
    revenue_low, revenue_high = input_ends(claim, "revenue")
    result = (margin_low * revenue_low - costs, margin_high * revenue_high - costs)
    return (costs / margin_high, costs / margin_low), (
        f"break-even revenue = operating costs / gross margin; at {money(revenue_low)}-"
        f"{money(revenue_high)} revenue the operating result is {money(result[0])} to "
        f"{money(result[1])} a year"
    )


def break_even_years(claim: dict[str, Any]) -> tuple[np.ndarray, int]:
    """Calendar year of break-even on a grid of the report's inputs, and the grid size.

    The preset (``claim['preset']``) starts at the report's current revenue; its growth is
    set so that revenue reaches ``target_revenue`` in each month of ``target_window``
    (uniform over the window, the report's reading), crossed with 11 equally spaced quantiles
    of the preset's gross margin. Revenue grows x0 (1 + g)^(t/12) (gpuplan.economics), so
    reaching the target in month t* needs g = (target / x0)^(12 / t*) - 1.
    """
    from gpuplan.presets import load_company
    from gpuplan.uncertainty.montecarlo import evaluate_at
    from gpuplan.uncertainty.sampling import uncertain_inputs

    spec = load_company(claim["preset"])
    given = spec.revenue.given[0]
    start_revenue = float(given.per_year)  # type: ignore[arg-type]
    target, _ = input_ends(claim, "target_revenue")
    window = claim["inputs"]["target_window"]
    months = np.arange(month_index(window["low"]), month_index(window["high"]) + 1)
    growth = (target / start_revenue) ** (12.0 / (months - spec.start_index)) - 1
    margin_path = "revenue.given[0].gross_margin"
    margins = uncertain_inputs(spec)[margin_path].ppf((np.arange(11) + 0.5) / 11)
    points = [
        {"revenue.given[0].growth_per_year": float(g), margin_path: float(m)}
        for g in growth
        for m in margins
    ]
    month = evaluate_at(spec, points).break_even_month
    years = np.where(
        np.isfinite(month),
        (spec.start_index + np.nan_to_num(month) - 1) // 12,
        np.inf,
    )
    return years, len(points)


def _break_even_year_distribution(claim: dict[str, Any]) -> tuple[Range, str]:
    """P10-P90 of the break-even year over the report's inputs; share in the stated years."""
    years, n = break_even_years(claim)
    window = claim["inputs"]["target_window"]
    p10, p50, p90 = np.percentile(years, [10, 50, 90], method="lower")
    stated_low, stated_high = (float(v) for v in claim["stated"])
    inside = float(np.mean((years >= stated_low) & (years <= stated_high)))
    by_year = ", ".join(
        f"{int(y)}: {percent(float(np.mean(years == y)))}"
        for y in np.unique(years[np.isfinite(years)])
    )
    return (float(p10), float(p90)), (
        f"cash-flow engine over {n} points: {money(input_ends(claim, 'target_revenue')[0])} "
        f"reached in each month of {window['low']}..{window['high']} x 11 quantiles of the "
        f"preset's gross margin; break-even year P50 {int(p50)} ({by_year}); the stated years "
        f"hold {percent(inside)} of it"
    )


def _cash_out_year(claim: dict[str, Any]) -> tuple[Range, str]:
    """Year cash runs out: start month + cash / net burn (the latest a Series C can come)."""
    cash, _ = input_ends(claim, "cash")
    burn_low, burn_high = input_ends(claim, "net_burn")
    start = month_index(claim["inputs"]["from_month"]["value"])
    first, last = (start + 12 * cash / burn for burn in (burn_high, burn_low))
    return (float(int(first) // 12), float(int(last) // 12)), (
        f"{money(cash)} / net burn from {claim['inputs']['from_month']['value']}: cash lasts "
        f"{cash / burn_high:.1f}-{cash / burn_low:.1f} years, to {month_label(int(first))} "
        f"- {month_label(int(last))}"
    )


def _costs(claim: dict[str, Any]) -> list[dict[str, Any]]:
    costs: list[dict[str, Any]] = claim["inputs"]["costs"]
    return costs


def _mean_training_cost(claim: dict[str, Any]) -> tuple[Range, str]:
    """Mean of §5.1's per-model costs, lows together and highs together."""
    costs = _costs(claim)
    low = sum(float(c["low"]) for c in costs) / len(costs)
    high = sum(float(c["high"]) for c in costs) / len(costs)
    return (low, high), f"mean of the {len(costs)} models §5.1 costs"


def _total_training_cost(claim: dict[str, Any]) -> tuple[Range, str]:
    """Sum of §5.1's per-model costs; the span of their release months."""
    costs = _costs(claim)
    released = sorted(c["released"] for c in costs)
    span = month_index(released[-1]) - month_index(released[0])
    return (
        sum(float(c["low"]) for c in costs),
        sum(float(c["high"]) for c in costs),
    ), (
        f"sum of §5.1's costs for the {len(costs)} models, released {released[0]} to "
        f"{released[-1]} ({span} months, less than a year)"
    )


def _cluster_cost(claim: dict[str, Any]) -> tuple[Range, str]:
    """GPUs x days x 24 h x price per GPU-hour, USD; and the days the stated cost buys."""
    low, high = product(claim, "gpus", "days", "price_per_gpu_hour")
    gpus_low, gpus_high = input_ends(claim, "gpus")
    price_low, price_high = input_ends(claim, "price_per_gpu_hour")
    stated_low, stated_high = (float(v) for v in claim["stated"])
    days = (
        stated_low / (price_high * gpus_high * HOURS_PER_DAY),
        stated_high / (price_low * gpus_low * HOURS_PER_DAY),
    )
    return (low * HOURS_PER_DAY, high * HOURS_PER_DAY), (
        "GPUs x days x 24 h x price; the stated cost buys those GPUs for "
        f"{days[0]:.1f}-{days[1]:.1f} days"
    )


def _fleet_purchase(claim: dict[str, Any]) -> tuple[Range, str]:
    """GPUs x all-in capex per GPU (gpuplan's ownership model), cheapest type for the low
    end, dearest for the high end."""
    from gpuplan.economics.ownership import ownership_cost

    country = claim["inputs"]["country"]["value"]
    capex = {
        gpu: ownership_cost(gpu, country).capex_per_gpu_usd
        for gpu in claim["inputs"]["gpu_types"]["value"]
    }
    gpus_low, gpus_high = input_ends(claim, "gpus")
    cheapest, dearest = min(capex.values()), max(capex.values())
    capital_low, capital_high = (float(v) for v in claim["stated"])
    each = ", ".join(f"{gpu} {money(v)}" for gpu, v in capex.items())
    return (gpus_low * cheapest, gpus_high * dearest), (
        f"GPUs x all-in capex per GPU in {country} ({each}); {money(capital_low)}-"
        f"{money(capital_high)} buys {count(capital_low / dearest)}-"
        f"{count(capital_high / cheapest)} GPUs and leaves nothing for the burn"
    )


def _funding_by_month(claim: dict[str, Any]) -> tuple[Range, str]:
    """Rounds of the preset's funding history closed within ``months`` of founding."""
    from gpuplan.presets import load_company

    spec = load_company(claim["preset"])
    founded = month_index(claim["inputs"]["founded"]["value"])
    limit = founded + int(claim["inputs"]["months"]["value"])
    rounds = [(r.name, month_index(r.month), float(r.amount)) for r in spec.past_funding]  # type: ignore[arg-type]
    within = sum(amount for _, month, amount in rounds if month <= limit)
    later = [(name, month, amount) for name, month, amount in rounds if month > limit]
    text = f"rounds closed by {month_label(limit)} in preset {claim['preset']}"
    if later:
        name, month, amount = later[0]
        text += (
            f"; {money(within + amount)} only with the {name} ({month_label(month)}, "
            f"{month - founded} months after founding)"
        )
    return (within, within), text


def _price_over_cost(claim: dict[str, Any]) -> tuple[Range, str]:
    return ratio(claim, "price", "cost"), "price / cost per 1M tokens"


def _price_gap(claim: dict[str, Any]) -> tuple[Range, str]:
    ours, _ = input_ends(claim, "mistral")
    theirs, _ = input_ends(claim, "gpt4_turbo")
    gap = (1 - ours / theirs) * 100
    return (gap, gap), f"1 - ${ours:g} / ${theirs:g}"


def _personnel_cost(claim: dict[str, Any]) -> tuple[Range, str]:
    return product(claim, "headcount", "cost_per_employee"), "headcount x cost per employee"


def _size_gap(claim: dict[str, Any]) -> tuple[Range, str]:
    """1 - params(model) / params(reference), from the catalog architectures, in %."""
    from gpuplan.catalog.models import get_model

    ours = get_model(claim["inputs"]["model"]["value"]).architecture.params_total
    theirs = get_model(claim["inputs"]["reference"]["value"]).architecture.params_total
    gap = 100 * (1 - ours / theirs)
    return (gap, gap), (
        f"1 - {count(ours)} / {count(theirs)} parameters (catalog architectures); the report's "
        f"own 7.3B / 13B gives {100 * (1 - 7.3 / 13):.1f}%"
    )


def _moe_parameters(claim: dict[str, Any]) -> tuple[Range, str]:
    """Total parameters of the MoE from its architecture: attention, embeddings and norms
    are shared, only the feed-forward experts are replicated."""
    from gpuplan.catalog.models import get_model

    moe = get_model(claim["inputs"]["model"]["value"]).architecture
    dense = get_model(claim["inputs"]["dense"]["value"]).architecture
    experts = int(claim["inputs"]["experts"]["value"])
    naive = experts * dense.params_total
    shared = moe.params_total - moe.expert_params * moe.num_moe_layers * moe.num_experts
    return (float(moe.params_total), float(moe.params_total)), (
        f"from the architecture: {count(shared)} shared (attention, embeddings, norms, "
        f"router) + {experts} x {count(moe.expert_params * moe.num_moe_layers)} expert "
        f"feed-forward; {experts} x {count(dense.params_total)} would be {count(naive)}: "
        "consistent once the shared layers are counted once"
    )


RECOMPUTE: dict[str, Callable[[dict[str, Any]], tuple[Range, str]]] = {
    "margin_from_inference_spend": _margin_from_inference_spend,
    "inference_spend_from_volume": _inference_spend_from_volume,
    "break_even_revenue": _break_even_revenue,
    "break_even_year_distribution": _break_even_year_distribution,
    "cash_out_year": _cash_out_year,
    "mean_training_cost": _mean_training_cost,
    "total_training_cost": _total_training_cost,
    "cluster_cost": _cluster_cost,
    "fleet_purchase": _fleet_purchase,
    "funding_by_month": _funding_by_month,
    "price_over_cost": _price_over_cost,
    "price_gap": _price_gap,
    "personnel_cost": _personnel_cost,
    "size_gap": _size_gap,
    "moe_parameters": _moe_parameters,
}
"""Recomputations by the ``recompute`` name the findings file uses."""
