"""Re-check a solved plan against its problem, independently of the LP matrix.

:func:`check_plan` recomputes every requirement from the problem's rows (fleet from the
units started, demand met, sovereignty, residency, one cluster per training run at its
minimum size, windows, availability caps, provider shares, capex budgets, owned fleet
limits) and returns one readable line per violation. Tests run it on every solved plan,
as PyPSA's tests re-check constraints on their solutions. Each ``check_*`` function mirrors
``define_*`` families of :mod:`gpuplan.planning.model`, so a new family brings its check.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from gpuplan.planning.model.costs import start_allowed
from gpuplan.planning.problem import PlanningProblem, SupplyOption, TrainingNeed
from gpuplan.planning.readback import PlanSolution


def _allowed(level: str, option: SupplyOption) -> bool:
    if level == "eu_operator":
        return option.region_group == "EU" and option.jurisdiction == "EU"
    return level == "none" or option.region_group == "EU"


def check_fleet(problem: PlanningProblem, solution: PlanSolution, rtol: float = 1e-5) -> list[str]:
    """Mirror of the fleet families: no negative counts, starts only where allowed, the
    fleet equal to the units started within their term or life."""
    grid, options = problem.grid, problem.options
    T = grid.count
    issues: list[str] = []
    tol = partial(_tolerance, rtol)
    for name in ("new_units", "fleet", "inference", "training"):
        if np.any(getattr(solution, name) < -tol(0)):
            issues.append(f"{name}: negative GPU counts")
    if np.any(solution.new_units[~start_allowed(problem)] > tol(0)):
        issues.append("new_units: units started where the option cannot start (lead time)")

    for o, option in enumerate(options):
        expected = np.array(
            [
                solution.new_units[
                    o,
                    max(0, t - option.lead_periods - option.term_periods + 1) : max(
                        0, t - option.lead_periods + 1
                    ),
                ].sum()
                for t in range(T)
            ]
        )
        if not np.allclose(
            solution.fleet[o], expected, rtol=rtol, atol=tol(expected.max(initial=0))
        ):
            issues.append(f"fleet[{option.id}]: does not equal the units started within term/life")
        if problem.solver.whole_servers:
            servers = solution.new_units[o] / option.gpus_per_unit
            if not np.allclose(servers, np.round(servers), atol=1e-6):
                issues.append(f"whole_servers[{option.id}]: starts not in whole servers")
    return issues


def check_availability(
    problem: PlanningProblem, solution: PlanSolution, rtol: float = 1e-5
) -> list[str]:
    """Mirror of ``define_availability_constraints``: fleets within their caps."""
    grid, options = problem.grid, problem.options
    labels = grid.labels
    issues: list[str] = []
    tol = partial(_tolerance, rtol)
    for o, option in enumerate(options):
        if option.availability_gpus is not None:
            over = np.flatnonzero(
                solution.fleet[o] > option.availability_gpus + tol(option.availability_gpus)
            )
            for t in over:
                issues.append(
                    f"availability[{option.id},{labels[t]}]: {solution.fleet[o, t]:,.1f} GPUs > "
                    f"cap {option.availability_gpus:,.0f}"
                )
    return issues


def check_capacity(
    problem: PlanningProblem, solution: PlanSolution, rtol: float = 1e-5
) -> list[str]:
    """Mirror of ``define_capacity_constraints``: workloads use only GPUs in the fleet."""
    grid, options = problem.grid, problem.options
    labels = grid.labels
    issues: list[str] = []
    tol = partial(_tolerance, rtol)
    used = solution.inference.sum(axis=0) + solution.training.sum(axis=0)
    for o, t in zip(
        *np.nonzero(used > solution.fleet + tol(1.0) + rtol * solution.fleet), strict=True
    ):
        issues.append(
            f"capacity[{options[o].id},{labels[t]}]: {used[o, t]:,.1f} used > fleet "
            f"{solution.fleet[o, t]:,.1f}"
        )
    return issues


def check_inference_demand(
    problem: PlanningProblem, solution: PlanSolution, rtol: float = 1e-5
) -> list[str]:
    """Mirror of ``define_inference_capacity_constraints`` and the masks: demand met by
    listed GPU types, within sovereignty, residency and spot rules."""
    grid, options = problem.grid, problem.options
    T = grid.count
    labels = grid.labels
    issues: list[str] = []
    tol = partial(_tolerance, rtol)
    for w, need in enumerate(problem.inference):
        reference = np.asarray(need.gpus[need.reference_gpu])
        served = np.zeros(T)
        for o, option in enumerate(options):
            use = solution.inference[w, o]
            if not np.any(use > tol(0)):
                continue
            if option.gpu not in need.gpus:
                issues.append(
                    f"inference {need.workload}: served by {option.gpu}, not a listed type"
                )
                continue
            if not _allowed(need.sovereignty, option):
                issues.append(
                    f"inference {need.workload}: option {option.id} breaks sovereignty "
                    f"'{need.sovereignty}'"
                )
            if need.zone != "any" and option.region_group != need.zone:
                issues.append(
                    f"inference {need.workload}: option {option.id} outside residency zone "
                    f"{need.zone}"
                )
            if option.interruptible and not need.interruptible:
                issues.append(f"inference {need.workload}: uses spot option {option.id}")
            per_gpu = np.divide(
                reference,
                need.gpus[option.gpu],
                out=np.zeros(T),
                where=np.asarray(need.gpus[option.gpu]) > 0,
            )
            served += use * per_gpu
        for t in np.flatnonzero(served < reference - tol(reference.max(initial=0))):
            issues.append(
                f"inference_demand[{need.workload},{labels[t]}]: served {served[t]:,.1f} of "
                f"{reference[t]:,.1f} {need.reference_gpu} GPUs"
            )
    return issues


def check_training(
    problem: PlanningProblem, solution: PlanSolution, rtol: float = 1e-5
) -> list[str]:
    """Mirror of the training families: inside the window, one cluster, its GPU-hours
    placed, the minimum size holdable whenever it runs."""
    grid, options = problem.grid, problem.options
    labels = grid.labels
    issues: list[str] = []
    tol = partial(_tolerance, rtol)
    for r, run in enumerate(problem.training):
        use = solution.training[r]
        o_used, t_used = np.nonzero(use > tol(0))
        if np.any((t_used < run.earliest) | (t_used > run.deadline)):
            issues.append(f"training {run.workload}: runs outside its window")
        clusters = {options[o].cluster_key for o in o_used}
        if len(clusters) > 1:
            issues.append(
                f"training {run.workload}: spread over {len(clusters)} clusters {sorted(clusters)}"
            )
        done = 0.0
        for o in set(o_used.tolist()):
            option = options[o]
            hours = run.gpu_hours.get(option.gpu, 0.0)
            if hours <= 0:
                issues.append(f"training {run.workload}: uses {option.gpu}, not an allowed type")
                continue
            if not _allowed(run.sovereignty, option):
                issues.append(
                    f"training {run.workload}: option {option.id} breaks sovereignty "
                    f"'{run.sovereignty}'"
                )
            if option.interruptible and not run.interruptible:
                issues.append(f"training {run.workload}: uses spot option {option.id}")
            done += use[o].sum() * grid.hours / hours
        for period in set(t_used.tolist()):
            cluster = options[o_used[0]].cluster_key
            members = [o for o, x in enumerate(options) if x.cluster_key == cluster]
            minimum = run.min_gpus.get(cluster[2], 0.0)
            holdable = sum(
                (x.availability_gpus if x.availability_gpus is not None else np.inf)
                if x.billing == "per_use"
                else solution.fleet[o, period]
                for o, x in zip(members, (options[m] for m in members), strict=True)
            )
            if holdable < minimum - tol(minimum):
                issues.append(
                    f"training {run.workload}: cluster {cluster} can hold {holdable:,.1f} GPUs "
                    f"at once in {labels[period]} < minimum {minimum:,.0f}"
                )
        if done < 1.0 - rtol:
            issues.append(f"training_energy[{run.workload}]: {done:.1%} of its GPU-hours placed")
        if not run.may_pause and len(t_used):
            issues += _check_unbroken(run, use, options, labels, rtol)
    return issues


def _check_unbroken(
    run: TrainingNeed,
    use: np.ndarray,
    options: tuple[SupplyOption, ...],
    labels: list[str],
    rtol: float,
) -> list[str]:
    """A run that may not pause: one stretch of periods, each but the last using at least
    the minimum cluster for the whole period (mirror of the contiguity family)."""
    minimum = np.array([max(run.min_gpus.get(o.gpu, 0.0), 1.0) for o in options])
    clusters_used = (use / minimum[:, None]).sum(axis=0)
    periods = np.flatnonzero(use.sum(axis=0) > rtol)
    first, last = int(periods.min()), int(periods.max())
    return [
        f"training_steady[{run.workload},{labels[t]}]: uses {clusters_used[t]:.2f} of its "
        "minimum cluster in a period of its unbroken stretch"
        for t in range(first, last)
        if clusters_used[t] < 1.0 - 1e-4
    ]


def check_provider_share(
    problem: PlanningProblem, solution: PlanSolution, rtol: float = 1e-5
) -> list[str]:
    """Mirror of ``define_provider_share_constraints`` (share of GPUs in use)."""
    grid, options = problem.grid, problem.options
    labels = grid.labels
    issues: list[str] = []
    tol = partial(_tolerance, rtol)
    used = solution.inference.sum(axis=0) + solution.training.sum(axis=0)
    fleet_total = used.sum(axis=0)
    rules = problem.rules
    for provider in sorted({o.provider for o in options if o.third_party}):
        share = rules.share_limit(provider)
        if share is None:
            continue
        members = [o for o, x in enumerate(options) if x.provider == provider and x.third_party]
        mine = used[members].sum(axis=0)
        for t in np.flatnonzero(mine > share * fleet_total + tol(fleet_total.max(initial=0))):
            issues.append(
                f"provider_share[{provider},{labels[t]}]: {mine[t] / fleet_total[t]:.1%} > "
                f"{share:.0%}"
            )
    return issues


def check_owned_rules(
    problem: PlanningProblem, solution: PlanSolution, rtol: float = 1e-5
) -> list[str]:
    """Mirror of ``define_capex_budget_constraints`` and ``define_owned_fleet_constraints``."""
    grid, options = problem.grid, problem.options
    T = grid.count
    labels = grid.labels
    issues: list[str] = []
    tol = partial(_tolerance, rtol)
    rules = problem.rules
    owned = [o for o, x in enumerate(options) if x.billing == "own"]
    capex = sum((options[o].upfront_per_gpu * solution.new_units[o] for o in owned), np.zeros(T))
    owned_fleet = solution.fleet[owned].sum(axis=0) if owned else np.zeros(T)
    for p in range(T):
        budget = rules.capex_budget[p] if rules.capex_budget is not None else None
        if budget is not None and capex[p] > budget + tol(budget):
            issues.append(f"capex_budget[{labels[p]}]: {capex[p]:,.0f} USD > {budget:,.0f}")
        low = rules.min_owned_gpus[p] if rules.min_owned_gpus is not None else 0.0
        if owned_fleet[p] < low - tol(low):
            issues.append(f"min_owned_fleet[{labels[p]}]: {owned_fleet[p]:,.1f} < {low:,.0f}")
        high = rules.max_owned_gpus[p] if rules.max_owned_gpus is not None else None
        if high is not None and owned_fleet[p] > high + tol(high):
            issues.append(f"max_owned_fleet[{labels[p]}]: {owned_fleet[p]:,.1f} > {high:,.0f}")
    return issues


def check_site_power(
    problem: PlanningProblem, solution: PlanSolution, rtol: float = 1e-5
) -> list[str]:
    """Mirror of ``define_site_power_constraints``: owned GPUs within each site's power,
    the power there at the start plus what was added and in service by then; added power
    within the site's most."""
    issues = []
    T = problem.grid.count
    added = solution.added_power_kw
    for i, (site, limit) in enumerate(sorted(problem.rules.site_power_kw.items())):
        draw = sum(
            (
                (option.site_kw_per_gpu or 0.0) * solution.fleet[o]
                for o, option in enumerate(problem.options)
                if option.billing == "own" and option.region == site
            ),
            np.zeros(T),
        )
        expansion = problem.rules.power_expansion.get(site)
        in_service = np.zeros(T)
        if expansion is not None and added.size:
            ordered = np.cumsum(added[i])
            lead = expansion.lead_periods
            in_service[lead:] = ordered[: T - lead] if lead < T else 0.0
            most = expansion.max_added_kw
            if most is not None and ordered[-1] > most * (1 + rtol) + rtol:
                issues.append(
                    f"power_expansion_limit[{site}]: {ordered[-1]:,.0f} kW > {most:,.0f}"
                )
        elif added.size and np.any(added[i] > rtol):
            issues.append(f"site_power[{site}]: power added where no expansion is allowed")
        for t in np.flatnonzero(draw > (limit + in_service) * (1 + rtol)):
            issues.append(
                f"site_power[{site},{problem.grid.labels[t]}]: {draw[t]:,.0f} kW > "
                f"{limit + in_service[t]:,.0f}"
            )
    return issues


def _tolerance(rtol: float, scale: float) -> float:
    """Absolute tolerance for a quantity of size ``scale``: ``rtol`` of it, at least ``rtol``."""
    return rtol * max(1.0, abs(scale))


CHECKS = (
    check_fleet,
    check_availability,
    check_capacity,
    check_inference_demand,
    check_training,
    check_provider_share,
    check_owned_rules,
    check_site_power,
)
"""Every check, in the order of the model's constraint families."""


def check_plan(
    problem: PlanningProblem, solution: PlanSolution, *, rtol: float = 1e-5
) -> list[str]:
    """All violations of ``problem`` by ``solution`` (an empty list: the plan is valid).

    Unmet demand is a violation: a diagnosed infeasible plan fails this check on purpose.
    """
    return [issue for check in CHECKS for issue in check(problem, solution, rtol)]
