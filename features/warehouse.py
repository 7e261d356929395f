"""The warehouse: canonical contract tables as Parquet, one partition per round (events: per year).

Layout under the root::

    households/round_id=<R>/data.parquet
    members/round_id=<R>/data.parquet
    events/year=<YYYY>/data.parquet
    monitoring_lines/data.parquet
    quarantine/<table>/<source>-<digest>.parquet rejected rows as read, with ``reason`` (digest: of the
                                                 source file, so re-ingesting a file rewrites, never adds)

Partition names are URL-quoted round ids. Every write goes to a temporary file and is renamed into
place, so a crash leaves the previous state readable.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from features.canonical import cast, empty_frame
from features.defaults import DEFAULT_WAREHOUSE  # re-exported
from features.derived import default_lines

DATA_FILE = "data.parquet"
# Rows are sorted by key (household_id first), so row-group statistics let a reader of a household-id range
# skip the rest of a partition (batch scoring reads the warehouse chunk by chunk).
ROW_GROUP_ROWS = 65_536
IdRange = tuple[str, str]


def default_root() -> Path:
    """``$POVWATCH_WAREHOUSE`` or ``./povwatch-data``."""
    return Path(os.environ.get("POVWATCH_WAREHOUSE", DEFAULT_WAREHOUSE))


def partition_name(key: str, value: object) -> str:
    return f"{key}={urllib.parse.quote(str(value), safe='')}"


def partition_value(dirname: str) -> str:
    return urllib.parse.unquote(dirname.split("=", 1)[1])


def _temp_path(path: Path) -> Path:
    """Hidden, outside any ``key=value`` pattern readers match, so a left-over is never taken for data."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` via a temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(path)
    df.to_parquet(tmp, index=False, row_group_size=ROW_GROUP_ROWS)
    os.replace(tmp, path)


def atomic_write_many(files: dict[Path, pd.DataFrame]) -> None:
    """Write several Parquet files: stage every one as a temporary file, then rename them all.

    A failure while staging leaves every target as it was (and removes the temporaries); renames are
    atomic one by one, so each file is always either its old or its new version, never half written.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for path, df in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = _temp_path(path)
            staged.append((tmp, path))
            df.to_parquet(tmp, index=False, row_group_size=ROW_GROUP_ROWS)
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


class Warehouse:
    """Read (and low-level write) access to one warehouse folder."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    # ---- paths
    def table_dir(self, table: str) -> Path:
        return self.root / table

    def partition_path(self, table: str, key: str, value: object) -> Path:
        return self.table_dir(table) / partition_name(key, value) / DATA_FILE

    def lines_path(self) -> Path:
        return self.table_dir("monitoring_lines") / DATA_FILE

    def quarantine_dir(self, table: str) -> Path:
        return self.root / "quarantine" / table

    # ---- writes (ingest only; atomic per file)
    def read_file(self, table: str, path: Path) -> pd.DataFrame:
        """One stored file in canonical form, or an empty canonical frame when it does not exist."""
        return cast(table, pd.read_parquet(path)) if path.is_file() else empty_frame(table)

    def write(self, files: dict[Path, pd.DataFrame]) -> None:
        """Write files under this root atomically (see ``atomic_write_many``)."""
        for path in files:
            if self.root.resolve() not in path.resolve().parents:
                raise ValueError(f"refusing to write {path} outside the warehouse {self.root}")
        atomic_write_many(files)

    def _partitions(self, table: str) -> dict[str, Path]:
        d = self.table_dir(table)
        if not d.is_dir():
            return {}
        return {partition_value(p.name): p / DATA_FILE for p in sorted(d.iterdir())
                if "=" in p.name and (p / DATA_FILE).is_file()}

    def _read(self, table: str, paths: Iterable[Path], columns: list[str] | None = None,
              id_range: IdRange | None = None) -> pd.DataFrame:
        filters = None if id_range is None else [("household_id", ">=", id_range[0]),
                                                 ("household_id", "<=", id_range[1])]
        frames = [pd.read_parquet(p, columns=columns, filters=filters) for p in paths]
        frames = [f for f in frames if len(f)]
        if not frames:
            empty = empty_frame(table)
            return empty[columns] if columns else empty
        df = pd.concat(frames, ignore_index=True)
        return df if columns else cast(table, df)

    # ---- reads
    def round_ids(self) -> list[str]:
        """Rounds present, ordered by their median survey date."""
        r = self.rounds()
        return list(r["round_id"])

    def rounds(self) -> pd.DataFrame:
        """One row per round: ``round_id, survey_date`` (median), ``first_date, last_date, households``."""
        rows = []
        for rid, path in self._partitions("households").items():
            d = pd.read_parquet(path, columns=["survey_date"])["survey_date"]
            if len(d):
                rows.append({"round_id": rid, "survey_date": d.median().normalize(),
                             "first_date": d.min(), "last_date": d.max(), "households": len(d)})
        out = pd.DataFrame(rows, columns=["round_id", "survey_date", "first_date", "last_date", "households"])
        return out.sort_values(["survey_date", "round_id"], ignore_index=True)

    def households(self, rounds: Iterable[str] | None = None, columns: list[str] | None = None,
                   id_range: IdRange | None = None) -> pd.DataFrame:
        """Household records of the given rounds (all by default); ``id_range`` keeps ids in [lo, hi]."""
        parts = self._partitions("households")
        keep = parts if rounds is None else {r: parts[r] for r in rounds if r in parts}
        return self._read("households", keep.values(), columns, id_range)

    def members(self, rounds: Iterable[str] | None = None, columns: list[str] | None = None,
                id_range: IdRange | None = None) -> pd.DataFrame:
        parts = self._partitions("members")
        keep = parts if rounds is None else {r: parts[r] for r in rounds if r in parts}
        return self._read("members", keep.values(), columns, id_range)

    def events(self, start: pd.Timestamp | str | None = None, end: pd.Timestamp | str | None = None,
               id_range: IdRange | None = None) -> pd.DataFrame:
        """Events with ``start <= event_date <= end`` (either bound optional)."""
        parts = self._partitions("events")
        lo = pd.Timestamp(start) if start is not None else None
        hi = pd.Timestamp(end) if end is not None else None
        keep = [p for y, p in parts.items()
                if (lo is None or int(y) >= lo.year) and (hi is None or int(y) <= hi.year)]
        df = self._read("events", keep, id_range=id_range)
        if lo is not None:
            df = df[df["event_date"] >= lo]
        if hi is not None:
            df = df[df["event_date"] <= hi]
        return df.reset_index(drop=True)

    def lines(self) -> pd.DataFrame:
        """Ingested monitoring lines, else the contract's defaults."""
        path = self.table_dir("monitoring_lines") / DATA_FILE
        if path.is_file():
            df = pd.read_parquet(path)
            if len(df):
                return cast("monitoring_lines", df)
        return default_lines()
