"""A labelled round's eligible households, scored one household-id range at a time: the rows the promotion
gate and the equity audit compare models on.

Scores are per row, so the whole round's scores come out in its order while only one range's examples are in
memory (``features.data.chunks``); what is kept per household is its keys, its label and one score per scorer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

LABEL_COLUMNS = ["household_id", "round_id", "falls_below_line"]
Scorer = Callable[[pd.DataFrame], np.ndarray]


@dataclass
class ScoredRound:
    """``labels`` (``LABEL_COLUMNS``) of a round's eligible, labelled households and each scorer's scores."""

    round_id: str
    labels: pd.DataFrame
    scores: dict[str, np.ndarray]

    @property
    def y(self) -> np.ndarray:
        return self.labels["falls_below_line"].to_numpy(float)

    def __len__(self) -> int:
        return len(self.labels)


def score_round(warehouse, rid: str, as_of, scorers: dict[str, Scorer], chunk: int | None = None) -> ScoredRound:
    """Round ``rid``'s eligible, labelled households at ``as_of``, built and scored range by range."""
    from features.data.chunks import DEFAULT_CHUNK, IdRangeView, id_ranges
    from features.indicators.labels import build_examples

    labels: list[pd.DataFrame] = []
    parts: dict[str, list[np.ndarray]] = {name: [] for name in scorers}
    for rng in id_ranges(warehouse, chunk or DEFAULT_CHUNK, rounds=[rid]):
        examples = build_examples(IdRangeView(warehouse, rng), [as_of])  # type: ignore[arg-type]
        rows = examples[(examples["round_id"] == rid) & examples["eligible"].eq(1)
                        & examples["falls_below_line"].notna()]
        del examples
        if not len(rows):
            continue
        labels.append(pd.DataFrame({"household_id": rows["household_id"].astype(str).to_numpy(),
                                    "round_id": rows["round_id"].astype(str).to_numpy(),
                                    "falls_below_line": rows["falls_below_line"].to_numpy(float)}))
        for name, scorer in scorers.items():
            parts[name].append(np.asarray(scorer(rows), dtype=float))
    if not labels:
        return ScoredRound(rid, pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                                              zip(LABEL_COLUMNS, ("str", "str", "float64"))}),
                           {name: np.empty(0) for name in scorers})
    return ScoredRound(rid, pd.concat(labels, ignore_index=True),
                       {name: np.concatenate(p) for name, p in parts.items()})


def labelled_round_scores(warehouse, scorers: dict[str, Scorer], round_id: str | None = None,
                          chunk: int | None = None) -> ScoredRound | None:
    """``score_round`` of ``round_id``, or of the newest round with labelled households (None if none has).
    A label is the household's next record, so the newest round is not built when a round is not given."""
    from features.indicators.labels import round_as_of

    rounds = round_as_of(warehouse)
    if round_id is not None:
        scored = score_round(warehouse, round_id, rounds[round_id], scorers, chunk)
        return scored if len(scored) else None
    for rid in reversed(list(rounds.index)[:-1]):  # newest first: usually the one before the last
        scored = score_round(warehouse, rid, rounds[rid], scorers, chunk)
        if len(scored):
            return scored
    return None
