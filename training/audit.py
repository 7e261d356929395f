"""Equity audit arithmetic: does the visit list find the households that will fall equally well in every group?

Input: one row per labelled household of one round — ``fell`` (0/1, fell below the line at the next round),
``risk`` (calibrated), ``high`` (in the high tier) and one column per group attribute (string values).
A county visits the top ``budget`` share of the round by risk, so the flags are drawn over the whole round,
never per group (per-group quotas are a mitigation, see ``training.audit_mitigation``).

Per group and per view (the budget, the high tier): n, falls, flag rate, recall, FNR, FPR, precision, mean
predicted vs observed rate, ECE — point estimates from fairlearn's ``MetricFrame``; 95 % intervals from one
household bootstrap of the round shared by every group, so ratios to the reference group (the largest, or
the user's) get joint intervals. A group (or its reference) with fewer than ``min_falls`` falls or
``min_households`` households is "insufficient evidence", never fair. A disparity is a recall ratio or FNR
ratio whose interval lies wholly outside ``fair_band``; "no disparity found" needs both intervals wholly
inside it, and anything between is "inconclusive". Fisher's exact test of the recall against the
reference, Benjamini–Hochberg over every group tested, is reported beside the verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from training.config import AuditConfig

METRICS = ("flag_rate", "recall", "fnr", "fpr", "precision", "mean_predicted", "observed_rate", "ece")
COMPARED = ("recall", "fnr")          # compared to the reference group: ratio and difference
VIEWS = ("budget", "high_tier")
ECE_BINS = 10
SUM_BLOCK = 8                         # replicates per sparse product (memory: block x households, float)
BOOT_CHUNK = 16                       # bootstrap replicates drawn at once (memory: chunk x households, 12 B)
INTERSECTION = "×"


class AuditError(ValueError):
    """The audit cannot run as asked (unknown reference group, no labelled rows, ...)."""


# ---- per-group metrics from sums (the bootstrap's arithmetic) -------------------------------------------

def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def metrics_from_sums(s: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The audit metrics from (weighted) sums per group: n, falls, flagged, tp, sum_p and |Δ| per ECE bin."""
    recall = _ratio(s["tp"], s["falls"])
    return {
        "flag_rate": _ratio(s["flagged"], s["n"]),
        "recall": recall,
        "fnr": 1.0 - recall,
        "fpr": _ratio(s["flagged"] - s["tp"], s["n"] - s["falls"]),
        "precision": _ratio(s["tp"], s["flagged"]),
        "mean_predicted": _ratio(s["sum_p"], s["n"]),
        "observed_rate": _ratio(s["falls"], s["n"]),
        "ece": _ratio(s["ece_abs"], s["n"]),
    }


def ece_bins(risk: np.ndarray) -> np.ndarray:
    """The bin of each probability among ``ECE_BINS`` equal-width bins (as ``training.metrics``)."""
    edges = np.linspace(0.0, 1.0, ECE_BINS + 1)
    return np.clip(np.digitize(risk, edges[1:-1], right=False), 0, ECE_BINS - 1)


def _design(codes: np.ndarray, n_groups: int, fell: np.ndarray, flag: np.ndarray, risk: np.ndarray):
    """Sparse matrix whose product with row weights gives every per-group sum at once."""
    from scipy import sparse

    n = len(codes)
    rows = np.arange(n)
    cols, vals, rr = [], [], []
    for j, v in enumerate((np.ones(n), fell, flag, fell * flag, risk)):
        rr.append(rows)
        cols.append(codes * 5 + j)
        vals.append(v)
    cell = codes * ECE_BINS + ece_bins(risk)
    base = 5 * n_groups
    rr += [rows, rows]
    cols += [base + cell * 2, base + cell * 2 + 1]
    vals += [risk, fell]
    width = base + 2 * ECE_BINS * n_groups
    return sparse.csr_matrix((np.concatenate(vals).astype(float), (np.concatenate(rr), np.concatenate(cols))),
                             shape=(n, width))


