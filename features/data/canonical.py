"""The canonical in-memory form of contract tables (see ``features.data.contract``): dtypes and casting.

Ingest produces it, the warehouse stores it, indicators and the service consume it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from features.data.contract import LIST_SEPARATORS, MAX_ITEMS, TABLES, Column, Table, bool_of

_SEPARATORS = str.maketrans({s: ";" for s in LIST_SEPARATORS})

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
    as empty. Does not validate: use ``features.data.validate`` for data from outside."""
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


OnProblem = Callable[[int, Column, str], None]  # (row, column, what is wrong) for a value the contract cannot read


def _raise(row: int, col: Column, problem: str) -> None:
    raise ValueError(f"row {row}: {problem}")


def from_records(table: Table | str, rows: Sequence[Mapping[str, Any]],
                 columns: Mapping[str, Sequence[Any]] | None = None, *,
                 on_problem: OnProblem = _raise) -> pd.DataFrame:
    """Plain row dicts (the service's validated JSON) in canonical form: equal to ``cast(table,
    pd.DataFrame(rows))`` for clean values, but each contract column goes straight from a Python list to its
    dtype, without inferring a whole frame first — the per-request path, where pandas' inference dominates.
    Enum labels become codes and enum-lists canonical ';'-joined codes; a value the contract cannot read
    (an unknown enum label, a list item, a calendar date) goes to ``on_problem`` and comes out missing.

    ``columns`` gives some columns as lists (one value per row) that replace the rows' own values: how the
    service adds household_id and round_id to members without copying every member's dict.
    """
    t = TABLES[table] if isinstance(table, str) else table
    given = columns or {}
    return pd.DataFrame({c.name: column_of(c, given[c.name] if c.name in given else [row.get(c.name) for row in rows],
                                           on_problem) for c in t.columns})


def column_of(col: Column, values: Sequence[Any] | np.ndarray, on_problem: OnProblem = _raise) -> Any:
    """One canonical column from Python values (None, NaN, NA and NaT mean missing)."""
    if col.type == "string":
        return pd.Series(np.asarray(values, dtype=object) if len(values) else np.empty(0, dtype=object),
                         dtype="object")  # a Series, so pandas does not infer its string dtype
    if col.type in ("enum", "enum-list"):
        return _codes(col, values, on_problem)
    if col.type == "date":
        return _dates(col, values, on_problem)
    if col.type == "bool":
        return _bools(col, values, on_problem)
    numbers = _floats(values)
    if col.type == "int":
        fractional = np.flatnonzero(np.isfinite(numbers) & (numbers % 1 != 0))
        for row in fractional:  # 2.0 is the integer 2 (as in JSON Schema); 2.5 is not an integer
            on_problem(int(row), col, f"{col.name}: {numbers[row]:g} is not a whole number")
        numbers[fractional] = np.nan
        missing = np.isnan(numbers)
        return pd.arrays.IntegerArray(np.where(missing, 0, numbers).astype(np.int64), missing)
    return numbers


def _bools(col: Column, values: Sequence[Any], on_problem: OnProblem) -> pd.arrays.BooleanArray:
    """Booleans from JSON booleans, the numbers 1/0, or a text the contract spells a boolean with (``是``, ``N``:
    ``features.data.contract.BOOL_SPELLINGS``, ingest's table); anything else goes to ``on_problem``."""
    objects = np.empty(len(values), dtype=object)
    objects[:] = list(values)
    missing = pd.isna(objects)
    if pd.api.types.infer_dtype(objects, skipna=True) in ("boolean", "empty"):  # JSON booleans only: the usual case
        return pd.arrays.BooleanArray(np.where(missing, False, objects).astype(bool), missing)
    for row in np.flatnonzero(~missing):
        value = objects[row]
        if value.__class__ is bool:
            continue
        read = bool_of(value) if isinstance(value, str) else (bool(value) if value in (0, 1) else None)
        if read is None:
            on_problem(int(row), col, f"{col.name}: {value!r} is not {col.allowed()}")
            missing[row] = True
        objects[row] = bool(read)
    return pd.arrays.BooleanArray(np.where(missing, False, objects).astype(bool), missing)


def _floats(values: Sequence[Any]) -> np.ndarray:
    try:
        return np.asarray(values, dtype="float64") if len(values) else np.empty(0)
    except (TypeError, ValueError):  # e.g. pd.NA among the values (documents built from frames)
        objects = np.empty(len(values), dtype=object)
        objects[:] = list(values)
        return np.where(pd.isna(objects), np.nan, objects).astype("float64")


def _codes(col: Column, values: Sequence[Any], on_problem: OnProblem) -> pd.Series:
    """Enum labels to codes and enum-lists to canonical ';'-joined codes, looked up once per distinct value
    (a column holds few)."""
    objects = np.empty(len(values), dtype=object)
    objects[:] = [tuple(v) if v.__class__ is list else v for v in values] if col.type == "enum-list" else values
    position, distinct = pd.factorize(objects, use_na_sentinel=True)
    canonical, wrong = [], {}
    for k, value in enumerate(distinct):
        code, problem = (_list_codes if col.type == "enum-list" else _enum_code)(col, value)
        canonical.append(code)
        if problem:
            wrong[k] = problem
    out = np.array(canonical + [None if col.type == "enum" else ""], dtype=object)[position]
    for row in np.flatnonzero(np.isin(position, list(wrong))) if wrong else ():
        on_problem(int(row), col, wrong[position[row]])
    return pd.Series(out, dtype="object")


