"""Mitigation, measured: visit the same number of households, but allocate the budget per group.

A global list visits the top ``budget`` share of the round; a per-group list visits the top ``budget`` share
of each group (e.g. of households already monitored and of those not yet monitored, or of each village).
Both are shown side by side with their recall overall and per group, so the cost in overall recall of a
fairer spread is a measured figure, not a guess.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.audit import INTERSECTION, _design, _interval, _sums, bootstrap_weights, budget_flags, metrics_from_sums
from training.metrics import top_k_mask

SUM_KEYS = ("n", "falls", "flagged", "tp", "sum_p", "ece_abs")


def per_group_flags(risk: np.ndarray, groups: pd.Series, budget: float) -> np.ndarray:
    """The top ``budget`` share of each group by risk."""
    flags = np.zeros(len(risk), dtype=bool)
    values = groups.to_numpy()
    for g in pd.unique(values):
        sel = np.flatnonzero(values == g)
        flags[sel[top_k_mask(risk[sel], budget)]] = True
    return flags


def _strategy(name: str, flags: np.ndarray, fell: np.ndarray, risk: np.ndarray, codes: np.ndarray,
              names: list[str], weights: list[np.ndarray]) -> dict:
    group_design = _design(codes, len(names), fell, flags.astype(float), risk)
    all_design = _design(np.zeros(len(fell), np.int64), 1, fell, flags.astype(float), risk)
    point_g = metrics_from_sums(_sums(np.ones((1, len(fell))), group_design, len(names)))
    point_all = metrics_from_sums(_sums(np.ones((1, len(fell))), all_design, 1))
    reps_all = metrics_from_sums({k: np.concatenate([_sums(w, all_design, 1)[k] for w in weights])
                                  for k in SUM_KEYS})
    reps_g = metrics_from_sums({k: np.concatenate([_sums(w, group_design, len(names))[k] for w in weights])
                                for k in SUM_KEYS})
    counts = _sums(np.ones((1, len(fell))), group_design, len(names))
    return {
        "strategy": name, "flagged": int(flags.sum()),
        "overall_recall": float(point_all["recall"][0, 0]), "overall_recall_ci": _interval(reps_all["recall"][:, 0]),
        "groups": [{"group": g, "n": int(counts["n"][0, i]), "falls": int(counts["falls"][0, i]),
                    "flag_rate": _num(point_g["flag_rate"][0, i]), "recall": _num(point_g["recall"][0, i]),
                    "recall_ci": _interval(reps_g["recall"][:, i])} for i, g in enumerate(names)],
        "_reps": reps_all["recall"][:, 0],
    }


def _num(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def compare_allocations(frame: pd.DataFrame, attribute: str, budget: float, *, n_boot: int = 400,
                        seed: int = 2026) -> dict:
    """Global against per-group allocation of the same budget on the audit rows (``fell``, ``risk``, groups)."""
    parts = attribute.split(INTERSECTION)
    missing = [p for p in parts if p not in frame.columns]
    if missing:
        raise ValueError(f"cannot allocate per group of {attribute!r}: no column {missing}")
    values = frame[parts[0]].astype("object").where(frame[parts[0]].notna(), "(missing)").astype(str)
    for p in parts[1:]:
        values = values + INTERSECTION + frame[p].astype("object").where(frame[p].notna(), "(missing)").astype(str)
    fell, risk = frame["fell"].to_numpy(float), frame["risk"].to_numpy(float)
    names = sorted(pd.unique(values))
    codes = pd.Categorical(values, categories=names).codes.astype(np.int64)
    weights = bootstrap_weights(len(fell), n_boot, seed)
    global_ = _strategy("global", budget_flags(risk, budget), fell, risk, codes, names, weights)
    per_group = _strategy("per_group", per_group_flags(risk, values, budget), fell, risk, codes, names, weights)
    cost = global_.pop("_reps") - per_group.pop("_reps")
    return {"attribute": attribute, "budget": budget, "strategies": [global_, per_group],
            "overall_recall_cost": global_["overall_recall"] - per_group["overall_recall"],
            "overall_recall_cost_ci": _interval(cost)}
