"""The logistic baseline and the capped fit rows of the linear models, on a small seeded table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from models.baselines import LogitBaseline
from models.scorers import fit_rule, fit_scorecard
from tests.test_scorers import DIRECTIONS, RIGID, _table
from training.config import TrainConfig
from training.splits import capped_rows, sample_ratio

CATS = ["monitoring_type"]


def _pipeline_scores(X: pd.DataFrame, y: np.ndarray, rows: np.ndarray, test: pd.DataFrame) -> np.ndarray:
    """The composition the baseline stands for, fitted the plain scikit-learn way on a frame of the fit rows."""
    numeric = [c for c in X.columns if c not in CATS]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                              FunctionTransformer(np.arcsinh), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value=-1),
                              OneHotEncoder(handle_unknown="ignore")), CATS),
    ])
    pipeline = make_pipeline(pre, LogisticRegression(C=0.1, max_iter=2000)).fit(X[rows], y[rows].astype(int))
    return pipeline.predict_proba(test)[:, 1]


@pytest.mark.parametrize("narrow", [{"serious_members": np.float32, "noise": np.float32},
                                    {"serious_members": np.float16, "noise": np.float32}, "all"])
def test_logit_baseline_gives_the_numbers_of_the_scikit_learn_pipeline(narrow):
    X, y = _table(n=3000)
    # compact tables mix float16 (counts, flags), float32 and float64 indicators
    X = X.astype({c: np.float32 for c in X.columns if c not in CATS} if narrow == "all" else narrow)
    X["never_reported"] = np.float32(np.nan) if narrow == "all" else np.nan  # imputed as 0, flagged
    rows = np.arange(len(X)) < 2000
    test = X[~rows]
    logit = LogitBaseline(C=0.1, categorical=CATS).fit(X, y, rows=rows)
    assert np.array_equal(logit.score(test), _pipeline_scores(X, y, rows, test))


def test_capped_rows_leave_small_slices_alone_and_sample_large_ones_the_same_way_twice():
    mask = np.arange(10_000) % 3 == 0  # 3,334 rows
    assert np.array_equal(capped_rows(mask, 5000, seed=1), mask)
    first, again, other = capped_rows(mask, 1000, seed=1), capped_rows(mask, 1000, seed=1), capped_rows(mask, 1000, seed=2)
    assert first.sum() == 1000 and not (first & ~mask).any()  # a subset of the slice, of the cap's size
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert sample_ratio(mask, capped_rows(mask, 5000, seed=1)) == 1.0  # below the cap the penalty is unchanged
    assert sample_ratio(mask, first) == mask.sum() / 1000


def test_scorecard_and_logit_on_a_capped_slice_are_the_same_fit_twice_and_untouched_below_the_cap():
    X, y = _table(n=3000)
    fit = np.arange(len(X)) < 2500
    capped = capped_rows(fit, 1000, seed=TrainConfig().baseline_sample_seed)

    def card(rows):
        return fit_scorecard(X, y, rows=rows, directions=DIRECTIONS, categorical=CATS).spec

    assert card(capped) == card(capped.copy()) and card(capped) != card(fit)
    assert card(capped_rows(fit, 2500, seed=0)) == card(fit)
    logit = [LogitBaseline(C=0.1, categorical=CATS).fit(X, y, rows=capped).score(X) for _ in range(2)]
    assert np.array_equal(*logit)


def test_rule_fitted_on_rows_is_the_rule_fitted_on_a_frame_of_them():
    X, y = _table()
    rows = np.arange(len(X)) % 2 == 0
    kw = {"ratio_column": "hardship_ratio", "rigid_share_columns": RIGID, "line_multiple": 1.5, "rigid_share": 0.5}
    assert fit_rule(X, rows=rows, **kw).spec == fit_rule(X[rows], **kw).spec


def test_the_cap_is_one_config_field_with_a_floor():
    assert TrainConfig().baseline_fit_rows == TrainConfig.model_fields["baseline_fit_rows"].default
    with pytest.raises(ValueError):
        TrainConfig(baseline_fit_rows=10)
