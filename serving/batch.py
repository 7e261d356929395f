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
from pathlib import Path

import numpy as np
import pandas as pd

from features.as_of import AsOf, rounds_known_at
from models.risk_model import SCORE_COLUMNS
from models.scoring import score_partition

REASONS = 3
OUTPUT_COLUMNS = [*SCORE_COLUMNS, *(f"reason_{k + 1}" for k in range(REASONS))]
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


def _score_chunk(model, warehouse, rounds: list[str], when: AsOf, id_range: tuple[str, str], *,
                 only: set[str] | None = None, explain_top: int = 0, lang: str = "zh") -> pd.DataFrame:
    """One chunk of ids read from the warehouse and scored by ``score_partition`` (``only``: just these ids)."""
    hh = warehouse.households(rounds, id_range=id_range)
    mem = warehouse.members(rounds, id_range=id_range)
    ev = warehouse.events(end=when.date, id_range=id_range)
    if only is not None:
        hh, mem, ev = (t[t["household_id"].isin(only)] for t in (hh, mem, ev))
    return score_partition(hh, mem, ev, None, when.date, model, explain_top=explain_top, lang=lang,
                           scored_round=when.round_id)


def ranked(scores: pd.DataFrame) -> pd.DataFrame:
    """Eligible households first, then those already below the line; each by risk (ties by household id)."""
    return scores.sort_values(["eligible", "risk", "household_id"], ascending=[False, False, True],
                              ignore_index=True, kind="stable")


def score_warehouse(model, warehouse, *, when: AsOf, explain_top: float = 0.2, chunk: int = DEFAULT_CHUNK,
                    lang: str = "zh", progress: Callable[[int], None] | None = None) -> tuple[pd.DataFrame, ScoreSummary]:
    """``OUTPUT_COLUMNS`` for every household known at ``when.date`` (``ranked``), with reasons for the top
    ``explain_top`` share of the eligible households by risk."""
    if not 0 <= explain_top <= 1:
        raise ValueError(f"--explain-top must be a share between 0 and 1 (e.g. 0.2 for 20%), got {explain_top}")
    rounds = rounds_known_at(warehouse, when.date)
    if not rounds:
        raise ValueError(f"no survey round has records on or before {when.date.date()}")
    ranges = list(_id_chunks(warehouse, rounds, chunk))
    parts = []
    for rng in ranges:
        part = _score_chunk(model, warehouse, rounds, when, rng)
        parts.append(part)
        if progress:
            progress(len(part))
    scores = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SCORE_COLUMNS)
    scores = ranked(scores[SCORE_COLUMNS])
    reason_cols = OUTPUT_COLUMNS[len(SCORE_COLUMNS):]
    for col in reason_cols:
        scores[col] = ""
    n_eligible = int(scores["eligible"].sum())
    n_explain = int(np.ceil(explain_top * n_eligible))
    if n_explain:
        wanted = set(scores["household_id"].iloc[:n_explain])
        reason_parts = []
        for rng in ranges:
            ids = {h for h in wanted if rng[0] <= h <= rng[1]}
            if ids:
                reason_parts.append(_score_chunk(model, warehouse, rounds, when, rng, only=ids,
                                                 explain_top=REASONS, lang=lang))
        reasons = pd.concat(reason_parts, ignore_index=True).set_index("household_id")
        for k, col in enumerate(reason_cols, start=1):
            scores.loc[:n_explain - 1, col] = scores.loc[:n_explain - 1, "household_id"].map(
                reasons[f"reason_{k}_text"]).fillna("")
    summary = ScoreSummary(len(scores), len(scores) - n_eligible, int(scores["stale"].sum()), n_explain, when.date)
    return scores, summary


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
