"""Explain an infeasible plan in the user's terms, from the penalised slack variables.

Every demand row carries a slack with a large penalty, so the solver always returns a plan;
each slack left above zero becomes one :class:`Shortfall` naming the workload, the period,
the rule that binds and the missing quantity, e.g. "EU inference demand for mixtral-8x7b in
2027-Q3 needs 2,400 h100-sxm-equivalent GPUs; offers allowed under 'eu_operator' can
supply 1,500". Which rule binds is read from the problem (no allowed option, availability
caps below the need, no cluster large enough, lead times) or, failing that, from the rule
rows the plan holds at their limit in that period.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from gpuplan.humanize import number
from gpuplan.planning.model.build import PlanModel
from gpuplan.planning.model.costs import start_allowed
from gpuplan.planning.problem import SOVEREIGNTY_TEXT
from gpuplan.planning.readback import PlanSolution

RULE_FAMILIES = ("provider_share", "availability", "capex_budget", "max_owned_fleet")


@dataclass(frozen=True)
class Shortfall:
    """One unmet requirement: what, when, which rule, how much is missing."""

    workload: str
    kind: str
    period: str
    rule: str
    need: float
    supply: float
    shortfall: float
    unit: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _reachable(model: PlanModel) -> np.ndarray:
    """(options x periods): could a unit of the option be in the fleet in that period?"""
    allowed = start_allowed(model.problem)
    T = model.problem.grid.count
    reach = np.zeros_like(allowed)
    for o, option in enumerate(model.problem.options):
        for s in np.flatnonzero(allowed[o]):
            first = s + option.lead_periods
            reach[o, first : min(T, first + option.term_periods)] = True
    return reach


def _tight_rules(model: PlanModel, values: np.ndarray, period: int) -> list[str]:
    """Names of rule rows held at their limit in ``period`` (capex budgets up to it)."""
    linear = model.linear
    activity = linear.matrix @ values
    names = []
    for family in RULE_FAMILIES:
        block = linear.rows.get(family)
        if block is None:
            continue
        keys = block.keys["period"]
        rows = np.flatnonzero(keys <= period if family == "capex_budget" else keys == period)
        for i in block.start + rows:
            limit = linear.row_upper[i]
            if np.isfinite(limit) and activity[i] >= limit - 1e-6 * max(1.0, abs(limit)):
                names.append(linear.row_name(int(i)))
    return names


def open_inference(model: PlanModel, upper: np.ndarray | None = None) -> np.ndarray:
    """(inference x options x periods) mask of the allocations a solve could make: the
    model's columns, or those ``upper`` leaves open (a baseline's restriction), so each
    diagnosis judges the options its own plan had."""
    problem = model.problem
    mask = np.zeros((len(problem.inference), len(problem.options), problem.grid.count), dtype=bool)
    block = model.linear.columns["inference_allocation"]
    if block.size:
        bounds = model.linear.col_upper if upper is None else upper
        open_ = bounds[block.start : block.stop] > 0
        keys = block.keys
        mask[keys["workload"][open_], keys["option"][open_], keys["period"][open_]] = True
    return mask


def _inference_shortfalls(
    model: PlanModel, values: np.ndarray, sol: PlanSolution, usable: np.ndarray, limit: str
) -> list[Shortfall]:
    problem, a = model.problem, model.arrays
    reach = _reachable(model)
    caps = np.array(
        [np.inf if o.availability_gpus is None else o.availability_gpus for o in problem.options]
    )
    found = []
    for w, t in zip(
        *np.nonzero(sol.unmet_inference > 1e-6 * np.maximum(1.0, a.inference_reference)),
        strict=True,
    ):
        need = problem.inference[w]
        ref = a.inference_reference[w, t]
        short = float(sol.unmet_inference[w, t])
        period = problem.grid.labels[t]
        zone = "" if need.zone == "any" else f"{need.zone} "
        allowed = usable[w, :, t] & (a.inference_need[w, :, t] > 0) & reach[:, t]
        rule_text = SOVEREIGNTY_TEXT[need.sovereignty]
        types = ", ".join(sorted(need.gpus))
        if not allowed.any():
            rule = f"sovereignty:{need.sovereignty}" + (f", residency:{need.zone}" if zone else "")
            rule += f", {limit}" if limit else ""
            why = (
                f"no {zone}offer of {types} is allowed under {rule_text}"
                f"{' and ' + limit if limit else ''} in that period"
            )
            hint = "add an allowed offer or ownership site, or relax the workload's sovereignty"
        else:
            capacity = float(np.sum(caps[allowed] * ref / a.inference_need[w, allowed, t]))
            if capacity < ref - 1e-6 * ref:
                rule = f"sovereignty:{need.sovereignty}, availability caps"
                why = (
                    f"{zone}offers allowed under {rule_text} can supply {number(capacity)} "
                    "(their availability caps)"
                )
                hint = "negotiate larger availability caps, add offers or own GPUs in the zone"
            else:
                tight = _tight_rules(model, values, int(t))
                rule = ", ".join(tight) if tight else "lead times, allowed modes"
                why = (
                    f"the plan can supply {number(ref - short)} under the binding rules {rule}"
                    if tight
                    else f"only {number(ref - short)} can be in service then (lead times and "
                    "the modes allowed)"
                )
                hint = "relax the rules named, or allow renting until owned GPUs arrive"
        message = (
            f"{zone}inference demand for {need.model} ({need.workload}) in {period} needs "
            f"{number(ref)} {need.reference_gpu}-equivalent GPUs; {why}. Shortfall: "
            f"{number(short)} GPUs. To fix: {hint}."
        )
        found.append(
            Shortfall(
                need.workload, "inference", period, rule, ref, ref - short, short,
                f"{need.reference_gpu} GPUs", message[0].upper() + message[1:],
            )
        )  # fmt: skip
    return found


def _training_shortfalls(
    model: PlanModel, values: np.ndarray, sol: PlanSolution, opened: np.ndarray, limit: str
) -> list[Shortfall]:
    problem, a = model.problem, model.arrays
    hours = problem.grid.hours
    T = problem.grid.count
    caps = np.array(
        [np.inf if o.availability_gpus is None else o.availability_gpus for o in problem.options]
    )
    reach = _reachable(model)
    found = []
    for r in np.flatnonzero(
        sol.unmet_training > 1e-6 * np.maximum(1.0, a.training_reference_hours / hours)
    ):
        run = problem.training[r]
        need_hours = a.training_reference_hours[r]
        short_hours = float(sol.unmet_training[r]) * hours
        start, end = run.earliest, min(run.deadline, T - 1)
        window = f"{problem.grid.label(run.earliest)} to {problem.grid.label(run.deadline)}"
        minimum = run.min_gpus.get(run.reference_gpu, 0.0)
        in_window = reach[:, start : end + 1]
        allowed = a.training_mask[r] & opened & in_window.any(axis=1)
        rule_text = SOVEREIGNTY_TEXT[run.sovereignty]
        if limit:
            rule_text += f" and {limit}"
        if start > T - 1:
            rule, why = "window", "its window lies after the planning horizon"
        elif not a.training_mask[r].any():
            rule = f"sovereignty:{run.sovereignty}"
            why = f"no offer of {', '.join(sorted(run.gpu_hours))} is allowed under {rule_text}"
        elif limit and not (a.training_mask[r] & opened).any():
            rule = f"sovereignty:{run.sovereignty}, {limit}"
            why = (
                f"no offer of {', '.join(sorted(run.gpu_hours))} is allowed under {rule_text} "
                f"and {limit}"
            )
        elif not allowed.any():
            rule = "training window, lead time"
            why = "no allowed offer can be in service within the window (lead times)"
        else:
            cluster_cap = np.zeros(len(model.clusters))
            np.add.at(cluster_cap, model.option_cluster[allowed], caps[allowed])
            fits = [
                c for c in range(len(model.clusters))
                if cluster_cap[c] >= run.min_gpus.get(model.clusters[c][2], 0.0) - 1e-9
                and cluster_cap[c] > 0
            ]  # fmt: skip
            largest = float(cluster_cap.max())
            if not fits:
                rule = "training cluster size, availability caps"
                why = (
                    f"the largest cluster allowed under {rule_text} has {number(largest)} GPUs, "
                    f"below the minimum of {number(minimum)}"
                )
            else:
                periods = int(in_window[allowed].any(axis=0).sum())
                best = max(
                    cluster_cap[c] * periods * hours * need_hours
                    / run.gpu_hours[model.clusters[c][2]]
                    for c in fits
                )  # fmt: skip
                if best < need_hours * (1 - 1e-6):
                    rule = "training window, availability caps"
                    why = (
                        f"the largest allowed cluster can deliver {number(best)} of them in "
                        f"{periods} period(s)"
                    )
                else:
                    tight = _tight_rules(model, values, start)
                    rule = ", ".join(tight) if tight else "lead times, allowed modes"
                    why = f"the binding rules are {rule}"
        message = (
            f"Training run {run.workload} ({run.model}) needs {number(need_hours)} "
            f"{run.reference_gpu} GPU-hours from {window} on one cluster of at least "
            f"{number(minimum)} GPUs; {why}. Shortfall: {number(short_hours)} GPU-hours. To fix: "
            "widen the window, allow more GPU types or providers, or raise availability caps."
        )
        found.append(
            Shortfall(
                run.workload, "training", window, rule, need_hours, need_hours - short_hours,
                short_hours, f"{run.reference_gpu} GPU-hours", message,
            )
        )  # fmt: skip
    return found


def _min_owned_shortfalls(
    model: PlanModel, values: np.ndarray, sol: PlanSolution
) -> list[Shortfall]:
    problem = model.problem
    rules = problem.rules
    found = []
    owned = [o for o in problem.options if o.billing == "own"]
    for t in np.flatnonzero(sol.unmet_min_owned > 1e-6):
        period = problem.grid.labels[t]
        need = float(rules.min_owned_gpus[t]) if rules.min_owned_gpus else 0.0
        short = float(sol.unmet_min_owned[t])
        if not owned:
            rule, why = "min_owned_gpus", "the scenario has no ownership option"
        elif min(o.lead_periods + o.first_period for o in owned) > t:
            first = min(o.lead_periods + o.first_period for o in owned)
            rule = "min_owned_gpus, lead time to own"
            why = f"with its lead time the first owned GPU arrives in {problem.grid.label(first)}"
        else:
            tight = _tight_rules(model, values, int(t))
            rule = ", ".join(["min_owned_gpus", *tight])
            why = f"the binding rules are {rule}"
        message = (
            f"Rule min_owned_gpus needs {number(need)} owned GPUs in {period}; {why}. Shortfall: "
            f"{number(short)} GPUs. To fix: start the minimum later or raise the capex budget."
        )
        found.append(
            Shortfall(
                "owned fleet", "rule", period, rule, need, need - short, short, "GPUs", message
            )
        )
    return found


def solver_failure(model: PlanModel, status: str) -> Shortfall:
    """Why there is no plan when the solver failed without any unmet demand to point at:
    usually a need so large (a unit slip in tokens) that it leaves the solver's range."""
    a, problem = model.arrays, model.problem
    needs = [
        (float(a.inference_reference[w].max(initial=0.0)), f"inference.{n.workload}", "GPUs")
        for w, n in enumerate(problem.inference)
    ] + [
        (float(a.training_reference_hours[r]), f"training.{n.workload}", "GPU-hours")
        for r, n in enumerate(problem.training)
    ]
    size, where, unit = max(needs, default=(0.0, "scenario", "GPUs"))
    message = (
        f"The solver found no plan (HiGHS status '{status}') and no unmet demand explains it. "
        f"The largest need is {number(size)} {unit} ({where}); needs beyond about 1e15 leave "
        "the "
        "solver's numeric range: check tokens_per_day, tokens and gpu_hours for a unit slip, "
        "or raise solver.time_limit_s if the solver ran out of time."
    )
    return Shortfall(where, "solver", "", "solver", size, 0.0, size, unit, message)


def diagnose(
    model: PlanModel,
    values: np.ndarray,
    solution: PlanSolution,
    *,
    upper: np.ndarray | None = None,
    limit: str = "",
) -> list[Shortfall]:
    """Every unmet requirement of a solved model, as readable shortfalls. A restricted solve
    (a baseline) passes its column bounds ``upper`` and says what they allow in ``limit``
    (``"the all_reserved baseline (reserved capacity only)"``), so its diagnosis names that
    restriction when it is what leaves a workload without supply."""
    inference = open_inference(model, upper)
    new_units = model.linear.columns["new_units"]
    bounds = model.linear.col_upper if upper is None else upper
    starts = bounds[new_units.start : new_units.stop].reshape(len(model.problem.options), -1)
    opened = np.asarray(np.any(starts > 0, axis=1), dtype=bool)
    return [
        *_inference_shortfalls(model, values, solution, inference, limit),
        *_training_shortfalls(model, values, solution, opened, limit),
        *_min_owned_shortfalls(model, values, solution),
    ]
