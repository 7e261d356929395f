"""Canonical rows kept in Arrow and written to Parquet exactly as ``DataFrame.to_parquet`` writes their canonical
pandas frame (``features.data.canonical``): the same schema, pandas metadata and bytes, without building the
frame.

Why: a survey round's member rows are the largest thing ingest writes; as a pandas frame (plus its sorted copy
and pyarrow's conversion of it) they set ingest's peak memory. In Arrow, text stays dictionary-encoded (an id
or a code is a 4-byte index) until it is written, one row group at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features.data.canonical import from_arrow
from features.data.contract import TABLES, Column, Table

TEXT = ("string", "enum", "enum-list")
_TYPE = {"string": pa.string(), "enum": pa.string(), "enum-list": pa.string(), "date": pa.timestamp("ns"),
         "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(), "money": pa.float64()}


def canonical_column(c: Column, col: pa.ChunkedArray | pa.Array | None, n: int) -> pa.ChunkedArray:
    """One column's canonical values in plain Arrow (text decoded), as a canonical pandas column holds them:
    enum-lists have '' for missing, dates are whole days, float NaN is missing (pandas writes NaN as null)."""
    want = _TYPE[c.type]
    if col is None:
        col = pa.chunked_array([pa.nulls(n, want)])
    elif isinstance(col, pa.Array):
        col = pa.chunked_array([col])
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if col.type != want and not (c.type == "date" and pa.types.is_timestamp(col.type) and col.type.tz is None):
        col = col.cast(want)
    if c.type == "enum-list":
        col = col.fill_null("")
    elif c.type == "date":
        col = pc.floor_temporal(col, unit="day").cast(want)
    elif want == pa.float64() and len(col):
        col = pc.if_else(pc.is_nan(col), pa.scalar(None, pa.float64()), col)
    return col


def canonical_table(t: Table, data: pa.Table) -> pa.Table:
    """``data`` (canonical values; text plain or dictionary-encoded; extra columns ignored) with exactly the
    table's columns in canonical plain Arrow."""
    names = set(data.column_names)
    return pa.table({c.name: canonical_column(c, data.column(c.name) if c.name in names else None, data.num_rows)
                     for c in t.columns})


@dataclass
class CanonicalRows:
    """Rows of one contract table to be written as one Parquet file: Arrow with the canonical values (text may
    stay dictionary-encoded), in the order they are written."""

    table: Table
    data: pa.Table

    def _schema(self) -> pa.Schema:
        """What ``pa.Table.from_pandas`` gives the canonical frame: a text column missing in every row is of
        Arrow's null type (pandas cannot tell an empty object column's type), and the pandas metadata."""
        fields = []
        for c in self.table.columns:
            typ = _TYPE[c.type]
            if c.type in ("string", "enum") and (c.name not in self.data.column_names
                                                 or self.data.column(c.name).null_count == self.data.num_rows):
                typ = pa.null()
            fields.append(pa.field(c.name, typ))
        schema = pa.schema(fields)
        empty = from_arrow(self.table, canonical_table(self.table, self.data.slice(0, 0)))
        return pa.Table.from_pandas(empty, schema=schema, preserve_index=False).schema

    def write_parquet(self, path: Path, row_group_size: int) -> None:
        """Write the rows to ``path`` a row group at a time (each decoded only while it is written); the bytes
        equal ``DataFrame.to_parquet(path, index=False, row_group_size=...)`` of their canonical frame."""
        schema = self._schema()
        n = self.data.num_rows
        with pq.ParquetWriter(path, schema, compression="snappy") as writer:
            for start in range(0, n, row_group_size) if n else ():
                part = canonical_table(self.table, self.data.slice(start, row_group_size))
                columns = [pa.nulls(part.num_rows) if f.type == pa.null() else part.column(f.name).combine_chunks()
                           for f in schema]
                writer.write_table(pa.Table.from_arrays(columns, schema=schema), row_group_size=row_group_size)
            if not n:
                writer.write_table(schema.empty_table())

    def __len__(self) -> int:
        return self.data.num_rows


def read_canonical(t: Table | str, path: Path) -> pa.Table | None:
    """A stored file's rows in canonical plain Arrow, or None when there is no file."""
    t = TABLES[t] if isinstance(t, str) else t
    return canonical_table(t, pq.read_table(path).replace_schema_metadata(None)) if path.is_file() else None


def key_strings(table: pa.Table, columns: list[str]) -> pa.Table:
    """Only ``columns``, as plain text (what joins and sorts on keys read)."""
    return pa.table({k: _plain_text(table.column(k)) for k in columns})


def _plain_text(col: Any) -> pa.ChunkedArray:
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    return col.cast(pa.string())
