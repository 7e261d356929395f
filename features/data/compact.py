"""Example tables held compactly, for a job that keeps every example row in memory (training).

A float64 indicator column becomes float16 (flags, counts, ages, codes) or float32 when every value of it (NaN
included) survives the round trip, so converting back to float64 gives the same numbers bit for bit: a model fitted on the compact table is the
one fitted on the float64 table. Columns whose values need float64 (incomes, ratios) stay float64. Text
columns (household and round ids, places, types) become categoricals: a code per row instead of a Python
string. Parts are joined column by column, each part's column released as soon as it is copied, so joining
never holds two copies of the table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

Columns = dict[str, object]  # column name -> numpy array, pandas extension array or Categorical


def exact_small_float(values: np.ndarray) -> np.ndarray:
    """``values`` as float16, else float32, when that loses nothing (every value, NaN included, comes back
    equal), else as is: flags, counts, ages and codes need two bytes, not eight."""
    if values.dtype != np.float64:
        return values
    for small_type in (np.float16, np.float32):
        with np.errstate(over="ignore"):  # a value too large for float16 becomes inf: not equal, so not kept
            small = values.astype(small_type)
        if np.array_equal(small.astype(np.float64), values, equal_nan=True):
            return small
    return values


def owned(values: np.ndarray) -> np.ndarray:
    """``values`` as an array of its own: a column read from a frame can be a view of the frame's whole
    2-D block of that dtype, which would keep every column of the frame alive as long as the one kept."""
    return values.copy() if values.base is not None else values


def compact_columns(frame: pd.DataFrame, floats: Sequence[str]) -> Columns:
    """The columns of ``frame``: ``floats`` (float64 columns) as ``exact_small_float``, text as categoricals, the
    rest unchanged; every column an array of its own (``owned``), so ``frame`` is freed once dropped."""
    out: Columns = {}
    wanted = set(floats)
    for name in frame.columns:
        col = frame[name]
        if name in wanted:
            out[name] = owned(exact_small_float(col.to_numpy(dtype="float64", na_value=np.nan)))
        elif col.dtype == object or isinstance(col.dtype, pd.StringDtype):
            out[name] = pd.Categorical(col.astype("object"))
        else:
            out[name] = col.array.copy() if not isinstance(col.dtype, np.dtype) else owned(col.to_numpy())
    return out


def join_columns(parts: list[Columns]) -> pd.DataFrame:
    """The parts' rows in order, as one frame; each part's columns are released as they are joined (``parts``
    is emptied). A column narrower in one part than in another takes the wider type (exactly)."""
    if not parts:
        raise ValueError("no parts to join")
    data: dict[str, object] = {}
    for name in list(parts[0]):
        pieces = [p.pop(name) for p in parts]
        if all(isinstance(x, pd.Categorical) for x in pieces):
            data[name] = union_categoricals(pieces)
        elif all(isinstance(x, np.ndarray) for x in pieces):
            data[name] = np.concatenate(pieces)
        else:
            data[name] = pd.concat([pd.Series(x) for x in pieces], ignore_index=True).array
        del pieces
    parts.clear()
    return pd.DataFrame(data, copy=False)
