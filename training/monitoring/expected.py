"""The score's drift and the model's expected performance without labels.

Expected metrics follow CBPE: with calibrated risks p, the expected number of fallers among the top k% is
the sum of p over them, so expected recall@k = sum(p top k) / sum(p) and precision@k = sum(p top k) / k.
They hold only while calibration holds (no change in how indicators relate to the outcome); realised
metrics replace them once the next round's outcomes are in.
"""

from __future__ import annotations

import numpy as np

from models.tiers import TIERS, assign
from training.monitoring import null as N
from training.monitoring.drift import PSI_FLOOR
from training.monitoring.stats import psi_from_counts

BUDGET = 0.10  # the visiting budget of the interface metrics recall_at_10pct / precision_at_10pct
RECALIBRATED = ("positive_rate_recalibrated", "recall_at_10pct_recalibrated", "precision_at_10pct_recalibrated")


def expected_metrics(risk: np.ndarray, budget: float = BUDGET) -> dict[str, float]:
    p = np.sort(np.asarray(risk, float)[np.isfinite(risk)])[::-1]
    if len(p) == 0:
        return {"positive_rate": float("nan"), "recall_at_10pct": float("nan"), "precision_at_10pct": float("nan")}
    k = int(np.ceil(budget * len(p)))
    top = p[:k].sum()
    return {"positive_rate": float(p.mean()), "recall_at_10pct": float(top / p.sum()) if p.sum() else float("nan"),
            "precision_at_10pct": float(top / k)}


def band_ratios(risk: np.ndarray, y: np.ndarray, bands: int = 10) -> tuple[np.ndarray, np.ndarray] | None:
    """Fallers over summed risk in each risk decile of labelled rows the scorer was not fit on (one pseudo-
    faller on each side, so a band without fallers is not set to zero): how the calibration's shape held.
    None when no labelled row is given."""
    ok = np.isfinite(risk) & np.isfinite(y)
    if not ok.any():
        return None
    risk, y = risk[ok], y[ok]
    edges = np.unique(np.quantile(risk, np.linspace(0, 1, bands + 1)[1:-1]))
    band = np.searchsorted(edges, risk, side="right")
    ratio = np.array([(y[band == b].sum() + 1.0) / (risk[band == b].sum() + 1.0) for b in range(len(edges) + 1)])
    return edges, ratio


def recalibrated_metrics(risk: np.ndarray, ratios: tuple[np.ndarray, np.ndarray] | None,
                         budget: float = BUDGET) -> dict[str, float | None]:
    """Expected positive rate, recall and precision at the budget with each risk scaled by its band's ratio
    (``band_ratios``): CBPE's expectation with the calibration re-fitted on the labelled rounds. The order of
    the visits stays the model's; only the expected fallers in each band change. Values are None without
    labelled rows to fit the ratios on (the keys stay: one JSON shape)."""
    p = np.asarray(risk, float)[np.isfinite(risk)]
    if ratios is None or len(p) == 0:
        return dict.fromkeys(RECALIBRATED)
    edges, ratio = ratios
    q = np.clip(p * ratio[np.searchsorted(edges, p, side="right")], 0.0, 1.0)
    k = int(np.ceil(budget * len(p)))
    top = q[np.argsort(-p, kind="stable")[:k]].sum()
    return {"positive_rate_recalibrated": float(q.mean()),
            "recall_at_10pct_recalibrated": float(top / q.sum()) if q.sum() else None,
            "precision_at_10pct_recalibrated": float(top / k)}


def realised_metrics(y: np.ndarray, risk: np.ndarray, budget: float = BUDGET) -> dict[str, float]:
    from training.metrics import precision_at_k, recall_at_k

    ok = np.isfinite(y) & np.isfinite(risk)
    y, risk = y[ok], risk[ok]
    if len(y) == 0:
        return {"positive_rate": float("nan"), "recall_at_10pct": float("nan"), "precision_at_10pct": float("nan"),
                "rows": 0}
    return {"positive_rate": float(y.mean()), "recall_at_10pct": recall_at_k(y, risk, budget),
            "precision_at_10pct": precision_at_k(y, risk, budget), "rows": int(len(y))}


def realised_interval(y: np.ndarray, risk: np.ndarray, rng: np.random.Generator, replicates: int = 200,
                      level: float = 0.95) -> dict[str, list[float]]:
    """Bootstrap interval of the realised recall and precision at the budget."""
    ok = np.isfinite(y) & np.isfinite(risk)
    y, risk = y[ok], risk[ok]
    if len(y) == 0:
        return {}
    draws = [realised_metrics(y[i], risk[i]) for i in (rng.integers(0, len(y), len(y)) for _ in range(replicates))]
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    return {m: [float(np.nanquantile([d[m] for d in draws], lo)), float(np.nanquantile([d[m] for d in draws], hi))]
            for m in ("recall_at_10pct", "precision_at_10pct")}


