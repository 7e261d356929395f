""""Household" documents (record, members, history, events, as_of) as canonical contract frames.

The service receives households as JSON documents; the indicators read canonical frames. ``to_frames``
flattens a list of documents into the three contract tables in one pass (each row remembers where in the
request it came from), and converts each column once, vectorised: the per-request path, where per-value
Python work dominates. ``problems`` then checks what a document can get wrong beyond the types of its
values — the contract's cross-field rules (``features.data.validate.rule_reasons``, the same code as ingest),
duplicate keys, and how a document's parts fit together (history earlier and of the same household,
``household_size`` matching the members given, ``as_of`` not before the record) — and names the place of
each problem (``households[3].history[0].record.survey_date``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from features.data.as_of import documents_as_of
from features.data.canonical import column_of, from_records
from features.data.contract import EVENTS, HOUSEHOLDS, MAX_ITEMS, MEMBERS, Column, Table
from features.data.validate import rule_reasons

_AS_OF = Column("as_of", "评估日期", "date", required=False)  # a document's own as-of date (not a contract column)


class DocumentError(ValueError):
    """A document whose shape the frames cannot be built from (no record, no household_id, a history item
    without a record); the message starts with the path of the offending part."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one value of the request: where (a path below the request's list), what, and
    what the field allows."""

    path: str        # e.g. "[3].history[0].record.survey_date" (prefix it with "households" or "household")
    problem: str
    allowed: str


@dataclass
class DocumentFrames:
    """The documents as canonical frames, with each row's place in the request.

    ``records`` holds every round given (the latest first within a document, then its history), ``members``
    the members of those rounds, ``events`` the events; ``item`` arrays give the document position of each
    row, ``record_of`` the record row a member belongs to, ``position`` a row's index within its list, and
    ``history`` the history index of a record (-1 for the latest).
    """

    records: pd.DataFrame
    members: pd.DataFrame
    events: pd.DataFrame
    as_of: pd.Series               # per household_id, the document's as-of date (datetime64[ns])
    record_item: np.ndarray
    record_history: np.ndarray
    member_record: np.ndarray
    member_position: np.ndarray
    event_item: np.ndarray
    event_position: np.ndarray
    value_problems: list[Problem]  # values that pass the request schema but not the contract (dates, lists)

    def record_path(self, row: int) -> str:
        return _record_path(self.record_item, self.record_history, row)

    def member_path(self, row: int) -> str:
        return _member_path(self.record_item, self.record_history, self.member_record, self.member_position, row)

    def event_path(self, row: int) -> str:
        return _event_path(self.event_item, self.event_position, row)


# ------------------------------------------------------------------------------------------ flattening
def _record(part: Any, where: str) -> Mapping[str, Any]:
    record = part.get("record") if isinstance(part, Mapping) else None
    if record.__class__ is not dict and not isinstance(record, Mapping):
        raise DocumentError(f"{where}.record: required, an object with the households row")
    return record


def _check_list(value: Any, where: str) -> Sequence[Any]:
    if value.__class__ is not list and (not isinstance(value, Sequence) or isinstance(value, (str, bytes))):
        raise DocumentError(f"{where}: expected a list")
    return value


def to_frames(documents: Sequence[Mapping[str, Any]], default_as_of: pd.Timestamp | None = None) -> DocumentFrames:
    """Flatten ``documents`` into canonical frames. Values are assumed to have the contract's types (the
    service's request schema checks them); enum labels become codes, enum-lists canonical ';'-joined codes,
    and values the contract cannot read are reported in ``value_problems``, not guessed. A document without
    ``as_of`` is assessed at ``default_as_of``, or (None) at the latest date it knows of
    (``features.data.as_of.documents_as_of``)."""
    flat = _Flat()
    for i, doc in enumerate(documents):
        flat.add_round(i, -1, _record(doc, f"[{i}]"), doc.get("members"), f"[{i}]")
        history = doc.get("history")
        for j, past in enumerate(_check_list(history, f"[{i}].history") if history else ()):
            flat.add_round(i, j, _record(past, f"[{i}].history[{j}]"), past.get("members"), f"[{i}].history[{j}]")
        events = doc.get("events")
        if events:
            flat.evs.extend(_check_list(events, f"[{i}].events"))
            flat.ev_item.extend(repeat(i, len(events)))
            flat.ev_pos.extend(range(len(events)))
        flat.as_of.append(doc.get("as_of"))

    problems: list[Problem] = []
    rec_item, rec_hist = np.asarray(flat.rec_item, dtype=np.int64), np.asarray(flat.rec_hist, dtype=np.int64)
    mem_rec, mem_pos = np.asarray(flat.mem_rec, dtype=np.int64), np.asarray(flat.mem_pos, dtype=np.int64)
    ev_item, ev_pos = np.asarray(flat.ev_item, dtype=np.int64), np.asarray(flat.ev_pos, dtype=np.int64)
    records = _table(HOUSEHOLDS, flat.recs, problems, lambda r: _record_path(rec_item, rec_hist, r))
    ids = records["household_id"].to_numpy(dtype=object)
    missing_id = pd.isna(ids) | (ids == "")
    if missing_id.any():
        raise DocumentError(f"{_record_path(rec_item, rec_hist, int(np.flatnonzero(missing_id)[0]))}.household_id: "
                            "required")
    latest = np.flatnonzero(rec_hist == -1)                   # record row of document i is latest[i]
    members = _table(MEMBERS, flat.mems, problems, lambda r: _member_path(rec_item, rec_hist, mem_rec, mem_pos, r),
                     household_id=ids[mem_rec], round_id=records["round_id"].to_numpy(dtype=object)[mem_rec])
    events = _table(EVENTS, flat.evs, problems, lambda r: _event_path(ev_item, ev_pos, r),
                    household_id=ids[latest[ev_item]])
    doc_as_of = np.array(column_of(_AS_OF, [None if v == "" else v for v in flat.as_of],
                                   _collect(problems, lambda i: f"[{i}]")), dtype="datetime64[ns]")
    unset = np.isnat(doc_as_of)
    if default_as_of is not None:
        doc_as_of[unset] = np.datetime64(pd.Timestamp(default_as_of).normalize().as_unit("ns"))
    elif unset.any():
        own = documents_as_of(len(latest), records["survey_date"].to_numpy("datetime64[ns]"), rec_item,
                              events["event_date"].to_numpy("datetime64[ns]"), ev_item)
        doc_as_of[unset] = own[unset]
    by_id = pd.Series(doc_as_of.astype("datetime64[ns]"), index=pd.Index(ids[latest], dtype=object))
    return DocumentFrames(records, members, events, by_id, rec_item, rec_hist, mem_rec, mem_pos, ev_item, ev_pos,
                          problems)


@dataclass
class _Flat:
    """The rows of the three tables as the documents are walked, and where each came from."""

    recs: list[Mapping[str, Any]] = field(default_factory=list)
    rec_item: list[int] = field(default_factory=list)
    rec_hist: list[int] = field(default_factory=list)
    mems: list[Mapping[str, Any]] = field(default_factory=list)
    mem_rec: list[int] = field(default_factory=list)
    mem_pos: list[int] = field(default_factory=list)
    evs: list[Mapping[str, Any]] = field(default_factory=list)
    ev_item: list[int] = field(default_factory=list)
    ev_pos: list[int] = field(default_factory=list)
    as_of: list[Any] = field(default_factory=list)

    def add_round(self, item: int, history: int, record: Mapping[str, Any], members: Any, where: str) -> None:
        if members:
            _check_list(members, f"{where}.members")
            self.mem_rec.extend(repeat(len(self.recs), len(members)))
            self.mem_pos.extend(range(len(members)))
            self.mems.extend(members)
        self.recs.append(record)
        self.rec_item.append(item)
        self.rec_hist.append(history)


def _record_path(item: np.ndarray, history: np.ndarray, row: int) -> str:
    return f"[{item[row]}].record" if history[row] < 0 else f"[{item[row]}].history[{history[row]}].record"


def _member_path(item: np.ndarray, history: np.ndarray, record: np.ndarray, position: np.ndarray, row: int) -> str:
    r = record[row]
    owner = f"[{item[r]}]" if history[r] < 0 else f"[{item[r]}].history[{history[r]}]"
    return f"{owner}.members[{position[row]}]"


def _event_path(item: np.ndarray, position: np.ndarray, row: int) -> str:
    return f"[{item[row]}].events[{position[row]}]"


def _table(table: Table, rows: Sequence[Mapping[str, Any]], problems: list[Problem], path,
           **given: np.ndarray) -> pd.DataFrame:
    """One canonical frame from row dicts; ``given`` columns (e.g. a member's household_id) replace the rows'."""
    return from_records(table, rows, given, on_problem=_collect(problems, path))


def _collect(problems: list[Problem], path) -> Callable[[int, Column, str], None]:
    """A ``from_records`` problem callback that records each problem at its place in the request."""
    def add(row: int, col: Column, problem: str) -> None:
        problems.append(Problem(f"{path(row)}.{col.name}", problem, allowed(col)))

    return add


def allowed(col: Column) -> str:
    """What a column accepts, as the API says it (the contract's wording, with a list's length limit; a boolean
    also as JSON true/false or the number 1/0)."""
    if col.type == "bool":
        return f"JSON true/false, the number 1/0, or a string: {col.allowed()}"
    return col.allowed() + (f", at most {MAX_ITEMS[col.name]} items" if col.name in MAX_ITEMS else "")


def checked_frames(documents: Sequence[Mapping[str, Any]], default_as_of: pd.Timestamp | None = None
                   ) -> tuple[DocumentFrames | None, list[Problem]]:
    """``to_frames`` then ``problems``: the frames when nothing is wrong, else None and every problem (a document
    too broken to flatten is one problem)."""
    try:
        frames = to_frames(documents, default_as_of)
    except DocumentError as e:
        path, _, problem = str(e).partition(": ")
        return None, [Problem(path, problem, "a Household document: record, members, history, events, as_of")]
    found = problems(frames)
    return (None if found else frames), found


# ------------------------------------------------------------------------------------------ the rules
_RULE_FIELD = {"transfer_parts": "transfer_income"}  # a rule's name -> the field its error points at


def problems(frames: DocumentFrames) -> list[Problem]:
    """Everything wrong with the documents beyond the types of their values, each at its place: values the
    contract cannot read, the contract's cross-field rules and keys (as ingest checks them), and how the
    parts of a document fit together."""
    out = list(frames.value_problems)
    for table, frame, path in ((HOUSEHOLDS, frames.records, frames.record_path),
                               (MEMBERS, frames.members, frames.member_path)):
        if len(frame):
            out += _reasons(table, rule_reasons(table, frame, frame), path)  # quotes the values as given
        out += _duplicates(table, frame, path)
    return out + _duplicates(EVENTS, frames.events, frames.event_path) + _document_problems(frames)


def _duplicates(table: Table, frame: pd.DataFrame, path) -> list[Problem]:
    """The second and later rows with a key (``table.key``) seen before: the contract's keys are unique."""
    seen: set[tuple] = set()
    out = []
    keys = zip(*(frame[k].to_numpy(dtype=object) for k in table.key))
    for row, key in enumerate(keys):
        if key in seen:
            named = ", ".join(f"{k}={_text(v)}" for k, v in zip(table.key, key))
            out.append(Problem(f"{path(row)}.{table.key[-1]}", f"duplicate key ({named}): appears before",
                               f"each ({', '.join(table.key)}) once"))
        seen.add(key)
    return out


def _reasons(table: Table, reasons: pd.DataFrame, path) -> list[Problem]:
    out = []
    for row, rule, reason in zip(reasons["row"], reasons["rule"], reasons["reason"]) if len(reasons) else ():
        name = rule.partition(":")[2] or _RULE_FIELD.get(rule, rule)
        col = table.column(name) if name in table.names else None
        out.append(Problem(f"{path(int(row))}.{name}", reason, col.allowed() if col else "see the contract"))
    return out


def _document_problems(frames: DocumentFrames) -> list[Problem]:
    """History belongs to the household and is earlier, rounds appear once, household_size matches the members
    given, as_of is not before the record, and each household appears once in the request."""
    rec, out = frames.records, []
    item, hist = frames.record_item, frames.record_history
    latest = np.flatnonzero(hist == -1)
    own = latest[item]                                           # each record row -> its document's latest row
    ids = rec["household_id"].to_numpy(dtype=object)
    survey = rec["survey_date"].to_numpy("datetime64[ns]")
    rounds = rec["round_id"].to_numpy(dtype=object)
    for r in np.flatnonzero((hist >= 0) & (ids != ids[own])):
        out.append(Problem(f"{frames.record_path(r)}.household_id", "differs from record.household_id; history "
                           "holds earlier rounds of the same household", "the household_id of record"))
    dated = ~np.isnat(survey) & ~np.isnat(survey[own])  # an unreadable date is reported once, above
    for r in np.flatnonzero((hist >= 0) & dated & ~(survey < survey[own])):
        out.append(Problem(f"{frames.record_path(r)}.survey_date", f"survey_date={_day(survey[r])} is not before "
                           f"record.survey_date={_day(survey[own[r]])}; history holds earlier rounds",
                           "a date before record.survey_date"))
    seen: set[tuple[int, Any]] = set()
    for r, key in enumerate(zip(item.tolist(), rounds)):
        if key not in seen:
            seen.add(key)
            continue
        out.append(Problem(f"{frames.record_path(r)}.round_id", f"round_id={rounds[r]!r} appears twice in this "
                           "household", "each round once per household"))
    given = np.bincount(frames.member_record, minlength=len(rec))
    size = rec["household_size"].to_numpy(dtype="float64", na_value=np.nan)
    for r in np.flatnonzero((given > 0) & (size != given)):
        out.append(Problem(f"{frames.record_path(r)}.household_size", f"household_size={size[r]:g} but "
                           f"{given[r]} members given", "the number of members, when members are given"))
    doc_as_of = frames.as_of.to_numpy("datetime64[ns]")
    for i in np.flatnonzero(doc_as_of < survey[latest]):
        out.append(Problem(f"[{i}].as_of", f"as_of={_day(doc_as_of[i])} is before record.survey_date="
                           f"{_day(survey[latest[i]])}; the record is not known yet at that date",
                           "a date YYYY-MM-DD, not before record.survey_date"))
    for i in np.flatnonzero(pd.Index(ids[latest]).duplicated(keep="first")):
        out.append(Problem(f"[{i}].record.household_id", f"household_id={ids[latest[i]]!r} appears twice; "
                           "send each household once", "each household_id once per request"))
    return out


def _day(value: np.datetime64) -> str:
    return str(value)[:10]


def _text(value: Any) -> str:
    """A key value as a message shows it: dates as YYYY-MM-DD (never with 00:00:00)."""
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return str(pd.Timestamp(value).date())
    return str(value)
