"""Choosing the registered candidate forward in time, by a criterion declared in the config before fitting.

Worked example — rounds r0..r4, test round r3 (labelled by r4):

- forward origins: every round before r3 whose households' next round is known by r3's date — r0, r1, r2.
  At origin r2 the candidates are fitted exactly as the final model will be, by ``make_split(..., r2)``:
  fit on outcomes known by r1's date, early-stop (and stack the blend) on as-of r1..r2, then score the
  households at r2's date against their r3 outcome. r0 has nothing before it to fit on and is skipped.
- criterion: the mean over the usable origins of recall at the visiting budget (default 10 %), ties (within
  ``tie_tolerance``) broken by mean ``roc_auc``, then by the simpler candidate.
- the rule is the incumbent: a candidate may replace it only if its mean criterion gain over the rule is
  separated from zero (``replace_rule_if: separated``: the 95 % lower bound of a paired bootstrap, the
  households of every origin resampled, is above 0). On a thin survey a lead of a few households at one
  origin is noise, and the county keeps its own ranking, calibrated.
- the test round r3 is never looked at. With no usable origin (one labelled round before the test), the
  choice falls back to the final split's validation slice, which early stopping has also seen; the result
  says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from training.config import TrainConfig
from training.metrics import recall_at_k
from training.splits import SplitError, TemporalSplit, make_split

# Exact ties go to the simpler candidate, in this order.
SIMPLICITY = ("rule", "scorecard", "lightgbm_small", "lightgbm", "blend")


@dataclass
class Selection:
    chosen: str
    criterion: str                     # e.g. "recall_at_10pct"
    tie_break: str
    basis: str                         # "forward origins r0, r1" or the fallback
    table: pd.DataFrame                # candidate x (criterion, tie_break): means over the origins
    per_origin: pd.DataFrame           # origin, candidate, rows, positives, metrics
    runner_up: str | None = None
    notes: list[str] = field(default_factory=list)
    gains: pd.DataFrame | None = None  # candidate x (gain, low, high): criterion gain over the rule, 95 % interval
    replace_rule_if: str = "always"

    def margin_over(self, other: str) -> float:
        return float(self.table.loc[self.chosen, self.criterion] - self.table.loc[other, self.criterion])

    def summary(self) -> str:
        """One sentence: which candidate won, on what, and by how much."""
        won = self.table.loc[self.chosen]
        text = (f"{self.chosen} chosen on {self.basis}: mean {self.criterion} {won[self.criterion]:.4f}, "
                f"{self.tie_break} {won[self.tie_break]:.4f}")
        if self.runner_up is not None:
            label = "next best" if self.margin_over(self.runner_up) >= 0 else "higher but not allowed to replace the rule:"
            text += (f"; {label} {self.runner_up} {self.table.loc[self.runner_up, self.criterion]:.4f} "
                     f"({self.margin_over(self.runner_up):+.4f})")
        if self.gains is not None and len(self.gains):
            if self.chosen == "rule":
                best = self.gains["gain"].idxmax()
                text += (f"; kept the rule: no candidate's gain over it is {self.replace_rule_if} (best {best} "
                         f"{_gain(self.gains.loc[best])})")
            else:
                text += f"; gain over the rule {_gain(self.gains.loc[self.chosen])}"
        elif "rule" in self.table.index and self.chosen != "rule":
            text += f"; rule {self.table.loc['rule', self.criterion]:.4f} ({self.margin_over('rule'):+.4f})"
        return text


def _gain(row: pd.Series) -> str:
    return f"{row['gain']:+.4f} [{row['low']:+.4f}, {row['high']:+.4f}]"


def metric_name(metric: str, budget: float) -> str:
    """``recall_at_budget`` at 10 % is the interface metric ``recall_at_10pct``."""
    return f"recall_at_{round(budget * 100):g}pct" if metric == "recall_at_budget" else metric


def ranking_metrics(y: np.ndarray, score: np.ndarray, budget: float) -> dict[str, float]:
    """The metrics a choice can use (rankings only: calibration comes after the choice)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    both = 0 < y.sum() < len(y)
    return {"recall_at_budget": recall_at_k(y, score, budget),
            "roc_auc": float(roc_auc_score(y, score)) if both else float("nan"),
            "pr_auc": float(average_precision_score(y, score)) if both else float("nan")}


def forward_origins(examples: pd.DataFrame, rounds: pd.Series, split: TemporalSplit) -> list[tuple[str, TemporalSplit, np.ndarray]]:
    """(round, its split, its scored rows) for every earlier round usable as a forward origin: rows whose
    outcome is known by the test round's date, with both outcomes among them and in the fit rows."""
    y = examples["falls_below_line"].to_numpy(float)
    known = (examples["label_date"] <= split.test_as_of).to_numpy()
    out = []
    for rid in rounds.sort_values().index:
        if rounds[rid] >= split.test_as_of:
            break
        try:
            s = make_split(examples, rounds, rid)
        except SplitError:
            continue
        rows = s.test & known
        if all(0 < np.nansum(y[m]) < m.sum() for m in (rows, s.fit, s.valid)):
            out.append((str(rid), s, rows))
    return out


def choose(table: pd.DataFrame, criterion: str, tie_break: str, tolerance: float) -> tuple[str, str | None]:
    """The best candidate by ``criterion``; those within ``tolerance`` of it are tied and ordered by
    ``tie_break``, then by simplicity. Also the runner-up."""
    best = table[criterion].max()
    simple = {n: i for i, n in enumerate(SIMPLICITY)}
    tied = sorted((n for n in table.index if table.loc[n, criterion] >= best - tolerance),
                  key=lambda n: (-table.loc[n, tie_break], simple.get(n, len(simple))))
    rest = sorted((n for n in table.index if n not in tied), key=lambda n: -table.loc[n, criterion])
    order = tied + rest
    return order[0], (order[1] if len(order) > 1 else None)


