"""The as-of rule every command shares: which date a household is assessed at, which rounds are known then,
and which households are stale.

- A round's records are known from their ``survey_date``; a round is *known* at a date once its first
  record has been surveyed (``first_date <= as_of``); records surveyed after the date are cut later, per
  record, by ``features.indicators.build``.
- ``--round R`` means "as of R's last survey date", when every record of R is known.
- With neither ``--round`` nor ``--as-of`` the as-of date is the latest survey date in the warehouse (never
  "today": a re-run next month must give the same answer).
- The round being scored at a date is the newest round known then. A household whose newest record is from
  an older round is *stale*: it is still scored (on its older record and the events since), and marked.
- Events dated on or before the as-of date count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class AsOf:
    """The date households are assessed at and the round being scored then (None: the warehouse had no
    round yet)."""

    date: pd.Timestamp
    round_id: str | None


def rounds_known_at(warehouse, as_of: pd.Timestamp) -> list[str]:
    """Round ids with at least one record surveyed on or before ``as_of``, oldest first."""
    r = warehouse.rounds().sort_values("first_date", kind="stable")
    return [str(x) for x in r.loc[r["first_date"] <= pd.Timestamp(as_of), "round_id"]]


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
        return AsOf(pd.Timestamp(hit["last_date"].iloc[0]).normalize(), str(round_id))
    date = pd.Timestamp(rounds["last_date"].max() if as_of is None else as_of).normalize()
    known = rounds.loc[rounds["first_date"] <= date, "round_id"]
    if known.empty:
        raise ValueError(f"no survey round has records on or before {date.date()}; the first round starts "
                         f"{pd.Timestamp(rounds['first_date'].min()).date()}")
    return AsOf(date, str(known.iloc[-1]))


def default_document_as_of(survey_dates: Sequence) -> pd.Timestamp:
    """A household document without ``as_of``: the latest survey date among its own rounds."""
    return pd.Timestamp(max(pd.to_datetime(pd.Series(list(survey_dates))))).normalize()


def stale_mask(round_ids, scored_round: str | None) -> np.ndarray:
    """True where a household's newest known record is not from the round being scored (None: none stale)."""
    ids = np.asarray(pd.Series(round_ids, copy=False).astype("object").to_numpy(), dtype="object")
    if scored_round is None:
        return np.zeros(len(ids), dtype=bool)
    return np.array([str(r) != str(scored_round) for r in ids], dtype=bool)
