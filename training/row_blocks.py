"""Some rows of a frame handed to LightGBM a block at a time, instead of as one float64 matrix of all of them.

``lightgbm.Dataset`` reads a ``lightgbm.Sequence`` in two passes: the rows it samples to find the bin
boundaries (one at a time, in increasing order), then every row in blocks of ``batch_size``, binned as they
come. Each block is the float64 values a matrix of the rows would hold, and ``BlockDataset`` gives the sampler
and the binning every parameter, as the matrix path does: the bins, and the booster, are those of the matrix
(``tests/test_training_units.py`` compares the model text), while the float64 copy of the rows is one block,
not the fit rows of a county.
"""

from __future__ import annotations

from collections.abc import Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd

BLOCK_ROWS = 10_000  # rows converted to float64 at a time (1.2 MB per indicator column)


class BlockDataset(lgb.Dataset):
    """``lightgbm.Dataset`` whose parameters, as the Sequence path reads them, are all of them. That path (4.7)
    hands its row sampler and its bin construction only the dataset parameters (``Dataset.get_params``), so
    ``seed`` (from which LightGBM derives the sampling seed) and ``min_data_in_leaf`` (which pre-filters the
    features no split could use) would be dropped, and the bins would not be the matrix path's, which passes
    every parameter."""

    def get_params(self) -> dict:
        return dict(self.params or {})


class RowBlocks(lgb.Sequence):
    """``X``'s ``rows`` (a boolean mask) as float64 row blocks; the columns ``negative_missing`` (by position)
    read NaN for negative values. Holds views of ``X``'s columns, not a copy."""

    def __init__(self, X: pd.DataFrame, rows: np.ndarray, negative_missing: Sequence[int] = (),
                 block_rows: int = BLOCK_ROWS) -> None:
        self.columns = [_values(X.iloc[:, j]) for j in range(X.shape[1])]
        self.index = np.flatnonzero(rows)
        self.negative_missing = list(negative_missing)
        self.batch_size = block_rows
        self._cached: tuple[int, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, idx: int | slice) -> np.ndarray:
        if isinstance(idx, slice):
            start, stop, step = idx.indices(len(self))
            if step != 1:
                raise IndexError("RowBlocks reads contiguous slices only")
            return self.block(start, stop)
        i = int(idx) + (len(self) if int(idx) < 0 else 0)
        # the sample is read a row at a time in increasing order: convert the row's block once
        start = i - i % self.batch_size
        if self._cached is None or self._cached[0] != start:
            self._cached = (start, self.block(start, min(start + self.batch_size, len(self))))
        return self._cached[1][i - start]

    def block(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` (of the selected rows) as a C-ordered float64 matrix."""
        at = self.index[start:stop]
        out = np.empty((len(at), len(self.columns)), dtype=np.float64)
        for j, values in enumerate(self.columns):
            out[:, j] = values[at]
        for j in self.negative_missing:
            out[out[:, j] < 0, j] = np.nan
        return out


def _values(col: pd.Series) -> np.ndarray:
    """A column's values without a copy when it is a numpy float column, else as float64 (NaN for missing)."""
    if isinstance(col.dtype, np.dtype) and col.dtype.kind == "f":
        return col.to_numpy()
    return col.to_numpy(dtype="float64", na_value=np.nan)
