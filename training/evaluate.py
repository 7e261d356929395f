"""Side-by-side evaluation of the model, the baselines and (on simulated data) the oracle, on the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.metrics import METRIC_NAMES, metric_table

SLICE_COLUMNS = ("county", "household_type", "is_monitored")
MIN_SLICE_ROWS = 30


def compare(y: np.ndarray, scores: dict[str, np.ndarray], probabilities: set[str]) -> pd.DataFrame:
    """Metrics table: one row per metric name, one column per scorer."""
    table = {name: metric_table(y, s, is_probability=name in probabilities) for name, s in scores.items()}
    return pd.DataFrame(table).loc[list(METRIC_NAMES)]


def flat_metrics(table: pd.DataFrame, model_column: str = "model") -> dict[str, float]:
    """MLflow metric names: the model's plain (``roc_auc``), the others prefixed (``rule_roc_auc``)."""
    out: dict[str, float] = {}
    for scorer in table.columns:
        prefix = "" if scorer == model_column else f"{scorer}_"
        for metric, value in table[scorer].items():
            if pd.notna(value):
                out[f"{prefix}{metric}"] = float(value)
    return out


def by_slice(context: pd.DataFrame, y: np.ndarray, scores: dict[str, np.ndarray],
             probabilities: set[str]) -> pd.DataFrame:
    """Metrics per slice value (county, household type, monitored or not); small slices are skipped."""
    rows = []
    for col in SLICE_COLUMNS:
        if col not in context.columns:
            continue
        values = context[col].astype("object").fillna("(missing)").astype(str).to_numpy()
        for value in pd.unique(values):
            sel = values == value
            if sel.sum() < MIN_SLICE_ROWS:
                continue
            for scorer, s in scores.items():
                m = metric_table(y[sel], s[sel], is_probability=scorer in probabilities)
                rows.append({"slice": col, "value": value, "scorer": scorer, "rows": int(sel.sum()),
                             "positives": int(y[sel].sum()), **m})
    return pd.DataFrame(rows)


NOT_MONITORED_METRIC = "not_monitored_recall_at_10pct"


def add_not_monitored_recall(table: pd.DataFrame, y: np.ndarray, scores: dict[str, np.ndarray],
                             is_monitored: pd.Series, k: float = 0.10) -> pd.DataFrame:
    """Add the headline row beside overall recall: recall at the k budget (drawn over the whole round) among
    households not yet monitored — the ones an early warning exists to find."""
    from training.metrics import top_k_mask

    not_mon = ~is_monitored.astype("boolean").fillna(False).to_numpy(bool)
    y = np.asarray(y, float)
    row = {}
    for name, s in scores.items():
        flags = top_k_mask(np.asarray(s, float), k)
        falls = y[not_mon].sum()
        row[name] = float((y * flags)[not_mon].sum() / falls) if falls else float("nan")
    table.loc[NOT_MONITORED_METRIC] = pd.Series(row)
    order = [m for m in table.index if m != NOT_MONITORED_METRIC]
    at = order.index("recall_at_10pct") + 1 if "recall_at_10pct" in order else len(order)
    return table.loc[order[:at] + [NOT_MONITORED_METRIC] + order[at:]]
