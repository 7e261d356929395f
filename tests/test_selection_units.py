"""Selection and intervals on small hand-made frames: the choice rule, forward origins, bootstrap metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from training.intervals import bootstrap_table, household_counts, weighted_recall_at_k, weighted_roc_auc
from training.metrics import recall_at_k
from training.selection import choose, forward_origins
from training.splits import make_split
from training.evaluate import verdict


def test_choice_takes_the_best_criterion_and_breaks_near_ties_by_roc_auc_then_simplicity():
    table = pd.DataFrame({"recall_at_10pct": [0.500, 0.498, 0.40], "roc_auc": [0.80, 0.85, 0.95]},
                         index=["lightgbm", "blend", "scorecard"])
    assert choose(table, "recall_at_10pct", "roc_auc", 0.005) == ("blend", "lightgbm")
    assert choose(table, "recall_at_10pct", "roc_auc", 0.0) == ("lightgbm", "blend")
    exact = pd.DataFrame({"recall_at_10pct": [0.5, 0.5], "roc_auc": [0.8, 0.8]}, index=["lightgbm", "rule"])
    assert choose(exact, "recall_at_10pct", "roc_auc", 0.0)[0] == "rule"


def _panel(households: int = 40, rounds: int = 5, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Households surveyed each 1 December over ``rounds`` rounds, labelled by the next one (random outcomes)."""
    rng = np.random.default_rng(seed)
    dates = pd.Series(pd.to_datetime([f"{2020 + i}-12-01" for i in range(rounds)]),
                      index=[f"r{i}" for i in range(rounds)])
    rows = []
    for i, (rid, d) in enumerate(dates.items()):
        for h in range(households):
            last = i == rounds - 1
            rows.append({"household_id": f"h{h}", "round_id": rid, "as_of": d, "eligible": 1.0,
                         "falls_below_line": np.nan if last else float(rng.random() < 0.3),
                         "label_date": pd.NaT if last else dates.iloc[i + 1]})
    return pd.DataFrame(rows), dates


def test_forward_origins_are_the_earlier_rounds_and_never_see_the_test_round():
    ex, dates = _panel()
    split = make_split(ex, dates)             # test r3, labelled by r4
    origins = forward_origins(ex, dates, split)
    assert [r for r, _, _ in origins] == ["r1", "r2"]  # r0 has nothing before it to fit on
    for rid, s, scored in origins:
        assert (ex.loc[scored, "round_id"] == rid).all()
        assert (ex.loc[scored | s.fit | s.valid, "label_date"] <= split.test_as_of).all()
        assert not (scored & split.test).any()
        assert (ex.loc[s.fit | s.valid, "as_of"] < dates[rid]).all()


def test_weighted_metrics_equal_the_plain_ones_on_unit_weights_and_on_a_drawn_sample():
    rng = np.random.default_rng(2)
    y = (rng.random(800) < 0.1).astype(float)
    score = np.round(y + rng.normal(size=800), 1)  # ties included
    ones = np.ones((1, 800), dtype=np.int64)
    assert weighted_roc_auc(y, score, ones)[0] == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert weighted_recall_at_k(y, score, ones, 0.1)[0] == pytest.approx(recall_at_k(y, score, 0.1), abs=1e-12)
    counts = household_counts(np.arange(800), 1, seed=4)
    rows = np.repeat(np.arange(800), counts[0])
    assert weighted_roc_auc(y, score, counts)[0] == pytest.approx(roc_auc_score(y[rows], score[rows]), abs=1e-12)


def test_bootstrap_resamples_households_and_pairs_the_difference():
    rng = np.random.default_rng(3)
    n = 2000
    y = (rng.random(n) < 0.08).astype(float)
    model, rule = y + rng.normal(size=n), 0.3 * y + rng.normal(size=n)
    t = bootstrap_table(y, {"model": model, "rule": rule}, np.array([f"h{i}" for i in range(n)]),
                        reference="rule", subject="model", replicates=300, seed=1)
    for name, row in t.iterrows():
        for m in ("roc_auc", "recall_at_10pct"):
            assert row[f"{m}_low"] <= row[m] <= row[f"{m}_high"], (name, m)
    assert t.loc["model − rule", "roc_auc"] == pytest.approx(t.loc["model", "roc_auc"] - t.loc["rule", "roc_auc"])
    assert t.loc["model − rule", "roc_auc_low"] > 0   # a clear gap is separated


def test_verdict_says_who_is_ahead_with_the_interval():
    def table(d_recall: tuple[float, float, float], d_auc: tuple[float, float, float]) -> pd.DataFrame:
        cols = {"recall_at_10pct": d_recall[0], "recall_at_10pct_low": d_recall[1], "recall_at_10pct_high": d_recall[2],
                "roc_auc": d_auc[0], "roc_auc_low": d_auc[1], "roc_auc_high": d_auc[2]}
        return pd.DataFrame([cols], index=["model − rule"])

    assert "beats rule" in verdict(table((0.1, 0.05, 0.15), (0.03, 0.01, 0.05)), "blend", "2024")
    assert "behind the rule" in verdict(table((0.1, -0.02, 0.2), (-0.01, -0.03, 0.01)), "lightgbm", "2024")
    assert "within the noise" in verdict(table((0.02, -0.05, 0.08), (0.01, -0.01, 0.03)), "scorecard", "2024")
    rule = pd.concat([table((0, 0, 0), (0, 0, 0)), table((0.5, 0.4, 0.6), (0.84, 0.8, 0.87)).rename(
        index={"model − rule": "rule"})])
    said = verdict(rule, "rule", "2024")
    assert "registered the rule" in said and "recall_at_10pct 0.5000 [0.4000, 0.6000]" in said


def test_a_candidate_replaces_the_rule_only_when_its_gain_is_separated_from_zero():
    from training.selection import may_replace_rule, rule_gains

    rng = np.random.default_rng(5)
    origins = []
    for i in range(2):
        n = 1500
        y = (rng.random(n) < 0.06).astype(float)
        rule = y + rng.normal(scale=1.2, size=n)
        near = rule + rng.normal(scale=0.15, size=n)   # the rule plus noise: a lead, if any, is luck
        strong = y + rng.normal(scale=0.5, size=n)     # a clearly better ranking
        origins.append((y, np.array([f"h{i}-{j}" for j in range(n)]), {"rule": rule, "near": near, "strong": strong}))
    gains = rule_gains(origins, "recall_at_budget", 0.10, replicates=300, seed=1)
    assert set(gains.index) == {"near", "strong"}
    for name in gains.index:
        point = np.mean([recall_at_k(y, s[name], 0.1) - recall_at_k(y, s["rule"], 0.1) for y, _, s in origins])
        assert gains.loc[name, "gain"] == pytest.approx(point, abs=1e-12)
        assert gains.loc[name, "low"] <= gains.loc[name, "gain"] <= gains.loc[name, "high"]
    assert gains.loc["strong", "low"] > 0 and gains.loc["near", "low"] < 0 < gains.loc["near", "high"]
    assert may_replace_rule(gains, "separated") == ["strong"]
    ahead = gains.assign(gain=[0.01, 0.2], low=[-0.02, 0.1])
    assert may_replace_rule(ahead, "ahead") == ["near", "strong"]
    auc = rule_gains(origins, "roc_auc", 0.10, replicates=300, seed=1)
    assert auc.loc["strong", "low"] > 0
