"""The one table writer of every command: CSV (UTF-8 with a BOM, so spreadsheet software shows the Chinese,
dates as YYYY-MM-DD) or Parquet, chosen by the file's extension."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

TABLE_SUFFIXES = (".csv", ".parquet")


def check_table_path(out: Path) -> Path:
    """``out`` when it ends in .csv or .parquet; else a ``ValueError`` saying so."""
    if Path(out).suffix.lower() not in TABLE_SUFFIXES:
        raise ValueError(f"--out must end in .csv or .parquet, got {Path(out).name!r}")
    return Path(out)


def write_table(df: pd.DataFrame, out: Path) -> Path:
    """Write ``df`` to ``out`` (folders created); the format follows the extension."""
    out = check_table_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        df.to_parquet(out, index=False)
    else:
        df.to_csv(out, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")
    return out
