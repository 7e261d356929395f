"""Ingest writes the round partitions from Arrow (``features.data.arrow_parquet``); the files must be the ones
``DataFrame.to_parquet`` writes from the canonical frame, byte for byte."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from features.data.arrow_parquet import CanonicalRows, read_canonical
from features.data.canonical import from_arrow
from features.data.contract import TABLES


def _dictionary_chunks(table: pa.Table, cut: int) -> pa.Table:
    """``table`` as ingest holds it: text dictionary-encoded, in chunks with their own dictionaries."""
    encoded = pa.table({n: pc.dictionary_encode(c) if pa.types.is_string(c.type) else c
                        for n, c in zip(table.column_names, table.columns)})
    return pa.concat_tables([encoded.slice(0, cut), encoded.slice(cut)])


@pytest.mark.parametrize("table", ["households", "members"])
@pytest.mark.parametrize("row_group", [1_000, 65_536])
def test_arrow_rows_write_the_bytes_pandas_writes(ingested_warehouse: Path, tmp_path: Path, table: str,
                                                  row_group: int) -> None:
    """Every stored partition of the session's county, with missing values of every kind (a text column
    missing in every row: Arrow's null type; NaN, NA, '' in enum lists), several row groups or one."""
    from features.data.warehouse import Warehouse

    wh = Warehouse(ingested_warehouse)
    for path in wh._partitions(table).values():
        stored = read_canonical(table, path)
        t = TABLES[table]
        optional_text = [c.name for c in t.columns if c.type == "enum"][-1]  # written missing in every row
        for data in (stored, stored.set_column(stored.schema.get_field_index(optional_text), optional_text,
                                                pa.nulls(stored.num_rows, pa.string()))):
            if any(c.type == "float" for c in t.columns):
                name = next(c.name for c in t.columns if c.type == "float")
                values = data.column(name).to_numpy(zero_copy_only=False).copy()
                values[::7] = np.nan
                data = data.set_column(data.schema.get_field_index(name), name, pa.array(values, from_pandas=False))
            expected, got = tmp_path / "pandas.parquet", tmp_path / "arrow.parquet"
            from_arrow(table, data).to_parquet(expected, index=False, row_group_size=row_group)
            CanonicalRows(t, _dictionary_chunks(data, data.num_rows // 3)).write_parquet(got, row_group)
            assert got.read_bytes() == expected.read_bytes()
            assert pq.ParquetFile(got).metadata.num_row_groups == -(-data.num_rows // row_group)
