"""Indicators for households given as plain records (the DESIGN "Household" JSON shape) — for the service.

Builds canonical frames and calls ``build_indicators``: the same code as the batch path, so a household
scored online gets exactly the indicators it would get in training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd

from features.canonical import from_records
from features.indicators.build import build_indicators


def _timestamp(value: Any, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what}: {value!r} is not a date; expected YYYY-MM-DD") from e
    if ts is pd.NaT:
        raise ValueError(f"{what}: a date is required; expected YYYY-MM-DD")
    return ts.as_unit("ns")


def _rounds(item: Mapping[str, Any], i: int) -> list[Mapping[str, Any]]:
    """The item's record and its history as [{"record": ..., "members": [...]}, ...]."""
    if not isinstance(item.get("record"), Mapping):
        raise ValueError(f"households[{i}].record: required, an object with the households row")
    history = item.get("history") or []
    if not isinstance(history, Sequence) or any(not isinstance(h, Mapping) or not isinstance(h.get("record"), Mapping)
                                                for h in history):
        raise ValueError(f"households[{i}].history: expected a list of {{\"record\": {{...}}, \"members\": [...]}}")
    return [{"record": item["record"], "members": item.get("members") or []}, *history]


Rows = tuple[list[Mapping[str, Any]], dict[str, list[Any]]]  # a table's row dicts, and columns given as lists


def _frames(households: Sequence[Mapping[str, Any]], default_as_of: pd.Timestamp
            ) -> tuple[Rows, Rows, Rows, dict[str, pd.Timestamp]]:
    """The rows of the three tables (for ``from_records``) and each household's as-of date. The rows are the
    request's own dicts; household_id (and a member's round_id) come as separate columns."""
    records: Rows = ([], {"household_id": []})
    members: Rows = ([], {"household_id": [], "round_id": []})
    events: Rows = ([], {"household_id": []})
    as_of: dict[str, pd.Timestamp] = {}
    for i, item in enumerate(households):
        rounds = _rounds(item, i)
        hid = rounds[0]["record"].get("household_id")
        if hid is None or str(hid) == "":
            raise ValueError(f"households[{i}].record.household_id: required")
        hid = str(hid)
        if hid in as_of:
            raise ValueError(f"households[{i}].record.household_id: {hid!r} appears twice; send each household once")
        item_as_of = item.get("as_of")
        as_of[hid] = (_timestamp(item_as_of, f"households[{i}].as_of") if item_as_of not in (None, "")
                      else default_as_of)
        survey = _timestamp(rounds[0]["record"].get("survey_date"), f"households[{i}].record.survey_date")
        if survey > as_of[hid]:
            raise ValueError(f"households[{i}] (household {hid!r}): as_of {as_of[hid].date()} is before the "
                             f"record's survey_date {survey.date()}; the record is not known yet at that date")
        for r in rounds:
            _extend(records, [r["record"]], household_id=hid)
            _extend(members, r["members"], household_id=hid, round_id=r["record"].get("round_id"))
        _extend(events, item.get("events") or [], household_id=hid)
    return records, members, events, as_of


def _extend(table: Rows, rows: Sequence[Mapping[str, Any]], **same: Any) -> None:
    """Append ``rows`` to ``table``, each with the values ``same`` (e.g. its household_id)."""
    table[0].extend(rows)
    for name, value in same.items():
        table[1][name].extend([value] * len(rows))


def indicators_for(households: Sequence[Mapping[str, Any]], lines: pd.DataFrame | None = None,
                   as_of: pd.Timestamp | date | str | None = None) -> pd.DataFrame:
    """Indicator rows for households given as Household JSON objects (canonical codes), in request order.

    Each item's ``as_of`` overrides ``as_of``; the default is today. Raises ``ValueError`` naming the item
    and household when a record is missing or dated after its as-of date.
    """
    default = _timestamp(as_of, "as_of") if as_of is not None else pd.Timestamp.today().normalize().as_unit("ns")
    records, members, events, by_id = _frames(households, default)
    frame = build_indicators(
        from_records("households", *records), from_records("members", *members), from_records("events", *events),
        lines, pd.Series(by_id, dtype="datetime64[ns]"))
    order = pd.Index(frame["household_id"]).get_indexer(list(by_id))
    return frame.iloc[order].reset_index(drop=True)
