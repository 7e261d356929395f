"""Assemble the indicator table: cut the point-in-time slice, align it, run every catalogue feature.

The only place that decides what is known at an as-of date:
- records with ``survey_date <= as_of`` (the latest is the household's current record, the others its history);
- members of the latest record's round only (``household_id`` and ``round_id`` both match);
- events with ``event_date <= as_of``.
Anything dated later is dropped here, before any feature sees it. Rows come out sorted by household_id, and
every input is put in a canonical order first, so the output does not depend on the order of the input rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.data.derived import monitoring_line
from features.indicators.catalogue import FUNCTIONS, feature_names
from features.indicators.context import Context

KEY_COLUMNS = ["household_id", "round_id", "survey_date", "as_of"]
AsOf = pd.Timestamp | pd.Series


def _record_as_of(households: pd.DataFrame, as_of: AsOf) -> np.ndarray:
    """The as-of date of every record: one date, or the date of its household in a Series (NaT when the
    household is not in it)."""
    if not isinstance(as_of, pd.Series):
        return np.full(len(households), np.datetime64(pd.Timestamp(as_of).as_unit("ns")), dtype="datetime64[ns]")
    if as_of.index.has_duplicates:
        dup = as_of.index[as_of.index.duplicated()][0]
        raise ValueError(f"as_of has several dates for household {dup!r}; pass one as-of date per household")
    dates = pd.to_datetime(as_of).astype("datetime64[ns]").to_numpy()
    idx = pd.Index(as_of.index.astype("object")).get_indexer(households["household_id"].astype("object"))
    out = np.full(len(households), np.datetime64("NaT"), dtype="datetime64[ns]")
    out[idx >= 0] = dates[idx[idx >= 0]]
    return out


def _stable_order(*keys: np.ndarray) -> np.ndarray:
    """Positions that sort rows by ``keys`` (the first decides first), stably and with missing values last:
    the order ``DataFrame.sort_values(keys, kind="stable")`` gives, without building a frame to sort."""
    codes = []
    for key in keys:
        code, distinct = pd.factorize(key, sort=True)
        codes.append(np.where(code < 0, len(distinct), code))
    return np.lexsort(codes[::-1])


def _take(frame: pd.DataFrame, rows: np.ndarray, **columns: np.ndarray) -> pd.DataFrame:
    """``frame``'s ``rows`` in that order, renumbered from 0, with ``columns`` (one value per taken row) added."""
    out = frame.take(rows).reset_index(drop=True)
    for name, values in columns.items():
        out[name] = values
    return out


def known_records(households: pd.DataFrame, as_of: AsOf) -> pd.DataFrame:
    """Records surveyed on or before their household's as-of date, with ``as_of`` and ``row`` (household
    position), sorted by household_id, survey_date, round_id."""
    rec_as_of = _record_as_of(households, as_of)
    survey = households["survey_date"].to_numpy(dtype="datetime64[ns]")
    keep = np.flatnonzero(survey <= rec_as_of)  # NaT compares False
    order = keep[_stable_order(households["household_id"].to_numpy()[keep], survey[keep],
                               households["round_id"].to_numpy()[keep])]
    known = _take(households, order, as_of=rec_as_of[order])
    ids = known["household_id"].to_numpy()
    first = np.r_[True, ids[1:] != ids[:-1]] if len(ids) else np.array([], dtype=bool)
    known["row"] = np.cumsum(first) - 1
    return known


def _latest(known: pd.DataFrame) -> pd.DataFrame:
    row = known["row"].to_numpy()
    last = np.r_[row[1:] != row[:-1], True] if len(row) else np.array([], dtype=bool)
    return known.loc[last].reset_index(drop=True)


def _align(frame: pd.DataFrame, latest: pd.DataFrame) -> np.ndarray:
    """Row of ``latest`` each line of ``frame`` belongs to (by household_id), -1 when none."""
    return pd.Index(latest["household_id"].astype("object")).get_indexer(frame["household_id"].astype("object"))


def _members_of_latest(members: pd.DataFrame, latest: pd.DataFrame) -> pd.DataFrame:
    row = _align(members, latest)
    ok = row >= 0
    ok[ok] = members["round_id"].to_numpy(dtype="object")[ok] == latest["round_id"].to_numpy(dtype="object")[row[ok]]
    sel = np.flatnonzero(ok)
    order = sel[_stable_order(row[sel], members["member_id"].to_numpy()[sel])]
    return _take(members, order, row=row[order])


def _known_events(events: pd.DataFrame, latest: pd.DataFrame) -> pd.DataFrame:
    row = _align(events, latest)
    ok = row >= 0
    date = events["event_date"].to_numpy(dtype="datetime64[ns]")
    as_of = latest["as_of"].to_numpy(dtype="datetime64[ns]")
    survey = latest["survey_date"].to_numpy(dtype="datetime64[ns]")
    ok[ok] = date[ok] <= as_of[row[ok]]
    sel = np.flatnonzero(ok)
    order = sel[_stable_order(row[sel], date[sel], events["event_type"].to_numpy()[sel],
                              events["amount"].to_numpy(dtype="float64", na_value=np.nan)[sel])]
    r, d = row[order], date[order]
    return _take(events, order, row=r, days_before=(as_of[r] - d) / np.timedelta64(1, "D"),
                 after_survey=d > survey[r])


def build_context(households: pd.DataFrame, members: pd.DataFrame, events: pd.DataFrame,
                  lines: pd.DataFrame | None, as_of: AsOf) -> Context:
    """The aligned point-in-time slice every indicator function reads."""
    known = known_records(households, as_of)
    years = known["survey_date"].dt.year
    known["line"] = monitoring_line(known["province"], years, lines).to_numpy() if len(known) else np.array([])
    latest = _latest(known)
    return Context(latest=latest, members=_members_of_latest(members, latest), history=known,
                   events=_known_events(events, latest), functions=FUNCTIONS)


def build_indicators(households: pd.DataFrame, members: pd.DataFrame, events: pd.DataFrame,
                     lines: pd.DataFrame | None, as_of: AsOf) -> pd.DataFrame:
    """One row per household known at its as-of date: keys, then every catalogue feature as float64.

    ``as_of`` is one date for all, or a Series of dates indexed by household_id (households not in it are
    left out). See the module docstring for what counts as known.
    """
    ctx = build_context(households, members, events, lines, as_of)
    latest = ctx.latest
    names = feature_names()
    values = np.empty((ctx.n, len(names)))
    for j, name in enumerate(names):
        values[:, j] = ctx.get(name)
    # One float block for the features (what the model reads): building 150 columns one by one costs more
    # than computing them for a single household.
    frame = pd.DataFrame(values, columns=names)
    frame.insert(0, "as_of", latest["as_of"].to_numpy(dtype="datetime64[ns]"))
    frame.insert(0, "survey_date", latest["survey_date"].to_numpy(dtype="datetime64[ns]"))
    frame.insert(0, "round_id", pd.Series(latest["round_id"].to_numpy(dtype="object"), dtype="object"))
    frame.insert(0, "household_id", pd.Series(latest["household_id"].to_numpy(dtype="object"), dtype="object"))
    return frame
