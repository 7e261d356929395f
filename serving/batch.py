"""``povwatch score``: every household of the warehouse scored with the champion, in chunks.

Memory is bounded by the chunk, not the county: household ids are read first (one column), then each chunk
of ids reads only its own rows of every table (Parquet row-group pruning on the sorted ``household_id``),
scores it with ``models.scoring.score_partition`` and keeps just the small result. Reasons (SHAP) are
computed for the top K% of the county's eligible households only, in a second pass over the chunks that
hold them.
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


def _id_chunks(warehouse, rounds: list[str], chunk: int) -> Iterator[tuple[str, str]]:
    ids = warehouse.households(rounds, columns=["household_id"])["household_id"].astype(str)
    unique = np.sort(ids.unique())
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


def _read_chunk(warehouse, rounds: list[str], as_of: pd.Timestamp, id_range: tuple[str, str]):
    return (warehouse.households(rounds, id_range=id_range), warehouse.members(rounds, id_range=id_range),
            warehouse.events(end=as_of, id_range=id_range))


def score_warehouse(model, warehouse, *, when: AsOf, explain_top: float = 0.2, chunk: int = DEFAULT_CHUNK,
                    lang: str = "zh", progress: Callable[[int], None] | None = None) -> tuple[pd.DataFrame, ScoreSummary]:
    """``OUTPUT_COLUMNS`` + ``REASON_DETAIL_COLUMNS`` for every household known at ``when.date`` (``ranked``),
    with reasons for the top ``explain_top`` share of the eligible households by risk."""
    if not 0 <= explain_top <= 1:
        raise ValueError(f"--explain-top must be a share between 0 and 1 (e.g. 0.2 for 20%), got {explain_top}")
    rounds = rounds_known_at(warehouse, when.date)
    if not rounds:
        raise ValueError(f"no survey round has records on or before {when.date.date()}")
    ranges = list(_id_chunks(warehouse, rounds, chunk))
    parts = []
    for rng in ranges:
        part = score_rows(*_read_chunk(warehouse, rounds, when.date, rng), model, when)
        parts.append(part)
        if progress:
            progress(len(part))
    scores = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SCORE_COLUMNS)
    scores = ranked(scores[SCORE_COLUMNS])
    for col in REASON_COLUMNS + REASON_DETAIL_COLUMNS:
        scores[col] = None if col.endswith("_value") else ""
    n_eligible = int(scores["eligible"].sum())
    n_explain = int(np.ceil(explain_top * n_eligible))
    if n_explain:
        wanted = set(scores["household_id"].iloc[:n_explain])
        reason_parts = []
        for rng in ranges:
            ids = {h for h in wanted if rng[0] <= h <= rng[1]}
            if ids:
                reason_parts.append(reason_rows(*_read_chunk(warehouse, rounds, when.date, rng), model, when, ids,
                                                lang))
        reasons = pd.concat(reason_parts, ignore_index=True).set_index("household_id")
        for col in REASON_COLUMNS + REASON_DETAIL_COLUMNS:
            mapped = scores.loc[:n_explain - 1, "household_id"].map(reasons[col])
            scores.loc[:n_explain - 1, col] = mapped if col.endswith("_value") else mapped.fillna("")
    summary = ScoreSummary(len(scores), len(scores) - n_eligible, int(scores["stale"].sum()), n_explain, when.date)
    return scores, summary
