"""A small sparse linear-model container: labelled column blocks and named row families.

Columns and rows are added in vectorised blocks (numpy arrays of keys), the matrix is
collected as COO triplets and frozen into a scipy CSC matrix for HiGHS. Every row belongs to
a family (``inference_demand``, ``provider_share``...) and has a structured key, so a row
reads ``provider_share[azure,2027-Q3]``; the same goes for columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

CONTINUOUS, INTEGER, SEMI_CONTINUOUS = 0, 1, 2


@dataclass
class Block:
    """A run of consecutive columns or rows with their keys (one array per key field)."""

    name: str
    start: int
    size: int
    keys: dict[str, np.ndarray]
    label: Callable[[dict[str, Any]], str] | None = None

    @property
    def stop(self) -> int:
        return self.start + self.size

    def where(self, **match: Any) -> np.ndarray:
        """Absolute indices of the block's entries whose keys equal ``match``
        (``fleet.where(option=3)``: option 3's fleet column in every period, in order)."""
        keep = np.ones(self.size, dtype=bool)
        for name, value in match.items():
            keep &= self.keys[name] == value
        return self.start + np.flatnonzero(keep)

    def at(self, **keys: Any) -> np.ndarray:
        """Absolute indices of the entries at ``keys`` (arrays, broadcast together) of a
        block laid out as a dense grid over its key fields in order
        (``fleet.at(option=o, period=t)``: the column fleet[o,t] for each pair)."""
        sizes = self._grid_sizes
        position = np.ravel_multi_index(tuple(np.asarray(keys[n]) for n in self.keys), sizes)
        return self.start + np.asarray(position, dtype=np.int64)

    @cached_property
    def _grid_sizes(self) -> tuple[int, ...]:
        """The sizes of the key fields when the block is their dense grid in order (raises
        ``TypeError`` when it is not: :meth:`at` needs one entry per combination)."""
        sizes = tuple(int(v.max()) + 1 if v.size else 0 for v in self.keys.values())
        grid = np.unravel_index(np.arange(self.size), sizes) if self.size else ()
        if int(np.prod(sizes)) != self.size or any(
            not np.array_equal(v, g) for v, g in zip(self.keys.values(), grid, strict=True)
        ):
            raise TypeError(f"block {self.name} is not a dense grid over {list(self.keys)}")
        return sizes

    def key_of(self, index: int) -> dict[str, Any]:
        offset = index - self.start
        return {name: values[offset].item() for name, values in self.keys.items()}

    def name_of(self, index: int) -> str:
        key = self.key_of(index)
        text = self.label(key) if self.label else ",".join(str(v) for v in key.values())
        return f"{self.name}[{text}]"


@dataclass
class LinearModel:
    """min cost @ x  s.t.  row_lower <= A x <= row_upper,  col_lower <= x <= col_upper."""

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    col_kind: np.ndarray
    matrix: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    columns: dict[str, Block]
    rows: dict[str, Block]
    penalty_columns: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    @property
    def num_cols(self) -> int:
        return len(self.cost)

    @property
    def num_rows(self) -> int:
        return len(self.row_lower)

    @property
    def is_mip(self) -> bool:
        return bool(np.any(self.col_kind != CONTINUOUS))

    def row_name(self, index: int) -> str:
        return _find(self.rows, index).name_of(index)


def _find(blocks: dict[str, Block], index: int) -> Block:
    for block in blocks.values():
        if block.start <= index < block.stop:
            return block
    raise IndexError(index)


class ModelBuilder:
    """Accumulates column blocks, row families and COO entries; ``freeze`` makes the model."""

    def __init__(self) -> None:
        self._cols: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._rows: list[tuple[np.ndarray, np.ndarray]] = []
        self._entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.columns: dict[str, Block] = {}
        self.rows: dict[str, Block] = {}
        self.num_cols = 0
        self.num_rows = 0
        self._penalty: list[np.ndarray] = []

    def add_columns(
        self,
        name: str,
        keys: dict[str, np.ndarray],
        *,
        cost: np.ndarray | float = 0.0,
        lower: np.ndarray | float = 0.0,
        upper: np.ndarray | float = np.inf,
        kind: np.ndarray | int = CONTINUOUS,
        label: Callable[[dict[str, Any]], str] | None = None,
        penalty: bool = False,
    ) -> Block:
        """A block of columns, one per row of ``keys``; returns it (``block.start`` offsets)."""
        size = len(next(iter(keys.values()))) if keys else 0
        block = Block(name, self.num_cols, size, {k: np.asarray(v) for k, v in keys.items()}, label)
        self.columns[name] = block
        self._cols.append(
            (
                np.broadcast_to(np.asarray(cost, dtype=float), size).copy(),
                np.broadcast_to(np.asarray(lower, dtype=float), size).copy(),
                np.broadcast_to(np.asarray(upper, dtype=float), size).copy(),
                np.broadcast_to(np.asarray(kind, dtype=np.int8), size).copy(),
            )
        )
        if penalty:
            self._penalty.append(np.arange(block.start, block.stop))
        self.num_cols += size
        return block

    def add_rows(
        self,
        family: str,
        keys: dict[str, np.ndarray],
        *,
        lower: np.ndarray | float = -np.inf,
        upper: np.ndarray | float = np.inf,
        label: Callable[[dict[str, Any]], str] | None = None,
    ) -> Block:
        """A family of rows, one per row of ``keys``; fill them with :meth:`add_entries`."""
        size = len(next(iter(keys.values()))) if keys else 0
        block = Block(
            family, self.num_rows, size, {k: np.asarray(v) for k, v in keys.items()}, label
        )
        self.rows[family] = block
        self._rows.append(
            (
                np.broadcast_to(np.asarray(lower, dtype=float), size).copy(),
                np.broadcast_to(np.asarray(upper, dtype=float), size).copy(),
            )
        )
        self.num_rows += size
        return block

    def add_entries(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray | float) -> None:
        """Matrix coefficients at absolute (row, column) positions; duplicates are summed."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        self._entries.append(
            (rows, cols, np.broadcast_to(np.asarray(values, dtype=float), rows.shape).copy())
        )

    def freeze(self) -> LinearModel:
        def stack(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

        cost, lower, upper, kind = (
            stack([c[i] for c in self._cols], t)
            for i, t in enumerate((float, float, float, np.int8))
        )
        row_lower = stack([r[0] for r in self._rows], float)
        row_upper = stack([r[1] for r in self._rows], float)
        if self._entries:
            r, c, v = (np.concatenate([e[i] for e in self._entries]) for i in range(3))
        else:
            r = c = np.zeros(0, dtype=np.int64)
            v = np.zeros(0)
        matrix = sp.csc_matrix((v, (r, c)), shape=(self.num_rows, self.num_cols))
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        return LinearModel(
            cost=cost,
            col_lower=lower,
            col_upper=upper,
            col_kind=kind,
            matrix=matrix,
            row_lower=row_lower,
            row_upper=row_upper,
            columns=self.columns,
            rows=self.rows,
            penalty_columns=stack(self._penalty, np.int64),
        )
