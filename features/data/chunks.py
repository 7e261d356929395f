"""The warehouse a household-id range at a time, so a batch command's memory is bounded by the chunk.

Every table is stored sorted by ``household_id`` (``features.data.warehouse.ROW_GROUP_ROWS`` rows per row group), so a
read filtered to an id range touches only the row groups whose statistics overlap it (pyarrow dataset filters).
Indicators and labels are per household, so computing them chunk by chunk gives the rows of the whole table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

from features.data.warehouse import IdRange, Warehouse

DEFAULT_CHUNK = 50_000


def id_ranges(warehouse: Warehouse, chunk: int = DEFAULT_CHUNK, rounds: Iterable[str] | None = None) -> list[IdRange]:
    """Consecutive ``[first, last]`` household-id ranges of at most ``chunk`` households (reads one column)."""
    ids = warehouse.households(rounds, columns=["household_id"])["household_id"].astype(str)
    unique = np.sort(ids.unique())
    return [(str(unique[i]), str(unique[min(i + chunk, len(unique)) - 1])) for i in range(0, len(unique), chunk)]


class IdRangeView:
    """A read-only warehouse restricted to one household-id range, with the reads ``Warehouse`` offers: code
    written for a whole warehouse (``features.indicators.labels.build_examples``) runs on one chunk unchanged."""

    def __init__(self, warehouse: Warehouse, id_range: IdRange) -> None:
        self.warehouse, self.id_range, self.root = warehouse, id_range, warehouse.root

    def rounds(self) -> pd.DataFrame:
        return self.warehouse.rounds()

    def round_ids(self) -> list[str]:
        return self.warehouse.round_ids()

    def lines(self) -> pd.DataFrame:
        return self.warehouse.lines()

    def households(self, rounds: Iterable[str] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
        return self.warehouse.households(rounds, columns, id_range=self.id_range)

    def members(self, rounds: Iterable[str] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
        return self.warehouse.members(rounds, columns, id_range=self.id_range)

    def events(self, start: pd.Timestamp | str | None = None, end: pd.Timestamp | str | None = None) -> pd.DataFrame:
        return self.warehouse.events(start, end, id_range=self.id_range)


def examples_by_chunk(warehouse: Warehouse, as_of: pd.Timestamp, chunk: int = DEFAULT_CHUNK) -> Iterator[pd.DataFrame]:
    """``build_examples(warehouse, [as_of])`` one household-id range at a time, in household-id order."""
    from features.indicators.labels import build_examples

    for rng in id_ranges(warehouse, chunk):
        yield build_examples(IdRangeView(warehouse, rng), [as_of])  # type: ignore[arg-type]


def examples_in_chunks(warehouse: Warehouse, as_of_dates: Iterable[pd.Timestamp],
                       chunk: int = DEFAULT_CHUNK) -> pd.DataFrame:
    """``build_examples(warehouse, as_of_dates)``, the same rows in the same order, built one household-id
    range at a time: one range's raw tables are in memory at once, never the whole warehouse's members and
    events. The result is the whole table (training reads every row)."""
    from features.indicators.labels import examples_per_date, join_dates

    dates = [pd.Timestamp(d) for d in as_of_dates]
    per_date: list[list[pd.DataFrame]] = [[] for _ in dates]
    for rng in id_ranges(warehouse, chunk):
        for i, frame in enumerate(examples_per_date(IdRangeView(warehouse, rng), dates)):  # type: ignore[arg-type]
            per_date[i].append(frame)
    frames = [pd.concat(parts, ignore_index=True) for parts in per_date if parts]
    del per_date
    return join_dates(frames, warehouse)


def compact_examples_in_chunks(warehouse: Warehouse, as_of_dates: Iterable[pd.Timestamp], features: list[str],
                               chunk: int = DEFAULT_CHUNK) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``examples_in_chunks`` for a job that keeps every row (training): the same rows in the same order, as
    (context and labels, indicator matrix ``features``), each range's frame made compact
    (``features.data.compact``) before the next range is read. The indicator values are the float64 ones
    exactly; the ids are categoricals."""
    from features.data.compact import compact_columns, join_columns
    from features.data.heap import release_free_memory
    from features.indicators.labels import examples_per_date

    dates = [pd.Timestamp(d) for d in as_of_dates]
    if not dates:
        raise ValueError(f"no as-of dates: warehouse {warehouse.root} has no rounds; ingest or simulate first")
    per_date: list[list[dict]] = [[] for _ in dates]
    for rng in id_ranges(warehouse, chunk):
        for i, frame in enumerate(examples_per_date(IdRangeView(warehouse, rng), dates)):  # type: ignore[arg-type]
            per_date[i].append(compact_columns(frame, features))
            del frame
        release_free_memory()  # the range's frames are gone: their pages, not only its kept columns, stay
    parts = [part for parts in per_date for part in parts]
    del per_date
    meta_parts = [{k: part.pop(k) for k in list(part) if k not in features} for part in parts]
    X = join_columns([{f: part.pop(f) for f in features} for part in parts])
    return join_columns(meta_parts), X
