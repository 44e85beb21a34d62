"""Recompute the report's figures from the presets and say where they do not add up.

The stated figures and the few inputs that are not in a preset are data: the report's derived
figures (``report/data/report_figures.yaml``, recomputed here, one function per id) and its
internal contradictions (``report/data/report_contradictions.yaml``, recomputed in
:mod:`gpuplan.report.contradictions`). A figure is *consistent* when both ends of the
recomputed range lie within ``tolerance`` of the stated ends (relative; absolute points for
percentages and years; default 10%), *contradicted* when the two ranges do not even overlap
(no combination of the inputs gives the stated figure), *inconsistent* otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from gpuplan import humanize
from gpuplan.economics.company import CompanySpec, month_index
from gpuplan.economics.compare import fleet_capex
from gpuplan.economics.ranges import judge
from gpuplan.report import contradictions
from gpuplan.report.inputs import Range, product, ratio
from gpuplan.report.inputs import ends as _ends
from gpuplan.uncertainty.montecarlo import corners, evaluate_at
from gpuplan.uncertainty.sampling import uncertain_inputs
from gpuplan.units import HOURS_PER_YEAR

DEFAULT_TOLERANCE = 0.10
FILES = {"figure": "report_figures.yaml", "contradiction": "report_contradictions.yaml"}
"""Kind of finding -> its data file under ``report/data``."""


@cache
def load_findings(name: str) -> list[dict[str, Any]]:
    """The findings of one data file under ``report/data``, as written there."""
    path = Path(str(resources.files("gpuplan.report") / "data" / name))
    items: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return items


def report_figures() -> list[dict[str, Any]]:
    """The report's derived figures, with their inputs and sources."""
    return load_findings(FILES["figure"])


def report_contradictions() -> list[dict[str, Any]]:
    """The report's internal contradictions, with their quotes, inputs and sources."""
    return load_findings(FILES["contradiction"])


def _preset(claim: dict[str, Any]) -> CompanySpec:
    from gpuplan.presets import load_company

    return load_company(claim["preset"])


def _at_start(monthly: np.ndarray) -> Range:
    """Run-rate per year at the horizon start, for the two corner rows."""
    return float(monthly[0, 0] * 12), float(monthly[1, 0] * 12)


def _training_cost(claim: dict[str, Any]) -> tuple[Range, str]:
    return product(claim, "gpu_hours", "price_per_gpu_hour"), "GPU-hours x price"


def _gpu_hours_from_architecture(claim: dict[str, Any]) -> tuple[Range, str]:
    """gpuplan's training estimate (P50) at each end of the token range on the GPU the report
    implies, and the tokens the stated GPU-hours would train (P10-P90)."""
    from gpuplan.compute.training import estimate_training, implied_training

    gpu = claim["inputs"]["gpu"]["value"]
    few, many = _ends(claim["inputs"]["gpus"])
    model = claim["inputs"]["model"]["value"]
    year = claim["inputs"].get("software_year", {}).get("value")  # None: today's stack
    low, high = (
        estimate_training(model, tokens=t, gpu=gpu, gpus=int(g), software_year=year).gpu_hours
        for t, g in zip(_ends(claim["inputs"]["tokens"]), (few, many), strict=True)
    )
    hours, _ = _ends(claim["inputs"]["gpu_hours"])
    implied = implied_training(
        gpu_hours=hours, gpu=gpu, model=model, gpus=int(few), software_year=year
    )
    method = (
        f"estimate_training on {gpu} bf16 at each end of the token range; "
        f"{humanize.gpu_hours(hours)} on {gpu} train {implied.tokens_p10 / 1e12:.1f}-"
        f"{implied.tokens_p90 / 1e12:.1f}T tokens (P10-P90, P50 {implied.tokens / 1e12:.1f}T): "
        "the figure is consistent only "
        "with a token count in that band"
    )
    return (low, high), method


def _duration(claim: dict[str, Any]) -> tuple[Range, str]:
    hours, _ = _ends(claim["inputs"]["gpu_hours"])
    few, many = _ends(claim["inputs"]["gpus"])
    return (hours / many / 24, hours / few / 24), "GPU-hours / GPUs / 24 h"


def _training_spend(claim: dict[str, Any]) -> tuple[Range, str]:
    return product(claim, "releases", "cost_per_model"), "releases x cost per model"


def _cloud_spend(claim: dict[str, Any]) -> tuple[Range, str]:
    flow = corners(_preset(claim))
    return _at_start(flow.compute), "preset compute spend (training + inference) at the start"


def _inference_floor(claim: dict[str, Any]) -> tuple[Range, str]:
    revenue, _ = _ends(claim["inputs"]["revenue"])
    share, _ = _ends(claim["inputs"]["max_share"])
    return (0.0, revenue * share), (
        "inference < 50% of $60M means at most $30M: the report's 'minimum' is a maximum"
    )


