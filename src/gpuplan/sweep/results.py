"""A sweep's results table, its summary, and the files it is written to (Parquet, CSV)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from gpuplan.errors import InputError

SUMMARY_QUANTILES = (0.1, 0.5, 0.9)


def results_table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per job in job order; columns: job, what, ``set:PATH`` inputs, status, error,
    the metrics, seconds, attempts."""
    return pd.DataFrame(list(rows)).sort_values("job", kind="stable").reset_index(drop=True)


def summary(table: pd.DataFrame) -> dict[str, Any]:
    """Job counts by status and P10/P50/P90 of every numeric metric over the jobs that ran."""
    done = table[table["status"].isin(["optimal", "time_limit", "ok"])]
    skip = {"job", "seconds", "attempts"}
    metrics = [
        c
        for c in table.columns
        if c not in skip and not c.startswith("set:") and pd.api.types.is_numeric_dtype(table[c])
    ]
    return {
        "jobs": len(table),
        "by_status": {str(k): int(v) for k, v in table["status"].value_counts().items()},
        "metrics": {
            name: {
                f"p{round(q * 100)}": float(done[name].quantile(q))
                if done[name].notna().any()
                else None
                for q in SUMMARY_QUANTILES
            }
            for name in metrics
        },
        "seconds_total": float(table["seconds"].sum(skipna=True)),
    }


def write_table(table: pd.DataFrame, path: Path) -> list[Path]:
    """Write ``table`` as Parquet (``.parquet``) or CSV (``.csv``); a Parquet file also gets
    a CSV twin beside it. Returns the paths written."""
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise InputError("out", f"'{path}' must end in .parquet or .csv.")
    written = []
    try:
        if suffix == ".parquet":
            table.to_parquet(path, index=False)
            written.append(path)
            path = path.with_suffix(".csv")
        table.to_csv(path, index=False)
        written.append(path)
    except OSError as error:
        raise InputError("out", f"cannot write '{path}': {error.strerror or error}.") from None
    return written
