"""Drift of one round against a reference: indicators, segments, the score and its expected performance.

Segments are judged by contrast, not by their own change: a county is drifted when it differs from the rest
of the round more than it did in the reference rounds (same bootstrap as ``null``), and changed more than
the rest did. What moves every county alike (a year's prices, a new round of panel history) cancels; what
moves one county shows. Within each catalogue family the indicators beyond their thresholds are summed into
one score (log of how far each is beyond), so that one indicator far off (transfers halved) and several a
little off both count; each family has its own limit, because reported shocks cluster by county in ordinary
years (a price slump, a hailstorm) while survey income does not. The limit is set by all the segments of a
kind together (every county's held-out reference years), since one county's few years cannot show how far an
ordinary year moves a county against the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from training.monitoring import null as N
from training.monitoring.rounds import SEGMENT_COLUMNS, RoundFrames
from training.monitoring.stats import chi_square_p, ks_statistic, psi_from_counts, total_variation

MIN_SEGMENT_ROWS = 100     # a segment smaller than this in the round or a reference round is not judged
PSI_FLOOR = 0.01           # a PSI below this is no change at all, whatever the bootstrap says
TAIL_SHARE = 0.1           # the top share of held-out segment scores an exponential tail is fitted to


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
    shares_reference: list[float] = field(default_factory=list)   # per bin, missing last (for the charts)
    shares_round: list[float] = field(default_factory=list)

    @property
    def missing_jump(self) -> bool:
        return abs(self.missing_round - self.missing_reference) > self.missing_threshold


@dataclass
class SegmentDrift:
    by: str
    value: str
    psi_max: float            # the largest own change (round vs the segment's reference) of any indicator
    drifted: bool
    indicators: list[str] = field(default_factory=list)   # moved against the rest of the round, furthest first
    families: list[str] = field(default_factory=list)     # indicator families beyond their limit
    family: str = ""          # the family closest to (or furthest beyond) its limit
    score: float = 0.0        # that family's sum over moved indicators of log(contrast / threshold)
    score_limit: float = 0.0  # that family's limit, shared by every segment of this kind (``family_limits``)
    moved: int = 0            # indicators that moved against the rest of the round
    rows: int = 0


def categorical_columns(names: list[str]) -> np.ndarray:
    """Flags and codes are compared as categories (total variation, chi-square); the rest as numbers (KS)."""
    from features.indicators.catalogue import by_name

    return np.array([by_name(n).categorical or by_name(n).unit in ("flag", "code") for n in names])


def indicator_families(names: list[str]) -> np.ndarray:
    """Catalogue family of each indicator (income structure, illness, shocks, ...): a segment is judged family
    by family, since reported shocks cluster by county in ordinary years while survey income does not."""
    from features.indicators.catalogue import by_name

    return np.array([by_name(n).family for n in names])


def indicator_drift(ref: RoundFrames, cur: RoundFrames, rng: np.random.Generator,
                    replicates: int = N.DEFAULT_REPLICATES, binned: list[N.Binned] | None = None) -> list[IndicatorDrift]:
    """Per indicator: PSI on the reference's quantile bins, its threshold, KS or TV, missing shares.
    ``binned``: ``N.bin_by_reference(ref.values, cur.values)`` when the caller has it already."""
    bref, bcur = binned or N.bin_by_reference(ref.values, cur.values)
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
        if categorical[j]:
            stat, stat_name, p = total_variation(rc[j, :-1], cc[j, :-1]), "total_variation", chi_square_p(rc[j, :-1], cc[j, :-1])
        else:  # a column of the reference and of the round at a time (see ``columns``)
            stat, stat_name, p = ks_statistic(ref.values.column(j), cur.values.column(j)), "ks", None
        out.append(IndicatorDrift(name, float(psi[j]), stat, stat_name, float(thresholds[j]),
                                  bool(psi[j] > max(thresholds[j], PSI_FLOOR)), float(rc[j, -1] / max(rc[j].sum(), 1)),
                                  float(cc[j, -1] / max(cc[j].sum(), 1)), float(miss_thr[j]), p,
                                  list(np.round(rc[j] / max(rc[j].sum(), 1), 4)),
                                  list(np.round(cc[j] / max(cc[j].sum(), 1), 4))))
    return out


def _contrast_null(binned: N.Binned, rounds: np.ndarray, inside: np.ndarray, n_in: int, n_out: int,
                   replicates: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """PSI of the segment against the rest within each reference round, resampled to the round's sizes;
    and the round each replicate came from."""
    ids = [r for r in np.unique(rounds) if (inside & (rounds == r)).sum() >= MIN_SEGMENT_ROWS]
    out, which = [], []
    for b in range(replicates):
        k = rounds == ids[b % len(ids)]
        seg, rest = np.flatnonzero(k & inside), np.flatnonzero(k & ~inside)
        out.append(psi_from_counts(binned.counts(rng.choice(rest, n_out)), binned.counts(rng.choice(seg, n_in))))
        which.append(ids[b % len(ids)])
    return np.array(out), np.array(which)


def excess(contrast: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How far each indicator is beyond its threshold, in log units (0 when within it); thresholds below
    ``PSI_FLOOR`` count as the floor, so an indicator constant in the reference cannot explode the sum."""
    return np.log(np.maximum(contrast, 1e-12) / np.maximum(thresholds, PSI_FLOOR)).clip(min=0)


