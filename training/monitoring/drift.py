"""Drift of one round against a reference: indicators, segments, the score and its expected performance.

Segments are judged by contrast, not by their own change: a county is drifted when it differs from the rest
of the round more than it ever did in the reference rounds (same bootstrap as ``null``). What moves every
county alike (a year's prices, a new round of panel history) cancels; what moves one county shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from training.monitoring import null as N
from training.monitoring.rounds import SEGMENT_COLUMNS, RoundFrames
from training.monitoring.stats import chi_square_p, ks_statistic, psi_from_counts, total_variation

MIN_SEGMENT_ROWS = 100     # a segment smaller than this in the round or a reference round is not judged
TOP_INDICATORS = 5


@dataclass
class IndicatorDrift:
    name: str
    psi: float
    statistic: float          # KS distance (numeric) or total variation (flags, codes)
    statistic_name: str
    threshold: float
    drifted: bool
    missing_reference: float
    missing_round: float
    missing_threshold: float
    chi2_p: float | None = None

    @property
    def missing_jump(self) -> bool:
        return abs(self.missing_round - self.missing_reference) > self.missing_threshold


@dataclass
class SegmentDrift:
    by: str
    value: str
    psi_max: float            # the largest own change (round vs the segment's reference) of any indicator
    drifted: bool
    indicators: list[str] = field(default_factory=list)   # moved against the rest of the round, largest first
    count_threshold: int = 0
    rows: int = 0


def categorical_columns(names: list[str]) -> np.ndarray:
    """Flags and codes are compared as categories (total variation, chi-square); the rest as numbers (KS)."""
    from features.catalogue import by_name

    return np.array([by_name(n).categorical or by_name(n).unit in ("flag", "code") for n in names])


def indicator_drift(ref: RoundFrames, cur: RoundFrames, rng: np.random.Generator,
                    replicates: int = N.DEFAULT_REPLICATES) -> list[IndicatorDrift]:
    """Per indicator: PSI on the reference's quantile bins, its threshold, KS or TV, missing shares."""
    bref, bcur = N.bin_by_reference(ref.values, cur.values)
    psi = psi_from_counts(bref.counts(), bcur.counts())
    null_counts = [(bref.counts(r), bref.counts(c))
                   for r, c in N.held_out_pairs(ref.rounds, len(cur.values), replicates, rng)]
    null_psi = np.array([psi_from_counts(r, c) for r, c in null_counts])
    null_missing = np.array([np.abs(c[:, -1] / c.sum(axis=1) - r[:, -1] / r.sum(axis=1)) for r, c in null_counts])
    thresholds, miss_thr = N.upper(null_psi), N.upper(null_missing)
    categorical = categorical_columns(ref.names)
    rc, cc = bref.counts(), bcur.counts()
    out = []
    for j, name in enumerate(ref.names):
        a, b = ref.values[:, j], cur.values[:, j]
        if categorical[j]:
            stat, stat_name, p = total_variation(rc[j, :-1], cc[j, :-1]), "total_variation", chi_square_p(rc[j, :-1], cc[j, :-1])
        else:
            stat, stat_name, p = ks_statistic(a, b), "ks", None
        out.append(IndicatorDrift(name, float(psi[j]), stat, stat_name, float(thresholds[j]),
                                  bool(psi[j] > thresholds[j]), float(rc[j, -1] / max(rc[j].sum(), 1)),
                                  float(cc[j, -1] / max(cc[j].sum(), 1)), float(miss_thr[j]), p))
    return out


def _contrast_null(binned: N.Binned, rounds: np.ndarray, inside: np.ndarray, n_in: int, n_out: int,
                   replicates: int, rng: np.random.Generator) -> np.ndarray:
    """PSI of the segment against the rest within each reference round, resampled to the round's sizes."""
    ids = [r for r in np.unique(rounds) if (inside & (rounds == r)).sum() >= MIN_SEGMENT_ROWS]
    out = []
    for b in range(replicates):
        k = rounds == ids[b % len(ids)]
        seg, rest = np.flatnonzero(k & inside), np.flatnonzero(k & ~inside)
        out.append(psi_from_counts(binned.counts(rng.choice(rest, n_out)), binned.counts(rng.choice(seg, n_in))))
    return np.array(out)


def segment_drift(ref: RoundFrames, cur: RoundFrames, rng: np.random.Generator,
                  replicates: int = N.DEFAULT_REPLICATES) -> list[SegmentDrift]:
    """Each county and household type against the rest of its round (see the module docstring)."""
    bref, bcur = N.bin_by_reference(ref.values, cur.values)
    out = []
    for by in SEGMENT_COLUMNS:
        ref_v, cur_v = ref.frame[by].to_numpy(dtype=str), cur.frame[by].to_numpy(dtype=str)
        values = sorted(set(cur_v))
        for value in values:
            inside_cur, inside_ref = cur_v == value, ref_v == value
            n_in, n_out = int(inside_cur.sum()), int((~inside_cur).sum())
            per_round = [(inside_ref & (ref.rounds == r)).sum() for r in np.unique(ref.rounds)]
            judged = (len(values) >= 2 and n_in >= MIN_SEGMENT_ROWS and n_out >= MIN_SEGMENT_ROWS
                      and max(per_round, default=0) >= MIN_SEGMENT_ROWS)
            own = psi_from_counts(bref.counts(inside_ref), bcur.counts(inside_cur)) if inside_ref.any() else \
                np.zeros(len(ref.names))
            seg = SegmentDrift(by, value, float(own.max()) if len(own) else 0.0, False, rows=n_in)
            if judged:
                contrast = psi_from_counts(bcur.counts(~inside_cur), bcur.counts(inside_cur))
                null = _contrast_null(bref, ref.rounds, inside_ref, n_in, n_out, replicates, rng)
                thr = N.upper(null)
                rest_own = psi_from_counts(bref.counts(~inside_ref), bcur.counts(~inside_cur))
                moved = (contrast > thr) & (own > rest_own)
                seg.count_threshold = N.count_threshold(null, thr)
                seg.drifted = bool(moved.sum() > seg.count_threshold)
                order = np.argsort(-(contrast / np.maximum(thr, 1e-6)))
                seg.indicators = [ref.names[j] for j in order if moved[j]][:TOP_INDICATORS]
            out.append(seg)
    return out
