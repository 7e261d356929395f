"""Write simulated rounds as contract files: one file a table, appended round by round (memory stays one
round), English codes or (``zh``) Chinese headers, labels, '；' lists and 是/否 booleans; truth apart."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.data.contract import TABLES, Table

Format = Literal["parquet", "csv"]
TRUTH_FILE = "truth.parquet"  # not a contract table: ingest's file-name recognition skips it (tested)
ZH_LIST_SEPARATOR = "；"


def to_zh(t: Table, df: pd.DataFrame) -> pd.DataFrame:
    """Chinese headers and labels: enum codes to labels, lists joined by '；', booleans as 是/否."""
    out = {}
    for c in t.columns:
        s = df[c.name]
        if c.type == "enum":
            s = s.map(c.values).astype("object")
        elif c.type == "enum-list":
            uniq = pd.unique(s)
            table = {u: ZH_LIST_SEPARATOR.join(c.values[x] for x in u.split(";") if x) for u in uniq}
            s = s.map(table).astype("object")
        elif c.type == "bool":
            s = s.map({True: "是", False: "否"}).astype("object")
        out[c.zh] = s
    return pd.DataFrame(out, index=df.index)


def _arrow(df: pd.DataFrame, t: Table, zh: bool) -> pa.Table:
    """A fixed schema per table (same every round, whatever is missing in one), from the contract types."""
    arrays, fields = [], []
    for c in t.columns:
        name = c.zh if zh else c.name
        s = df[name]
        if c.type == "date":
            typ, arr = pa.date32(), pa.array(s.to_numpy().astype("datetime64[D]"), type=pa.date32())
        elif c.type == "bool" and not zh:
            typ, arr = pa.bool_(), pa.array(s.astype("boolean"), type=pa.bool_())
        elif c.type == "int":
            typ, arr = pa.int64(), pa.array(s.astype("Int64"), type=pa.int64())
        elif c.type in ("float", "money"):
            typ, arr = pa.float64(), pa.array(s.astype("float64"), type=pa.float64(), from_pandas=True)
        else:
            typ, arr = pa.string(), pa.array(s.astype("object"), type=pa.string(), from_pandas=True)
        arrays.append(arr)
        fields.append(pa.field(name, typ))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _csv_text(df: pd.DataFrame, t: Table, zh: bool) -> pd.DataFrame:
    out = df.copy()
    for c in t.columns:
        name = c.zh if zh else c.name
        if c.type == "bool" and not zh:
            out[name] = df[name].map({True: "true", False: "false"}).astype("object")
        elif c.type == "date":
            out[name] = df[name].dt.strftime("%Y-%m-%d")
        elif c.type == "money":
            out[name] = df[name].round(0).astype("Int64")  # whole yuan, written without ".0"
    return out


class RoundWriter:
    """Appends rounds to ``households``, ``members`` and ``events`` files in ``out`` plus ``truth.parquet``."""

    def __init__(self, out: Path, fmt: Format = "parquet", zh: bool = False,
                 tables: dict[str, Table] | None = None) -> None:
        if fmt not in ("parquet", "csv"):
            raise ValueError(f"format must be 'parquet' or 'csv'; got {fmt!r}")
        self.out, self.fmt, self.zh = Path(out), fmt, zh
        self.tables = tables or {}  # a table with fewer columns than the contract's (simulator profiles)
        self._parquet: dict[str, pq.ParquetWriter] = {}
        self._started: set[str] = set()

    def path(self, table: str) -> Path:
        return self.out / f"{table}.{self.fmt}"

    def write(self, table: str, df: pd.DataFrame, file: str | None = None) -> None:
        """Append ``df`` to the table's file, or to ``file`` (a stem: a delivery apart from the table's)."""
        t = self.tables.get(table, TABLES[table])
        name = file or table
        frame = to_zh(t, df) if self.zh else df[t.names]
        if self.fmt == "parquet":
            data = _arrow(frame, t, self.zh)
            if name not in self._parquet:
                self._parquet[name] = pq.ParquetWriter(self.path(name), data.schema)
            self._parquet[name].write_table(data)
        else:
            first = name not in self._started
            _csv_text(frame, t, self.zh).to_csv(self.path(name), mode="w" if first else "a", header=first,
                                                index=False, encoding="utf-8")
            self._started.add(name)

    def write_truth(self, truth: pd.DataFrame) -> None:
        data = pa.Table.from_pandas(truth[["household_id", "round_id", "true_risk"]], preserve_index=False)
        if TRUTH_FILE not in self._parquet:
            self._parquet[TRUTH_FILE] = pq.ParquetWriter(self.out / TRUTH_FILE, data.schema)
        self._parquet[TRUTH_FILE].write_table(data)

    def close(self) -> None:
        for w in self._parquet.values():
            w.close()
        self._parquet.clear()

    def __enter__(self) -> RoundWriter:
        self.out.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
