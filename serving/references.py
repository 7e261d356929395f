"""Household *references* for the service: ``{"household_id", "events": [new events], "as_of"}`` instead of the
whole document, so a platform reporting a hospitalisation does not resend the household's history.

The service's warehouse is read once (on the first reference), sorted by household id and indexed by it, each
column kept as codes into its distinct values already converted to JSON values; each reference then becomes
the same Household document ``features.data.documents_from_warehouse.household_documents`` builds (the latest
record known at ``as_of``, its members, earlier rounds as history, stored events up to ``as_of``) with the sent
events first, and goes through the document path unchanged: the same checks, indicators and scores as if the
platform had sent the document. A sent event with the key of a stored one (same date and type) replaces it.
Building a request's documents is then array indexing plus one dict per row — no pandas call per household
(which cost ~12 ms per reference: ``docs/performance.md``, "Service references").
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


class _Indexed:
    """One table sorted by household id: each id's row range by binary search, and each column as codes into its
    distinct values, converted to JSON values once (``_json_codes``), so rows become dicts by array indexing."""

    def __init__(self, frame: pd.DataFrame, order: list[str], date: str | None = None) -> None:
        frame = frame.sort_values(order, kind="stable", ignore_index=True)
        self.ids = frame["household_id"].to_numpy(dtype=object).astype(str)
        self.dates = frame[date].to_numpy("datetime64[ns]") if date else np.array([], dtype="datetime64[ns]")
        self.columns = list(frame.columns)
        self.codes, self.values = zip(*(_json_codes(frame[c]) for c in self.columns)) if self.columns else ((), ())

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

    def documents(self, items: Sequence[Mapping[str, Any]], today: pd.Timestamp
                  ) -> tuple[list[Mapping[str, Any]], list[UnknownHousehold]]:
        """``items`` with every reference replaced by its full document (documents pass through), and the
        references the warehouse has no record for at their as-of date."""
        refs = [i for i, item in enumerate(items) if is_reference(item)]
        if not refs:
            return list(items), []
        households, members, events, member_rows = self._load()
        ids = np.array([str(items[i]["household_id"]) for i in refs], dtype=str)
        days: dict[Any, pd.Timestamp] = {}  # a batch's references mostly share an as-of date: parse each once
        as_of = [days.get(v) or days.setdefault(v, pd.Timestamp(v or today).normalize())
                 for v in (items[i].get("as_of") for i in refs)]
        as_of64 = np.array([d.to_datetime64() for d in as_of], dtype="datetime64[ns]")
        lo, hi = households.spans(ids)
        known = households.until(lo, hi, as_of64)
        out, missing = list(items), []
        for k in np.flatnonzero(known == lo):
            i, hid = refs[k], ids[k]
            if lo[k] == hi[k]:
                missing.append(UnknownHousehold(i, f"household_id={hid!r} is not in the service's warehouse"))
            else:
                first = pd.Timestamp(households.dates[lo[k]]).date().isoformat()
                missing.append(UnknownHousehold(i, f"household_id={hid!r} has no record surveyed on or before "
                                                   f"as_of={as_of[k].date()} (first record: {first})"))
        found = np.flatnonzero(known > lo)
        if not len(found):
            return out, missing
        lo, n_records, as_of64 = lo[found], (known - lo)[found], as_of64[found]
        e_lo, e_hi = events.spans(ids[found])
        n_events = events.until(e_lo, e_hi, as_of64) - e_lo
        records = households.dicts(_concat(lo, n_records))
        stored = events.dicts(_concat(e_lo, n_events), drop=("household_id",))
        spans = np.array([member_rows.get((rec["household_id"], rec["round_id"]), (0, 0)) for rec in records],
                         dtype=np.int64).reshape(-1, 2)
        n_members = spans[:, 1] - spans[:, 0]
        mems = members.dicts(_concat(spans[:, 0], n_members), drop=("household_id", "round_id"))
        m_end = np.cumsum(n_members).tolist()
        rounds = [{"record": rec, "members": mems[b - m:b]} for rec, b, m in zip(records, m_end, n_members.tolist())]
        r_end, e_end = np.cumsum(n_records).tolist(), np.cumsum(n_events).tolist()
        for k, r, rn, e, en in zip(found.tolist(), r_end, n_records.tolist(), e_end, n_events.tolist()):
            out[refs[k]] = _document(items[refs[k]], rounds[r - rn:r], stored[e - en:e], as_of[k])
        return out, missing


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
