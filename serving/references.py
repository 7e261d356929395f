"""Household *references* for the service: ``{"household_id", "events": [new events], "as_of"}`` instead of the
whole document, so a platform reporting a hospitalisation does not resend the household's history.

The service's warehouse is read once (on the first reference), sorted by household id and indexed by it; each
reference then becomes the same Household document ``features.data.documents_from_warehouse.household_documents`` builds (the latest
record known at ``as_of``, its members, earlier rounds as history, stored events up to ``as_of``) with the sent
events first, and goes through the document path unchanged: the same checks, indicators and scores as if the
platform had sent the document. A sent event with the key of a stored one (same date and type) replaces it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.data.contract import EVENTS
from features.data.documents_from_warehouse import _rows

_EVENT_TYPE = EVENTS.column("event_type")


def is_reference(item: Mapping[str, Any]) -> bool:
    """A request item without ``record`` is a reference (the request schema tells the two apart the same way)."""
    return "record" not in item


@dataclass(frozen=True)
class UnknownHousehold:
    """A reference the warehouse cannot answer: where in the request, and why."""

    index: int
    problem: str


class _Indexed:
    """One table sorted by household id, with each id's row range found by binary search."""

    def __init__(self, frame: pd.DataFrame, order: list[str]) -> None:
        self.frame = frame.sort_values(order, kind="stable", ignore_index=True)
        self.ids = self.frame["household_id"].to_numpy(dtype=object).astype(str)

    def rows(self, ids: np.ndarray) -> pd.DataFrame:
        lo = np.searchsorted(self.ids, ids, side="left")
        hi = np.searchsorted(self.ids, ids, side="right")
        take = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi)]) if len(ids) else np.array([], dtype=int)
        return self.frame.iloc[take]


class ReferenceStore:
    """The service's warehouse in memory, indexed by household (loaded on first use, thread-safe)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._tables: tuple[_Indexed, _Indexed, _Indexed] | None = None

    def _load(self) -> tuple[_Indexed, _Indexed, _Indexed]:
        with self._lock:
            if self._tables is None:
                from features.data.warehouse import Warehouse

                wh = Warehouse(self.root)
                self._tables = (_Indexed(wh.households(), ["household_id", "survey_date", "round_id"]),
                                _Indexed(wh.members(), ["household_id", "round_id"]),
                                _Indexed(wh.events(), ["household_id", "event_date"]))
            return self._tables

    def documents(self, items: Sequence[Mapping[str, Any]], today: pd.Timestamp
                  ) -> tuple[list[Mapping[str, Any]], list[UnknownHousehold]]:
        """``items`` with every reference replaced by its full document (documents pass through), and the
        references the warehouse has no record for at their as-of date."""
        refs = [i for i, item in enumerate(items) if is_reference(item)]
        if not refs:
            return list(items), []
        households, members, events = self._load()
        ids = np.array([str(items[i]["household_id"]) for i in refs], dtype=object).astype(str)
        as_of = {i: pd.Timestamp(items[i].get("as_of") or today).normalize() for i in refs}
        unique = np.unique(ids)
        hh = households.rows(unique)
        mem_by = {k: g for k, g in members.rows(unique).groupby(["household_id", "round_id"], sort=False)}
        hh_by = {k: g for k, g in hh.groupby("household_id", sort=False)}
        ev_by = {k: g for k, g in events.rows(unique).groupby("household_id", sort=False)}
        out, missing = list(items), []
        for i, hid in zip(refs, ids):
            records = hh_by.get(hid)
            if records is None:
                missing.append(UnknownHousehold(i, f"household_id={hid!r} is not in the service's warehouse"))
                continue
            known = records[records["survey_date"] <= as_of[i]]
            if not len(known):
                first = records["survey_date"].min().date().isoformat()
                missing.append(UnknownHousehold(i, f"household_id={hid!r} has no record surveyed on or before "
                                                   f"as_of={as_of[i].date()} (first record: {first})"))
                continue
            out[i] = _document(items[i], known, mem_by, ev_by.get(hid), as_of[i])
        return out, missing


def _document(ref: Mapping[str, Any], known: pd.DataFrame, members: dict, events: pd.DataFrame | None,
              as_of: pd.Timestamp) -> dict[str, Any]:
    """The Household document of a reference: stored rounds and events up to ``as_of``, the sent events first."""
    rounds = []
    for rec in _rows(known):
        mem = members.get((rec["household_id"], rec["round_id"]))
        rounds.append({"record": rec, "members": [] if mem is None else _rows(mem, drop=("household_id",
                                                                                          "round_id"))})
    sent = list(ref.get("events") or [])
    replaced = {(e.get("event_date"), _EVENT_TYPE.code_of(str(e.get("event_type")))) for e in sent}
    stored = []
    if events is not None:
        events = events[events["event_date"] <= as_of]
        stored = [e for e in _rows(events, drop=("household_id",))
                  if (e["event_date"], e["event_type"]) not in replaced]
    latest = rounds[-1]
    return {"record": latest["record"], "members": latest["members"], "history": rounds[:-1],
            "events": sent + stored, "as_of": as_of.date().isoformat()}
