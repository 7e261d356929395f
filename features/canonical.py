"""The canonical in-memory form of contract tables (see ``features.contract``): dtypes and casting.

Ingest produces it, the warehouse stores it, indicators and the service consume it.
"""

from __future__ import annotations

import pandas as pd

from features.contract import TABLES, Table

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
