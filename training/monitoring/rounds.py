"""The rounds a drift check compares: each household at its round's as-of date, with indicators, risk, the
label where the next round is known, and the segments (county, household type)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from training.monitoring.columns import Columns, SpilledMatrix

SEGMENT_COLUMNS = ("county", "household_type")
# Set by policy each year, not observed: its change is the new line, not drift.
NOT_COMPARED = ("monitoring_line",)
MONEY_UNITS = ("yuan", "yuan/person")


@dataclass
class RoundFrames:
    """Rows of several rounds: ``frame`` (ids, round, segments, eligible, label), the compared indicator
    columns ``values`` (money in units of the row's monitoring line; read a column at a time, see
    ``columns``) and ``risk`` (NaN where not eligible). A matrix given as ``values`` is wrapped."""

    frame: pd.DataFrame
    names: list[str]
    values: Columns
    risk: np.ndarray

    def __post_init__(self) -> None:
        if isinstance(self.values, np.ndarray):
            self.values = Columns(self.values)

    def take(self, mask: np.ndarray) -> RoundFrames:
        """The rows under ``mask``. Rounds are stored one after another, so a set of whole rounds is usually one
        run of rows, taken as a slice."""
        hit = np.flatnonzero(mask)
        rows = slice(hit[0], hit[-1] + 1) if len(hit) and hit[-1] - hit[0] + 1 == len(hit) else hit
        return RoundFrames(self.frame.iloc[rows].reset_index(drop=True), self.names, self.values.take(rows),
                           self.risk[rows])

    @property
    def rounds(self) -> np.ndarray:
        return self.frame["round_id"].to_numpy(dtype=str)


def compared_indicators() -> tuple[list[str], np.ndarray]:
    """Catalogue indicators compared, and which of them are money (divided by the line)."""
    from features.indicators.catalogue import FEATURES

    feats = [f for f in FEATURES if f.name not in NOT_COMPARED]
    return [f.name for f in feats], np.array([f.unit in MONEY_UNITS for f in feats])


def in_line_units(examples: pd.DataFrame, names: list[str], money: np.ndarray) -> np.ndarray:
    """The indicator matrix with money divided by the monitoring line of the row's year and province: the
    line follows rural income and prices, so a year's growth is not reported as drift."""
    x = examples[names].to_numpy(dtype="float64", na_value=np.nan).copy()
    line = examples["monitoring_line"].to_numpy(dtype="float64", na_value=np.nan)
    x[:, money] /= np.where(line > 0, line, np.nan)[:, None]
    return x


def load_rounds(warehouse, round_ids: Sequence[str], model, chunk: int | None = None) -> RoundFrames:
    """Every household of each round at the round's as-of date (its last survey date), scored by ``model``
    where eligible (not already below the line). Built one household-id range at a time: only a range's raw
    tables and examples are in memory at once; the compared matrix goes to disk range by range (``columns``),
    the risk and a few columns are kept; the rows come out in the order a whole-warehouse build gives (round
    by round, then by household)."""
    from features.data.chunks import DEFAULT_CHUNK, IdRangeView, id_ranges
    from features.indicators.labels import round_as_of

    as_of = round_as_of(warehouse)
    unknown = [r for r in round_ids if r not in as_of.index]
    if unknown:
        raise ValueError(f"unknown round(s) {', '.join(unknown)}; rounds in the warehouse: "
                         f"{', '.join(map(str, as_of.index))}")
    dates = {pd.Timestamp(as_of[r]): r for r in round_ids}
    names, money = compared_indicators()
    spilled = SpilledMatrix(len(names))
    frames, risks = [], []
    for rng in id_ranges(warehouse, chunk or DEFAULT_CHUNK, rounds=list(round_ids)):
        part = _round_rows(IdRangeView(warehouse, rng), dates, model, names, money)
        spilled.append(part.values.source)  # the range's matrix goes to disk and is dropped
        frames.append(part.frame)
        risks.append(part.risk)
    frame = pd.concat(frames, ignore_index=True)
    order = np.argsort(frame["as_of"].map({d: i for i, d in enumerate(sorted(dates))}).to_numpy(), kind="stable")
    return RoundFrames(frame.iloc[order].reset_index(drop=True), names, Columns(spilled, order),
                       np.concatenate(risks)[order])


def _round_rows(view, dates: dict[pd.Timestamp, str], model, names: list[str], money: np.ndarray) -> RoundFrames:
    """``load_rounds`` for one household-id range."""
    from features.indicators.labels import build_examples

    ex = build_examples(view, sorted(dates))
    own = ex["as_of"].map(dates).astype("object") == ex["round_id"].astype("object")
    ex = ex.loc[own.to_numpy()].reset_index(drop=True)
    risk = np.full(len(ex), np.nan)
    eligible = ex["eligible"].eq(1).to_numpy()
    if eligible.any():
        risk[eligible] = model.predict_proba(ex.loc[eligible])
    frame = ex[["round_id", "as_of", *SEGMENT_COLUMNS, "eligible", "falls_below_line"]].copy()
    frame["round_id"] = frame["round_id"].astype(str)
    for c in SEGMENT_COLUMNS:
        frame[c] = frame[c].astype("object").fillna("(missing)").astype(str)
    return RoundFrames(frame, names, in_line_units(ex, names, money), risk)
