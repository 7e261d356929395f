"""Scorers of every kind on a small seeded table: exact additive explanations, text persistence, signs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.scorers import (BlendScorer, LightGBMScorer, fit_blend, fit_rule, fit_scorecard, load_scorer,
                            save_scorer)

RIGID = ("medical_share_of_income", "education_share_of_income")
DIRECTIONS = {"hardship_ratio": -1, "medical_share_of_income": 1, "education_share_of_income": 1, "noise": 0,
              "serious_members": 1}


def _table(n: int = 1500, seed: int = 4) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "hardship_ratio": rng.lognormal(0.6, 0.5, n),
        "medical_share_of_income": rng.exponential(0.15, n),
        "education_share_of_income": np.where(rng.random(n) < 0.7, 0.0, rng.exponential(0.2, n)),
        "noise": rng.normal(size=n),
        "serious_members": rng.poisson(0.2, n).astype(float),
        "monitoring_type": rng.choice([-1.0, 0.0, 1.0, 2.0], n),
    })
    X.loc[rng.random(n) < 0.05, "hardship_ratio"] = np.nan
    X.loc[rng.random(n) < 0.1, "medical_share_of_income"] = np.nan
    logit = -2.5 - 1.5 * np.nan_to_num(X["hardship_ratio"], nan=2.0) + 2 * X["medical_share_of_income"].fillna(0) \
        + 0.8 * X["serious_members"] + 0.4 * (X["monitoring_type"] == 1)
    y = (rng.random(n) < 1 / (1 + np.exp(-(logit + 2.5)))).astype(float)
    return X, y


def _lightgbm(X: pd.DataFrame, y: np.ndarray) -> LightGBMScorer:
    import lightgbm as lgb

    params = {"objective": "binary", "verbose": -1, "num_leaves": 7, "max_depth": 3, "deterministic": True,
              "force_row_wise": True, "num_threads": 1, "seed": 1}
    return LightGBMScorer(lgb.train(params, lgb.Dataset(X, y, categorical_feature=["monitoring_type"]), 40))


def _all_kinds(X: pd.DataFrame, y: np.ndarray) -> dict[str, object]:
    fit, valid = np.arange(len(X)) < 1000, np.arange(len(X)) >= 1000
    lgbm = _lightgbm(X[fit], y[fit])
    card = fit_scorecard(X[fit], y[fit], directions=DIRECTIONS, categorical=["monitoring_type"])
    rule = fit_rule(X[fit], ratio_column="hardship_ratio", rigid_share_columns=RIGID, line_multiple=1.5,
                    rigid_share=0.5)
    blend = fit_blend([("lightgbm", lgbm), ("scorecard", card), ("rule", rule)], X[valid], y[valid])
    return {"lightgbm": lgbm, "scorecard": card, "rule": rule, "blend": blend}


@pytest.fixture(scope="module")
def kinds() -> tuple[dict[str, object], pd.DataFrame, np.ndarray]:
    X, y = _table()
    return _all_kinds(X, y), X, y


@pytest.mark.parametrize("kind", ["lightgbm", "scorecard", "rule", "blend"])
def test_contributions_add_up_to_the_margin_exactly(kinds, kind: str):
    scorers, X, _ = kinds
    s = scorers[kind]
    contrib, base = s.contributions(X)
    assert contrib.shape == X.shape and base.shape == (len(X),)
    np.testing.assert_allclose(base + contrib.sum(axis=1), s.margin(X), rtol=0, atol=1e-9)
    assert np.abs(contrib).sum() > 0


@pytest.mark.parametrize("kind", ["lightgbm", "scorecard", "rule", "blend"])
def test_saved_as_text_and_reloaded_identically(kinds, kind: str, tmp_path: Path):
    scorers, X, _ = kinds
    folder = save_scorer(scorers[kind], tmp_path / kind)
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files and all(p.suffix in (".json", ".txt") for p in files), files
    back = load_scorer(folder)
    assert back.kind == kind
    np.testing.assert_array_equal(back.margin(X), scorers[kind].margin(X))
    np.testing.assert_array_equal(back.contributions(X)[0], scorers[kind].contributions(X)[0])


def test_scorecard_weights_keep_the_catalogue_sign():
    X, y = _table()
    # an outcome that falls with medical share would pull its weight negative; the sign constraint holds it at 0
    card = fit_scorecard(X, 1 - y, directions=DIRECTIONS, categorical=["monitoring_type"])
    w = {f["name"]: f["weights"][0] for f in card.spec["features"] if f["type"] == "numeric"}
    assert w["medical_share_of_income"] >= 0 and w["serious_members"] >= 0 and w["hardship_ratio"] <= 0
    free = fit_scorecard(X, y, directions=DIRECTIONS, categorical=["monitoring_type"])
    wf = {f["name"]: f["weights"][0] for f in free.spec["features"] if f["type"] == "numeric"}
    assert wf["hardship_ratio"] < 0 and wf["medical_share_of_income"] > 0  # the signal itself is learned


def test_rule_scorer_ranks_like_the_rule_baseline():
    from models.baselines import RuleBaseline

    X, _ = _table()
    rule = fit_rule(X, ratio_column="hardship_ratio", rigid_share_columns=RIGID, line_multiple=1.5, rigid_share=0.5)
    base = RuleBaseline(ratio_column="hardship_ratio", rigid_share_columns=RIGID).score(X)
    np.testing.assert_allclose(rule.margin(X), 2 * base, atol=1e-12)
    contrib, _ = rule.contributions(X)
    assert set(np.flatnonzero(np.abs(contrib).sum(axis=0))) <= {0, 1, 2}  # only the rule's own inputs


def test_blend_is_the_weighted_sum_of_its_parts(kinds):
    scorers, X, _ = kinds
    blend: BlendScorer = scorers["blend"]
    assert (blend.weights >= 0).all() and blend.weights.sum() > 0
    expected = blend.intercept + sum(w * p.margin(X) for (_, p), w in zip(blend.parts, blend.weights))
    np.testing.assert_allclose(blend.margin(X), expected, atol=1e-12)


def test_unknown_kind_is_named(tmp_path: Path):
    (tmp_path / "scorer.json").write_text('{"kind": "forest"}')
    with pytest.raises(ValueError, match="unknown scorer kind 'forest'"):
        load_scorer(tmp_path)


def test_scorecard_holds_unseen_values_at_the_edge_of_the_fitted_range():
    """A monitoring line constant in the fit rows, and a new line at scoring time, must not swing the score."""
    X, y = _table()
    X["monitoring_line"] = 6000.0
    card = fit_scorecard(X, y, directions=DIRECTIONS, categorical=["monitoring_type"])
    later = X.assign(monitoring_line=7000.0, hardship_ratio=X["hardship_ratio"] * 100)
    np.testing.assert_allclose(card.margin(later)[X["hardship_ratio"].notna()].max(),
                               card.margin(X.assign(hardship_ratio=X["hardship_ratio"].max()))
                               [X["hardship_ratio"].notna()].max(), atol=5.0)
    assert np.isfinite(card.margin(later)).all() and np.abs(card.margin(later)).max() < 50
