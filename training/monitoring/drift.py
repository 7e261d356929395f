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


def _contrast_nulls(binned: N.Binned, rounds: np.ndarray, code: np.ndarray, judged: dict[int, tuple[int, int]],
                    size: int, replicates: int, rng: np.random.Generator) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each judged segment (its code -> rows in the round, rows of the rest), PSI of the segment against the
    rest within each reference round, the segment resampled to its size in the round and the rest to the
    round's; and the round each replicate came from. Replicate ``b`` of a segment uses its ``b``-th round in
    turn (rounds where it has ``MIN_SEGMENT_ROWS``). One resample of a whole reference round (``size`` rows)
    serves every segment that uses that round in that turn: its rows outside the segment are the rest's
    resample, counted for all segments in one pass (``Binned.counts_by``); only the segment's own draw is
    per segment. Counting the rest once per segment and replicate instead costs counties × round rows, which
    at a province's size (hundreds of counties, a million rows a round) is days of CPU."""
    n_groups = int(code.max(initial=0)) + 1
    ids = np.unique(rounds)
    in_round = {r: rounds == r for r in ids}
    uses: dict[tuple[str, int], list[tuple[int, int]]] = {}   # (round, turn) -> [(segment, replicate)]
    own_rounds = {}
    for seg in judged:
        inside = code == seg
        own_rounds[seg] = [r for r in ids if (inside & in_round[r]).sum() >= MIN_SEGMENT_ROWS]
        for b in range(replicates):
            k = own_rounds[seg][b % len(own_rounds[seg])]
            uses.setdefault((k, b // len(own_rounds[seg])), []).append((seg, b))
    out = {seg: (np.empty((replicates, binned.n_columns)), np.empty(replicates, dtype=object)) for seg in judged}
    grouped = {}   # round -> its rows ordered by segment, and where each segment starts
    for k in ids:
        members = np.flatnonzero(in_round[k])
        ordered = members[np.argsort(code[members], kind="stable")]
        grouped[k] = (members, ordered, np.searchsorted(code[ordered], np.arange(n_groups + 1)))
    for (k, _turn), pairs in sorted(uses.items()):
        members, ordered, starts = grouped[k]
        drawn = rng.choice(members, size)
        by_group = binned.counts_by(code[drawn], n_groups, drawn)
        total = by_group.sum(axis=0)
        for seg, b in pairs:
            seg_rows = ordered[starts[seg]:starts[seg + 1]]
            out[seg][0][b] = psi_from_counts(total - by_group[seg], binned.counts(rng.choice(seg_rows, judged[seg][0])))
            out[seg][1][b] = k
    return {seg: (null, which.astype(str)) for seg, (null, which) in out.items()}


def _codes(values: list[str], x: np.ndarray) -> np.ndarray:
    """Position of each of ``x`` in the sorted ``values``; ``len(values)`` where it is not one of them."""
    pos = np.searchsorted(values, x)
    found = pos < len(values)
    found[found] = np.asarray(values)[pos[found]] == x[found]
    return np.where(found, pos, len(values))


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
    in ``indicator_drift``. Every count is taken once per kind of segment, all segments together
    (``Binned.counts_by``), and the rest of a round is its total less the segment: the cost grows with the
    rows, not with rows × segments."""
    bref, bcur = binned or N.bin_by_reference(ref.values, cur.values)
    families = indicator_families(ref.names)
    family_names = [str(f) for f in np.unique(families)]
    last_round = ref.frame.sort_values("as_of")["round_id"].iloc[-1]
    round_ids = list(np.unique(ref.rounds))
    round_of = np.searchsorted(round_ids, ref.rounds)
    last = round_ids.index(last_round)
    out = []
    for by in SEGMENT_COLUMNS:
        ref_v, cur_v = ref.frame[by].to_numpy(dtype=str), cur.frame[by].to_numpy(dtype=str)
        values = sorted(set(cur_v))
        n = len(values)
        cur_code = np.searchsorted(values, cur_v)
        ref_code = _codes(values, ref_v)       # a value absent from the round: code n, part of every rest
        cur_seg = bcur.counts_by(cur_code, n)                                       # (segment, column, bin)
        ref_seg_round = bref.counts_by(ref_code * len(round_ids) + round_of, (n + 1) * len(round_ids)).reshape(
            n + 1, len(round_ids), bref.n_columns, N.N_BINS)                        # (segment, round, column, bin)
        rows_cur = np.bincount(cur_code, minlength=n)
        rows_ref = np.bincount(ref_code * len(round_ids) + round_of, minlength=(n + 1) * len(round_ids)).reshape(
            n + 1, len(round_ids))
        cur_total, ref_last_total = cur_seg.sum(axis=0), ref_seg_round[:, last].sum(axis=0)
        judged = {i: (int(rows_cur[i]), int(len(cur_v) - rows_cur[i])) for i in range(n)
                  if n >= 2 and rows_cur[i] >= MIN_SEGMENT_ROWS and len(cur_v) - rows_cur[i] >= MIN_SEGMENT_ROWS
                  and rows_ref[i].max() >= MIN_SEGMENT_ROWS}
        nulls = _contrast_nulls(bref, ref.rounds, ref_code, judged, len(cur_v), replicates, rng)
        scored: list[tuple[SegmentDrift, np.ndarray]] = []   # (segment, excess of each indicator)
        honest = []
        for i, value in enumerate(values):
            own = psi_from_counts(ref_seg_round[i].sum(axis=0), cur_seg[i]) if rows_ref[i].any() else \
                np.zeros(len(ref.names))
            seg = SegmentDrift(by, value, float(own.max()) if len(own) else 0.0, False, rows=int(rows_cur[i]))
            out.append(seg)
            if i not in judged:
                continue
            contrast = psi_from_counts(cur_total - cur_seg[i], cur_seg[i])
            null, which = nulls[i]
            thr = N.upper(null)
            # Which side moved: against the latest reference round, the segment changed more than the rest.
            own_last = psi_from_counts(ref_seg_round[i, last], cur_seg[i])
            rest_last = psi_from_counts(ref_last_total - ref_seg_round[i, last], cur_total - cur_seg[i])
            moved = (contrast > np.maximum(thr, PSI_FLOOR)) & (own_last > rest_last)
            seg.moved = int(moved.sum())
            scored.append((seg, np.where(moved, excess(contrast, thr), 0.0)))
            honest.append(honest_scores(null, which, families, family_names))
        limits = family_limits(honest, family_names) if honest else {}
        for seg, ex in scored:
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
