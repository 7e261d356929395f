"""Warnings a scored household carries: what the service scored without, so that nothing is left out silently.

A document may be valid and still incomplete — no members (the record alone is scored, and every indicator
computed from members is missing) or events dated after ``as_of`` (not known at that date, so not used).
Refusing such documents would break callers that have nothing more to send; scoring them without saying so
would hide why a risk looks low. The service scores them and puts these sentences in the result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from features.data.documents import DocumentFrames


def document_warnings(frames: DocumentFrames, indicators: pd.DataFrame,
                      feature_names: Sequence[str]) -> dict[str, list[str]]:
    """household_id -> warnings (only households with at least one)."""
    out: dict[str, list[str]] = {}
    records = frames.records
    latest = np.flatnonzero(frames.record_history == -1)
    ids = records["household_id"].to_numpy(dtype=object)[latest]
    members_given = np.bincount(frames.member_record, minlength=len(records))[latest]
    missing = _missing_indicators(indicators, feature_names)
    for i in np.flatnonzero(members_given == 0):
        hid = ids[i]
        gap = missing.get(hid, 0)
        out.setdefault(hid, []).append(
            f"members not given: scored from the record alone ({gap} of {len(feature_names)} indicators missing; "
            "indicators that count members count none)")
    events = frames.events
    if len(events):
        as_of = frames.as_of.reindex(events["household_id"]).to_numpy("datetime64[ns]")
        late = events["event_date"].to_numpy("datetime64[ns]") > as_of
        if late.any():
            for hid, count in pd.Series(events["household_id"].to_numpy(dtype=object)[late]).value_counts(
                    sort=False).items():
                day = str(frames.as_of[hid])[:10]
                out.setdefault(hid, []).append(f"{count} event(s) dated after as_of {day} not used: "
                                               "an event counts from its event_date on")
    return out


def _missing_indicators(indicators: pd.DataFrame, feature_names: Sequence[str]) -> dict[str, int]:
    present = [f for f in feature_names if f in indicators.columns]
    counts = indicators[present].isna().sum(axis=1).to_numpy() + (len(feature_names) - len(present))
    return dict(zip(indicators["household_id"].to_numpy(dtype=object), counts.tolist()))
