"""Risk tiers (高/中/低) from calibrated probabilities; the thresholds are fitted once and saved with the model."""

from __future__ import annotations

import numpy as np

TIERS = ("high", "medium", "low")
TIER_LABELS = {"high": ("高", "high"), "medium": ("中", "medium"), "low": ("低", "low")}


def fit_thresholds(prob: np.ndarray, *, high_share: float, medium_share: float) -> dict[str, float]:
    """Probability cut-offs so that about ``high_share`` of the calibration slice is high and the next
    ``medium_share`` medium — tiers sized to a county's visiting capacity, then frozen as probabilities."""
    if not 0 < high_share < high_share + medium_share < 1:
        raise ValueError(f"expected 0 < high_share < high_share + medium_share < 1, got {high_share}, {medium_share}")
    prob = np.asarray(prob, dtype=float)
    high = float(np.quantile(prob, 1 - high_share))
    medium = float(np.quantile(prob, 1 - high_share - medium_share))
    return {"high": high, "medium": min(medium, high)}


def assign(prob: np.ndarray, thresholds: dict[str, float]) -> np.ndarray:
    """Tier code per probability (``high`` at or above the high cut-off, ``medium`` at or above medium)."""
    prob = np.asarray(prob, dtype=float)
    return np.where(prob >= thresholds["high"], "high", np.where(prob >= thresholds["medium"], "medium", "low"))
