"""Probability calibration of the LightGBM margin, stored as plain JSON (no pickles).

``method="auto"`` fits both (centred) isotonic regression and Platt scaling on the forward calibration slice and keeps
the one with the lower Brier score on a held-out half of it (ties go to Platt, the smoother map).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss

Method = Literal["auto", "isotonic", "platt"]


class Calibrator:
    """Maps raw margins (log-odds) to calibrated probabilities."""

    def __init__(self, *, method: Method = "auto", random_state: int = 0) -> None:
        self.method = method
        self.random_state = random_state

    def fit(self, margin: np.ndarray, y: np.ndarray) -> "Calibrator":
        margin = np.asarray(margin, dtype=float)
        y = np.asarray(y, dtype=float)
        if len(margin) != len(y) or not len(y):
            raise ValueError(f"expected margins and labels of the same non-zero length, got {len(margin)} and {len(y)}")
        if not 0 < y.sum() < len(y):
            raise ValueError("calibration slice needs both outcomes; got only "
                             f"{'positives' if y.sum() else 'negatives'} in {len(y)} rows — add rounds or lower min rows")
        method = self.method
        if method == "auto":
            method = self._choose(margin, y)
        self.method_ = method
        if method == "isotonic":
            # Centred isotonic regression: interpolate between the centres of the isotonic blocks, so the map
            # is strictly increasing between the outer blocks — a new shock that raises the margin raises
            # the risk, instead of vanishing inside a flat step.
            fitted = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(margin, y).predict(margin)
            values, block = np.unique(fitted, return_inverse=True)
            self.x_ = np.bincount(block, weights=margin) / np.bincount(block)
            self.y_ = values.astype(float)
        else:
            lr = LogisticRegression(C=1e6).fit(margin.reshape(-1, 1), y)
            self.a_, self.b_ = float(lr.coef_[0, 0]), float(lr.intercept_[0])
        return self

    def _choose(self, margin: np.ndarray, y: np.ndarray) -> str:
        rng = np.random.default_rng(self.random_state)
        half = rng.random(len(y)) < 0.5
        if not (0 < y[half].sum() < half.sum() and 0 < y[~half].sum() < (~half).sum()):
            return "platt"
        scores = {}
        for m in ("platt", "isotonic"):
            cal = Calibrator(method=m).fit(margin[half], y[half])
            scores[m] = brier_score_loss(y[~half], cal.predict(margin[~half]))
        return "isotonic" if scores["isotonic"] < scores["platt"] else "platt"

    def predict(self, margin: np.ndarray) -> np.ndarray:
        margin = np.asarray(margin, dtype=float)
        if self.method_ == "isotonic":
            return np.interp(margin, self.x_, self.y_)
        return 1.0 / (1.0 + np.exp(-(self.a_ * margin + self.b_)))

    def to_dict(self) -> dict[str, Any]:
        if self.method_ == "isotonic":
            return {"method": "isotonic", "x": self.x_.tolist(), "y": self.y_.tolist()}
        return {"method": "platt", "a": self.a_, "b": self.b_}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Calibrator":
        cal = cls(method=d["method"])
        cal.method_ = d["method"]
        if cal.method_ == "isotonic":
            cal.x_, cal.y_ = np.asarray(d["x"], float), np.asarray(d["y"], float)
        else:
            cal.a_, cal.b_ = float(d["a"]), float(d["b"])
        return cal
