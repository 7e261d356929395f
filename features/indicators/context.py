"""What every indicator function reads: the point-in-time slice of the tables for a set of households.

``build.py`` cuts the slice (only facts known at each household's as-of date) and aligns it: household ``i``
is row ``i`` of ``latest``; members, earlier records and events carry a ``row`` column pointing at it, so a
per-household aggregate is one ``np.bincount`` and no Python loop touches a household.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.indicators.spec import FeatureFn


def as_float(s: pd.Series) -> np.ndarray:
    """Numbers, ``Int64`` and ``boolean`` as float64 with NaN for missing."""
    return s.to_numpy(dtype="float64", na_value=np.nan)


def safe_ratio(num: np.ndarray, den: np.ndarray, *, floor: float = 1.0, cap: float = 10.0) -> np.ndarray:
    """``num / max(den, floor)`` capped at ``cap``: a share of an income that may be zero or negative.

    A household with no (or negative) income and any spending gets the cap, one with no spending gets 0 —
    both read correctly ("spending is at least ten times income") and no infinity reaches the model.
    """
    return np.minimum(num / np.maximum(den, floor), cap)


def share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole`` for non-negative amounts; NaN where the whole is 0 (a share of nothing is undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, part / np.where(whole > 0, whole, 1.0), np.nan)


def map_values(values: pd.Series, mapping: dict[Any, float], default: float) -> np.ndarray:
    """``mapping[value]`` per value as float64 (``default`` for missing or unmapped values), looked up once
    per distinct value: enum columns hold few distinct codes, and ``Series.map`` costs far more on small frames."""
    position, distinct = pd.factorize(values, use_na_sentinel=False)
    return np.array([mapping.get(v, default) for v in distinct], dtype="float64")[position]


def group_max(values: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Maximum of ``values`` per group ``0..n-1`` skipping NaN; NaN for a group with no (or only NaN) values."""
    out = np.full(n, np.nan)
    np.fmax.at(out, group, values)
    return out