def _sums(weights: np.ndarray, design, n_groups: int) -> dict[str, np.ndarray]:
    """Per-group sums for each row of ``weights`` (replicates x households) → arrays (replicates, groups)."""
    # a few replicates per product: their float copy is SUM_BLOCK x households, not a whole chunk's (each
    # column of the product is summed alone, so the sums are the same)
    prod = np.concatenate([np.asarray((design.T @ weights[s:s + SUM_BLOCK].T.astype(float)).T)
                           for s in range(0, len(weights), SUM_BLOCK)])  # (B, width)
    base = prod[:, : 5 * n_groups].reshape(len(weights), n_groups, 5)
    cells = prod[:, 5 * n_groups:].reshape(len(weights), n_groups, ECE_BINS, 2)
    return {"n": base[..., 0], "falls": base[..., 1], "flagged": base[..., 2], "tp": base[..., 3],
            "sum_p": base[..., 4], "ece_abs": np.abs(cells[..., 0] - cells[..., 1]).sum(axis=2)}


def bootstrap_weights(n: int, n_boot: int, seed: int) -> list[np.ndarray]:
    """Household bootstrap of the round as count weights, in chunks; the same draws serve every group. Kept as
    the smallest unsigned integers that hold them (a household is rarely drawn more than a dozen times), made
    float one chunk at a time by ``_sums``: a province's round is then n_boot bytes per household, not 8×."""
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, n_boot, BOOT_CHUNK):
        b = min(BOOT_CHUNK, n_boot - start)
        counts = np.empty((b, n), dtype=np.uint32)  # not a stack of int64 rows: half the memory, same counts
        for i in range(b):  # one replicate's draws at a time: the same stream as drawing the chunk at once
            counts[i] = np.bincount(rng.integers(0, n, size=n), minlength=n)
        out.append(counts.astype(np.min_scalar_type(int(counts.max(initial=0)))))
    return out


# ---- point estimates (fairlearn) -------------------------------------------------------------------------

def _share(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


POINT_FIELDS = ("n", "falls", *METRICS)


def _point_metrics(y_true, y_pred, prob) -> tuple[float, ...]:
    """Every point metric of one group in one call: fairlearn stacks each argument column per call and per
    metric, so one function for all (instead of ten) keeps a province-sized audit in seconds."""
    from training.metrics import expected_calibration_error

    y, f, p = np.asarray(y_true, float), np.asarray(y_pred, float), np.asarray(prob, float)
    n, falls, flagged, tp = len(y), y.sum(), f.sum(), (y * f).sum()
    recall = _share(tp, falls)
    return (float(n), float(falls), _share(flagged, n), recall, 1.0 - recall, _share(flagged - tp, n - falls),
            _share(tp, flagged), float(p.mean()), float(y.mean()), expected_calibration_error(y, p, ECE_BINS))


def _metric_frame(fell: np.ndarray, flag: np.ndarray, risk: np.ndarray, sensitive: pd.Series) -> pd.DataFrame:
    """Point estimates per group with fairlearn's MetricFrame (index: group value, sorted)."""
    from fairlearn.metrics import MetricFrame

    mf = MetricFrame(metrics={"point": _point_metrics}, y_true=fell.astype(int), y_pred=flag.astype(int),
                     sensitive_features=sensitive.rename("group"), sample_params={"point": {"prob": risk}})
    by = mf.by_group["point"]
    return pd.DataFrame(list(by.to_numpy()), index=by.index.astype(str), columns=list(POINT_FIELDS))


# ---- the audit -------------------------------------------------------------------------------------------

@dataclass
class AuditInput:
    """What is audited: one labelled row per household, and its groups (attribute -> values)."""

    fell: np.ndarray
    risk: np.ndarray
    high: np.ndarray
    groups: pd.DataFrame

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, attributes: Sequence[str]) -> "AuditInput":
        missing = [a for a in ("fell", "risk", "high") if a not in frame.columns]
        if missing:
            raise AuditError(f"audit rows lack columns {missing}")
        if frame["fell"].isna().any():
            raise AuditError("audit rows must be labelled: drop households without a next round first")
        if len(frame) == 0:
            raise AuditError("no labelled households to audit")
        groups = pd.DataFrame(index=frame.index)
        for attr in attributes:
            parts = attr.split(INTERSECTION)
            absent = [p for p in parts if p not in frame.columns]
            if absent:
                raise AuditError(f"no group column {absent} for attribute {attr!r}")
            values = [frame[p].astype("object").where(frame[p].notna(), "(missing)").astype(str) for p in parts]
            col = values[0]
            for v in values[1:]:
                col = col + INTERSECTION + v
            groups[attr] = col
        return cls(frame["fell"].to_numpy(float), frame["risk"].to_numpy(float),
                   frame["high"].to_numpy(bool), groups.reset_index(drop=True))