def _enum_code(col: Column, value: Any) -> tuple[str | None, str | None]:
    code = col.code_of(str(value)) if isinstance(value, str) else None
    if code is None:
        return None, f"{col.name}: {value!r} is not {col.allowed()}"
    return code, None


def _list_codes(col: Column, value: Any) -> tuple[str, str | None]:
    items = value if isinstance(value, tuple) else str(value).translate(_SEPARATORS).split(";")
    codes: list[str] = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        code = col.code_of(item)
        if code is None:
            return "", f"{col.name}: item {item!r} is not {col.allowed()}"
        if code not in codes:
            codes.append(code)
    limit = MAX_ITEMS.get(col.name)
    if limit is not None and len(codes) > limit:
        return "", f"{col.name}: {len(codes)} items; at most {limit}"
    return ";".join(codes), None


def _dates(col: Column, values: Sequence[Any], on_problem: OnProblem) -> pd.DatetimeIndex:
    objects = np.empty(len(values), dtype=object)
    objects[:] = list(values)
    missing = pd.isna(objects)
    out = pd.to_datetime(pd.Series(objects), format="%Y-%m-%d", errors="coerce").to_numpy("datetime64[ns]")
    for row in np.flatnonzero(np.isnat(out) & ~missing):  # other date forms (documents built in Python)
        try:
            out[row] = pd.Timestamp(objects[row]).normalize().as_unit("ns").to_datetime64()
        except (TypeError, ValueError):
            on_problem(int(row), col, f"{col.name}: {objects[row]!r} is not a calendar date")
    return pd.DatetimeIndex(out).normalize().as_unit("ns")


_ARROW_TYPE = {"string": "string", "enum": "string", "enum-list": "string", "date": "timestamp[ns]", "bool": "bool",
               "int": "int64", "float": "float64", "money": "float64"}


def arrow_schema(table: Table | str) -> Any:
    """The Arrow schema of a table's canonical columns (what ``from_arrow`` reads back)."""
    import pyarrow as pa

    t = TABLES[table] if isinstance(table, str) else table
    return pa.schema([(c.name, pa.type_for_alias(_ARROW_TYPE[c.type])) for c in t.columns])


def from_arrow(table: Table | str, data: Any, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A pyarrow Table of stored canonical values in canonical form: equal to ``cast(table, data.to_pandas())``,
    column by column straight from Arrow. Pandas would first turn every text column into its string dtype and
    ``cast`` back into Python objects; here each distinct text becomes one Python object, shared by the rows
    that hold it (an enum column holds a handful), which is what makes reading the warehouse cheap.
    ``columns``: only these (default: every column of the table)."""
    import pyarrow as pa

    t = TABLES[table] if isinstance(table, str) else table
    out = {}
    n = data.num_rows
    for c in (t.columns if columns is None else [t.column(name) for name in columns]):
        if c.name not in data.column_names:
            dtype = PANDAS_DTYPE[c.type]
            out[c.name] = pd.Series(pd.NA if dtype != "float64" else float("nan"), index=pd.RangeIndex(n), dtype=dtype)
            continue
        col = data.column(c.name)
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        if pa.types.is_dictionary(col.type):
            col = col.dictionary_decode()
        want = pa.type_for_alias(_ARROW_TYPE[c.type])
        if c.type == "date" and pa.types.is_timestamp(col.type) and col.type.tz is None:
            want = col.type  # any unit; converted to ns below
        if col.type != want:
            col = col.cast(want)
        out[c.name] = _column_from_arrow(c, col)
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def _column_from_arrow(c: Column, col: Any) -> Any:
    import pyarrow.compute as pc

    missing = col.is_null().to_numpy(zero_copy_only=False)
    if c.type in ("string", "enum", "enum-list"):
        encoded = pc.dictionary_encode(col)
        values = np.append(encoded.dictionary.to_numpy(zero_copy_only=False).astype(object),
                           [None if c.type != "enum-list" else ""])
        index = encoded.indices.fill_null(len(values) - 1).to_numpy(zero_copy_only=False)
        return pd.Series(values[index], dtype="object")
    if c.type == "date":
        stamps = col.to_numpy(zero_copy_only=False).astype("datetime64[ns]")
        return pd.Series(stamps.astype("datetime64[D]").astype("datetime64[ns]"))  # normalised; NaT stays NaT
    if c.type == "bool":
        return pd.arrays.BooleanArray(col.fill_null(False).to_numpy(zero_copy_only=False).astype(bool), missing)
    if c.type == "int":
        return pd.arrays.IntegerArray(col.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64), missing)
    return col.to_numpy(zero_copy_only=False).astype("float64")
