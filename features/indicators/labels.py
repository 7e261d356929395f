"""Labels and training examples: ``falls_below_line`` at the household's next round after an as-of date.

Contract ``label``: the population is households whose hardship income per person at the as-of round is at or
above its line (``eligible``); the outcome is positive when hardship income per person at the household's
next round (first record surveyed after the as-of date) is below that round's line; households with no next
round are unlabelled (NaN), never negative. ``label_date`` is when the outcome becomes known (the next
round's survey date): training must only use examples whose label_date is before its cut.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from features.data.derived import at_or_above_line, hardship_income_pc, monitoring_line
from features.indicators import build_indicators
from features.indicators.build import AsOf, known_records
from features.data.warehouse import Warehouse

LABEL_COLUMNS = ["eligible", "falls_below_line", "label_round_id", "label_date"]
CONTEXT_COLUMNS = ["county", "village", "household_type", "is_monitored"]  # for evaluation slices, not features


def round_as_of(warehouse: Warehouse) -> pd.Series:
    """round_id -> the round's as-of date: its LAST survey date, when every record of the round is known."""
    r = warehouse.rounds()
    return pd.Series(r["last_date"].to_numpy(dtype="datetime64[ns]"), index=pd.Index(r["round_id"], name="round_id"),
                     name="as_of")


def default_as_of_dates(warehouse: Warehouse, quarterly: bool = True) -> list[pd.Timestamp]:
    """Each round's as-of date plus, with ``quarterly``, the calendar quarter starts strictly between
    consecutive rounds (between-round re-scoring: last record + events since)."""
    rounds = sorted(pd.Timestamp(d) for d in round_as_of(warehouse))
    dates = set(rounds)
    if quarterly:
        for a, b in zip(rounds, rounds[1:]):
            dates.update(d for d in pd.date_range(a, b, freq="QS") if a < d < b)
    return sorted(dates)


def _with_hardship(households: pd.DataFrame, lines: pd.DataFrame | None) -> pd.DataFrame:
    h = households[["household_id", "round_id", "survey_date", "province"]].copy()
    h["hardship_income_pc"] = hardship_income_pc(households).to_numpy(dtype="float64", na_value=np.nan)
    h["line"] = monitoring_line(h["province"], h["survey_date"].dt.year, lines).to_numpy() if len(h) else []
    return h


def _label_from(h: pd.DataFrame, as_of: AsOf) -> pd.DataFrame:
    known = known_records(h, as_of)
    row = known["row"].to_numpy()
    latest = known.loc[np.r_[row[1:] != row[:-1], True] if len(row) else []].reset_index(drop=True)
    out = pd.DataFrame({"household_id": pd.Series(latest["household_id"].to_numpy(dtype="object"), dtype="object")})
    out["eligible"] = at_or_above_line(latest["hardship_income_pc"], latest["line"])
    later = h.loc[h["household_id"].isin(out["household_id"])].merge(
        latest[["household_id", "as_of"]], on="household_id")
    later = later.loc[later["survey_date"] > later["as_of"]]
    nxt = later.sort_values(["household_id", "survey_date", "round_id"], kind="stable").drop_duplicates(
        "household_id", keep="first").set_index("household_id")
    nxt = nxt.reindex(out["household_id"])
    below = nxt["hardship_income_pc"].to_numpy() < nxt["line"].to_numpy()
    out["falls_below_line"] = np.where(nxt["hardship_income_pc"].isna().to_numpy(), np.nan, below.astype("float64"))
    rid = nxt["round_id"].astype("object")
    out["label_round_id"] = pd.Series(rid.where(rid.notna(), None).to_numpy(dtype="object"), dtype="object")
    out["label_date"] = nxt["survey_date"].to_numpy(dtype="datetime64[ns]")
    return out


def label_frame(households: pd.DataFrame, lines: pd.DataFrame | None, as_of: AsOf) -> pd.DataFrame:
    """``household_id, eligible, falls_below_line, label_round_id, label_date`` for every household with a
    record at ``as_of`` (one date, or a Series by household_id); sorted by household_id.

    ``eligible`` and ``falls_below_line`` are 1.0/0.0, NaN when unknown (no next round: unlabelled).
    """
    return _label_from(_with_hardship(households, lines), as_of)


def _examples_at(households: pd.DataFrame, hardship: pd.DataFrame, members: pd.DataFrame, events: pd.DataFrame,
                 lines: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    ind = build_indicators(households, members, events, lines, as_of)
    lab = _label_from(hardship, as_of)
    ctx = households[["household_id", "round_id", *CONTEXT_COLUMNS]]
    out = ind.merge(lab, on="household_id", how="left", validate="one_to_one")
    return out.merge(ctx, on=["household_id", "round_id"], how="left", validate="one_to_one")


def build_examples(warehouse: Warehouse, as_of_dates: Sequence[pd.Timestamp] | None = None) -> pd.DataFrame:
    """Indicators + labels + context for every household at every as-of date (default: rounds and the
    quarters between). Each table is read once."""
    dates = list(as_of_dates) if as_of_dates is not None else default_as_of_dates(warehouse)
    return join_dates(examples_per_date(warehouse, dates), warehouse)


def examples_per_date(warehouse: Warehouse, dates: Sequence[pd.Timestamp]) -> list[pd.DataFrame]:
    """The example rows of each as-of date, one frame per date (``join_dates`` makes the table)."""
    households, members, lines = warehouse.households(), warehouse.members(), warehouse.lines()
    events = warehouse.events(end=max(dates)) if dates else warehouse.events()
    hardship = _with_hardship(households, lines)
    return [_examples_at(households, hardship, members, events, lines, pd.Timestamp(d)) for d in dates]


def join_dates(frames: Sequence[pd.DataFrame], warehouse: Warehouse) -> pd.DataFrame:
    """Date frames, in order, as one examples table."""
    if not frames:
        raise ValueError(f"no as-of dates: warehouse {warehouse.root} has no rounds; ingest or simulate first")
    out = pd.concat(frames, ignore_index=True)
    return out.astype({c: "object" for c in ("household_id", "round_id", "label_round_id", "county", "village",
                                                 "household_type")})
