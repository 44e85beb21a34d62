"""The report's §9.3 infrastructure paths, planned, and where gpuplan's optimum tells a
different story from the report's.

Every plan is solved through the public :func:`gpuplan.plan` API from a preset's mapping
with small changes (a discount, a demand scale); each solve takes tens of seconds, so the
results are cached per process. Findings have the shape of ``check-report`` rows.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from typing import Any

from gpuplan.economics.ranges import judge
from gpuplan.humanize import count, money, percent
from gpuplan.progress import ProgressCallback
from gpuplan.report.inputs import ends

PATH_A, PATH_B, LAB = "path-a-cloud-only", "path-b-own-inference", "european-lab"
LITERAL_B = "rent_training_own_inference"
"""The planner baseline that is the report's literal path B."""
PROVIDER = "Azure"


def path_claims() -> dict[str, dict[str, Any]]:
    """What each §9.3 finding quotes and states (``report/data/report_paths.yaml``)."""
    from gpuplan.report.check_report import load_findings

    return {claim["id"]: claim for claim in load_findings("report_paths.yaml")}


def _mapping(name: str) -> dict[str, Any]:
    from gpuplan.presets import read_scenario

    return copy.deepcopy(read_scenario(name))


def _solve(data: dict[str, Any], baselines: bool = False) -> Any:
    from gpuplan import plan

    return plan(data, baselines=baselines)


def provider_shares(result: Any) -> dict[str, float]:
    """Share of GPU-quarters in the plan's fleet per provider (owned GPUs as 'owned')."""
    by_provider = result.fleet.groupby("provider")["gpus"].sum()
    total = float(by_provider.sum())
    return {str(p): float(v) / total for p, v in by_provider.items()} if total else {}


def kind_share(result: Any, kind: str, provider: str) -> float:
    """Share of the GPUs allocated to ``kind`` (inference or training) that ``provider``
    serves, over the whole horizon."""
    allocated = result.allocations[result.allocations.kind == kind]
    total = float(allocated.gpus.sum())
    return float(allocated.gpus[allocated.provider == provider].sum()) / total if total else 0.0


@cache
def _path_a_plan(discount: float | None) -> Any:
    """Path A's free optimum: its share rule dropped (it only caps Azure), Azure at
    ``discount`` off list (None: the preset's own assumption)."""
    data = _mapping(PATH_A)
    data["rules"] = {}
    if discount is not None:
        data["supply"]["adjustments"] = [
            {"provider": PROVIDER, "discount": discount, "source": "discount searched"}
        ]
    return _solve(data)


@cache
def _azure_primary_plan() -> Any:
    """Path A with its ``azure_primary`` override (Azure and Mistral Compute only)."""
    from gpuplan import plan

    return plan(PATH_A, ["azure_primary"], baselines=False)


def _is_primary(discount: float) -> bool:
    shares = provider_shares(_path_a_plan(discount))
    return bool(shares) and max(shares, key=lambda p: shares[p]) == PROVIDER


def bisect(test: Callable[[float], bool], low: float, high: float, steps: int) -> float | None:
    """Smallest x in [low, high] with test(x) true, to (high - low) / 2^steps, for a test
    that turns true once and stays true; None if it is false at ``high``."""
    if not test(high):
        return None
    for _ in range(steps):
        middle = (low + high) / 2
        low, high = (low, middle) if test(middle) else (middle, high)
    return high


@cache
def azure_discount_needed(steps: int = 5) -> float | None:
    """The discount off Azure's list price at which the free optimum of path A (any
    provider, no share rule) makes Azure its primary provider (largest GPU share)."""
    return bisect(_is_primary, 0.0, 0.95, steps)


def _scaled(name: str, scale: float) -> dict[str, Any]:
    """A preset's mapping with every inference volume multiplied by ``scale``."""
    data = _mapping(name)
    for workload in data.get("inference", []):
        volume = workload["tokens_per_day"]
        if isinstance(volume, dict):  # YAML reads 10.0e9 as text: numbers via float()
            volume.update(low=float(volume["low"]) * scale, high=float(volume["high"]) * scale)
        else:
            workload["tokens_per_day"] = float(volume) * scale
    return data