def _scale_vs_spend(claim: dict[str, Any]) -> tuple[Range, str]:
    spec = _preset(claim)
    inputs = uncertain_inputs(spec)
    spend = ("compute.spend.training_per_year", "compute.spend.inference_per_year")
    price = "compute.spend.price_per_gpu_hour"
    fewest = {**{p: inputs[p].low for p in spend}, price: inputs[price].high}
    most = {**{p: inputs[p].high for p in spend}, price: inputs[price].low}
    gpus = evaluate_at(spec, [fewest, most]).gpus[:, 0]
    return (float(gpus[0]), float(gpus[1])), (
        "full-time GPUs the spend buys at $2-4.50/GPU-hour (§10.2): spend / (price x 8,760 h)"
    )


def _personnel(claim: dict[str, Any]) -> tuple[Range, str]:
    return _at_start(corners(_preset(claim)).people), "preset headcount x loaded cost"


def _total_burn(claim: dict[str, Any]) -> tuple[Range, str]:
    return _at_start(corners(_preset(claim)).gross_burn), "preset costs at the start, per year"


def _net_burn(claim: dict[str, Any]) -> tuple[Range, str]:
    low, high = _at_start(corners(_preset(claim)).gross_burn)
    revenue, _ = _ends(claim["inputs"]["revenue"])
    return (low - revenue, high - revenue), "preset gross burn - $60M revenue"


def _runway(claim: dict[str, Any]) -> tuple[Range, str]:
    spec = _preset(claim)
    path = "revenue.given[0].per_year"
    dist = uncertain_inputs(spec)[path]
    runway = evaluate_at(spec, [{path: dist.low}, {path: dist.high}]).runway_months / 12
    return (float(runway[0]), float(runway[1])), (
        f"cash flow of preset {claim['preset']} at each end of its revenue range"
    )


def _most_likely_net_burn(claim: dict[str, Any]) -> tuple[Range, str]:
    burn, revenue = _ends(claim["inputs"]["burn"]), _ends(claim["inputs"]["revenue"])
    return (burn[0] - revenue[1], burn[1] - revenue[0]), "burn - revenue, ends crossed"


def _break_even_revenue(claim: dict[str, Any]) -> tuple[Range, str]:
    spec = _preset(claim)
    path = "revenue.given[0].gross_margin"
    dist = uncertain_inputs(spec)[path]
    flow = evaluate_at(spec, [{path: dist.high}, {path: dist.low}])
    needed = flow.break_even_revenue_per_year[:, 0]
    return (float(needed[0]), float(needed[1])), "operating costs / gross margin"


def _enterprise_revenue(claim: dict[str, Any]) -> tuple[Range, str]:
    return _at_start(corners(_preset(claim)).revenue), "contracts x value per contract"


def _gross_margin(claim: dict[str, Any]) -> tuple[Range, str]:
    spec = _preset(claim)
    inputs = uncertain_inputs(spec)
    price, cost = "revenue.api[0].price_per_million", "revenue.api[0].serving_cost_per_million"
    worst = {price: inputs[price].low, cost: inputs[cost].high}
    best = {price: inputs[price].high, cost: inputs[cost].low}
    margin = evaluate_at(spec, [worst, best]).gross_margin[:, 0] * 100
    return (float(margin[0]), float(margin[1])), "1 - cost / price"


def _revenue_per_customer(claim: dict[str, Any]) -> tuple[Range, str]:
    return ratio(claim, "revenue", "customers"), "revenue / customers"


def _revenue_multiple(claim: dict[str, Any]) -> tuple[Range, str]:
    return ratio(claim, "target", "revenue"), "target / current revenue"


def _capital_ratio(claim: dict[str, Any]) -> tuple[Range, str]:
    stated = ratio(claim, "xai_capex", "mistral_funding")
    spec = _preset(claim)
    inputs = uncertain_inputs(spec)
    from gpuplan.economics.cashflow import InputValues

    values = InputValues({p: np.array([d.low, d.high]) for p, d in inputs.items()}, n=2)
    capex = fleet_capex(spec, values)
    funding, _ = _ends(claim["inputs"]["mistral_funding"])
    return stated, (
        f"$50B / $640M; the xai preset's own fleet capex ({capex[0] / 1e9:.1f}-"
        f"{capex[1] / 1e9:.1f} $B) gives 1:{capex[0] / funding:.0f}-1:{capex[1] / funding:.0f}"
    )


def _share_of_xai(claim: dict[str, Any]) -> tuple[Range, str]:
    return ratio(claim, "mistral_funding", "xai_capex", 100), "funding / capex"


def _share_of_openai(claim: dict[str, Any]) -> tuple[Range, str]:
    return ratio(claim, "openai_funding", "mistral_funding"), "OpenAI funding / Mistral's"


