"""Which supply options each workload may use, and what each GPU type is worth to it.

Sovereignty levels (per workload), checked against each option's data-centre region group
and its operator's headquarters jurisdiction:

* ``none``: any option (inference still stays in its residency zone);
* ``eu_data``: data centres in the EU region group;
* ``eu_operator``: EU data centres of an EU-headquartered operator (or the lab's own sites
  when the lab is EU-based).

Spot capacity is only used by workloads declared ``interruptible``. A training run's cluster
is one site or region: a price quoted for all of a provider's locations (no country) cannot
hold it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpuplan.planning.problem import PlanningProblem, Sovereignty, SupplyOption


def sovereignty_allows(level: Sovereignty, option: SupplyOption) -> bool:
    """True if ``option`` satisfies the sovereignty level."""
    if level == "none":
        return True
    in_eu = option.region_group == "EU"
    return in_eu if level == "eu_data" else in_eu and option.jurisdiction == "EU"


@dataclass(frozen=True)
class WorkloadArrays:
    """Dense arrays over (workload, option[, period]) derived from the problem's rows.

    ``inference_need[w, o, t]``: GPUs of option o's type that workload w needs in t (0 if
    the type cannot serve it); ``inference_reference[w, t]``: the same need in the
    workload's reference GPU type. ``training_hours[r, o]``: GPU-hours of run r on option
    o's type (0 if not allowed). Masks already include sovereignty, residency and spot.
    """

    inference_mask: np.ndarray
    inference_need: np.ndarray
    inference_reference: np.ndarray
    training_mask: np.ndarray
    training_hours: np.ndarray
    training_reference_hours: np.ndarray
    training_min_gpus: np.ndarray
    training_window: np.ndarray


def define_sovereignty_masks(problem: PlanningProblem) -> tuple[np.ndarray, np.ndarray]:
    """(inference x options) and (training x options) masks of allowed combinations:
    sovereignty level, residency zone (inference) and interruptible capacity."""
    options = problem.options
    inference = np.array(
        [
            [
                sovereignty_allows(need.sovereignty, o)
                and (need.zone == "any" or o.region_group == need.zone)
                and (need.interruptible or not o.interruptible)
                and o.gpu in need.gpus
                for o in options
            ]
            for need in problem.inference
        ],
        dtype=bool,
    ).reshape(len(problem.inference), len(options))
    training = np.array(
        [
            [
                sovereignty_allows(run.sovereignty, o)
                and o.located
                and (run.interruptible or not o.interruptible)
                and run.gpu_hours.get(o.gpu, 0.0) > 0
                for o in options
            ]
            for run in problem.training
        ],
        dtype=bool,
    ).reshape(len(problem.training), len(options))
    return inference, training


def workload_arrays(problem: PlanningProblem) -> WorkloadArrays:
    """Dense need arrays for the model builder and the plan checker."""
    horizon = problem.grid.count
    n_options = len(problem.options)
    inference_mask, training_mask = define_sovereignty_masks(problem)
    need = np.zeros((len(problem.inference), n_options, horizon))
    reference = np.zeros((len(problem.inference), horizon))
    for w, workload in enumerate(problem.inference):
        reference[w] = workload.gpus[workload.reference_gpu]
        for o, option in enumerate(problem.options):
            if option.gpu in workload.gpus:
                need[w, o] = workload.gpus[option.gpu]
    hours = np.zeros((len(problem.training), n_options))
    min_gpus = np.zeros((len(problem.training), n_options))
    window = np.zeros((len(problem.training), horizon), dtype=bool)
    ref_hours = np.zeros(len(problem.training))
    for r, run in enumerate(problem.training):
        ref_hours[r] = run.gpu_hours[run.reference_gpu]
        window[r, run.earliest : run.deadline + 1] = True
        for o, option in enumerate(problem.options):
            hours[r, o] = run.gpu_hours.get(option.gpu, 0.0)
            min_gpus[r, o] = run.min_gpus.get(option.gpu, 0.0)
    return WorkloadArrays(
        inference_mask=inference_mask,
        inference_need=need,
        inference_reference=reference,
        training_mask=training_mask & (hours > 0),
        training_hours=hours,
        training_reference_hours=ref_hours,
        training_min_gpus=min_gpus,
        training_window=window,
    )