@cache
def _npvs(scale: float) -> tuple[float, float]:
    """(path A optimum, literal path B) NPV at ``scale`` x the presets' inference demand."""
    literal = _solve(_scaled(PATH_B, scale), baselines=True).baselines.set_index("name")
    return float(_solve(_scaled(PATH_A, scale)).npv_usd), float(literal.npv_usd[LITERAL_B])


def ownership_wins_at(steps: int = 4, most: float = 8.0) -> float | None:
    """The inference demand (x the presets') at which the literal path B costs no more
    than path A, by bisection on a log scale; None if not even at ``most``."""
    import math

    def wins(log_scale: float) -> bool:
        a, b = _npvs(round(math.exp(log_scale), 3))
        return b <= a

    found = bisect(wins, 0.0, math.log(most), steps)
    return None if found is None else round(math.exp(found), 2)


def _row(claim: dict[str, Any], recomputed: tuple[float, float], note: str) -> dict[str, Any]:
    stated = (float(claim["stated"][0]), float(claim["stated"][1]))
    tolerance = float(claim.get("tolerance", 0.10))
    return {
        **{k: v for k, v in claim.items() if k != "note"},
        "kind": "path",
        "stated": list(stated),
        "recomputed": [float(v) for v in recomputed],
        **judge(stated, recomputed, claim["unit"], tolerance),
        "note": note,
        "preset": claim.get("preset"),
    }


def owned_utilisation(result: Any) -> tuple[float, float]:
    """Lowest and highest yearly utilisation of the owned fleet (GPUs allocated to workloads
    / owned, summed over each year's periods), over the years it holds at least 90% of its
    peak. The planner's table names the allocated GPUs ``allocated_gpus`` (``used_gpus``
    before the planner's utilisation split)."""
    owned = result.utilisation[result.utilisation["mode"] == "owned"]
    owned = owned[owned.fleet_gpus >= 0.9 * owned.fleet_gpus.max()]
    used = next(c for c in ("allocated_gpus", "used_gpus") if c in owned.columns)
    yearly = owned.groupby(owned.period.str[:4])[[used, "fleet_gpus"]].sum()
    share = yearly[used] / yearly.fleet_gpus
    return float(share.min()), float(share.max())


def _offered_gpus(provider: str) -> str:
    from gpuplan.catalog.offers import query_offers

    return ", ".join(sorted({offer.gpu for offer in query_offers(provider=provider)}))


def path_a_row() -> dict[str, Any]:
    """Path A as 'Azure primary' (Azure and Mistral Compute only) against its free optimum,
    with the discount Azure needs to be chosen as primary on cost alone."""
    azure = _azure_primary_plan()
    free = _path_a_plan(None)
    needed = azure_discount_needed()
    shares = provider_shares(azure)
    claim = {**path_claims()["path-a-azure-primary"], "stated": [free.npv_usd] * 2}
    needed_text = (
        f"Azure becomes the primary provider of the free optimum only at {percent(needed)} off "
        "its list price"
        if needed is not None
        else "Azure is never the primary provider, even at 95% off"
    )
    note = (
        f"stated = NPV of path A's free optimum (any provider; Azure gets "
        f"{percent(provider_shares(free).get(PROVIDER, 0.0))} of its GPUs at the preset's "
        f"20-40% discount); recomputed = NPV with Azure primary (only Azure and Mistral "
        f"Compute, §9.3 A): Azure serves {percent(kind_share(azure, 'inference', PROVIDER))} "
        f"of inference and {percent(kind_share(azure, 'training', PROVIDER))} of training "
        f"({percent(shares.get(PROVIDER, 0.0))} of all GPUs; its catalog offers "
        f"{_offered_gpus(PROVIDER)}, so runs that need newer GPUs go to Mistral Compute); "
        f"{needed_text} (§3.2's 'discounted rates' are undisclosed)"
    )
    return _row(claim, (azure.npv_usd, azure.npv_usd), note)


