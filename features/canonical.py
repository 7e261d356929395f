"""The canonical in-memory form of contract tables (see ``features.contract``): dtypes and casting.

Ingest produces it, the warehouse stores it, indicators and the service consume it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from features.contract import TABLES, Column, Table

PANDAS_DTYPE = {
    "string": "object", "enum": "object", "enum-list": "object", "date": "datetime64[ns]",
    "bool": "boolean", "int": "Int64", "float": "float64", "money": "float64",
}


def dtypes(table: Table | str) -> dict[str, str]:
    """Column name -> pandas dtype of the canonical form."""
    t = TABLES[table] if isinstance(table, str) else table
    return {c.name: PANDAS_DTYPE[c.type] for c in t.columns}


def empty_frame(table: Table | str) -> pd.DataFrame:
    """A zero-row canonical frame with every contract column."""
    return pd.DataFrame({n: pd.Series(dtype=d) for n, d in dtypes(table).items()})


def cast(table: Table | str, df: pd.DataFrame) -> pd.DataFrame:
    """Already-clean values (English names and codes) to canonical dtypes, adding missing optional columns
    as empty. Does not validate: use ``features.validate`` for data from outside."""
    t = TABLES[table] if isinstance(table, str) else table
    out = {}
    for c in t.columns:
        dtype = PANDAS_DTYPE[c.type]
        if c.name not in df.columns:
            out[c.name] = pd.Series(pd.NA if dtype != "float64" else float("nan"), index=df.index, dtype=dtype)
            continue
        col = df[c.name]
        if c.type == "date":
            col = pd.to_datetime(col).dt.normalize().astype("datetime64[ns]")
        elif c.type in ("string", "enum"):
            col = col.astype("object").where(col.notna(), None)
        elif c.type == "enum-list":
            col = col.astype("object").where(col.notna(), "")
        else:
            col = col.astype(dtype)
        out[c.name] = col
    return pd.DataFrame(out, index=df.index)


def from_records(table: Table | str, rows: Sequence[Mapping[str, Any]],
                 columns: Mapping[str, Sequence[Any]] | None = None) -> pd.DataFrame:
    """Plain row dicts (already-clean values, e.g. the service's validated JSON) in canonical form: equal to
    ``cast(table, pd.DataFrame(rows))``, but each contract column goes straight from a Python list to its
    dtype, without inferring a whole frame first — the per-request path, where pandas' inference dominates.

    ``columns`` gives some columns as lists (one value per row) that replace the rows' own values: how the
    service adds household_id and round_id to members without copying every member's dict.
    """
    t = TABLES[table] if isinstance(table, str) else table
    given = columns or {}
    return pd.DataFrame({c.name: _column(c, list(given[c.name]) if c.name in given else
                                         [row.get(c.name) for row in rows]) for c in t.columns})


def _column(col: Column, values: list[Any]) -> pd.Series | pd.api.extensions.ExtensionArray | np.ndarray:
    """One canonical column from Python values; None, NaN, NA and NaT all mean missing."""
    objects = np.empty(len(values), dtype=object)
    objects[:] = values
    missing = pd.isna(objects)
    if col.type in ("string", "enum", "enum-list"):
        objects[missing] = "" if col.type == "enum-list" else None
        return pd.Series(objects, dtype="object")  # a Series, so pandas does not infer its string dtype
    if col.type == "date":
        return pd.to_datetime(objects).normalize().as_unit("ns")
    objects[missing] = None
    if col.type in ("bool", "int"):
        return pd.array(objects, dtype=PANDAS_DTYPE[col.type])
    return np.where(missing, np.nan, objects).astype("float64")  # float, money