def rule_gains(scored: list[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]], metric: str, budget: float,
               replicates: int, seed: int) -> pd.DataFrame:
    """candidate -> (gain, low, high): the mean over the origins of candidate − rule on ``metric``, with a 95 %
    paired bootstrap interval (each origin's households resampled, the same draws for every candidate).
    ``scored``: per origin, (outcomes, household ids, candidate -> margin)."""
    from training.intervals import LEVEL, per_replicate, weighted_recall_at_k, weighted_roc_auc

    def measure(y: np.ndarray, s: np.ndarray, counts: np.ndarray) -> np.ndarray:
        if metric == "recall_at_budget":
            return weighted_recall_at_k(y, s, counts, budget)
        return weighted_roc_auc(y, s, counts)

    draws: dict[str, list[np.ndarray]] = {}
    points: dict[str, list[float]] = {}
    for i, (y, households, scores) in enumerate(scored):
        ones = np.ones((1, len(y)), dtype=np.int64)
        names = [n for n in scores if n != "rule"]

        def gap(counts: np.ndarray, y: np.ndarray = y, scores: dict = scores, names: list = names) -> np.ndarray:
            ref = measure(y, scores["rule"], counts)
            return np.column_stack([measure(y, scores[n], counts) - ref for n in names])

        # (replicates, candidates): candidate − rule per replicate, a block of household draws at a time
        gaps = per_replicate(gap, households, replicates, seed + i).reshape(replicates, len(names))
        ref_point = measure(y, scores["rule"], ones)[0]
        for j, name in enumerate(names):
            draws.setdefault(name, []).append(gaps[:, j])
            points.setdefault(name, []).append(measure(y, scores[name], ones)[0] - ref_point)
    rows = {}
    for name, d in draws.items():
        mean = np.mean(d, axis=0)
        mean = mean[np.isfinite(mean)]
        low, high = (np.quantile(mean, [(1 - LEVEL) / 2, (1 + LEVEL) / 2]) if len(mean) else (np.nan, np.nan))
        rows[name] = {"gain": float(np.mean(points[name])), "low": float(low), "high": float(high)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["gain", "low", "high"])


def may_replace_rule(gains: pd.DataFrame, replace_rule_if: str) -> list[str]:
    """The candidates allowed to replace the rule: separated from it (lower bound above 0) or merely ahead."""
    column = "low" if replace_rule_if == "separated" else "gain"
    return [n for n in gains.index if gains.loc[n, column] > 0]


def select(examples: pd.DataFrame, X: pd.DataFrame, y: np.ndarray, rounds: pd.Series, split: TemporalSplit,
           cfg: TrainConfig, categorical: list[str]) -> Selection:
    """Fit every candidate at every forward origin and choose by the configured criterion."""
    from training.candidates import fit_candidates

    sel = cfg.selection
    rows = []
    origins = forward_origins(examples, rounds, split)
    if origins:
        basis = f"forward origins {', '.join(r for r, _, _ in origins)}"
        evaluations = [(rid, s.fit, s.valid, scored) for rid, s, scored in origins]
    else:
        basis = "the validation slice (no earlier forward origin in the training period)"
        evaluations = [("valid", split.fit, split.valid, split.valid)]
    households = examples["household_id"].astype(str).to_numpy()
    margins = []
    for rid, fit, valid, scored in evaluations:
        scorers, _ = fit_candidates(sel.candidates, X, y, fit, valid, cfg, categorical)
        margins.append((y[scored], households[scored], {n: s.margin(X[scored]) for n, s in scorers.items()}))
        for name, margin in margins[-1][2].items():
            m = ranking_metrics(y[scored], margin, sel.budget)
            rows.append({"origin": rid, "candidate": name, "rows": int(scored.sum()),
                         "positives": int(y[scored].sum()), **m})
    per_origin = pd.DataFrame(rows)
    criterion, tie_break = metric_name(sel.criterion, sel.budget), metric_name(sel.tie_break, sel.budget)
    per_origin = per_origin.rename(columns={"recall_at_budget": metric_name("recall_at_budget", sel.budget)})
    table = per_origin.groupby("candidate", sort=False)[list(dict.fromkeys([criterion, tie_break, "roc_auc"]))].mean()
    gains = None
    allowed = list(table.index)
    if "rule" in table.index and len(table) > 1:
        if sel.criterion == "pr_auc":  # no resampled form of pr_auc here: the point gain only ('ahead', 'always')
            gains = pd.DataFrame({"gain": table[criterion].drop(index="rule") - table.loc["rule", criterion],
                                  "low": np.nan, "high": np.nan})
        else:
            gains = rule_gains(margins, sel.criterion, sel.budget, sel.replicates, sel.seed)
        if sel.replace_rule_if != "always":
            allowed = ["rule", *may_replace_rule(gains, sel.replace_rule_if)]
    chosen, _ = choose(table.loc[allowed], criterion, tie_break, sel.tie_tolerance)
    runner_up = choose(table.drop(index=chosen), criterion, tie_break, sel.tie_tolerance)[0] if len(table) > 1 else None
    return Selection(chosen, criterion, tie_break, basis, table, per_origin, runner_up, gains=gains,
                     replace_rule_if=sel.replace_rule_if)
