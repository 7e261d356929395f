"""The true risk: P(hardship income per capita falls below the next line at the next survey | the full
latent state now), by Monte Carlo through the very ``step`` that makes the real next round."""

from __future__ import annotations

import numpy as np

from features.simulator.state import State, take_range, tile
from features.simulator.step import line_of, step

DEFAULT_REPLICATES = 32
CHUNK_HOUSEHOLDS = 2048  # households a batch: chunk x replicates rows bound the memory


def true_risk(s: State, rng: np.random.Generator, replicates: int = DEFAULT_REPLICATES,
              chunk: int = CHUNK_HOUSEHOLDS) -> np.ndarray:
    """For each household of ``s``: the share of ``replicates`` fresh next years in which it falls below the
    line of the next year. Replicates where the household dies out do not count (it would be unlabelled);
    leaving the survey is ignored (the label is conditional on being surveyed again)."""
    n = s.n_households
    out = np.zeros(n)
    line_next = line_of(s, s.year + 1)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        sub = take_range(s, start, stop)
        nxt, _ = step(tile(sub, replicates), rng)
        width = stop - start
        alive = (nxt.hh["size"] > 0).reshape(replicates, width)
        falls = (nxt.hh["hardship_pc"].reshape(replicates, width) < line_next[start:stop]) & alive
        out[start:stop] = falls.sum(axis=0) / np.maximum(alive.sum(axis=0), 1)
    return out
