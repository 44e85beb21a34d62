"""Read flat CSV data tables into validated pydantic rows.

Every catalog (GPUs, offers, ownership costs, ...) is one CSV with a header row. Blank cells
become ``None``; each row is validated by a pydantic model and a bad row raises
:class:`~gpuplan.errors.CatalogError` naming the file, the line and the column, so a typo in a
data file never turns into a silently wrong number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from gpuplan.errors import CatalogError
from gpuplan.userfiles import user_path

RowT = TypeVar("RowT", bound=BaseModel)


def split_aliases(value: object) -> object:
    """A ``a|b|c`` cell as a lower-case tuple (pydantic ``BeforeValidator`` for alias lists)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(a.strip().lower() for a in value.split("|") if a.strip())
    return value


def packaged_data(name: str) -> Path:
    """Path of a data file shipped in ``gpuplan/catalog/data``."""
    return Path(str(resources.files("gpuplan.catalog") / "data" / name))


CSV_FIELD_LIMIT = csv.field_size_limit()
"""Longest cell a CSV file may hold, in characters (the csv module's 128 KiB default)."""


def read_csv_text(path: Path) -> str:
    """The text of a CSV file; a missing, unreadable, non-UTF-8 or empty file is a
    :class:`CatalogError` naming it."""
    path = user_path(path, "csv")
    if not path.is_file():
        raise CatalogError(f"{path} is not a file; give the path of a CSV file.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise CatalogError(
            f"{path.name} is not UTF-8 text (byte {error.start}); save it as UTF-8 CSV."
        ) from None
    except OSError as error:
        raise CatalogError(f"{path} cannot be read ({error.strerror}).") from None
    if not text.strip():
        raise CatalogError(f"{path.name} is empty; it needs a header row and data rows.")
    return text


def csv_records(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str | None]]]]:
    """The header and the (line number, raw row) pairs of a CSV file; a line the csv module
    cannot split (a cell over :data:`CSV_FIELD_LIMIT`, a NUL byte) is a :class:`CatalogError`."""
    reader = csv.DictReader(io.StringIO(read_csv_text(path), newline=""))
    rows: list[tuple[int, dict[str, str | None]]] = []
    try:
        header = list(reader.fieldnames or [])
        rows.extend((reader.line_num, row) for row in reader)
    except csv.Error as error:
        raise CatalogError(
            f"{path.name} line {reader.line_num + 1}: not readable as CSV ({error}); a cell "
            f"holds at most {CSV_FIELD_LIMIT // 1024} KiB of text."
        ) from None
    return header, rows


def iter_csv(path: Path) -> Iterator[tuple[int, dict[str, str | None]]]:
    """Yield (line number, row) for each data row; blank cells are ``None``."""
    for line, row in csv_records(path)[1]:
        cleaned = {
            key.strip(): (value.strip() if value and value.strip() else None)
            for key, value in row.items()
            if key is not None
        }
        yield line, cleaned


def describe_validation_error(error: ValidationError) -> str:
    """One line per failing field: ``field: message (got value)``."""
    parts = []
    for issue in error.errors():
        field = ".".join(str(p) for p in issue["loc"]) or "row"
        got = issue.get("input")
        shown = f" (got {got!r})" if got is not None and not isinstance(got, dict) else ""
        message = str(issue["msg"]).removeprefix("Value error, ")
        parts.append(f"{field}: {message}{shown}")
    return "; ".join(parts)


def read_table_lines(path: Path, row_model: type[RowT]) -> list[tuple[int, RowT]]:
    """Validate every row of ``path``; return (line number, row) pairs; a bad row is an error."""
    rows: list[tuple[int, RowT]] = []
    for line, raw in iter_csv(path):
        try:
            rows.append((line, row_model.model_validate(raw)))
        except ValidationError as error:
            raise CatalogError(
                f"{path.name} line {line}: {describe_validation_error(error)}. "
                "Fix or remove that row."
            ) from None
    return rows


def read_table(path: Path, row_model: type[RowT]) -> list[RowT]:
    """Validate every row of ``path`` with ``row_model``; the first bad row is an error."""
    return [row for _, row in read_table_lines(path, row_model)]