def score_drift(ref_risk: np.ndarray, ref_rounds: np.ndarray, cur_risk: np.ndarray, thresholds: dict[str, float],
                rng: np.random.Generator, replicates: int = N.DEFAULT_REPLICATES, *,
                prev_risk: np.ndarray | None = None, prev_round: str | None = None,
                ref_order: list[str] | None = None, rounds_since: int = 1) -> dict:
    """The risk's change since the previous round against the reference's own round-to-round changes (the
    alarm), its PSI against the whole reference (shown, with the cumulative range of ``rounds_since`` rounds),
    tier shares; expected metrics of the round with the interval the reference's own rounds give them."""
    ok_ref, ok_cur = np.isfinite(ref_risk), np.isfinite(cur_risk)
    ref_risk, ref_rounds, cur_risk = ref_risk[ok_ref], ref_rounds[ok_ref], cur_risk[ok_cur]
    prev = ref_risk[ref_rounds == ref_order[-1]] if prev_risk is None and ref_order else prev_risk
    prev = prev[np.isfinite(prev)] if prev is not None else ref_risk
    bref, bcur, bprev = N.bin_by_reference(ref_risk[:, None], cur_risk[:, None], prev[:, None])
    psi = float(psi_from_counts(bref.counts(), bcur.counts())[0])
    pairs = list(N.held_out_pairs(ref_rounds, len(cur_risk), replicates, rng))
    null_psi = np.array([psi_from_counts(bref.counts(r), bref.counts(c))[0] for r, c in pairs])
    step = float(psi_from_counts(bprev.counts(), bcur.counts())[0])
    step_null = N.step_psi(bref, ref_rounds, ref_order or sorted(set(ref_rounds)), len(prev), len(cur_risk),
                           replicates, rng)[:, 0]
    step_threshold = max(float(N.upper(step_null)), PSI_FLOOR)
    expected = expected_metrics(cur_risk)
    interval = predictive_interval(ref_risk, ref_rounds, len(cur_risk), rng, replicates)
    outside = [m for m in PERFORMANCE if not interval[m][0] <= expected[m] <= interval[m][1]]
    return {
        "score": {"psi": psi, "threshold": float(N.upper(null_psi)) * max(rounds_since, 1),
                  "rounds_since_reference": int(rounds_since),
                  "step_psi": step, "step_threshold": step_threshold, "previous_round": prev_round,
                  "drifted": step > step_threshold,
                  "tier_shares": _shares(cur_risk, thresholds), "tier_shares_reference": _shares(ref_risk, thresholds)},
        "expected": {**expected, "interval": interval, "outside_interval": outside,
                     "reference": expected_metrics(ref_risk), "rows": int(len(cur_risk)),
                     "assumes": "calibration still holds (no concept drift)"},
    }


# Alarmed on: recall at the budget, the share of next year's fallers the visits reach. Precision at the budget is
# recall x positive rate / budget, so beyond recall it moves with the base rate -- the world, not the model --
# and is shown with its interval, not alarmed on (nor is the positive rate).
PERFORMANCE = ("recall_at_10pct",)
INTERVAL_LEVEL = 0.95


def predictive_interval(risk: np.ndarray, rounds: np.ndarray, size: int, rng: np.random.Generator,
                        replicates: int, level: float = INTERVAL_LEVEL) -> dict[str, list[float]]:
    """Where the expected metrics of a new round of ``size`` households fall if it is like the reference's
    rounds: mean of the rounds +- t(K-1) x sqrt(between-round variance + sampling variance), the sampling
    part by bootstrap, within [0, 1]. Few reference rounds give a wide interval, as they should."""
    from scipy import stats

    ids = np.unique(rounds)
    per_round = [expected_metrics(risk[rounds == r]) for r in ids]
    draws = [expected_metrics(risk[rng.choice(np.flatnonzero(rounds == ids[b % len(ids)]), size)])
             for b in range(replicates)]
    out = {}
    for m in per_round[0]:
        values = np.array([x[m] for x in per_round])
        within = np.var([d[m] - per_round[b % len(ids)][m] for b, d in enumerate(draws)], ddof=1)
        between = np.var(values, ddof=1) if len(values) >= 2 else 0.0
        q = stats.t.ppf(0.5 + level / 2, len(values) - 1) if len(values) >= 2 else stats.norm.ppf(0.5 + level / 2)
        half = q * np.sqrt(between + within)
        out[m] = [float(max(values.mean() - half, 0.0)), float(min(values.mean() + half, 1.0))]  # rates
    return out


def _shares(risk: np.ndarray, thresholds: dict[str, float]) -> dict[str, float]:
    tiers = assign(risk, thresholds)
    return {t: float((tiers == t).mean()) if len(tiers) else 0.0 for t in TIERS}
