"""``povwatch score``: every household of the warehouse scored with the champion, in chunks.

Memory is bounded by the chunk, not the county: household ids are read first (one column), then each chunk
of ids reads only its own rows of every table (Parquet row-group pruning on the sorted ``household_id``),
builds its indicators once, scores them and keeps just the small result, plus the indicator rows of the
best-ranked eligible households so far. Reasons (SHAP) are computed at the end for the top K% of the county's
eligible households only, from those kept rows: the warehouse is read once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.data.as_of import AsOf, rounds_known_at
from models.risk_model import SCORE_COLUMNS
from models.scoring import score_partition

REASONS = 3
REASON_COLUMNS = [f"reason_{k}" for k in range(1, REASONS + 1)]
OUTPUT_COLUMNS = [*SCORE_COLUMNS, *REASON_COLUMNS]
# The structured form of each reason beside its sentence (see ``models.explain.reason_table``).
REASON_DETAIL_COLUMNS = [f"reason_{k}_{part}" for k in range(1, REASONS + 1) for part in ("indicator", "value")]
DEFAULT_CHUNK = 50_000


@dataclass
class ScoreSummary:
    scored: int
    below_line: int       # already below the line at the as-of date: for assistance now (eligible False)
    stale: int            # newest record older than the round scored
    explained: int
    as_of: pd.Timestamp


def _id_chunks(unique: np.ndarray, chunk: int) -> Iterator[tuple[str, str]]:
    """``[first, last]`` of each run of ``chunk`` consecutive ids among the sorted unique ``unique``."""
    for start in range(0, len(unique), chunk):
        part = unique[start:start + chunk]
        yield str(part[0]), str(part[-1])


def score_rows(households: pd.DataFrame, members: pd.DataFrame, events: pd.DataFrame, model,
               when: AsOf) -> pd.DataFrame:
    """``SCORE_COLUMNS`` of the households in these rows (whole households: every round and event of each):
    ``score_partition`` at the command's as-of date and round. A local chunk and a Spark group run it alike."""
    return score_partition(households, members, events, None, when.date, model, round_start=when.round_start)


def reason_rows(households: pd.DataFrame, members: pd.DataFrame, events: pd.DataFrame, model, when: AsOf,
                wanted: set[str], lang: str) -> pd.DataFrame:
    """``household_id``, ``reason_1..3`` (text) and ``REASON_DETAIL_COLUMNS`` for the ``wanted`` households
    among these rows."""
    keep = [t[t["household_id"].isin(wanted)] for t in (households, members, events)]
    scored = score_partition(*keep, None, when.date, model, explain_top=REASONS, lang=lang,
                             round_start=when.round_start)
    scored = scored.rename(columns={f"reason_{k}_text": f"reason_{k}" for k in range(1, REASONS + 1)})
    return scored[["household_id", *REASON_COLUMNS, *REASON_DETAIL_COLUMNS]]


def ranked(scores: pd.DataFrame) -> pd.DataFrame:
    """Households that can still fall first, then those already below the line; each by risk, ties by id."""
    return scores.sort_values(["eligible", "risk", "household_id"], ascending=[False, False, True],
                              ignore_index=True, kind="stable")


def latest_rounds(households: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, list[str]]:
    """Round id -> the households whose latest record known at ``as_of`` is of that round: the only member
    rows the indicators read (``features.indicators.build``), so only those are read from the warehouse."""
    from features.indicators.build import known_records

    known = known_records(households, as_of)
    rows = known["row"].to_numpy()
    last = known.loc[np.r_[rows[1:] != rows[:-1], True] if len(rows) else [], ["household_id", "round_id"]]
    return {str(r): g["household_id"].tolist() for r, g in last.groupby("round_id", sort=False)}


def _read_chunk(warehouse, rounds: list[str], as_of: pd.Timestamp, id_range: tuple[str, str]):
    households = warehouse.households(rounds, id_range=id_range)
    members = warehouse.members(rounds, id_range=id_range, households=latest_rounds(households, as_of))
    return households, members, warehouse.events(end=as_of, id_range=id_range)