def _cloud_markup(claim: dict[str, Any]) -> tuple[Range, str]:
    markup = ratio(claim, "cloud_price", "ownership_cost")
    spec = _preset(claim)
    row = spec.compute.fleet[0]
    inputs = uncertain_inputs(spec)
    capex, opex = (
        inputs["compute.fleet[0].capex_per_gpu"],
        inputs["compute.fleet[0].opex_per_gpu_hour"],
    )
    life = float(row.depreciation_years)  # type: ignore[arg-type]
    own = (
        capex.low / (life * HOURS_PER_YEAR) + opex.low,
        capex.high / (life * HOURS_PER_YEAR) + opex.high,
    )
    from gpuplan.economics.ownership import ownership_cost

    owned = ownership_cost("h100-sxm", "US", utilisation=1.0).cost_per_gpu_hour
    return markup, (
        f"$2-4.50 / $1; against the xai preset's owned H100 (${own[0]:.2f}-${own[1]:.2f}"
        f"/GPU-hour at full use) the markup is {2.0 / own[1]:.1f}-{4.5 / own[0]:.1f}x; against "
        f"gpuplan's ownership model (H100, US, full use: ${owned:.2f}/h) "
        f"{2.0 / owned:.1f}-{4.5 / owned:.1f}x"
    )


def _series_b(claim: dict[str, Any]) -> tuple[Range, str]:
    equity, _ = _ends(claim["inputs"]["equity"])
    debt, _ = _ends(claim["inputs"]["debt"])
    return (equity + debt, equity + debt), "equity + debt"


def _months_between(claim: dict[str, Any]) -> tuple[Range, str]:
    months = month_index(claim["inputs"]["event"]["value"]) - month_index(
        claim["inputs"]["founded"]["value"]
    )
    return (float(months), float(months)), "calendar months between the two dates"


def _price_gap(claim: dict[str, Any]) -> tuple[Range, str]:
    ours, _ = _ends(claim["inputs"]["mistral"])
    theirs, _ = _ends(claim["inputs"]["gpt4_turbo"])
    gap = (1 - ours / theirs) * 100
    return (gap, gap), "1 - $8 / $10"


RECOMPUTE: dict[str, Callable[[dict[str, Any]], tuple[Range, str]]] = {
    "mistral-7b-training-cost": _training_cost,
    "mistral-7b-gpu-hours": _gpu_hours_from_architecture,
    "mistral-7b-duration": _duration,
    "training-spend": _training_spend,
    "cloud-spend": _cloud_spend,
    "inference-floor": _inference_floor,
    "gpu-scale-vs-spend": _scale_vs_spend,
    "personnel": _personnel,
    "total-burn": _total_burn,
    "net-burn": _net_burn,
    "runway-scenario-1": _runway,
    "runway-scenario-2": _runway,
    "most-likely-net-burn": _most_likely_net_burn,
    "break-even-revenue": _break_even_revenue,
    "enterprise-revenue": _enterprise_revenue,
    "gross-margin": _gross_margin,
    "revenue-per-customer": _revenue_per_customer,
    "revenue-multiple": _revenue_multiple,
    "capital-ratio": _capital_ratio,
    "share-of-xai-capex": _share_of_xai,
    "share-of-openai-funding": _share_of_openai,
    "cloud-markup": _cloud_markup,
    "series-b-composition": _series_b,
    "months-to-series-b": _months_between,
    "months-to-billionaires": _months_between,
    "large-price-gap": _price_gap,
}


def _recompute(kind: str, claim: dict[str, Any]) -> tuple[Range, str]:
    name = claim.get("recompute", claim["id"])
    table = RECOMPUTE if kind == "figure" and name in RECOMPUTE else contradictions.RECOMPUTE
    return table[name](claim)


def check_claim(kind: str, claim: dict[str, Any]) -> dict[str, Any]:
    """One stated figure with its recomputation, verdict and how far off."""
    recomputed, method = _recompute(kind, claim)
    stated = (float(claim["stated"][0]), float(claim["stated"][1]))
    tolerance = float(claim.get("tolerance", DEFAULT_TOLERANCE))
    notes = [method, claim.get("note")]
    notes += [
        f"{name}: {item['source']}"
        for name, item in claim.get("inputs", {}).items()
        if isinstance(item, dict) and "no traceable" in str(item.get("source", ""))
    ]
    return {
        "id": claim["id"],
        "kind": kind,
        "section": claim["section"],
        "claim": claim["claim"],
        "quotes": claim.get("quotes", []),
        "unit": claim["unit"],
        "stated": list(stated),
        "recomputed": [float(v) for v in recomputed],
        **judge(stated, recomputed, claim["unit"], tolerance),
        "note": "; ".join(n for n in notes if n),
        "preset": claim.get("preset"),
    }


def check_report(kinds: tuple[str, ...] = ("figure", "contradiction")) -> list[dict[str, Any]]:
    """Each stated figure (``figure``) and internal contradiction (``contradiction``) with
    its recomputation, verdict (consistent, inconsistent or contradicted) and how far off."""
    loaders = {"figure": report_figures, "contradiction": report_contradictions}
    return [check_claim(kind, claim) for kind in kinds for claim in loaders[kind]()]
