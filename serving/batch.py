"""``povwatch score``: every eligible household of the warehouse scored with the champion, in chunks.

Memory is bounded by the chunk, not the county: household ids are read first (one column), then each chunk
of ids reads only its own rows of every table (Parquet row-group pruning on the sorted ``household_id``),
builds indicators, scores and keeps just the small result. Reasons (SHAP) are computed for the top K% of
the county only, in a second pass over the chunks that hold them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

OUTPUT_COLUMNS = ["household_id", "round_id", "as_of", "risk", "tier", "model_version",
                  "reason_1", "reason_2", "reason_3"]
# The structured form of each reason beside its sentence (see ``models.explain.reason_table``).
REASON_DETAIL_COLUMNS = [f"reason_{k}_{part}" for k in (1, 2, 3) for part in ("indicator", "value")]
DEFAULT_CHUNK = 50_000


@dataclass
class ScoreSummary:
    scored: int
    below_line: int       # already below the line at the as-of date: for assistance now, not for prediction
    explained: int
    as_of: pd.Timestamp


def resolve_as_of(warehouse, round_id: str | None, as_of: pd.Timestamp | None) -> tuple[pd.Timestamp, str | None]:
    """Exactly one of a round (its as-of date: the last survey date of the round) or a date."""
    from features.labels import round_as_of

    if (round_id is None) == (as_of is None):
        raise ValueError("give exactly one of --round or --as-of")
    if round_id is not None:
        rounds = round_as_of(warehouse)
        if round_id not in rounds.index:
            raise ValueError(f"unknown round {round_id!r}; rounds in the warehouse: {', '.join(map(str, rounds.index))}")
        return pd.Timestamp(rounds[round_id]), round_id
    return pd.Timestamp(as_of).normalize(), None


def _id_chunks(warehouse, rounds: list[str], chunk: int) -> Iterator[tuple[str, str]]:
    ids = warehouse.households(rounds, columns=["household_id"])["household_id"].astype(str)
    unique = np.sort(ids.unique())
    for start in range(0, len(unique), chunk):
        part = unique[start:start + chunk]
        yield str(part[0]), str(part[-1])


def partition_indicators(households: pd.DataFrame, members: pd.DataFrame, events: pd.DataFrame,
                         lines: pd.DataFrame, as_of: pd.Timestamp, round_id: str | None) -> pd.DataFrame:
    """Indicators and ``eligible`` of the households in these rows (whole households: every round and event of
    each), restricted to ``round_id``'s records when given. Pure: a local chunk and a Spark group run it alike."""
    from features.indicators import build_indicators
    from features.labels import label_frame

    households = households[households["survey_date"] <= as_of]
    events = events[events["event_date"] <= as_of]
    ind = build_indicators(households, members, events, lines, as_of)
    labels = label_frame(households, lines, as_of)[["household_id", "eligible"]]
    ind = ind.merge(labels, on="household_id", how="left")
    if round_id is not None:
        ind = ind[ind["round_id"] == round_id]
    return ind.reset_index(drop=True)


def score_partition_rows(households: pd.DataFrame, members: pd.DataFrame, events: pd.DataFrame, model,
                         as_of: pd.Timestamp, round_id: str | None) -> tuple[pd.DataFrame, int]:
    """``OUTPUT_COLUMNS[:6]`` of the eligible households in these rows, and how many were below the line."""
    ind = partition_indicators(households, members, events, model.lines, as_of, round_id)
    eligible = ind["eligible"].eq(1).to_numpy()
    scored = model.score_indicators(ind[eligible]) if eligible.any() else pd.DataFrame(columns=OUTPUT_COLUMNS[:6])
    return scored, int((~eligible).sum())


def partition_reasons(households: pd.DataFrame, members: pd.DataFrame, events: pd.DataFrame, model,
                      as_of: pd.Timestamp, round_id: str | None, wanted: set[str], lang: str) -> pd.DataFrame:
    """``household_id, reason_k`` (text) and ``reason_k_indicator/value`` for the ``wanted`` households among these rows."""
    from models.explain import reason_table, reasons_of

    ind = partition_indicators(households, members, events, model.lines, as_of, round_id)
    ind = ind[ind["household_id"].isin(wanted)].reset_index(drop=True)
    reasons = reason_table(reasons_of(model, ind, top=3), top=3, lang=lang)
    reasons = reasons.rename(columns={f"reason_{k}_text": f"reason_{k}" for k in (1, 2, 3)})
    reasons.insert(0, "household_id", ind["household_id"].to_numpy())
    return reasons


def _read_chunk(warehouse, rounds: list[str], as_of: pd.Timestamp, id_range: tuple[str, str]):
    return (warehouse.households(rounds, id_range=id_range), warehouse.members(rounds, id_range=id_range),
            warehouse.events(end=as_of, id_range=id_range))


def score_warehouse(model, warehouse, *, as_of: pd.Timestamp, round_id: str | None = None,
                    explain_top: float = 0.2, chunk: int = DEFAULT_CHUNK, lang: str = "zh",
                    progress: Callable[[int], None] | None = None) -> tuple[pd.DataFrame, ScoreSummary]:
    """Scores (DESIGN columns) for every eligible household at ``as_of`` (restricted to ``round_id``'s
    records when given), with reasons for the top ``explain_top`` share by risk."""
    if not 0 <= explain_top <= 1:
        raise ValueError(f"--explain-top must be a share between 0 and 1 (e.g. 0.2 for 20%), got {explain_top}")
    known = warehouse.rounds()
    rounds = list(known.loc[known["first_date"] <= as_of, "round_id"])
    if not rounds:
        raise ValueError(f"no survey round has records on or before {as_of.date()}")
    ranges = list(_id_chunks(warehouse, rounds, chunk))
    parts, below = [], 0
    for rng in ranges:
        scored, n_below = score_partition_rows(*_read_chunk(warehouse, rounds, as_of, rng), model, as_of, round_id)
        below += n_below
        if len(scored):
            parts.append(scored)
        if progress:
            progress(len(scored) + n_below)
    columns = OUTPUT_COLUMNS[:6]
    scores = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    scores = scores[columns].sort_values(["risk", "household_id"], ascending=[False, True], ignore_index=True)
    for col in OUTPUT_COLUMNS[6:] + REASON_DETAIL_COLUMNS:
        scores[col] = None if col.endswith("_value") else ""
    n_explain = int(np.ceil(explain_top * len(scores)))
    if n_explain:
        top = scores.iloc[:n_explain]
        wanted = set(top["household_id"])
        reason_parts = []
        for rng in ranges:
            in_range = top["household_id"].between(rng[0], rng[1])
            if not in_range.any():
                continue
            reason_parts.append(partition_reasons(*_read_chunk(warehouse, rounds, as_of, rng), model, as_of,
                                                  round_id, wanted, lang))
        reasons = pd.concat(reason_parts, ignore_index=True).set_index("household_id")
        for col in OUTPUT_COLUMNS[6:] + REASON_DETAIL_COLUMNS:
            mapped = scores.loc[:n_explain - 1, "household_id"].map(reasons[col])
            scores.loc[:n_explain - 1, col] = mapped if col.endswith("_value") else mapped.fillna("")
    return scores, ScoreSummary(len(scores), below, n_explain, as_of)


def write_table(df: pd.DataFrame, out: Path) -> Path:
    """CSV (UTF-8 with BOM, so spreadsheet software shows the Chinese) or Parquet, by the extension."""
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        df.to_parquet(out, index=False)
    elif suffix == ".csv":
        df.to_csv(out, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")
    else:
        raise ValueError(f"--out must end in .csv or .parquet, got {out.name!r}")
    return out