def _order(frame: pd.DataFrame) -> np.ndarray:
    """Positions of ``frame``'s rows by risk (highest first), ties by household id: ``ranked``'s order."""
    return np.lexsort((frame["household_id"].to_numpy(dtype=object), -frame["risk"].to_numpy()))


def _keep_top(kept: pd.DataFrame | None, scores: pd.DataFrame, indicators: pd.DataFrame, k: int) -> pd.DataFrame:
    """The indicator rows (with ``risk``) of the ``k`` eligible households ranked first so far: the county's
    top K% for reasons is among them, whatever the chunks still to come hold."""
    eligible = scores["eligible"].to_numpy(dtype=bool)
    fresh = indicators.loc[eligible].assign(risk=scores.loc[eligible, "risk"].to_numpy())
    both = fresh if kept is None else pd.concat([kept, fresh], ignore_index=True)
    return both.take(_order(both)[:k]).reset_index(drop=True)


def _reasons(model, candidates: pd.DataFrame, n: int, lang: str, chunk: int) -> pd.DataFrame:
    """``household_id`` and the reason columns of the first ``n`` candidates, computed ``chunk`` at a time."""
    parts = []
    for start in range(0, n, chunk):
        ind = candidates.iloc[start:min(start + chunk, n)].drop(columns="risk").reset_index(drop=True)
        scored = model.score(ind, explain_top=REASONS, lang=lang)
        scored = scored.rename(columns={f"reason_{k}_text": f"reason_{k}" for k in range(1, REASONS + 1)})
        parts.append(scored[["household_id", *REASON_COLUMNS, *REASON_DETAIL_COLUMNS]])
    return pd.concat(parts, ignore_index=True)


def score_warehouse(model, warehouse, *, when: AsOf, explain_top: float = 0.2, chunk: int = DEFAULT_CHUNK,
                    lang: str = "zh", progress: Callable[[int], None] | None = None) -> tuple[pd.DataFrame, ScoreSummary]:
    """``OUTPUT_COLUMNS`` + ``REASON_DETAIL_COLUMNS`` for every household known at ``when.date`` (``ranked``),
    with reasons for the top ``explain_top`` share of the eligible households by risk.

    One pass over the warehouse: each chunk is read once, its indicators built once and scored; the indicator
    rows of the best-ranked eligible households so far (at most ``explain_top`` of all households) are kept,
    and reasons are computed for the top ``explain_top`` of the eligible ones at the end."""
    if not 0 <= explain_top <= 1:
        raise ValueError(f"--explain-top must be a share between 0 and 1 (e.g. 0.2 for 20%), got {explain_top}")
    from features.indicators import build_indicators

    rounds = rounds_known_at(warehouse, when.date)
    if not rounds:
        raise ValueError(f"no survey round has records on or before {when.date.date()}")
    ids = np.sort(warehouse.households(rounds, columns=["household_id"])["household_id"].astype(str).unique())
    k_max = int(np.ceil(explain_top * len(ids)))
    parts, kept = [], None
    for rng in _id_chunks(ids, chunk):
        indicators = build_indicators(*_read_chunk(warehouse, rounds, when.date, rng), model.lines, when.date)
        part = model.score(indicators, round_start=when.round_start)
        parts.append(part)
        if k_max:
            kept = _keep_top(kept, part, indicators, k_max)
        if progress:
            progress(len(part))
    scores = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SCORE_COLUMNS)
    scores = ranked(scores[SCORE_COLUMNS])
    for col in REASON_COLUMNS + REASON_DETAIL_COLUMNS:
        scores[col] = None if col.endswith("_value") else ""
    n_eligible = int(scores["eligible"].sum())
    n_explain = int(np.ceil(explain_top * n_eligible))
    if n_explain:
        reasons = _reasons(model, kept, n_explain, lang, chunk).set_index("household_id")
        for col in REASON_COLUMNS + REASON_DETAIL_COLUMNS:
            mapped = scores.loc[:n_explain - 1, "household_id"].map(reasons[col])
            scores.loc[:n_explain - 1, col] = mapped if col.endswith("_value") else mapped.fillna("")
    summary = ScoreSummary(len(scores), len(scores) - n_eligible, int(scores["stale"].sum()), n_explain, when.date)
    return scores, summary
