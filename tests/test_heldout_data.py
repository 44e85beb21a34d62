"""The held-out validation data (benchmarks/data/heldout_*.csv) is complete and cited, and
every fitted calibration run has an audit entry (scripts/data/training_runs_audit.csv).

Held-out rows are never used by a fit; these checks keep each row usable by
benchmarks/heldout_validation.py: a source, a date read and every setting the estimate needs.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

from gpuplan.catalog.gpus import get_gpu
from gpuplan.catalog.models import get_model
from gpuplan.compute.utilisation import SCOPES

DATA = Path(__file__).resolve().parents[1] / "benchmarks" / "data"
CALIBRATION = Path(__file__).resolve().parents[1] / "scripts" / "data"
VERDICTS = {"ok", "corrected", "ambiguous", "not_reread"}


def read(name: str, folder: Path = DATA) -> list[dict[str, str]]:
    with (folder / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name", ["heldout_training.csv", "heldout_inference.csv"])
def test_every_row_is_cited_and_dated(name: str) -> None:
    for row in read(name):
        assert row["source"].strip(), row
        assert row["read_on"][:2] == "20", row
        get_gpu(row["gpu"])
        if row["model"]:
            get_model(row["model"])


def test_training_rows_carry_a_published_figure_and_settings() -> None:
    for row in read("heldout_training.csv"):
        assert row["model"] or float(row["params"]) > 0, row
        assert float(row["tokens"]) > 0 and int(row["seq_len"]) > 0
        assert row["scope_class"] in SCOPES and int(row["software_year"]) >= 2020, row
        published = row["published_gpu_hours"] if row["kind"] == "run" else row["published_mfu"]
        assert float(published) > 0, row


def test_inference_throughput_per_gpu_is_system_over_gpus() -> None:
    # e.g. H100 x8 Mixtral Offline: 52,415.9 tok/s / 8 = 6,552 tok/s per GPU
    for row in read("heldout_inference.csv"):
        per_gpu = float(row["system_tokens_per_s"]) / int(row["gpus_in_system"])
        assert float(row["published_tokens_per_s_per_gpu"]) == pytest.approx(per_gpu, rel=1e-3)


def test_every_fitted_run_is_audited_with_the_scope_of_its_figure() -> None:
    audit = read("training_runs_audit.csv", CALIBRATION)
    for entry in audit:
        assert entry["verdict"] in VERDICTS and entry["source"].strip(), entry
        assert entry["date_read"][:2] == "20", entry
    audited = {entry["run"] for entry in audit}
    scoped = {entry["run"] for entry in audit if entry["field"] == "scope"}
    for row in read("calibration_details.csv", CALIBRATION):
        if row["usable"] != "yes" or row["key"].startswith("llm-foundry"):
            continue
        assert row["key"] in audited, row["key"]
        if row["kind"] == "run_hours":
            assert row["key"] in scoped, row["key"]


def test_fitted_runs_imply_a_physical_run_mfu(calibration_dir: Path) -> None:
    """Every fitted run's published GPU-hours, tokens and peak imply a run MFU above zero and
    no higher than the best steady-state MFU measured in the data (llm-foundry MPT-7B on 8
    A100-80GB, 0.642): a run cannot beat a short benchmark of its own stack, so a row above it
    counts tokens or GPUs wrongly (phi-2's card implies 0.69 and is not fitted for that)."""
    path = CALIBRATION.parent / "calibration_rows.py"
    spec = importlib.util.spec_from_file_location("calibration_rows", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    rows = module.load_calibration_rows(calibration_dir)
    ceiling = max(r.observed_mfu for r in rows if r.kind == "mfu")
    assert ceiling == pytest.approx(0.642, abs=1e-3)
    runs = [r for r in rows if r.kind == "run_hours"]
    assert len(runs) >= 40
    for run in runs:
        assert 0.0 < run.observed_mfu <= ceiling, (run.label, run.observed_mfu)


def test_moe_rows_of_the_perf_overview_run_attention_data_parallel() -> None:
    # The TensorRT-LLM perf overview runs MoE models with `--ep` and
    # `enable_attention_dp: true`, which gpuplan expresses as ep = tp; dense rows and the
    # MLPerf rows (no layout published beyond tp) leave ep to the estimator.
    for row in read("heldout_inference.csv"):
        moe = get_model(row["model"]).architecture.is_moe
        if moe and "perf overview" in row["benchmark"]:
            assert row["ep"] == row["tp"], row
        else:
            assert row["ep"] == "", row


def test_held_out_runs_are_not_fitted(calibration_dir: Path) -> None:
    """A held-out run must not also be a fitted calibration run: no fitted run has the same
    name, or the same parameter count and tokens within 3% (e.g. Granite 3.0 8B is held out
    while its sibling 2B, 2.5B parameters on the same 12T tokens, is fitted)."""
    published = read("training_runs.csv", calibration_dir) + read(
        "training_runs_extra.csv", CALIBRATION
    )
    by_name = {row["model"]: row for row in published}
    fitted = [
        by_name[row["key"]]
        for row in read("calibration_details.csv", CALIBRATION)
        if row["usable"] == "yes" and row["kind"] == "run_hours"
    ]
    fitted_names = {row["model"].lower() for row in fitted}
    for held in read("heldout_training.csv"):
        if held["kind"] != "run":
            continue
        assert held["run"].lower() not in fitted_names, held["run"]
        params = (
            get_model(held["model"]).architecture.params_total
            if held["model"]
            else float(held["params"])
        )
        tokens = float(held["tokens"])
        for run in fitted:
            same_size = abs(float(run["params_total_b"]) * 1e9 / params - 1.0) < 0.03
            same_tokens = abs(float(run["tokens_trained"]) / tokens - 1.0) < 0.03
            assert not (same_size and same_tokens), (held["run"], run["model"])
