"""Held-out validation: gpuplan's estimators against published runs and benchmarks that
are NOT in the calibration set (../shared/reference/calibration/) and never used by a fit.

Run: ``PYTHONPATH=src python3 benchmarks/heldout_validation.py [--fit FIT.json]`` (a variant
fit written by ``scripts/fit_utilisation.py --hold TERM --output FIT.json``).

Data (each row with its source, date read and every setting the estimate needs):
``benchmarks/data/heldout_training.csv`` (with ``heldout_moe_overlap.csv``: how a MoE run
hid its all-to-all), ``heldout_moe_benchmarks.csv`` (vendor MoE training
throughput at its expert parallelism) and ``benchmarks/data/heldout_inference.csv``.
The published figure of a row is only compared with the estimate; it never enters it.

Training runs: ``estimate_training`` P50 GPU-hours vs published, signed error, inside
P10-P90, and ``implied_training`` tokens from the published GPU-hours vs the published
tokens. Throughput rows: gpuplan's benchmark MFU (run MFU / goodput) vs published MFU.
Inference: ``estimate_inference`` under the row's latency limits, precision and published
layout (tp; ep = tp where the source ran attention data-parallel), per-GPU output tokens/s
vs published; each MLPerf row is run at its own round's fitted software speed (v4.1 rows at
v4.1, v5.0 rows at v5.0: ``software_vintage``, fitted on that round's Llama 2 70B rows, as
the calibration treats them) and at current software (the v5.1 round). Prints median and
max |error| per group.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "scripts")]

from calibration_rows import published_layouts  # noqa: E402
from gpuplan.catalog.gpus import get_gpu  # noqa: E402
from gpuplan.catalog.models import get_model  # noqa: E402
from gpuplan.compute import training  # noqa: E402
from gpuplan.compute.inference import (  # noqa: E402
    InferenceEstimate,
    default_calibration,
    estimate_inference,
)
from gpuplan.compute.training import estimate_training, implied_training  # noqa: E402
from gpuplan.compute.utilisation import UtilisationFit  # noqa: E402
from gpuplan.errors import InputError  # noqa: E402
from moe_calibration import stated_expert_parallel  # noqa: E402

DATA = ROOT / "benchmarks" / "data"


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def number(text: str) -> float | None:
    return float(text) if text.strip() else None


LAYOUTS = published_layouts()
"""Published layouts by run (``scripts/data/parallel_layouts.csv``): an input of the
estimate where the source states one, never the answer."""
EXPERT_PARALLEL = stated_expert_parallel()
"""Published expert parallelism by run (the same file)."""

EXPOSED_ALL_TO_ALL = {
    row["run"]: float(row["exposed_all_to_all"]) for row in rows("heldout_moe_overlap.csv")
}
"""Share of the MoE all-to-all on the critical path where a source states how it was hidden
(``heldout_moe_overlap.csv``); other runs take the default (1)."""


def model_arguments(row: dict[str, str]) -> dict[str, object]:
    """Catalog id when the row has one, else a bare parameter count (6ND); plus the run's
    scope, software year, global batch (blank batch: the estimator's default rule) and its
    published parallel layout (none: the estimator's default layout), expert parallelism
    and all-to-all overlap."""
    layout = LAYOUTS.get(row["run"], {})
    settings: dict[str, object] = {
        "scope": row["scope_class"],
        "software_year": int(row["software_year"]),
        "global_batch_tokens": number(row["global_batch_tokens"]),
        **{
            name: int(layout[name])
            for name in ("tensor_parallel", "pipeline_parallel", "context_parallel")
            if name in layout and row["gpus"]
        },
        **(
            {"expert_parallel": int(EXPERT_PARALLEL[row["run"]])}
            if row["run"] in EXPERT_PARALLEL
            else {}
        ),
        "exposed_all_to_all": EXPOSED_ALL_TO_ALL.get(row["run"], 1.0),
    }
    if row["model"]:
        return {"model": row["model"], **settings}
    return {
        "params": float(row["params"]),
        "active_params": number(row["active_params"]),
        **settings,
    }


def summary(label: str, errors: Iterable[float]) -> str:
    magnitude = [abs(e) for e in errors]
    if not magnitude:
        return f"{label}: no rows"
    return (
        f"{label}: n={len(magnitude)}  median |error| {statistics.median(magnitude):.1%}  "
        f"max |error| {max(magnitude):.1%}"
    )


def training_runs() -> dict[str, list[float]]:
    print("\nTraining runs (published GPU-hours)")
    print(
        f"{'run':<16}{'GPU':<10}{'prec':<5}{'published':>12}{'P50':>12}{'error':>8}  "
        f"{'P10-P90':<34}{'MFU':>6}{'implied tok':>12}{'tok err':>8}  layout t x p x c x d"
    )
    groups: dict[str, list[float]] = {"all": [], "constant run MFU (yardstick)": []}
    fitted_runs = [
        r.observed_mfu for r in training.load_utilisation_fit().rows if r.kind == "run_hours"
    ]
    constant_mfu = statistics.median(fitted_runs)
    inside = []
    by_size: dict[str, list[bool]] = {}
    for row in rows("heldout_training.csv"):
        if row["kind"] != "run":
            continue
        gpus = number(row["gpus"])
        common = {
            **model_arguments(row),
            "gpu": row["gpu"],
            "gpus": None if gpus is None else int(gpus),
            "precision": row["precision"],
            "seq_len": int(row["seq_len"]),
        }
        estimate = estimate_training(tokens=float(row["tokens"]), **common)  # type: ignore[arg-type]
        published = float(row["published_gpu_hours"])
        implied = implied_training(gpu_hours=published, **common)  # type: ignore[arg-type]
        error = estimate.gpu_hours / published - 1.0
        ok = estimate.gpu_hours_p10 <= published <= estimate.gpu_hours_p90
        token_error = implied.tokens / float(row["tokens"]) - 1.0
        inside.append(ok)
        small = estimate.params_total <= 15e9
        by_size.setdefault("15B or fewer" if small else "over 15B", []).append(ok)
        groups["all"].append(error)
        peak = get_gpu(row["gpu"]).peak_flops(row["precision"])
        yardstick = estimate.training_flops / (peak * constant_mfu) / 3600.0
        groups["constant run MFU (yardstick)"].append(yardstick / published - 1.0)
        key = "MoE / fp8 (H800)" if row["moe"] == "True" else f"dense {row['gpu']}"
        groups.setdefault(key, []).append(error)
        band = f"[{estimate.gpu_hours_p10:,.0f} - {estimate.gpu_hours_p90:,.0f}]"
        print(
            f"{row['run'][:15]:<16}{row['gpu']:<10}{row['precision']:<5}{published:>12,.0f}"
            f"{estimate.gpu_hours:>12,.0f}{error:>+8.1%}  {'in ' if ok else 'OUT'} {band:<30}"
            f"{estimate.mfu:>6.3f}{implied.tokens:>12.3g}{token_error:>+8.1%}  "
            f"{estimate.tensor_parallel:g} x {estimate.pipeline_parallel:g} x "
            f"{estimate.context_parallel:g} x {estimate.data_parallel:,.4g}"
            f"{' (published)' if row['run'] in LAYOUTS and row['gpus'] else ''}"
        )
    for label, errors in groups.items():
        print("  " + summary(label, errors))
    print(f"  inside P10-P90: {sum(inside)}/{len(inside)} ({sum(inside) / len(inside):.0%})")
    for size, members in by_size.items():
        print(f"  inside P10-P90, {size} parameters: {sum(members)}/{len(members)}")
    return groups


def training_throughput() -> list[float]:
    print("\nTraining throughput (published MFU; gpuplan benchmark MFU = run MFU / goodput)")
    print(f"{'benchmark':<34}{'GPUs':>7}{'seq':>8}{'published':>10}{'gpuplan':>9}{'error':>8}")
    errors = []
    for row in rows("heldout_training.csv"):
        if row["kind"] != "benchmark":
            continue
        try:
            estimate = estimate_training(
                tokens=float(row["tokens"]),
                gpu=row["gpu"],
                gpus=int(float(row["gpus"])),
                precision=row["precision"],
                seq_len=int(row["seq_len"]),
                **model_arguments(row),  # type: ignore[arg-type]
            )
        except InputError as refused:  # e.g. no context parallelism in the memory model
            print(f"{row['run'][:33]:<34}{row['gpus']:>7}{row['seq_len']:>8}  refused: {refused}")
            continue
        predicted = estimate.mfu / estimate.goodput
        published = float(row["published_mfu"])
        error = predicted / published - 1.0
        errors.append(error)
        print(
            f"{row['run'][:33]:<34}{row['gpus']:>7}{row['seq_len']:>8}{published:>10.3f}"
            f"{predicted:>9.3f}{error:>+8.1%}"
        )
    print("  " + summary("MFU", errors))
    return errors


def moe_training_benchmarks() -> list[float]:
    """Vendor MoE pre-training throughput (NeMo 25.11, tokens force-balanced, dropless) at
    its published tensor, pipeline and expert parallelism: gpuplan benchmark MFU vs model
    TFLOP/s ÷ peak."""
    print("\nMoE training throughput (NeMo 25.11 at its published layout; MBS not an input)")
    print(f"{'benchmark':<40}{'ep':>4}{'published':>10}{'gpuplan':>9}{'error':>8}")
    errors = []
    for row in rows("heldout_moe_benchmarks.csv"):
        seq_len = int(row["seq_len"])
        estimate = estimate_training(
            row["model"],
            tokens=1e12,
            gpu=row["gpu"],
            gpus=int(row["gpus"]),
            precision=row["precision"],
            seq_len=seq_len,
            global_batch_tokens=float(row["global_batch_sequences"]) * seq_len,
            software_year=2025,
            scope="step_time",
            tensor_parallel=int(row["tensor_parallel"]),
            pipeline_parallel=int(row["pipeline_parallel"]),
            expert_parallel=int(row["expert_parallel"]),
        )
        peak = get_gpu(row["gpu"]).peak_flops(row["precision"])
        published = float(row["published_tflops_per_gpu"]) * 1e12 / peak
        errors.append(estimate.mfu / published - 1.0)
        print(
            f"{row['run'][:39]:<40}{row['expert_parallel']:>4}{published:>10.3f}"
            f"{estimate.mfu:>9.3f}{errors[-1]:>+8.1%}"
        )
    print("  " + summary("MoE MFU", errors))
    return errors


def published_ep(row: dict[str, str]) -> int | None:
    """The row's expert-parallel degree: ep = tp where the source ran attention data-parallel
    (the TensorRT-LLM perf overview's MoE options, ``enable_attention_dp: true`` with
    ``--ep``), None (the estimator picks) where the source does not say."""
    return int(row["ep"]) if row["ep"] else None


def inference_rows() -> dict[str, list[float]]:
    print("\nInference (per-GPU output tokens/s; MLPerf latency limits are p99)")
    print(
        f"{'model':<17}{'GPU':<10}{'prec':<5}{'tp':<3}{'scenario / shape':<20}{'round':<8}"
        f"{'published':>10}"
        f"{'at round':>10}{'error':>8}{'current':>9}{'error':>8}  tp x batch  P10-P90"
    )
    vintage = default_calibration().fitted.software_vintage
    groups: dict[str, list[float]] = {"all (at round software)": []}
    for row in rows("heldout_inference.csv"):
        speed = vintage.get(f"mlperf-{row['round']}", 1.0)
        settings = {
            "input_tokens": float(row["mean_input_tokens"]),
            "output_tokens": float(row["mean_output_tokens"]),
            "precision": row["precision"],
            "max_ttft_ms": number(row["max_ttft_ms"]),
            "max_tpot_ms": number(row["max_tpot_ms"]),
            "tp": int(row["tp"]) if row["tp"] else None,
            "ep": published_ep(row),
        }
        at_round = estimate_inference(row["model"], row["gpu"], speed=speed, **settings)  # type: ignore[arg-type]
        current = estimate_inference(row["model"], row["gpu"], **settings)  # type: ignore[arg-type]
        published = float(row["published_tokens_per_s_per_gpu"])
        error = at_round.output_tokens_per_second_per_gpu / published - 1.0
        error_now = current.output_tokens_per_second_per_gpu / published - 1.0
        low = at_round.output_tokens_per_second_per_gpu_p10
        high = at_round.output_tokens_per_second_per_gpu_p90
        groups["all (at round software)"].append(error)
        groups.setdefault(f"{row['model']} {row['scenario']}", []).append(error)
        kind = "MoE" if get_model(row["model"]).architecture.is_moe else "dense"
        shape = f"{row['scenario']} {row['mean_input_tokens']}/{row['mean_output_tokens']}"
        groups.setdefault(f"{kind} (all rows)", []).append(error)
        print(
            f"{row['model']:<17}{row['gpu']:<10}{row['precision']:<5}{row['tp'] or '-':<3}"
            f"{shape:<20}"
            f"{row['round']:<8}{published:>10,.0f}"
            f"{at_round.output_tokens_per_second_per_gpu:>10,.0f}{error:>+8.1%}"
            f"{current.output_tokens_per_second_per_gpu:>9,.0f}{error_now:>+8.1%}"
            f"  {at_round.tensor_parallel} x {at_round.batch_size}"
            f"  {'in' if low <= published <= high else 'out'}"
        )
    for label, errors in groups.items():
        print("  " + summary(label, errors))
    return groups


def moe_table_rows() -> list[dict[str, str]]:
    """The held-out MoE rows run at a published tp (the TensorRT-LLM tables)."""
    return [
        r
        for r in rows("heldout_inference.csv")
        if r["tp"] and get_model(r["model"]).architecture.is_moe
    ]


def estimate_moe_row(row: dict[str, str], ep: int | None) -> InferenceEstimate:
    """``estimate_inference`` at the row's shape, precision and tp (``ep`` None: the faster
    layout)."""
    return estimate_inference(
        row["model"],
        row["gpu"],
        input_tokens=float(row["mean_input_tokens"]),
        output_tokens=float(row["mean_output_tokens"]),
        precision=row["precision"],
        tp=int(row["tp"]),
        ep=ep,
    )


def moe_layouts() -> None:
    """The TensorRT-LLM MoE rows at each layout: ep 1 (experts tensor-parallel), ep = tp
    (attention data-parallel, how the perf overview ran them) and the faster of the two
    (what ``estimate_inference`` picks without ``ep``)."""
    print("\nMoE rows by layout (median |error|, signed median)")
    for label in ("ep 1", "ep = tp", "faster"):
        errors: dict[str, list[float]] = {}
        for row in moe_table_rows():
            ep = {"ep 1": 1, "ep = tp": int(row["tp"]), "faster": None}[label]
            result = estimate_moe_row(row, ep)
            published = float(row["published_tokens_per_s_per_gpu"])
            errors.setdefault(row["model"], []).append(
                result.output_tokens_per_second_per_gpu / published - 1.0
            )
        every = [e for model_errors in errors.values() for e in model_errors]
        parts = [
            f"{model} {statistics.median(map(abs, e)):.0%} ({statistics.median(e):+.0%})"
            for model, e in errors.items()
        ]
        print(f"  {label:<8} all {statistics.median(map(abs, every)):.1%}: " + ", ".join(parts))


def moe_by_gpu() -> None:
    """Signed median error of each MoE model on each GPU at the published layout."""
    print("\nMoE rows at the published layout, by GPU (signed median, n)")
    errors: dict[tuple[str, str], list[float]] = {}
    for row in moe_table_rows():
        result = estimate_moe_row(row, published_ep(row))
        published = float(row["published_tokens_per_s_per_gpu"])
        errors.setdefault((row["model"], row["gpu"]), []).append(
            result.output_tokens_per_second_per_gpu / published - 1.0
        )
    for (model, gpu), values in errors.items():
        print(f"  {model:<17}{gpu:<10}{statistics.median(values):+.0%}  n={len(values)}")


def moe_step_gaps() -> None:
    """Where the modelled step of each MoE row goes (ms, at the published layout and the
    estimate's batch; the step is the GPU's time, or the overlapped host time when longer)
    and the step the published throughput implies at that batch (batch / (published x tp)):
    the gap is time the model does not see, or a smaller batch than modelled."""
    print("\nMoE rows: modelled step (ms) vs the step the published figure implies at that batch")
    print(
        f"{'model':<17}{'GPU':<10}{'shape':<11}{'tp x ep x batch':>17}{'linear':>8}{'attn':>7}"
        f"{'comm':>7}{'ovh':>6}{'host':>7}{'step':>7}{'implied':>9}{'gap':>8}"
    )
    gaps: dict[str, list[float]] = {}
    for row in moe_table_rows():
        result = estimate_moe_row(row, published_ep(row))
        step = result.tpot_ms
        implied = (
            1e3
            * result.batch_size
            / (float(row["published_tokens_per_s_per_gpu"]) * result.tensor_parallel)
        )
        gaps.setdefault(row["model"], []).append(implied / step - 1.0)
        parts = result.step_ms
        layout = f"{result.tensor_parallel} x {result.expert_parallel} x {result.batch_size}"
        shape = f"{row['mean_input_tokens']}/{row['mean_output_tokens']}"
        print(
            f"{row['model']:<17}{row['gpu']:<10}{shape:<11}{layout:>17}"
            f"{parts['linear']:>8.1f}{parts['attention']:>7.1f}{parts['communication']:>7.1f}"
            f"{parts['overhead']:>6.1f}{parts['host']:>7.1f}{step:>7.1f}{implied:>9.1f}"
            f"{implied / step - 1.0:>+8.0%}"
        )
    for model, values in gaps.items():
        print(f"  {model}: median gap {statistics.median(values):+.0%} of the modelled step")


def input_length_sensitivity() -> None:
    """How much the Mixtral rows' mean input (published 427.4, once assumed 684) moves the
    estimate."""
    print("\nSensitivity of the Mixtral H100 Offline estimate to the mean input (427.4 published)")
    speed = default_calibration().fitted.software_vintage.get("mlperf-v4.1", 1.0)
    for tokens in (300.0, 427.4, 500.0, 684.0, 900.0):
        result = estimate_inference(
            "mixtral-8x7b",
            "h100-sxm",
            input_tokens=tokens,
            output_tokens=145.94,
            precision="fp8",
            speed=speed,
        )
        print(f"  input {tokens:>6.0f}: {result.output_tokens_per_second_per_gpu:>8,.0f} tok/s/GPU")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fit",
        type=Path,
        help="a utilisation fit JSON written by scripts/fit_utilisation.py --output (default: "
        "the shipped one), e.g. a variant with a term held",
    )
    args = parser.parse_args(argv)
    if args.fit is not None:
        variant = UtilisationFit.model_validate_json(args.fit.read_text(encoding="utf-8"))
        # The estimators read the shipped fit through this loader: answer the variant.
        training.load_utilisation_fit = lambda: variant  # type: ignore[assignment]
    training_runs()
    training_throughput()
    moe_training_benchmarks()
    inference_rows()
    moe_layouts()
    moe_by_gpu()
    moe_step_gaps()
    input_length_sensitivity()


if __name__ == "__main__":
    main()