def path_b_row() -> dict[str, Any]:
    """The literal path B (rent training, own inference) against path A; the demand at which
    ownership wins."""
    literal = _solve(_mapping(PATH_B), baselines=True)
    optimum_a = _path_a_plan(None)
    npv_b = float(literal.baselines.set_index("name").npv_usd[LITERAL_B])
    low, high = owned_utilisation(literal)
    wins = ownership_wins_at()
    claim = path_claims()["path-b-owned-inference"]
    story = (
        "the optimum reverses the report's story"
        if npv_b > optimum_a.npv_usd
        else "the optimum agrees with the report"
    )
    won = (
        f"ownership wins at {wins:g}x the presets' inference demand"
        if wins is not None
        else "ownership does not win even at 8x the presets' demand"
    )
    note = (
        f"recomputed = NPV of the literal path B ({money(npv_b)}) / path A's optimum "
        f"({money(optimum_a.npv_usd)}); path B's own optimum, which also trains on its owned "
        f"GPUs, costs {money(literal.npv_usd)} ({literal.npv_usd / optimum_a.npv_usd:.2g}x); "
        f"{claim['note']}; {story}: in path B's optimum the "
        f"10,000 owned GPUs run at {percent(low)}-{percent(high)} utilisation (yearly); {won}"
    )
    ratio = npv_b / float(optimum_a.npv_usd)
    return _row(claim, (ratio, ratio), note)


def european_lab_row() -> dict[str, Any]:
    """The european-lab preset's demand and plan scale against the report's spend and GPUs."""
    result = _solve(_mapping(LAB))
    fleet = result.fleet.groupby("period")["gpus"].sum()
    yearly_gpus = fleet.groupby(fleet.index.str[:4]).mean()
    cost = result.cost_by_category
    yearly_cost = cost[cost.category != "residual_value"].groupby("year")["usd"].sum()
    data = _mapping(LAB)
    start = sum(
        (float(w["tokens_per_day"]["low"]) + float(w["tokens_per_day"]["high"])) / 2
        if isinstance(w["tokens_per_day"], dict)
        else float(w["tokens_per_day"])
        for w in data["inference"]
    )
    serving = result.allocations[result.allocations.kind == "inference"]
    first = serving[serving.period == serving.period.min()]
    per_gpu = start / float(first.gpus.sum())
    claim = path_claims()["european-lab-scale"]
    spend, volume = ends(claim["inputs"]["spend"]), ends(claim["inputs"]["volume"])
    cost = (float(yearly_cost.min()), float(yearly_cost.max()))
    cost_verdict = judge(spend, cost, "USD", 0.10)["verdict"]
    served_low, served_high = (float(gpus) * per_gpu for gpus in claim["stated"])
    volume_text = (
        f"beyond the report's 'tens of billions' (up to {count(volume[1])}): the report's GPU "
        "count is inconsistent with its own volume"
        if served_low > volume[1]
        else "within the report's 'tens of billions'"
    )
    note = (
        f"gpuplan keeps the demand the report states ({count(start)} tokens/day at the start, "
        f"growing, in the european-lab preset) and does not recalibrate it: its plan uses "
        f"{count(float(yearly_gpus.min()))}-{count(float(yearly_gpus.max()))} GPUs (yearly "
        f"averages) and costs {money(cost[0])}-{money(cost[1])} a year ({cost_verdict} with "
        f"the report's {money(spend[0])}-{money(spend[1])}); at the {count(per_gpu)} tokens/day "
        "per inference GPU of its first period (peak capacity included), the report's 10K-50K "
        f"GPUs would serve {count(served_low)}-"
        f"{count(served_high)} tokens/day, {volume_text}"
    )
    return _row(claim, (float(yearly_gpus.min()), float(yearly_gpus.max())), note)


def check_paths(progress: ProgressCallback | None = None) -> list[dict[str, Any]]:
    """The §9.3 findings (slow: several plan solves, cached per process)."""
    steps = [
        ("path A: Azure primary and the discount it needs", path_a_row),
        ("path B: literal form against path A", path_b_row),
        ("european-lab scale against the report", european_lab_row),
    ]
    rows = []
    for i, (phase, step) in enumerate(steps):
        if progress is not None:
            progress(phase, i / len(steps))
        rows.append(step())
    return rows
