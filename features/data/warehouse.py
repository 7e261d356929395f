"""The warehouse: canonical contract tables as Parquet, one partition per round (events: per year).

Layout under the root::

    households/round_id=<R>/data.parquet
    members/round_id=<R>/data.parquet
    events/year=<YYYY>/data.parquet      the contract's columns plus ``ingested_on``: the date the event first
                                         entered the warehouse (missing in warehouses written before it was
                                         recorded: read as unknown)
    monitoring_lines/data.parquet
    quarantine/<table>/<source>-<digest>.parquet rejected rows as read, with ``reason`` (digest: of the
                                                 source file, so re-ingesting a file rewrites, never adds)

Partition names are URL-quoted round ids. Every write goes to a temporary file and is renamed into
place, so a crash leaves the previous state readable.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from features.data.canonical import cast, empty_frame, from_arrow
from features.data.derived import default_lines

if TYPE_CHECKING:
    import pyarrow as pa

DATA_FILE = "data.parquet"
# Rows are sorted by key (household_id first), so row-group statistics let a reader of a household-id range
# skip the rest of a partition (batch scoring reads the warehouse chunk by chunk).
ROW_GROUP_ROWS = 65_536
INGESTED_ON = "ingested_on"  # stored with each event, not a contract column: when it reached the warehouse
IdRange = tuple[str, str]


def default_root() -> Path:
    """``$POVWATCH_WAREHOUSE`` or ``./povwatch-data`` (``features.settings``)."""
    from features.settings import warehouse

    return warehouse()


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


class ParquetContent(Protocol):
    """Rows that write themselves as one Parquet file with row groups of ``row_group_size`` rows."""

    def write_parquet(self, path: Path, row_group_size: int) -> None: ...


JOURNAL = ".commit-journal.json"  # the renames of a commit in progress (see ``StagedFiles``)


class StagedFiles:
    """Parquet files under a warehouse root staged one at a time as hidden temporaries, then made visible
    together (``commit``).

    Staging a file as soon as its content is built lets the caller drop that content before building the
    next: a writer's memory holds one file's frame, not all of them. A failure or a kill while staging leaves
    every target as it was (``discard`` removes the temporaries). ``commit`` writes a journal listing the
    renames atomically, does the renames and removes the journal: a kill during the renames leaves the
    journal, and ``recover`` — run by the next reader or writer of the warehouse — completes them.
    """

    def __init__(self, root: Path) -> None:
        self.root, self.journal = root, root / JOURNAL
        self.staged: list[tuple[Path, Path]] = []
        self.committing = False

    def add(self, path: Path, content: pd.DataFrame | ParquetContent) -> None:
        """Stage ``content``: a frame, or rows that write themselves (``ParquetContent``: ingest's Arrow rows)."""
        if self.root.resolve() not in path.resolve().parents:
            raise ValueError(f"refusing to write {path} outside the warehouse {self.root}")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temp_path(path)
        self.staged.append((tmp, path))
        if isinstance(content, pd.DataFrame):
            content.to_parquet(tmp, index=False, row_group_size=ROW_GROUP_ROWS)
        else:
            content.write_parquet(tmp, ROW_GROUP_ROWS)

    def commit(self) -> None:
        _write_journal(self.journal, self.staged)
        self.committing = True
        for tmp, path in self.staged:
            os.replace(tmp, path)
        self.journal.unlink()

    def discard(self) -> None:
        """Remove what was staged, unless the commit began (its temporaries then belong to ``recover``)."""
        if self.committing:
            return
        for tmp, _ in self.staged:
            tmp.unlink(missing_ok=True)
        self.journal.with_name(self.journal.name + ".tmp").unlink(missing_ok=True)


def _write_journal(journal: Path, staged: list[tuple[Path, Path]]) -> None:
    tmp = journal.with_name(journal.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump([[str(a), str(b)] for a, b in staged], f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, journal)


def recover(root: Path) -> bool:
    """Finish a commit a killed writer left half done (its journal is there); True when one was finished.
    Call with the warehouse lock held."""
    journal = root / JOURNAL
    (root / (JOURNAL + ".tmp")).unlink(missing_ok=True)  # a journal never completed: its commit never began
    if not journal.is_file():
        return False
    for tmp, path in json.loads(journal.read_text(encoding="utf-8")):
        if Path(tmp).exists():
            os.replace(tmp, path)
    journal.unlink()
    return True


class Warehouse:
    """Read (and low-level write) access to one warehouse folder."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        if (self.root / JOURNAL).is_file():  # a writer was killed mid-commit: finish its commit before reading
            with self.lock(wait_message=None):
                recover(self.root)

    @contextlib.contextmanager
    def lock(self, wait_message: str | None = "waiting for another ingest into {root} to finish") -> Iterator[None]:
        """The warehouse's writer lock: an OS lock on the warehouse folder itself (no lock file; released when
        the holder exits or is killed). A second writer waits for the first, saying so on stderr, and never
        interleaves with it."""
        import fcntl

        created = not self.root.exists()
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if wait_message:
                    print(wait_message.format(root=self.root), file=sys.stderr, flush=True)
                fcntl.flock(fd, fcntl.LOCK_EX)
            recover(self.root)
            yield
        except BaseException:
            if created and not any(self.root.iterdir()):  # a failed first ingest leaves no warehouse behind
                self.root.rmdir()
            raise
        finally:
            os.close(fd)  # releases the lock

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
        """Write files under this root atomically (see ``StagedFiles``)."""
        with self.staged() as staged:
            for path, df in files.items():
                staged.add(path, df)

    @contextlib.contextmanager
    def staged(self) -> Iterator[StagedFiles]:
        """Stage files under this root one at a time; all become visible together when the block ends without
        an error, none otherwise (see ``StagedFiles``)."""
        staged = StagedFiles(self.root)
        try:
            yield staged
            staged.commit()
        finally:
            staged.discard()

    def _partitions(self, table: str) -> dict[str, Path]:
        d = self.table_dir(table)
        if not d.is_dir():
            return {}
        return {partition_value(p.name): p / DATA_FILE for p in sorted(d.iterdir())
                if "=" in p.name and (p / DATA_FILE).is_file()}

    def _read(self, table: str, paths: Iterable[Path], columns: list[str] | None = None,
              id_range: IdRange | None = None, keep: dict[Path, Any] | None = None) -> pd.DataFrame:
        """Rows of ``paths`` (optionally only ``columns``; ids in ``id_range``; of a path in ``keep``, only the
        rows where its pyarrow expression holds), in canonical form when all columns are read. Read with
        pyarrow and converted by ``features.canonical.from_arrow``: no pandas string column is built and cast
        back."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        paths = list(paths)
        filters = None if id_range is None else [("household_id", ">=", id_range[0]),
                                                 ("household_id", "<=", id_range[1])]
        if columns:  # a few columns (ids, dates): pandas' own types, as callers expect
            frames = [f for f in (pd.read_parquet(p, columns=columns, filters=filters) for p in paths) if len(f)]
            return pd.concat(frames, ignore_index=True) if frames else empty_frame(table)[columns]
        tables = [pq.read_table(p, filters=filters) for p in paths]
        if keep:
            tables = [t.filter(keep[p]) if p in keep else t for p, t in zip(paths, tables)]
        tables = [t for t in tables if t.num_rows]
        if not tables:
            return empty_frame(table)
        data = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
        return from_arrow(table, data.replace_schema_metadata(None))

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

    def stored_rounds(self, table: str, columns: list[str]) -> Iterator[tuple[str, pa.Table]]:
        """``(round_id, columns)`` of each stored round of ``table`` in Arrow, one round at a time: for rules
        that need a few columns of every round without holding them all as pandas objects."""
        import pyarrow.parquet as pq

        for rid, path in self._partitions(table).items():
            yield rid, pq.read_table(path, columns=columns)

    def households(self, rounds: Iterable[str] | None = None, columns: list[str] | None = None,
                   id_range: IdRange | None = None) -> pd.DataFrame:
        """Household records of the given rounds (all by default); ``id_range`` keeps ids in [lo, hi]."""
        parts = self._partitions("households")
        keep = parts if rounds is None else {r: parts[r] for r in rounds if r in parts}
        return self._read("households", keep.values(), columns, id_range)

    def members(self, rounds: Iterable[str] | None = None, columns: list[str] | None = None,
                id_range: IdRange | None = None, households: dict[str, Iterable[str]] | None = None) -> pd.DataFrame:
        """Member rows of the given rounds; with ``households`` (round -> household ids), only the members of
        those households in each round (a round not in it is not read): what the indicators of an as-of date
        need is the members of each household's latest record, not of its whole history."""
        parts = self._partitions("members")
        keep = parts if rounds is None else {r: parts[r] for r in rounds if r in parts}
        if households is None:
            return self._read("members", keep.values(), columns, id_range)
        import pyarrow as pa
        import pyarrow.compute as pc

        wanted = {parts[r]: pc.field("household_id").isin(pa.array(list(ids), type=pa.string()))
                  for r, ids in households.items() if r in keep}
        return self._read("members", list(wanted), columns, id_range, keep=wanted)

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

    def event_arrivals(self) -> pd.DataFrame:
        """``household_id, event_date, source, ingested_on`` of every event; ``ingested_on`` is NaT for events
        stored before the warehouse recorded it (read, never guessed)."""
        frames = []
        for path in self._partitions("events").values():
            df = pd.read_parquet(path)
            if len(df):
                on = pd.to_datetime(df[INGESTED_ON]) if INGESTED_ON in df else pd.Series(pd.NaT, index=df.index)
                frames.append(cast("events", df)[["household_id", "event_date", "source"]].assign(
                    **{INGESTED_ON: on.astype("datetime64[ns]")}))
        if not frames:
            empty = empty_frame("events")[["household_id", "event_date", "source"]]
            return empty.assign(**{INGESTED_ON: pd.Series(dtype="datetime64[ns]")})
        return pd.concat(frames, ignore_index=True)

    def lines(self) -> pd.DataFrame:
        """Ingested monitoring lines, else the contract's defaults."""
        path = self.table_dir("monitoring_lines") / DATA_FILE
        if path.is_file():
            df = pd.read_parquet(path)
            if len(df):
                return cast("monitoring_lines", df)
        return default_lines()
