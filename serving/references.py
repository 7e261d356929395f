"""Household *references* for the service: ``{"household_id", "events": [new events], "as_of"}`` instead of the
whole document, so a platform reporting a hospitalisation does not resend the household's history.

The service's warehouse is read once (on the first reference), sorted by household id and indexed by it. A
reference stands for the Household document ``features.data.documents_from_warehouse.household_documents``
builds (the latest record known at ``as_of``, its members, earlier rounds as history, stored events up to
``as_of``) with the sent events first; a sent event with the key of a stored one (same date and type) replaces
it. Two ways to get there, with the same result (tested):

- ``documents``: the documents themselves, for the endpoints that need one (``/explain``, ``/report``,
  ``/worklist``, and ``/score`` requests that mix documents and references). Each column is kept as codes into
  its distinct values already converted to JSON values, so building them is array indexing plus one dict per
  row, no pandas call per household.
- ``frames``: for a ``/score`` request of references only, the frames ``features.data.documents.to_frames``
  would build from those documents, taken straight from the warehouse's canonical rows (what ingest stored,
  in the same dtypes), so nothing is built as JSON to be parsed again; only the sent events are parsed.

Either way the checks, indicators and scores are the document path's. Why two: ``docs/performance.md``,
"Service references".
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.data.canonical import from_records
from features.data.contract import EVENTS
from features.data.documents import DocumentFrames, Problem, _collect, _event_path
from features.data.documents_from_warehouse import _jsonable

_EVENT_TYPE = EVENTS.column("event_type")


def is_reference(item: Mapping[str, Any]) -> bool:
    """A request item without ``record`` is a reference (the request schema tells the two apart the same way)."""
    return "record" not in item


@dataclass(frozen=True)
class UnknownHousehold:
    """A reference the warehouse cannot answer: where in the request, and why."""

    index: int
    problem: str


@dataclass(frozen=True)
class _Found:
    """The references the warehouse answers (request positions, as-of dates) and where their rows are: record
    rows (each reference's, oldest first), event rows up to its as-of date, and each record's member rows."""

    items: list[int]
    as_of: list[pd.Timestamp]
    record_rows: np.ndarray
    n_records: np.ndarray
    event_rows: np.ndarray
    n_events: np.ndarray
    member_lo: np.ndarray
    n_members: np.ndarray
    missing: list[UnknownHousehold]


class _Indexed:
    """One table sorted by household id: each id's row range by binary search, and each column as codes into its
    distinct values, converted to JSON values once (``_json_codes``), so rows become dicts by array indexing."""

    def __init__(self, frame: pd.DataFrame, order: list[str], date: str | None = None) -> None:
        frame = frame.sort_values(order, kind="stable", ignore_index=True)
        self.ids = frame["household_id"].to_numpy(dtype=object).astype(str)
        self.dates = frame[date].to_numpy("datetime64[ns]") if date else np.array([], dtype="datetime64[ns]")
        self.frame = frame  # canonical rows, for ``ReferenceStore.frames``
        self.columns = list(frame.columns)
        self.codes, self.values = zip(*(_json_codes(frame[c]) for c in self.columns)) if self.columns else ((), ())

    def column(self, name: str, rows: np.ndarray) -> np.ndarray:
        """One column's JSON values at ``rows``."""
        k = self.columns.index(name)
        return self.values[k][self.codes[k][rows]]

    def spans(self, household_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of each id: ``[lo, hi)``."""
        return (np.searchsorted(self.ids, household_ids, side="left"),
                np.searchsorted(self.ids, household_ids, side="right"))

    def until(self, lo: np.ndarray, hi: np.ndarray, as_of: np.ndarray) -> np.ndarray:
        """The end of the rows in each ``[lo, hi)`` dated on or before its ``as_of`` (rows are sorted by date
        within an id, undated ones last: the rows kept are the first ones)."""
        n = hi - lo
        dated = self.dates[_concat(lo, n)] <= np.repeat(as_of, n)
        return lo + np.bincount(np.repeat(np.arange(len(lo)), n), weights=dated, minlength=len(lo)).astype(np.int64)

    def dicts(self, rows: np.ndarray, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """Rows as JSON-ready dicts (``documents_from_warehouse._rows``'s values, column order kept)."""
        keep = [k for k, c in enumerate(self.columns) if c not in drop]
        names = [self.columns[k] for k in keep]
        columns = [self.values[k][self.codes[k][rows]].tolist() for k in keep]
        return [dict(zip(names, values)) for values in zip(*columns)]


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _json_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, values)`` with ``values[codes]`` the column's JSON values (``_jsonable`` of each, as ``_rows``
    gives them); a missing value has code -1, the last entry. Floats are told apart by their bits (-0.0 stays
    -0.0); object columns that are not all strings are kept value by value (equal-hashing 1 and True differ)."""
    if column.dtype == np.float64:
        codes, bits = pd.factorize(column.to_numpy().view(np.int64))
        return codes, _objects([_jsonable(v) for v in bits.view(np.float64).tolist()])
    if column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) not in ("string", "empty"):
        return np.arange(len(column)), _objects([_jsonable(v) for v in column])
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    missing = [_jsonable(v) for v in column[column.isna()].iloc[:1]] or [None]
    return codes, _objects([_jsonable(v) for v in pd.Series(uniques, dtype=column.dtype)] + missing)


class ReferenceStore:
    """The service's warehouse in memory, indexed by household (loaded on first use, thread-safe)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._tables: tuple[_Indexed, _Indexed, _Indexed, dict[tuple[Any, Any], tuple[int, int]]] | None = None

    def _load(self) -> tuple[_Indexed, _Indexed, _Indexed, dict[tuple[Any, Any], tuple[int, int]]]:
        with self._lock:
            if self._tables is None:
                from features.data.warehouse import Warehouse

                wh = Warehouse(self.root)
                members = wh.members().sort_values(["household_id", "round_id"], kind="stable", ignore_index=True)
                rounds = {k: (int(v[0]), int(v[-1]) + 1)  # rows of one (household, round): contiguous once sorted
                          for k, v in members.groupby(["household_id", "round_id"], sort=False).indices.items()}
                self._tables = (_Indexed(wh.households(), ["household_id", "survey_date", "round_id"], "survey_date"),
                                _Indexed(members, ["household_id", "round_id"]),
                                _Indexed(wh.events(), ["household_id", "event_date"], "event_date"), rounds)
            return self._tables

    def _resolve(self, items: Sequence[Mapping[str, Any]], today: pd.Timestamp) -> _Found:
        """Where each reference's rows are: records, events up to its as-of date, members of each record."""
        households, members, events, member_rows = self._load()
        refs = [i for i, item in enumerate(items) if is_reference(item)]
        ids = np.array([str(items[i]["household_id"]) for i in refs], dtype=str)
        days: dict[Any, pd.Timestamp] = {}  # a batch's references mostly share an as-of date: parse each once
        as_of = [days.get(v) or days.setdefault(v, pd.Timestamp(v or today).normalize())
                 for v in (items[i].get("as_of") for i in refs)]
        as_of64 = np.array([d.to_datetime64() for d in as_of], dtype="datetime64[ns]")
        lo, hi = households.spans(ids)
        known = households.until(lo, hi, as_of64)
        missing = []
        for k in np.flatnonzero(known == lo):
            i, hid = refs[k], str(ids[k])
            if lo[k] == hi[k]:
                missing.append(UnknownHousehold(i, f"household_id={hid!r} is not in the service's warehouse"))
            else:
                first = pd.Timestamp(households.dates[lo[k]]).date().isoformat()
                missing.append(UnknownHousehold(i, f"household_id={hid!r} has no record surveyed on or before "
                                                   f"as_of={as_of[k].date()} (first record: {first})"))
        found = np.flatnonzero(known > lo)
        lo, n_records = lo[found], (known - lo)[found]
        e_lo, e_hi = events.spans(ids[found])
        n_events = events.until(e_lo, e_hi, as_of64[found]) - e_lo
        record_rows = _concat(lo, n_records)
        spans = np.array([member_rows.get(key, (0, 0)) for key in zip(
            households.ids[record_rows].tolist(), households.column("round_id", record_rows).tolist())],
            dtype=np.int64).reshape(-1, 2)
        return _Found([refs[k] for k in found.tolist()], [as_of[k] for k in found.tolist()], record_rows,
                      n_records, _concat(e_lo, n_events), n_events, spans[:, 0], spans[:, 1] - spans[:, 0], missing)

    def documents(self, items: Sequence[Mapping[str, Any]], today: pd.Timestamp
                  ) -> tuple[list[Mapping[str, Any]], list[UnknownHousehold]]:
        """``items`` with every reference replaced by its full document (documents pass through), and the
        references the warehouse has no record for at their as-of date."""
        if not any(is_reference(item) for item in items):
            return list(items), []
        households, members, events, _ = self._load()
        f = self._resolve(items, today)
        out = list(items)
        if not f.items:
            return out, f.missing
        records = households.dicts(f.record_rows)
        stored = events.dicts(f.event_rows, drop=("household_id",))
        mems = members.dicts(_concat(f.member_lo, f.n_members), drop=("household_id", "round_id"))
        m_end = np.cumsum(f.n_members).tolist()
        rounds = [{"record": rec, "members": mems[b - m:b]} for rec, b, m in zip(records, m_end, f.n_members.tolist())]
        r_end, e_end = np.cumsum(f.n_records).tolist(), np.cumsum(f.n_events).tolist()
        for i, as_of, r, rn, e, en in zip(f.items, f.as_of, r_end, f.n_records.tolist(), e_end, f.n_events.tolist()):
            out[i] = _document(items[i], rounds[r - rn:r], stored[e - en:e], as_of)
        return out, f.missing

    def frames(self, items: Sequence[Mapping[str, Any]], today: pd.Timestamp
               ) -> tuple[DocumentFrames | None, list[UnknownHousehold]]:
        """For a request of references only: the frames ``features.data.documents.to_frames`` builds from their
        documents, taken straight from the warehouse's canonical rows (no document built, no value parsed
        again: the rows are what ingest stored), with the sent events parsed as a document's are. None when a
        reference is unknown (the second value says which)."""
        households, members, events, _ = self._load()
        f = self._resolve(items, today)
        if f.missing:
            return None, f.missing
        # to_frames' order: each document's latest record, then its history oldest first
        n = f.n_records
        start = np.repeat(np.cumsum(n) - n, n)
        j = np.arange(len(f.record_rows)) - start
        order = start + np.where(j == 0, np.repeat(n, n) - 1, j - 1)
        rec_item, rec_hist = np.repeat(np.arange(len(n)), n), j - 1
        records = households.frame.take(f.record_rows[order]).reset_index(drop=True)
        m_lo, m_n = f.member_lo[order], f.n_members[order]
        mem_rows = _concat(m_lo, m_n)
        mem_rec = np.repeat(np.arange(len(order)), m_n)
        mem_pos = np.arange(len(mem_rows)) - np.repeat(np.cumsum(m_n) - m_n, m_n)
        members_frame = members.frame.take(mem_rows).reset_index(drop=True)
        ev, ev_item, ev_pos, problems = self._events(items, f, events)
        ids = records["household_id"].to_numpy(dtype=object)
        latest = np.flatnonzero(rec_hist == -1)
        as_of = np.array([d.to_datetime64() for d in f.as_of], dtype="datetime64[ns]")
        by_id = pd.Series(as_of, index=pd.Index(ids[latest], dtype=object))
        return DocumentFrames(records, members_frame, ev, by_id, rec_item, rec_hist, mem_rec, mem_pos, ev_item,
                              ev_pos, problems), []

    def _events(self, items: Sequence[Mapping[str, Any]], f: _Found, events: _Indexed
                ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[Problem]]:
        """Each document's events as ``to_frames`` orders them (the sent ones, then the stored ones a sent event
        does not replace), the sent ones parsed and checked as a document's, with their place in the request."""
        dates = events.column("event_date", f.event_rows).tolist()
        types = events.column("event_type", f.event_rows).tolist()
        sent_rows, sent_ids, take, item, pos = [], [], [], [], []
        e_end = np.cumsum(f.n_events).tolist()
        for d, (i, e, en) in enumerate(zip(f.items, e_end, f.n_events.tolist())):
            sent = list(items[i].get("events") or [])
            hid = str(items[i]["household_id"])
            replaced = {(s.get("event_date"), _EVENT_TYPE.code_of(str(s.get("event_type")))) for s in sent}
            sent_rows += sent
            sent_ids += [hid] * len(sent)
            kept = [r for r in range(e - en, e) if (dates[r], types[r]) not in replaced] if sent else range(e - en, e)
            take += [-1 - k for k in range(len(sent_rows) - len(sent), len(sent_rows))]  # sent: -1 - its index
            take += kept
            item += [d] * (len(sent) + len(kept))
            pos += range(len(sent) + len(kept))
        ev_item, ev_pos = np.asarray(item, dtype=np.int64), np.asarray(pos, dtype=np.int64)
        problems: list[Problem] = []
        stored = events.frame.take(f.event_rows)
        take_arr = np.asarray(take, dtype=np.int64)
        if not sent_rows:
            return stored.take(take_arr).reset_index(drop=True), ev_item, ev_pos, problems
        sent_item, sent_pos = ev_item[take_arr < 0], ev_pos[take_arr < 0]  # in the order of sent_rows
        parsed = from_records(EVENTS, sent_rows, {"household_id": np.array(sent_ids, dtype=object)},
                              on_problem=_collect(problems, lambda r: _event_path(sent_item, sent_pos, r)))
        both = pd.concat([stored, parsed], ignore_index=True) if len(stored) else parsed
        rows = np.where(take_arr >= 0, take_arr, len(stored) + (-1 - take_arr))
        return both.take(rows).reset_index(drop=True), ev_item, ev_pos, problems


def _concat(lo: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The row numbers of the ranges ``[lo, lo + n)``, in order."""
    n = np.asarray(n, dtype=np.int64)
    starts = np.cumsum(n) - n
    return np.repeat(np.asarray(lo, dtype=np.int64) - starts, n) + np.arange(int(n.sum()), dtype=np.int64)


def _document(ref: Mapping[str, Any], rounds: list[dict[str, Any]], stored: list[dict[str, Any]],
              as_of: pd.Timestamp) -> dict[str, Any]:
    """The Household document of a reference: stored rounds and events up to ``as_of``, the sent events first."""
    sent = list(ref.get("events") or [])
    replaced = {(e.get("event_date"), _EVENT_TYPE.code_of(str(e.get("event_type")))) for e in sent}
    stored = [e for e in stored if (e["event_date"], e["event_type"]) not in replaced]
    latest = rounds[-1]
    return {"record": latest["record"], "members": latest["members"], "history": rounds[:-1],
            "events": sent + stored, "as_of": as_of.date().isoformat()}
