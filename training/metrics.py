"""Evaluation metrics: ranking, calibration, and recall at a visiting budget.

``recall_at_k``: the share of next-round fallers found in the top k% by risk — the question a county with
capacity to visit k% of households asks. Ties at the cut are broken by order, never in the model's favour
beyond what a stable sort gives.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

METRIC_NAMES = ("roc_auc", "pr_auc", "brier", "ece", "recall_at_5pct", "recall_at_10pct", "precision_at_10pct")


def top_k_mask(score: np.ndarray, k: float) -> np.ndarray:
    """Mask of the ceil(k·n) highest scores (the households a county would visit)."""
    n = len(score)
    m = int(np.ceil(k * n))
    mask = np.zeros(n, dtype=bool)
    if m:
        mask[np.argsort(-score, kind="stable")[:m]] = True
    return mask


def recall_at_k(y: np.ndarray, score: np.ndarray, k: float) -> float:
    positives = y.sum()
    return float(y[top_k_mask(score, k)].sum() / positives) if positives else float("nan")


def precision_at_k(y: np.ndarray, score: np.ndarray, k: float) -> float:
    mask = top_k_mask(score, k)
    return float(y[mask].mean()) if mask.any() else float("nan")


def expected_calibration_error(y: np.ndarray, prob: np.ndarray, bins: int = 10) -> float:
    """ECE over ``bins`` equal-width probability bins, weighted by bin size."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(prob, edges[1:-1], right=False), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            total += sel.mean() * abs(prob[sel].mean() - y[sel].mean())
    return float(total)


def metric_table(y: np.ndarray, score: np.ndarray, *, is_probability: bool = True) -> dict[str, float]:
    """All interface metrics for one scorer. Brier and ECE need probabilities; NaN for pure rankings."""
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    both = 0 < y.sum() < len(y)
    out = {
        "roc_auc": float(roc_auc_score(y, score)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, score)) if both else float("nan"),
        "brier": float(brier_score_loss(y, score)) if is_probability else float("nan"),
        "ece": expected_calibration_error(y, score) if is_probability else float("nan"),
        "recall_at_5pct": recall_at_k(y, score, 0.05),
        "recall_at_10pct": recall_at_k(y, score, 0.10),
        "precision_at_10pct": precision_at_k(y, score, 0.10),
    }
    return out


def recall_curve(y: np.ndarray, score: np.ndarray, ks: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Recall at each visiting budget k (share of households), for the recall-at-k plot."""
    ks = np.linspace(0.01, 0.5, 50) if ks is None else ks
    return ks, np.array([recall_at_k(np.asarray(y, float), np.asarray(score, float), k) for k in ks])
