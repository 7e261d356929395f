"""Diagnostic plots logged with every run: calibration, precision–recall, recall at k, SHAP importance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def calibration_plot(y: np.ndarray, prob: np.ndarray, path: Path) -> Path:
    from sklearn.calibration import calibration_curve

    plt = _figure()
    frac, mean = calibration_curve(y, prob, n_bins=10, strategy="quantile")
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, max(mean.max(), frac.max())], [0, max(mean.max(), frac.max())], "--", color="grey", lw=1)
    ax.plot(mean, frac, "o-", label="model")
    ax.set(xlabel="predicted risk", ylabel="observed share falling below the line", title="Calibration (test round)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, *, xlabel: str, ylabel: str,
            title: str) -> Path:
    """One line per scorer on shared axes."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name, (x, y) in curves.items():
        ax.plot(x, y, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def precision_recall_plot(y: np.ndarray, scores: dict[str, np.ndarray], path: Path) -> Path:
    from sklearn.metrics import precision_recall_curve

    curves = {}
    for name, s in scores.items():
        p, r, _ = precision_recall_curve(y, s)
        curves[name] = (r, p)
    return _curves(curves, path, xlabel="recall", ylabel="precision", title="Precision–recall (test round)")


def recall_at_k_plot(y: np.ndarray, scores: dict[str, np.ndarray], path: Path) -> Path:
    from training.metrics import recall_curve

    curves = {}
    for name, s in scores.items():
        ks, rec = recall_curve(y, s)
        curves[name] = (ks * 100, rec)
    return _curves(curves, path, xlabel="households visited (% of county, by risk)",
                   ylabel="share of fallers found", title="Recall at a visiting budget")


def importance_plot(importance: pd.Series, path: Path, top: int = 20) -> Path:
    plt = _figure()
    imp = importance.sort_values(ascending=True).tail(top)
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(imp) + 1))
    ax.barh(imp.index, imp.to_numpy())
    ax.set(xlabel="mean |SHAP| (log-odds)", title="Global importance (test round)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
