"""Bootstrap 95 % intervals of the test-round metrics, households resampled.

Every scorer is resampled with the same household draws, so the difference model − rule has a paired
interval. Each replicate is a vector of counts over the households (multinomial), and roc_auc and recall at
k are computed from the counts with one sort per scorer — no replicate table is materialised. The counts
are drawn ``BLOCK`` replicates at a time (the same draws as one call: the generator's stream is sequential), so
memory is bounded by a block of a round's rows, not by replicates × rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

LEVEL = 0.95
BLOCK = 20  # replicates per block of counts: 20 × 1M rows of int64 is 160 MB


def household_counts(households: np.ndarray, replicates: int, seed: int) -> np.ndarray:
    """(replicates, rows) counts: households drawn with replacement, each drawn household bringing all its
    rows (one row each on a test round)."""
    blocks = list(count_blocks(households, replicates, seed))
    return np.vstack(blocks) if blocks else np.zeros((0, len(households)), np.int64)


def count_blocks(households: np.ndarray, replicates: int, seed: int, block: int = BLOCK) -> Iterator[np.ndarray]:
    """``household_counts`` as consecutive blocks of at most ``block`` replicates (the same draws)."""
    codes, uniques = pd.factorize(pd.Series(households).astype(str))
    rng = np.random.default_rng(seed)
    p = np.full(len(uniques), 1.0 / len(uniques))
    for start in range(0, replicates, block):
        yield rng.multinomial(len(uniques), p, size=min(block, replicates - start))[:, codes]


def per_replicate(measure: Callable[[np.ndarray], np.ndarray], households: np.ndarray, replicates: int,
                  seed: int) -> np.ndarray:
    """``measure(counts)`` over every replicate, a block of counts at a time."""
    parts = [measure(c) for c in count_blocks(households, replicates, seed)]
    return np.concatenate(parts) if parts else np.zeros(0)


def weighted_roc_auc(y: np.ndarray, score: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """roc_auc per replicate: P(score of a drawn faller > score of a drawn non-faller), ties count a half."""
    order = np.argsort(score, kind="stable")
    s, yy, c = score[order], y[order], counts[:, order].astype(float)
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    pos = np.add.reduceat(c * yy, starts, axis=1)
    neg = np.add.reduceat(c * (1 - yy), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    total_pos, total_neg = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (total_pos * total_neg)


def weighted_recall_at_k(y: np.ndarray, score: np.ndarray, counts: np.ndarray, k: float) -> np.ndarray:
    """Recall at k per replicate: share of drawn fallers among the ceil(k·n) highest drawn scores (ties in
    the stable order of ``training.metrics.top_k_mask``)."""
    order = np.argsort(-score, kind="stable")
    c = counts[:, order].astype(float)
    m = np.ceil(k * counts.sum(axis=1, keepdims=True))
    before = np.cumsum(c, axis=1) - c
    taken = np.clip(m - before, 0, c)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (taken * y[order]).sum(axis=1) / (c * y[order]).sum(axis=1)


def bootstrap_table(y: np.ndarray, scores: dict[str, np.ndarray], households: np.ndarray, *, reference: str,
                    subject: str, replicates: int = 500, seed: int = 0, k: float = 0.10) -> pd.DataFrame:
    """Rows: each scorer, then ``<subject> − <reference>``; columns: point value, low, high for roc_auc and
    recall at k (``recall_at_10pct`` at k = 0.10)."""
    y = np.asarray(y, float)
    recall = f"recall_at_{round(k * 100):g}pct"
    ones = np.ones((1, len(y)), dtype=np.int64)
    arrays = {name: np.asarray(s, float) for name, s in scores.items()}

    def measure(counts: np.ndarray) -> np.ndarray:  # (replicates, scorer × metric)
        return np.column_stack([m for s in arrays.values()
                                for m in (weighted_roc_auc(y, s, counts), weighted_recall_at_k(y, s, counts, k))])

    table = per_replicate(measure, households, replicates, seed).reshape(replicates, len(arrays), 2)
    draws, points = {}, {}
    for i, (name, s) in enumerate(arrays.items()):
        draws[name] = {"roc_auc": table[:, i, 0], recall: table[:, i, 1]}
        points[name] = {"roc_auc": float(weighted_roc_auc(y, s, ones)[0]),
                        recall: float(weighted_recall_at_k(y, s, ones, k)[0])}
    diff = f"{subject} − {reference}"
    draws[diff] = {m: draws[subject][m] - draws[reference][m] for m in ("roc_auc", recall)}
    points[diff] = {m: points[subject][m] - points[reference][m] for m in ("roc_auc", recall)}
    lo, hi = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
    rows = {}
    for name in draws:
        row = {}
        for m in ("roc_auc", recall):
            d = draws[name][m][np.isfinite(draws[name][m])]
            row[m] = points[name][m]
            row[f"{m}_low"] = float(np.quantile(d, lo)) if len(d) else float("nan")
            row[f"{m}_high"] = float(np.quantile(d, hi)) if len(d) else float("nan")
        rows[name] = row
    return pd.DataFrame(rows).T


def format_intervals(table: pd.DataFrame) -> str:
    """``0.8797 [0.8731, 0.8862]`` per metric; differences signed."""
    metrics = [c for c in table.columns if not c.endswith(("_low", "_high"))]
    lines = {}
    for name, row in table.iterrows():
        sign = "+" if "−" in str(name) else ""
        lines[name] = {m: f"{row[m]:{sign}.4f} [{row[m + '_low']:{sign}.4f}, {row[m + '_high']:{sign}.4f}]"
                       for m in metrics}
    return pd.DataFrame(lines).T.to_string()
