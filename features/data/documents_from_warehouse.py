""""Household" documents from the warehouse: what the service receives, built from what ingest stored.

One document per household: its latest record at the as-of date, that round's members, earlier rounds as
``history``, events up to the as-of date, and ``as_of``. Values are canonical (English codes, enum-lists
joined by ';', dates as ``YYYY-MM-DD``) and JSON-serialisable — used by ``povwatch report``, by parity
tests between the service and batch scoring, and by the demo's request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from features.data.warehouse import Warehouse


def _jsonable(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _rows(df: pd.DataFrame, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    cols = [c for c in df.columns if c not in drop]
    return [{c: _jsonable(v) for c, v in zip(cols, row)} for row in df[cols].itertuples(index=False, name=None)]


def household_documents(warehouse: Warehouse, household_ids: Iterable[str], as_of: pd.Timestamp) -> list[dict[str, Any]]:
    """Documents for the given households as known at ``as_of`` (households with no record by then are
    skipped). Meant for a few households (reports, requests), not for whole counties."""
    as_of = pd.Timestamp(as_of).normalize()
    ids = set(map(str, household_ids))
    known_rounds = warehouse.rounds()
    rounds = list(known_rounds.loc[known_rounds["first_date"] <= as_of, "round_id"])
    hh = warehouse.households(rounds)
    hh = hh[hh["household_id"].isin(ids) & (hh["survey_date"] <= as_of)].sort_values(["household_id", "survey_date"])
    mem = warehouse.members(rounds)
    mem = mem[mem["household_id"].isin(ids)]
    ev = warehouse.events(end=as_of)
    ev = ev[ev["household_id"].isin(ids)].sort_values(["household_id", "event_date"])
    members_by = {k: g for k, g in mem.groupby(["household_id", "round_id"], sort=False)}
    events_by = {k: g for k, g in ev.groupby("household_id", sort=False)}
    docs = []
    for hid, records in hh.groupby("household_id", sort=True):
        rounds_docs = [{"record": rec, "members": _rows(members_by.get((hid, rec["round_id"]), mem.iloc[:0]),
                                                         drop=("household_id", "round_id"))}
                       for rec in _rows(records)]
        latest = rounds_docs[-1]
        docs.append({"record": latest["record"], "members": latest["members"], "history": rounds_docs[:-1],
                     "events": _rows(events_by.get(hid, ev.iloc[:0]), drop=("household_id",)),
                     "as_of": as_of.date().isoformat()})
    return docs


def relabelled_copies(docs: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """``n`` documents cycling through ``docs``, copy ``i`` renamed ``<id>-<i>`` (history included): a batch of
    distinct households for load tests and benchmarks, each scoring like its original."""
    import copy

    out = []
    for i in range(n):
        d = copy.deepcopy(docs[i % len(docs)])
        hid = f"{d['record']['household_id']}-{i}"
        d["record"]["household_id"] = hid
        for h in d.get("history") or []:
            h["record"]["household_id"] = hid
        out.append(d)
    return out
