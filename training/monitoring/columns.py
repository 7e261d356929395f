"""The compared indicator columns of a drift check, kept on disk and read one column at a time.

A drift check compares ~150 indicators of every household of several rounds; held as one float64 matrix that
is 6 GB at a million households. Every statistic is computed column by column (quantile bins, PSI, KS), so the
matrix is written to disk as the rounds are built, range by range (one file per indicator), and a column of
all rows is read back into a fresh array when it is needed: memory follows one column, not the county.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path

import numpy as np

DTYPE = np.float64


class SpilledMatrix:
    """Columns of a matrix appended range by range to one file per column in a temporary folder (removed when
    this object goes). The last column read is kept: a check reads a column for the reference and then for
    the round, which are rows of the same file."""

    def __init__(self, width: int) -> None:
        self.width, self.rows = width, 0
        self.folder = Path(tempfile.mkdtemp(prefix="povwatch-drift-"))
        self._remove = weakref.finalize(self, shutil.rmtree, self.folder, True)
        self._last: tuple[int, np.ndarray] | None = None

    def append(self, block: np.ndarray) -> None:
        """Rows of every column, added after those already written."""
        if block.shape[1] != self.width:
            raise ValueError(f"expected {self.width} columns, got {block.shape[1]}")
        for j in range(self.width):
            with open(self._path(j), "ab") as f:
                f.write(np.ascontiguousarray(block[:, j], dtype=DTYPE).tobytes())
        self.rows += len(block)
        self._last = None

    def column(self, j: int) -> np.ndarray:
        """Column ``j`` of every row written, read into memory (not mapped: mapped pages count as the
        process's own)."""
        if self._last is None or self._last[0] != j:
            self._last = None  # the previous column goes before the next is read
            x = np.fromfile(self._path(j), dtype=DTYPE) if self.rows else np.zeros(0, DTYPE)
            self._last = (j, x)
        return self._last[1]

    def close(self) -> None:
        self._last = None
        self._remove()

    def _path(self, j: int) -> Path:
        return self.folder / f"{j:05d}.f8"


class Columns:
    """Some rows of a matrix (in memory or ``SpilledMatrix``), read a column at a time: ``rows`` picks and
    orders them (None: all, in stored order)."""

    def __init__(self, source: np.ndarray | SpilledMatrix, rows: np.ndarray | slice | None = None) -> None:
        self.source, self.rows = source, rows

    @property
    def width(self) -> int:
        return self.source.width if isinstance(self.source, SpilledMatrix) else self.source.shape[1]

    def __len__(self) -> int:
        if self.rows is None or isinstance(self.rows, slice):
            return len(range(self._stored)[self.rows or slice(None)])
        return len(self.rows)

    def column(self, j: int) -> np.ndarray:
        x = self.source.column(j) if isinstance(self.source, SpilledMatrix) else self.source[:, j]
        return x if self.rows is None else x[self.rows]

    def take(self, rows: np.ndarray | slice) -> Columns:
        """The rows ``rows`` (positions or a slice) of these rows."""
        if self.rows is None:
            return Columns(self.source, rows)
        if isinstance(self.rows, slice):
            return Columns(self.source, np.arange(self._stored)[self.rows][rows])
        return Columns(self.source, self.rows[rows])

    @property
    def _stored(self) -> int:
        return self.source.rows if isinstance(self.source, SpilledMatrix) else len(self.source)

    def to_array(self) -> np.ndarray:
        """The whole matrix of these rows: for small checks and tests only."""
        out = np.empty((len(self), self.width))
        for j in range(self.width):
            out[:, j] = self.column(j)
        return out
