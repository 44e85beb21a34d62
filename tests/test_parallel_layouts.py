"""The published parallel layouts (scripts/data/parallel_layouts.csv) name real runs, quote
their source, and agree with each run's own GPU count and batch.

A layout is what the source states: tensor (TP), pipeline (PP), context (CP) and expert (EP)
parallel degrees, the data-parallel sharding and the micro-batch per GPU; blank = not stated.
"""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYOUTS = ROOT / "scripts" / "data" / "parallel_layouts.csv"
COLUMNS = [
    "run",
    "tensor_parallel",
    "pipeline_parallel",
    "context_parallel",
    "expert_parallel",
    "data_parallel_sharding",
    "micro_batch_sequences",
    "source",
    "quote",
    "read_on",
]
DEGREES = ["tensor_parallel", "pipeline_parallel", "context_parallel", "expert_parallel"]
SHARDINGS = {"none", "zero1", "zero2", "zero3_fsdp"}


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def layouts() -> list[dict[str, str]]:
    return read(LAYOUTS)


def stated(row: dict[str, str], column: str) -> int | None:
    return int(row[column]) if row[column] else None


def test_columns_and_one_row_per_run() -> None:
    with LAYOUTS.open(newline="") as handle:
        assert next(csv.reader(handle)) == COLUMNS
    runs = [row["run"] for row in layouts()]
    assert len(runs) == len(set(runs)), "a run has two layout rows"


def test_every_run_is_a_run_of_the_data(calibration_dir: Path) -> None:
    known = {row["key"] for row in read(ROOT / "scripts" / "data" / "calibration_details.csv")}
    known |= {row["model"] for row in read(ROOT / "scripts" / "data" / "training_runs_extra.csv")}
    known |= {row["model"] for row in read(calibration_dir / "training_runs.csv")}
    known |= {row["run"] for row in read(ROOT / "benchmarks" / "data" / "heldout_training.csv")}
    for row in layouts():
        assert row["run"] in known, row["run"]


def test_values_are_whole_degrees_with_a_quoted_source() -> None:
    for row in layouts():
        values = [stated(row, column) for column in [*DEGREES, "micro_batch_sequences"]]
        assert any(v is not None for v in values) or row["data_parallel_sharding"], row["run"]
        assert all(v is None or v >= 1 for v in values), row["run"]
        assert row["data_parallel_sharding"] in SHARDINGS | {""}, row["run"]
        assert row["source"].strip() and row["quote"].strip(), row["run"]
        assert row["read_on"][:2] == "20", row["run"]


def published_settings() -> dict[str, list[tuple[int, int, int]]]:
    """(GPUs, sequence length, global batch tokens) of each run whose GPU count is published
    (an assumed count says nothing about the layout); 0 where not known."""
    settings: dict[str, list[tuple[int, int, int]]] = {}
    for row in read(ROOT / "scripts" / "data" / "calibration_details.csv"):
        if row["gpus"] and row["gpus_stated"] == "yes":
            batch = int(row["global_batch_tokens"] or 0)
            settings.setdefault(row["key"], []).append(
                (int(row["gpus"]), int(row["seq_len"]), batch)
            )
    for row in read(ROOT / "benchmarks" / "data" / "heldout_training.csv"):
        if row["gpus"]:
            batch = int(float(row["global_batch_tokens"] or 0))
            settings.setdefault(row["run"], []).append(
                (int(row["gpus"]), int(row["seq_len"]), batch)
            )
    return settings


def test_layout_fits_the_published_gpus_and_batch() -> None:
    """TP x PP x CP divides the run's GPU count (the rest is data parallel), and the global
    batch is a whole number of micro-batches per data-parallel rank: Pythia-12B's config on
    256 GPUs with TP 4 gives 64 ranks x 8 sequences x 2,048 = 1,048,576 tokens, half the
    2,097,152-token batch, so two accumulation steps, as its config says."""
    settings = published_settings()
    checked = 0
    for row in layouts():
        model_parallel = 1
        for column in ("tensor_parallel", "pipeline_parallel", "context_parallel"):
            model_parallel *= stated(row, column) or 1
        for gpus, seq_len, batch_tokens in settings.get(row["run"], []):
            assert gpus % model_parallel == 0, (row["run"], gpus, model_parallel)
            micro = stated(row, "micro_batch_sequences")
            if micro and batch_tokens:
                per_pass = micro * seq_len * gpus // model_parallel
                assert batch_tokens % per_pass == 0, (row["run"], batch_tokens, per_pass)
            checked += 1
    assert checked >= 30