def budget_flags(risk: np.ndarray, budget: float) -> np.ndarray:
    """The households a county visits: the top ``budget`` share of the whole round by risk."""
    from training.metrics import top_k_mask

    return top_k_mask(np.asarray(risk, float), budget)


def _interval(reps: np.ndarray) -> list[float | None]:
    """Percentile 95 % interval over replicates (NaN replicates dropped); None when none is defined."""
    ok = reps[np.isfinite(reps)]
    if len(ok) < 2:
        return [None, None]
    lo, hi = np.quantile(ok, [0.025, 0.975])
    return [float(lo), float(hi)]


def _num(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def _inside(ci: list[float | None], band: tuple[float, float]) -> bool:
    return ci[0] is not None and ci[1] is not None and band[0] <= ci[0] and ci[1] <= band[1]


def _outside(ci: list[float | None], band: tuple[float, float]) -> bool:
    return ci[0] is not None and ci[1] is not None and (ci[1] < band[0] or ci[0] > band[1])


def _view(inp: AuditInput, flag: np.ndarray, cfg: AuditConfig, weights: list[np.ndarray],
          references: Mapping[str, str]) -> tuple[list[dict], dict]:
    """Group rows and the overall row for one set of flags."""
    rows: list[dict] = []
    overall_codes = np.zeros(len(flag), dtype=np.int64)
    overall_design = _design(overall_codes, 1, inp.fell, flag.astype(float), inp.risk)
    overall_reps = metrics_from_sums({k: np.concatenate([_sums(w, overall_design, 1)[k] for w in weights])
                                     for k in ("n", "falls", "flagged", "tp", "sum_p", "ece_abs")})
    point = _metric_frame(inp.fell, flag, inp.risk, pd.Series(np.full(len(flag), "all"), name="all")).iloc[0]
    overall = {"n": int(point["n"]), "falls": int(point["falls"])}
    for m in METRICS:
        overall[m] = _num(point[m])
        overall[f"{m}_ci"] = _interval(overall_reps[m][:, 0])
    for attr in inp.groups.columns:
        values = inp.groups[attr]
        by = _metric_frame(inp.fell, flag, inp.risk, values)
        names = list(by.index.astype(str))
        codes = pd.Categorical(values, categories=names).codes.astype(np.int64)
        design = _design(codes, len(names), inp.fell, flag.astype(float), inp.risk)
        sums = {k: np.concatenate([_sums(w, design, len(names))[k] for w in weights])
                for k in ("n", "falls", "flagged", "tp", "sum_p", "ece_abs")}
        reps = metrics_from_sums(sums)
        ref = _reference(attr, by, references)
        r = names.index(ref)
        for g, name in enumerate(names):
            p = by.loc[by.index[g]]
            row = {"attribute": attr, "group": name, "n": int(p["n"]), "falls": int(p["falls"])}
            for m in METRICS:
                row[m] = _num(p[m])
                row[f"{m}_ci"] = _interval(reps[m][:, g])
            row["reference"] = ref
            enough = _enough(row, cfg) and _enough({"n": by.loc[by.index[r], "n"],
                                                    "falls": by.loc[by.index[r], "falls"]}, cfg)
            for m in COMPARED:
                row[f"{m}_ratio"] = _num(_ratio(row[m] if row[m] is not None else np.nan, by.loc[by.index[r], m]))
                row[f"{m}_ratio_ci"] = _interval(_ratio(reps[m][:, g], reps[m][:, r]))
                diff = (row[m] - by.loc[by.index[r], m]) if row[m] is not None else np.nan
                row[f"{m}_difference"] = _num(diff)
                row[f"{m}_difference_ci"] = _interval(reps[m][:, g] - reps[m][:, r])
            row["p_value"] = _fisher(p, by.loc[by.index[r]]) if (g != r and enough) else None
            row["q_value"] = None
            row["is_reference"] = g == r
            row["insufficient"] = not enough
            band = (cfg.fair_band[0], cfg.fair_band[1])
            row["disparity"] = bool(enough and g != r and (_outside(row["recall_ratio_ci"], band)
                                                          or _outside(row["fnr_ratio_ci"], band)))
            row["within_band"] = bool(_inside(row["recall_ratio_ci"], band) and _inside(row["fnr_ratio_ci"], band))
            rows.append(row)
    _benjamini_hochberg(rows)
    for row in rows:
        row["verdict"] = verdict(row)
    return rows, overall


def _enough(row: Mapping, cfg: AuditConfig) -> bool:
    return float(row["falls"]) >= cfg.min_falls and float(row["n"]) >= cfg.min_households


def _reference(attr: str, by: pd.DataFrame, references: Mapping[str, str]) -> str:
    names = list(by.index.astype(str))
    if attr in references:
        ref = str(references[attr])
        if ref not in names:
            raise AuditError(f"reference group {ref!r} of attribute {attr!r} is not in the data; "
                             f"allowed: {', '.join(names)}")
        return ref
    n = by["n"].to_numpy(float)
    return names[int(np.argmax(n))]  # the largest group; ties: the first in MetricFrame's (sorted) order


def _fisher(group: pd.Series, ref: pd.Series) -> float | None:
    """Fisher's exact test: found vs missed falls in the group against the reference."""
    from scipy.stats import fisher_exact

    tp_g = round(float(group["recall"]) * float(group["falls"]))
    tp_r = round(float(ref["recall"]) * float(ref["falls"]))
    table = [[tp_g, int(group["falls"]) - tp_g], [tp_r, int(ref["falls"]) - tp_r]]
    return float(fisher_exact(table).pvalue)


def _benjamini_hochberg(rows: list[dict]) -> None:
    """q-values over every group tested in this view (all attributes together)."""
    from scipy.stats import false_discovery_control

    tested = [r for r in rows if r["p_value"] is not None]
    if tested:
        q = false_discovery_control([r["p_value"] for r in tested], method="bh")
        for r, v in zip(tested, np.atleast_1d(q)):
            r["q_value"] = float(v)


def verdict(row: Mapping) -> str:
    """``reference``, ``insufficient evidence``, ``disparity``, ``no disparity found`` (both ratio intervals
    inside the band) or ``inconclusive`` (an interval straddles the band's edge) — never "fair"."""
    if row["is_reference"]:
        return "reference"
    if row["insufficient"]:
        return "insufficient evidence"
    if row["disparity"]:
        return "disparity"
    return "no disparity found" if row["within_band"] else "inconclusive"


def run_audit(frame: pd.DataFrame, cfg: AuditConfig, *, attributes: Sequence[str] | None = None,
              references: Mapping[str, str] | None = None) -> dict:
    """The audit as a JSON-ready dict: ``budget``, ``groups`` (budget view, each with its ``high_tier``
    view), ``overall``, ``high_tier_overall``, ``not_monitored_recall`` (+ interval)."""
    attrs = list(attributes if attributes is not None else cfg.all_attributes())
    refs = {**cfg.references, **(references or {})}
    inp = AuditInput.from_frame(frame, attrs)
    weights = bootstrap_weights(len(inp.fell), cfg.n_boot, cfg.seed)
    flags = budget_flags(inp.risk, cfg.budget)
    groups, overall = _view(inp, flags, cfg, weights, refs)
    high_groups, high_overall = _view(inp, inp.high, cfg, weights, refs)
    for row, high in zip(groups, high_groups):
        row["high_tier"] = {k: v for k, v in high.items() if k not in ("attribute", "group", "reference")}
    out = {"budget": cfg.budget, "n_boot": cfg.n_boot, "seed": cfg.seed, "fair_band": list(cfg.fair_band),
           "min_falls": cfg.min_falls, "min_households": cfg.min_households,
           "groups": groups, "overall": overall, "high_tier_overall": high_overall}
    out.update(not_monitored(groups))
    return out


NOT_MONITORED = ("is_monitored", "no")


def not_monitored(groups: Sequence[Mapping]) -> dict:
    """Recall among households not yet monitored — the ones an early warning exists to find."""
    for row in groups:
        if (row["attribute"], row["group"]) == NOT_MONITORED:
            return {"not_monitored_recall": row["recall"], "not_monitored_recall_ci": row["recall_ci"]}
    return {"not_monitored_recall": None, "not_monitored_recall_ci": [None, None]}


def disparities(audit: Mapping) -> list[Mapping]:
    """The budget-view group rows with a disparity."""
    return [g for g in audit["groups"] if g["disparity"]]
