"""Baselines every model must beat, scored on the same rows.

- ``RuleBaseline``: the official-style threshold rule. Flag when hardship income per capita is below
  ``line_multiple`` × the monitoring line, or when rigid spending (medical + education) exceeds
  ``rigid_share`` of net income; rank flagged households first, then by the income ratio (lower = riskier).
- ``LogitBaseline``: a regularised logistic regression on the same indicators — a scorecard in the spirit
  of the Poverty Probability Index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler


class RuleBaseline:
    """Threshold rule; ``score`` is a ranking in [0, 1] (flagged households above all unflagged)."""

    def __init__(self, *, ratio_column: str, rigid_share_columns: tuple[str, ...], line_multiple: float = 1.5,
                 rigid_share: float = 0.5) -> None:
        self.ratio_column = ratio_column
        self.rigid_share_columns = rigid_share_columns
        self.line_multiple = line_multiple
        self.rigid_share = rigid_share

    def flag(self, X: pd.DataFrame) -> np.ndarray:
        ratio = X[self.ratio_column].to_numpy(float)
        rigid = np.nan_to_num(X[list(self.rigid_share_columns)].to_numpy(float), nan=0.0).sum(axis=1)
        return (ratio < self.line_multiple) | (rigid > self.rigid_share)

    def score(self, X: pd.DataFrame) -> np.ndarray:
        ratio = np.nan_to_num(X[self.ratio_column].to_numpy(float), nan=np.inf)
        closeness = 1.0 / (1.0 + np.clip(ratio, 0, None))  # in (0, 1], higher when income is nearer the line
        return (self.flag(X) + closeness) / 2.0


def _arcsinh_in_place(values: np.ndarray) -> np.ndarray:
    """``arcsinh`` written over the imputer's output (an array of its own): the same values, one copy fewer of
    the fit rows (the scaler after it works in place too)."""
    return np.arcsinh(values, out=values)


class LogitBaseline:
    """L2-regularised logistic regression: median imputation with missing flags, arcsinh to tame heavy
    tails, standardisation; categorical codes one-hot encoded."""

    def __init__(self, *, C: float = 0.1, categorical: Sequence[str] = (), max_iter: int = 2000) -> None:
        self.C = C
        self.categorical = tuple(categorical)
        self.max_iter = max_iter

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> "LogitBaseline":
        numeric = [c for c in X.columns if c not in self.categorical]
        cats = [c for c in X.columns if c in self.categorical]
        pre = ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                                  FunctionTransformer(_arcsinh_in_place), StandardScaler(copy=False)), numeric),
            ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value=-1),
                                  OneHotEncoder(handle_unknown="ignore")), cats),
        ])
        self.pipeline_: Pipeline = make_pipeline(pre, LogisticRegression(C=self.C, max_iter=self.max_iter))
        self.pipeline_.fit(X, np.asarray(y, dtype=int))
        self.columns_ = list(X.columns)
        return self

    def score(self, X: pd.DataFrame) -> np.ndarray:
        return self.pipeline_.predict_proba(X[self.columns_])[:, 1]
