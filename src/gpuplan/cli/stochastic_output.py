"""``gpuplan plan --futures N``: the stochastic plan's tables (a thin caller of the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from gpuplan.cli.common import print_json, print_table, say, whole_number

if TYPE_CHECKING:
    from gpuplan.planning.stochastic.api import Decomposition


def parse_risk(text: str | None) -> Any:
    """``cvar:0.9:0.5`` -> Risk(alpha=0.9, weight=0.5); None -> risk-neutral."""
    from gpuplan.errors import InputError
    from gpuplan.planning.stochastic import Risk

    if text is None:
        return None
    parts = text.split(":")
    try:
        if len(parts) != 3 or parts[0].lower() != "cvar":
            raise ValueError
        alpha, weight = float(parts[1]), float(parts[2])
    except ValueError:
        raise InputError(
            "--risk", f"'{text}' is not cvar:ALPHA:WEIGHT; write e.g. cvar:0.9:0.5."
        ) from None
    if not (0 < alpha < 1 and weight >= 0):
        raise InputError("--risk", f"'{text}': ALPHA must be in (0, 1) and WEIGHT 0 or more.")
    return Risk(alpha, weight)


def _decomposition(text: str) -> Decomposition:
    """``--decomposition`` checked against the names the API knows."""
    from gpuplan.errors import InputError
    from gpuplan.planning.stochastic.api import DECOMPOSITIONS

    if text not in DECOMPOSITIONS:
        raise InputError(
            "--decomposition", f"'{text}' is not one of {', '.join(DECOMPOSITIONS)}."
        )
    return cast("Decomposition", text)


def run_stochastic_plan(
    scenario: str | None,
    overrides: list[str],
    futures: str,
    seed: int,
    risk: str | None,
    decision_point: str | None,
    out_of_sample: str,
    as_json: bool,
    decomposition: str = "extensive",
    batch_size: str = "25",
    workers: str = "1",
) -> None:
    """Solve and print (or ``--json``) the two-stage plan."""
    from gpuplan.cli.progress_display import progress_display
    from gpuplan.errors import InputError
    from gpuplan.humanize import money
    from gpuplan.planning.stochastic import stochastic_plan

    if seed < 0:
        raise InputError("--seed", f"must be a non-negative integer (got {seed}).")
    fresh = 0 if out_of_sample.strip() == "0" else whole_number(out_of_sample, "--out-of-sample")
    with progress_display("gpuplan plan --futures") as progress:
        result = stochastic_plan(
            scenario,
            overrides,
            futures=whole_number(futures, "--futures"),
            seed=seed,
            decision_point=decision_point,
            risk=parse_risk(risk),
            out_of_sample=fresh,
            decomposition=_decomposition(decomposition),
            batch_size=whole_number(batch_size, "--batch-size"),
            workers=whole_number(workers, "--workers"),
            progress=progress,
        )
    summary = result.to_dict()
    if as_json:
        print_json(summary)
        return
    size = summary["problem_size"]
    print_table(
        f"Stochastic plan '{result.scenario}': {result.futures} futures (seed {result.seed}), "
        f"commitments before {result.decision_point} shared; {result.status}, "
        f"{size['columns']:,} columns"
        + (f" in the largest of {size['batches']} batches" if "batches" in size else "")
        + f", solved in {result.seconds:.1f} s",
        ["Period", "Provider", "Region", "GPU", "Mode", "GPUs", "Term (periods)", "$/GPU-period",
         "Upfront $/GPU"],
        [
            [r["period"], r["provider"], r["region"], r["gpu"], r["mode"], round(r["gpus"]),
             r["term_periods"], money(r["usd_per_gpu_period"]), money(r["upfront_usd_per_gpu"])]
            for r in summary["commitments"]
        ],
    )  # fmt: skip

    def row(name: str, part: dict[str, Any]) -> list[str]:
        npv = part["npv_usd"]
        return [
            name,
            money(npv["mean"]),
            " / ".join(money(npv[k]) for k in ("p10", "p50", "p90")),
            money(part["cvar_npv_usd"]),
            str(part["futures_with_unmet_demand"]),
        ]

    rows = [
        row("Stochastic plan", summary["stochastic_plan"]),
        row("Deterministic plan's commitments", summary["deterministic_plan_in_these_futures"]),
        row("Perfect foresight (wait-and-see)", summary["wait_and_see"]),
    ]
    rows += [row(f"Out of sample: {n}", p) for n, p in summary["out_of_sample"].items()]
    print_table(
        f"Net present cost over the futures (CVaR at {result.risk.alpha:.0%})",
        ["Plan", "Mean", "P10 / P50 / P90", "CVaR", "Futures short"],
        rows,
    )
    print_table(
        "What the uncertainty is worth",
        ["Measure", "USD"],
        [
            ["Value of the stochastic solution (VSS)", _worth(summary["vss_usd"])],
            ["Expected value of perfect information (EVPI)", _worth(summary["evpi_usd"])],
        ],
    )
    for note in summary["notes"]:
        say(note)


def _worth(value: float | None) -> str:
    from gpuplan.humanize import money

    return "not finite (see below)" if value is None else money(value)
