"""Indicators for households given as plain records (the "Household" JSON shape) — for the service.

Builds canonical frames (``features.data.documents``) and calls ``build_indicators``: the same code as the batch
path, so a household scored online gets exactly the indicators it would get in training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd

from features.data.documents import DocumentFrames, checked_frames
from features.indicators.build import build_indicators


def indicators_of_frames(frames: DocumentFrames, lines: pd.DataFrame | None = None) -> pd.DataFrame:
    """Indicator rows for documents already flattened (and checked with ``problems``), in document order."""
    frame = build_indicators(frames.records, frames.members, frames.events, lines, frames.as_of)
    order = pd.Index(frame["household_id"]).get_indexer(frames.as_of.index)
    return frame.iloc[order].reset_index(drop=True)


def indicators_for(households: Sequence[Mapping[str, Any]], lines: pd.DataFrame | None = None,
                   as_of: pd.Timestamp | date | str | None = None) -> pd.DataFrame:
    """Indicator rows for households given as Household JSON objects, in request order.

    Each item's ``as_of`` overrides ``as_of``; with neither, an item is assessed at the latest date it knows
    of (``features.data.as_of``). Raises ``ValueError`` naming the item and field of every problem
    (``features.data.documents.problems``) before computing anything.
    """
    default = pd.Timestamp(as_of).normalize() if as_of is not None else None
    frames, found = checked_frames(households, default)
    if found:
        listed = "; ".join(f"households{p.path}: {p.problem}" for p in found[:20])
        more = f"; and {len(found) - 20} more" if len(found) > 20 else ""
        raise ValueError(f"{len(found)} problem(s) in the households: {listed}{more}")
    return indicators_of_frames(frames, lines)