def group_min(values: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """Minimum of ``values`` per group ``0..n-1`` skipping NaN; NaN for a group with no (or only NaN) values."""
    out = np.full(n, np.nan)
    np.fmin.at(out, group, values)
    return out


class FloatColumns:
    """A frame's columns as float64 arrays (NaN for missing), each converted once: what the formulas of
    ``features.data.derived`` read here. Indexing it like the frame gives the same numbers without building a
    pandas Series per operation, which on a one-household request costs more than the arithmetic."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame, self.cache = frame, {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.cache:
            self.cache[name] = as_float(self.frame[name])
        return self.cache[name]


@dataclass
class Context:
    """The aligned point-in-time slice; indicator functions take it and return one float64 array of ``n``."""

    latest: pd.DataFrame      # latest known record per household (row i), with "line" and "as_of"
    members: pd.DataFrame     # members of those records, with "row"
    history: pd.DataFrame     # every known record (latest included), with "row" and "line", by row then date
    events: pd.DataFrame      # events known at as-of, with "row" and "days_before"
    functions: Mapping[str, FeatureFn]  # indicator name -> function (``catalogue.FUNCTIONS``)
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.latest)

    def get(self, name: str) -> np.ndarray:
        """Indicator ``name`` computed once per build (indicators may build on each other)."""
        if name not in self.memo:
            self.memo[name] = np.asarray(self.functions[name](self), dtype="float64")
        return self.memo[name]

    def _once(self, key: tuple[str, str], compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked for in this build. A pandas column read costs far
        more than the arithmetic of most indicators, so each column is read and converted once; arrays come
        back read-only because several indicators share them."""
        if key not in self.memo:
            value = compute()
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            self.memo[key] = value
        return self.memo[key]

    @property
    def latest_floats(self) -> FloatColumns:
        return self._once(("floats", "latest"), lambda: FloatColumns(self.latest))

    @property
    def history_floats(self) -> FloatColumns:
        return self._once(("floats", "history"), lambda: FloatColumns(self.history))

    # ---- the latest record
    def num(self, column: str) -> np.ndarray:
        """A numeric or boolean column of the latest record, NaN where missing."""
        return self._once(("num", column), lambda: self.latest_floats[column])

    def amount(self, column: str) -> np.ndarray:
        """An optional money part (低保, 公益岗位, ...): missing means none received, i.e. 0 yuan."""
        return np.nan_to_num(self.num(column), nan=0.0)

    def has_code(self, column: str, code: str) -> np.ndarray:
        """1.0 where the enum-list ``column`` (codes joined by ';') of the latest record contains ``code``."""
        row_value, code_sets = self._code_sets(column)
        return np.array([code in codes for codes in code_sets], dtype="float64")[row_value]

    def _code_sets(self, column: str) -> tuple[np.ndarray, list[frozenset[str]]]:
        """The distinct values of an enum-list column, each split into its set of codes once, and the
        position of each household's value among them (households share few distinct lists)."""
        def split() -> tuple[np.ndarray, list[frozenset[str]]]:
            values = self.latest[column].astype("object").fillna("")
            row_value, distinct = pd.factorize(values, use_na_sentinel=False)
            return row_value, [frozenset(v.split(";")) for v in distinct]

        return self._once(("code_sets", column), split)

    # ---- members of the latest record
    @property
    def member_row(self) -> np.ndarray:
        return self._once(("m_row", "row"), lambda: self.members["row"].to_numpy())

    def m_is(self, column: str, *codes: str) -> np.ndarray:
        """Boolean mask of members whose enum ``column`` is one of ``codes``."""
        member_value, distinct = self._once(("m_values", column), lambda: pd.factorize(self.members[column]))
        wanted = [i for i, value in enumerate(distinct) if value in codes]
        return np.isin(member_value, wanted)

    def m_num(self, column: str) -> np.ndarray:
        return self._once(("m_num", column), lambda: as_float(self.members[column]))

    def m_count(self, mask: np.ndarray) -> np.ndarray:
        """Members per household where ``mask`` holds."""
        return np.bincount(self.member_row[mask], minlength=self.n).astype("float64")

    def m_sum(self, values: np.ndarray) -> np.ndarray:
        """Per-household sum of a member value (NaN counts as 0)."""
        return np.bincount(self.member_row, weights=np.nan_to_num(values, nan=0.0), minlength=self.n)

    def m_max(self, values: np.ndarray) -> np.ndarray:
        """Per-household maximum of a member value (NaN skipped); NaN for households without members."""
        return group_max(values, self.member_row, self.n)

    # ---- earlier records
    @property
    def history_row(self) -> np.ndarray:
        return self._once(("h_row", "row"), lambda: self.history["row"].to_numpy())

    def h_sum(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.history_row, weights=values, minlength=self.n)

    def previous_index(self) -> np.ndarray:
        """Position in ``history`` of each household's previous known record, -1 when there is none."""
        if "previous" not in self.memo:
            row = self.history_row
            last = np.flatnonzero(np.r_[row[1:] != row[:-1], True]) if len(row) else np.array([], dtype=int)
            prev = last - 1
            has_prev = (prev >= 0) & (row[np.maximum(prev, 0)] == row[last]) if len(row) else prev >= 0
            out = np.full(self.n, -1)
            out[row[last]] = np.where(has_prev, prev, -1)
            self.memo["previous"] = out
        return self.memo["previous"]

    def previous(self, values: np.ndarray) -> np.ndarray:
        """``values`` (one per history row) at each household's previous record; NaN when none."""
        idx = self.previous_index()
        out = np.full(self.n, np.nan)
        ok = idx >= 0
        out[ok] = values[idx[ok]]
        return out

    def code(self, column: str, vocabulary: tuple[str, ...]) -> np.ndarray:
        """Integer code of an enum column per ``vocabulary`` (-1 for missing or unknown), as float64."""
        return map_values(self.latest[column], {code: i for i, code in enumerate(vocabulary)}, -1.0)
