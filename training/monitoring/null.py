"""Thresholds from the data: what the statistics look like when nothing is wrong.

A reference of several rounds is its own control. Each bootstrap replicate holds one reference round out,
resamples it to the size of the round under check, and compares it with the other rounds (resampled too)
exactly as the round under check is compared with the whole reference. The spread of these replicates is
the round-to-round variation plus sampling noise; a threshold is a high quantile of it. With a single
reference round only the sampling noise is left (the reference against resamples of itself).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from training.monitoring.columns import Columns
from training.monitoring.stats import DEFAULT_BINS, bin_codes, psi_from_counts, quantile_edges

N_BINS = DEFAULT_BINS + 2          # quantile bins + the top bin beyond the last cut + missing
COUNT_BLOCK = 50_000               # rows whose codes are counted at once
DEFAULT_REPLICATES = 60
ALARM_QUANTILE = 0.99              # a statistic above the 99th percentile of its replicates is "drifted"


@dataclass
class Binned:
    """Bin codes of several columns, one byte each (``N_BINS`` fits); offset by column when counted, so that
    one ``bincount`` counts every column at once."""

    codes: np.ndarray              # (rows, columns) uint8 bin code of each value

    @property
    def n_columns(self) -> int:
        return self.codes.shape[1]

    def counts(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Rows per bin of each column, ``COUNT_BLOCK`` rows at a time: a replicate of a million-household
        round would otherwise make a platform-integer copy of all its codes (the counts are the same)."""
        picked = np.arange(len(self.codes))[rows]  # positions, whether rows is a slice, a mask or positions
        offsets = np.arange(self.n_columns, dtype=np.intp) * N_BINS
        total = np.zeros(self.n_columns * N_BINS, dtype=np.int64)
        for start in range(0, len(picked), COUNT_BLOCK):
            flat = self.codes[picked[start:start + COUNT_BLOCK]].astype(np.intp)
            flat += offsets
            total += np.bincount(flat.ravel(), minlength=self.n_columns * N_BINS)
        return total.reshape(self.n_columns, N_BINS).astype(float)

    def counts_by(self, group: np.ndarray, n_groups: int, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """``counts`` of every group at once, ``(n_groups, columns, bins)``: ``group`` holds each row's group
        (0 .. n_groups - 1; for ``rows`` when given). One pass over the codes whatever the number of groups —
        a county's rows and the rest of its round are then one count and a subtraction, not a pass each."""
        picked = np.arange(len(self.codes))[rows]
        group = np.asarray(group, dtype=np.intp)
        width = self.n_columns * N_BINS
        offsets = np.arange(self.n_columns, dtype=np.intp) * N_BINS
        total = np.zeros(n_groups * width, dtype=np.int64)
        for start in range(0, len(picked), COUNT_BLOCK):
            flat = self.codes[picked[start:start + COUNT_BLOCK]].astype(np.intp)
            flat += offsets
            flat += group[start:start + COUNT_BLOCK, None] * width
            total += np.bincount(flat.ravel(), minlength=n_groups * width)
        return total.reshape(n_groups, self.n_columns, N_BINS).astype(float)


def bin_by_reference(reference: Columns | np.ndarray, *others: Columns | np.ndarray) -> list[Binned]:
    """Quantile bins of each column of ``reference``, applied to it and to ``others`` (same columns); a
    column at a time, so that only one column's values are in memory besides the codes."""
    ref, rest = _columns(reference), [_columns(o) for o in others]
    out = [np.empty((len(m), ref.width), dtype=np.uint8) for m in (ref, *rest)]
    for j in range(ref.width):
        x = ref.column(j)
        edges = quantile_edges(x)
        out[0][:, j] = bin_codes(x, edges)
        del x
        for codes, m in zip(out[1:], rest):
            codes[:, j] = bin_codes(m.column(j), edges)
    return [Binned(c) for c in out]


def _columns(x: Columns | np.ndarray) -> Columns:
    return x if isinstance(x, Columns) else Columns(x)


def held_out_pairs(rounds: np.ndarray, size: int, replicates: int,
                   rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(reference-like rows, round-like rows) per replicate: a held-out reference round resampled to
    ``size`` rows against the other rounds resampled; one round: the reference against itself."""
    ids = np.unique(rounds)
    for b in range(replicates):
        if len(ids) >= 2:
            held = rounds == ids[b % len(ids)]
            inside, rest = np.flatnonzero(held), np.flatnonzero(~held)
        else:
            inside = rest = np.arange(len(rounds))
        yield rng.choice(rest, len(rest)), rng.choice(inside, size)


def step_psi(binned: Binned, rounds: np.ndarray, order: list[str], size_before: int, size_after: int,
             replicates: int, rng: np.random.Generator) -> np.ndarray:
    """PSI between consecutive reference rounds, each resampled to the size of its counterpart (the round
    before the checked one, the checked one), ``(replicates, columns)``: how much a year changes by itself.
    One reference round: the round against resamples of itself (sampling noise only)."""
    ids = [r for r in order if (rounds == r).any()]
    steps = list(zip(ids[:-1], ids[1:])) or [(ids[0], ids[0])]
    out = []
    for b in range(replicates):
        a, c = steps[b % len(steps)]
        before, after = np.flatnonzero(rounds == a), np.flatnonzero(rounds == c)
        out.append(psi_from_counts(binned.counts(rng.choice(before, size_before)),
                                   binned.counts(rng.choice(after, size_after))))
    return np.array(out)


def null_psi(binned: Binned, rounds: np.ndarray, size: int, replicates: int,
             rng: np.random.Generator) -> np.ndarray:
    """PSI of every column in every replicate, ``(replicates, columns)``."""
    return np.array([psi_from_counts(binned.counts(ref), binned.counts(cur))
                     for ref, cur in held_out_pairs(rounds, size, replicates, rng)])


def null_of(stat: Callable[[np.ndarray, np.ndarray], float], rounds: np.ndarray, size: int, replicates: int,
            rng: np.random.Generator) -> np.ndarray:
    """Any statistic of (reference-like rows, round-like rows) over the replicates."""
    return np.array([stat(ref, cur) for ref, cur in held_out_pairs(rounds, size, replicates, rng)])


def upper(null: np.ndarray, q: float = ALARM_QUANTILE) -> np.ndarray:
    """The alarm threshold: the ``q`` quantile of the replicates (per column)."""
    return np.quantile(null, q, axis=0)


def count_threshold(null: np.ndarray, thresholds: np.ndarray, q: float = ALARM_QUANTILE) -> int:
    """How many columns exceed their thresholds together in a replicate, at the ``q`` quantile (at least 1):
    indicators are correlated, so "many at once" is judged against the same replicates, not a binomial."""
    together = (null > thresholds).sum(axis=1)
    return max(1, int(np.ceil(np.quantile(together, q))))