def honest_scores(null: np.ndarray, which: np.ndarray, families: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """Per family, the score each replicate of a reference round reaches against thresholds set without that
    round (each round held out in turn): a new round brings year effects the thresholds have not seen, and
    this is how large they were in the reference. One round: the replicates against their own thresholds."""
    ids = np.unique(which)
    ex = np.zeros_like(null)
    for k in ids:
        own = which == k
        ex[own] = excess(null[own], N.upper(null[~own] if len(ids) >= 2 else null))
    return {name: ex[:, families == name].sum(axis=1) for name in names}


def family_limits(honest: list[dict[str, np.ndarray]], names: list[str]) -> dict[str, float]:
    """The score limit of each family for every segment of one kind (every county, say), from the held-out
    scores of all of them pooled: one county's two or three reference years cannot show how far an ordinary
    year moves a county against the rest (its prices fall while its neighbours' do not), every county's years
    together can. A new round brings as many new county-years as there are counties, and the largest of them
    is what could raise a false alarm; so the limit is where the pooled scores' tail puts a chance of 1 % /
    (number of segments), extrapolated beyond the few county-years seen by an exponential tail fitted to the
    top tenth (peaks over threshold), and never below the 99th percentile of the replicates' largest score."""
    alpha = (1 - N.ALARM_QUANTILE) / len(honest)
    limits = {}
    for name in names:
        pooled = np.concatenate([h[name] for h in honest])
        largest = float(np.quantile(np.max(np.vstack([h[name] for h in honest]), axis=0), N.ALARM_QUANTILE))
        limits[name] = max(largest, tail_quantile(pooled, alpha))
    return limits


def tail_quantile(x: np.ndarray, alpha: float, top: float = TAIL_SHARE) -> float:
    """The value exceeded with chance ``alpha``: above the ``1 - top`` quantile ``u`` the excesses are taken as
    exponential with their mean ``beta``, so P(X > u + t) = P(X > u) exp(-t / beta)."""
    u = float(np.quantile(x, 1 - top))
    above = x[x > u]
    share = len(above) / max(len(x), 1)
    if not len(above) or share <= alpha:
        return u
    return u + float((above - u).mean()) * float(np.log(share / alpha))


def segment_drift(ref: RoundFrames, cur: RoundFrames, rng: np.random.Generator,
                  replicates: int = N.DEFAULT_REPLICATES, binned: list[N.Binned] | None = None) -> list[SegmentDrift]:
    """Each county and household type against the rest of its round (see the module docstring); ``binned`` as
    in ``indicator_drift``."""
    bref, bcur = binned or N.bin_by_reference(ref.values, cur.values)
    families = indicator_families(ref.names)
    family_names = [str(f) for f in np.unique(families)]
    last_round = ref.frame.sort_values("as_of")["round_id"].iloc[-1]
    latest = ref.rounds == last_round
    out = []
    for by in SEGMENT_COLUMNS:
        ref_v, cur_v = ref.frame[by].to_numpy(dtype=str), cur.frame[by].to_numpy(dtype=str)
        values = sorted(set(cur_v))
        judged: list[tuple[SegmentDrift, np.ndarray]] = []   # (segment, excess of each indicator)
        honest = []
        for value in values:
            inside_cur, inside_ref = cur_v == value, ref_v == value
            n_in, n_out = int(inside_cur.sum()), int((~inside_cur).sum())
            per_round = [(inside_ref & (ref.rounds == r)).sum() for r in np.unique(ref.rounds)]
            own = psi_from_counts(bref.counts(inside_ref), bcur.counts(inside_cur)) if inside_ref.any() else \
                np.zeros(len(ref.names))
            seg = SegmentDrift(by, value, float(own.max()) if len(own) else 0.0, False, rows=n_in)
            out.append(seg)
            if not (len(values) >= 2 and n_in >= MIN_SEGMENT_ROWS and n_out >= MIN_SEGMENT_ROWS
                    and max(per_round, default=0) >= MIN_SEGMENT_ROWS):
                continue
            contrast = psi_from_counts(bcur.counts(~inside_cur), bcur.counts(inside_cur))
            null, which = _contrast_null(bref, ref.rounds, inside_ref, n_in, n_out, replicates, rng)
            thr = N.upper(null)
            # Which side moved: against the latest reference round, the segment changed more than the rest.
            own_last = psi_from_counts(bref.counts(inside_ref & latest), bcur.counts(inside_cur))
            rest_last = psi_from_counts(bref.counts(~inside_ref & latest), bcur.counts(~inside_cur))
            moved = (contrast > np.maximum(thr, PSI_FLOOR)) & (own_last > rest_last)
            seg.moved = int(moved.sum())
            judged.append((seg, np.where(moved, excess(contrast, thr), 0.0)))
            honest.append(honest_scores(null, which, families, family_names))
        limits = family_limits(honest, family_names) if honest else {}
        for seg, ex in judged:
            _judge(seg, ex, families, limits, ref.names)
    return out


def _judge(seg: SegmentDrift, ex: np.ndarray, families: np.ndarray, limits: dict[str, float],
           names: list[str]) -> None:
    """Sum each family's excesses, compare with the family's limit, and name the indicators furthest beyond."""
    for fam, limit in limits.items():
        score = float(ex[families == fam].sum())
        if score > limit:
            seg.families.append(fam)
        if score - limit > seg.score - seg.score_limit or not seg.family:
            seg.score, seg.score_limit, seg.family = score, limit, fam
    seg.drifted = bool(seg.families)
    keep = np.isin(families, seg.families) if seg.families else np.ones(len(families), bool)
    seg.indicators = [names[j] for j in np.argsort(-ex) if ex[j] > 0 and keep[j]]
