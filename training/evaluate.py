"""Side-by-side evaluation of the model, the baselines and (on simulated data) the oracle, on the same rows.

``evaluate`` is pure: it computes the whole report of a fitted model on the test round (metrics, bootstrap
intervals, slices, curves, importance, the verdict) and logs nothing; ``training.train.log_run`` records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from training.metrics import METRIC_NAMES, metric_table

if TYPE_CHECKING:
    from models.risk_model import RiskModel
    from training.config import TrainConfig
    from training.selection import Selection
    from training.splits import TemporalSplit

IMPORTANCE_ROWS = 5000  # test rows the mean |SHAP| importance is computed on


@dataclass(frozen=True)
class Curves:
    """What the calibration, precision-recall and recall-at-k plots draw: test labels and every scorer's scores
    on the same rows (``model`` and ``logit`` are probabilities, ``rule`` a rank score)."""

    y: np.ndarray
    scores: dict[str, np.ndarray]


@dataclass(frozen=True)
class EvaluationReport:
    """The evaluation of one fitted model on its test round."""

    test_round: str
    table: pd.DataFrame          # metric x scorer (model, rule, logit, oracle when the truth is known)
    metrics: dict[str, float]    # flat MLflow names: test metrics, validation figures, intervals
    intervals: pd.DataFrame      # scorer x (roc_auc, recall_at_10pct, their bootstrap bounds)
    slices: pd.DataFrame         # metrics per county, household type, monitored or not
    curves: Curves
    importance: pd.Series        # mean |SHAP| per indicator, largest first
    verdict: str                 # one line: model vs rule, with the intervals of the gaps


def evaluate(model: RiskModel, candidates: dict, selection: Selection, examples: pd.DataFrame, X: pd.DataFrame,
             y: np.ndarray, split: TemporalSplit, cfg: TrainConfig,
             truth: pd.DataFrame | None = None) -> EvaluationReport:
    """The model against the rule, the logistic baseline and (``truth``: the simulator's ``true_risk``) the
    oracle on the test round, with household-bootstrap intervals and the validation figures of the choice."""
    from models.baselines import LogitBaseline, RuleBaseline
    from training.candidates import RULE_RATIO, RULE_RIGID
    from training.intervals import bootstrap_table
    from training.splits import capped_rows, sample_ratio

    test_X, test_y = X[split.test], y[split.test]
    rule = RuleBaseline(ratio_column=RULE_RATIO, rigid_share_columns=RULE_RIGID,
                        line_multiple=cfg.rule_line_multiple, rigid_share=cfg.rule_rigid_share)
    sample = capped_rows(split.fit, cfg.baseline_fit_rows, cfg.baseline_sample_seed)
    logit = LogitBaseline(C=cfg.logit_C * sample_ratio(split.fit, sample), categorical=_categorical(X)).fit(
        X, y, rows=sample)
    scores = {"model": model.predict_proba(test_X), "rule": rule.score(test_X), "logit": logit.score(test_X)}
    probabilities = {"model", "logit"}
    if truth is not None:
        test_keys = examples.loc[split.test, ["household_id", "round_id"]]
        joined = test_keys.merge(truth, on=["household_id", "round_id"], how="left")
        if joined["true_risk"].notna().all():
            scores["oracle"] = joined["true_risk"].to_numpy(float)
            probabilities.add("oracle")
    table = compare(test_y, scores, probabilities)
    table = add_not_monitored_recall(table, test_y, scores, examples.loc[split.test, "is_monitored"])
    metrics = flat_metrics(table)
    households = examples.loc[split.test, "household_id"].to_numpy()
    ranked = {"model": scores["model"], **{n: c.margin(test_X) for n, c in candidates.items() if n != "rule"},
              "rule": scores["rule"]}
    intervals = bootstrap_table(test_y, ranked, households, reference="rule", subject="model",
                                replicates=cfg.bootstrap_replicates, seed=cfg.lightgbm.seed)
    metrics.update(selection_metrics(selection, intervals))
    slices = by_slice(examples.loc[split.test].reset_index(drop=True), test_y, scores, probabilities)
    contrib, _ = model.contributions(test_X.iloc[:IMPORTANCE_ROWS])
    importance = pd.Series(np.abs(contrib).mean(axis=0), index=model.feature_names).sort_values(ascending=False)
    return EvaluationReport(test_round=split.test_round, table=table, metrics=metrics, intervals=intervals,
                            slices=slices, curves=Curves(test_y, scores), importance=importance,
                            verdict=verdict(intervals, selection.chosen, split.test_round))


def _categorical(X: pd.DataFrame) -> list[str]:
    from features.indicators.catalogue import by_name

    return [n for n in X.columns if by_name(n).categorical]


def verdict(intervals: pd.DataFrame, chosen: str, test_round: str, recall: str = "recall_at_10pct") -> str:
    """One line: does the registered model beat the rule on the test round, with the intervals of the gaps."""
    if chosen == "rule":
        r = intervals.loc["rule"]
        return (f"the rule is best on this data (no candidate beat it clearly forward in time); registered the "
                f"rule itself, calibrated — level with it on round {test_round}: " + "; ".join(
                    f"{m} {r[m]:.4f} [{r[m + '_low']:.4f}, {r[m + '_high']:.4f}]" for m in (recall, "roc_auc")))
    d = intervals.loc["model − rule"]
    gap = {m: f"{m} {d[m]:+.4f} [{d[m + '_low']:+.4f}, {d[m + '_high']:+.4f}]" for m in (recall, "roc_auc")}
    behind = [m for m in (recall, "roc_auc") if d[m] < 0]
    if behind:
        return (f"model ({chosen}) is behind the rule on round {test_round} on {' and '.join(behind)}: "
                f"{gap[recall]}; {gap['roc_auc']} — `povwatch promote` refuses a challenger worse than the rule")
    if d[recall + "_low"] > 0:
        return f"model ({chosen}) beats rule on round {test_round} by {gap[recall]}; {gap['roc_auc']}"
    return (f"model ({chosen}) is not behind the rule on round {test_round}, but the gap is within the noise: "
            f"{gap[recall]}; {gap['roc_auc']}")


def selection_metrics(selection, intervals: pd.DataFrame) -> dict[str, float]:
    """MLflow names: ``valid_<candidate>_<metric>`` (mean over the forward origins),
    ``valid_<candidate>_<metric>_<origin>``, ``test_<scorer>_<metric>[_low|_high]`` and ``model_minus_rule_...``."""
    out: dict[str, float] = {}
    for name, row in selection.table.iterrows():
        out.update({f"valid_{name}_{m}": float(v) for m, v in row.items() if pd.notna(v)})
    for _, row in selection.per_origin.iterrows():
        for m in selection.table.columns:
            if pd.notna(row[m]):
                out[f"valid_{row['candidate']}_{m}_{row['origin']}"] = float(row[m])
    if selection.gains is not None:
        for name, row in selection.gains.iterrows():
            out.update({f"valid_{name}_gain_over_rule" + ("" if k == "gain" else f"_{k}"): float(v)
                        for k, v in row.items() if pd.notna(v)})
    for name, row in intervals.iterrows():
        key = "model_minus_rule" if "−" in str(name) else f"test_{name}"
        out.update({f"{key}_{m}": float(v) for m, v in row.items() if pd.notna(v)})
    return out


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
