"""The as-of rule every command shares: which date a household is assessed at, which rounds are known then,
and which households are stale.

- A round's records are known from their ``survey_date``; a round is *known* at a date once its first
  record has been surveyed (``first_date <= as_of``); records surveyed after the date are cut later, per
  record, by ``features.indicators.build``.
- ``--round R`` means "as of R's last survey date", when every record of R is known.
- With neither ``--round`` nor ``--as-of`` the as-of date is the latest survey date in the warehouse (never
  "today": a re-run next month must give the same answer).
- The reference round at a date is the round asked for, else the newest round complete then (else the newest
  begun). A household whose newest record was surveyed before that round began is *stale*: it is still
  scored (on its older record and the events since), and marked.
- Events dated on or before the as-of date count.
- A household document (the service) without ``as_of`` is assessed at the latest date it knows of: its
  newest survey or its latest reported event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class AsOf:
    """The date households are assessed at, and the round they are expected to have a record of (the
    *reference* round: the one asked for, else the newest round complete at the date, else the newest begun)
    with its first survey date — a household whose newest record is older than that is stale."""

    date: pd.Timestamp
    round_id: str | None
    round_start: pd.Timestamp | None = None


def rounds_known_at(warehouse, as_of: pd.Timestamp) -> list[str]:
    """Round ids with at least one record surveyed on or before ``as_of``, oldest first."""
    r = warehouse.rounds().sort_values("first_date", kind="stable")
    return [str(x) for x in r.loc[r["first_date"] <= pd.Timestamp(as_of), "round_id"]]


def reference_round(rounds: pd.DataFrame, as_of: pd.Timestamp,
                    round_id: str | None = None) -> tuple[str | None, pd.Timestamp | None]:
    """The round households are expected to have a record of at ``as_of``: ``round_id`` when given, else the
    newest round complete then (its last survey done), else the newest begun. Its id and first survey date."""
    rounds = rounds.sort_values("first_date", kind="stable")
    if round_id is not None:
        row = rounds.loc[rounds["round_id"].astype(str) == str(round_id)]
    else:
        row = rounds.loc[rounds["last_date"] <= as_of].tail(1)
        if row.empty:
            row = rounds.loc[rounds["first_date"] <= as_of].tail(1)
    if row.empty:
        return None, None
    return str(row["round_id"].iloc[0]), pd.Timestamp(row["first_date"].iloc[0])


def resolve_as_of(warehouse, round_id: str | None = None, as_of=None) -> AsOf:
    """At most one of a round (its last survey date) or a date; neither: the warehouse's latest survey date.

    Raises ``ValueError`` naming the known rounds for an unknown round, or when both are given."""
    if round_id is not None and as_of is not None:
        raise ValueError("give exactly one of --round or --as-of (or neither: the latest survey date)")
    rounds = warehouse.rounds().sort_values("first_date", kind="stable")
    if rounds.empty:
        raise ValueError(f"warehouse {warehouse.root} has no survey rounds; run `povwatch ingest` first")
    if round_id is not None:
        hit = rounds.loc[rounds["round_id"].astype(str) == str(round_id)]
        if hit.empty:
            raise ValueError(f"unknown round {round_id!r}; rounds in the warehouse: "
                             f"{', '.join(map(str, rounds['round_id']))}")
        date = pd.Timestamp(hit["last_date"].iloc[0]).normalize()
    else:
        date = pd.Timestamp(rounds["last_date"].max() if as_of is None else as_of).normalize()
        if not (rounds["first_date"] <= date).any():
            raise ValueError(f"no survey round has records on or before {date.date()}; the first round starts "
                             f"{pd.Timestamp(rounds['first_date'].min()).date()}")
    ref, start = reference_round(rounds, date, round_id)
    return AsOf(date, ref, start)


def documents_as_of(n: int, record_dates: np.ndarray, record_item: np.ndarray, event_dates: np.ndarray,
                    event_item: np.ndarray) -> np.ndarray:
    """The as-of date of ``n`` household documents that give none: the latest date each knows of — its newest
    survey, or a shock reported after it (so a newly reported event counts). Never "today": the same document
    scores the same tomorrow. ``*_item``: the document each record / event belongs to."""
    none = np.iinfo(np.int64).min
    best = np.full(n, none, dtype=np.int64)
    for dates, item in ((record_dates, record_item), (event_dates, event_item)):
        dates = np.asarray(dates, dtype="datetime64[ns]")
        ok = ~np.isnat(dates)
        np.maximum.at(best, np.asarray(item, dtype=np.int64)[ok], dates[ok].astype(np.int64))
    out = best.astype("datetime64[ns]")
    out[best == none] = np.datetime64("NaT")
    return out


def stale_mask(survey_dates, round_start: pd.Timestamp | None) -> np.ndarray:
    """True where a household's newest known record was surveyed before the reference round began: it is
    scored on an out-of-date record (re-survey it). None: no reference round, nothing is stale."""
    dates = pd.to_datetime(pd.Series(survey_dates, copy=False)).to_numpy(dtype="datetime64[ns]")
    if round_start is None:
        return np.zeros(len(dates), dtype=bool)
    return dates < np.datetime64(pd.Timestamp(round_start).as_unit("ns"))
