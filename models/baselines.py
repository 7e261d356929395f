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
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


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


DESIGN_BLOCK_ROWS = 50_000    # rows of the design scaled and one-hot encoded at a time
SCALER_COLUMNS = 16           # numeric design columns whose scaling statistics are computed at a time
SCORE_BLOCK_ROWS = 250_000    # rows scored at a time (one block up to this size: a county's test round)


def _arcsinh_in_place(values: np.ndarray) -> np.ndarray:
    """``arcsinh`` written over the imputer's output (an array of its own): the same values, one copy fewer."""
    return np.arcsinh(values, out=values)


class LogitBaseline:
    """L2-regularised logistic regression: median imputation with missing flags, arcsinh to tame heavy
    tails, standardisation; categorical codes one-hot encoded.

    The numbers are those of scikit-learn's ``ColumnTransformer([numeric: SimpleImputer(median,
    add_indicator) → arcsinh → StandardScaler, categorical: SimpleImputer(-1) → OneHotEncoder])`` followed by
    ``LogisticRegression`` (``tests/test_baselines.py`` checks them bit for bit), but the design — imputed
    values, then the missing flags, then the one-hot columns — is one float64 array written a column of the
    fit rows at a time. The pipeline held a frame of the fit rows, its float64 copy, ``numpy.ma.median``'s
    sorted copy and the stacked blocks at once: about twice the design. A numeric frame that is all float32
    is imputed in float32 by scikit-learn, so that case goes through scikit-learn's imputer, whole."""

    def __init__(self, *, C: float = 0.1, categorical: Sequence[str] = (), max_iter: int = 2000) -> None:
        self.C = C
        self.categorical = tuple(categorical)
        self.max_iter = max_iter

    def fit(self, X: pd.DataFrame, y: np.ndarray, rows: np.ndarray | None = None) -> "LogitBaseline":
        """Fit on ``rows`` (a boolean mask over X and y; all rows when None)."""
        rows = np.ones(len(X), dtype=bool) if rows is None else np.asarray(rows, dtype=bool)
        self.columns_ = list(X.columns)
        self.numeric_ = [c for c in X.columns if c not in self.categorical]
        self.cats_ = [c for c in X.columns if c in self.categorical]
        at = np.flatnonzero(rows)
        num_pos = [X.columns.get_loc(c) for c in self.numeric_]
        self.wide_ = bool(num_pos) and np.result_type(*(X.iloc[:, j].dtype for j in num_pos)) == np.float64
        self.scaler_ = StandardScaler(copy=False)
        self.encoder_ = make_pipeline(SimpleImputer(strategy="constant", fill_value=-1),
                                      OneHotEncoder(handle_unknown="ignore"))
        if self.wide_:
            self._fit_imputation(X, num_pos, at)
        elif self.numeric_:
            self.imputer_ = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
            self.imputer_.fit(X.loc[rows, self.numeric_])
        if self.cats_:
            self.encoder_.fit(X.loc[rows, self.cats_])
        Z = self._design(X, at, fitting=True)
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(Z, np.asarray(y, dtype=int)[rows])
        return self

    def score(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities; a county's test round is one block (the same numbers as one call)."""
        X = X[self.columns_]
        out = np.empty(len(X))
        for start in range(0, len(X), SCORE_BLOCK_ROWS):
            at = np.arange(start, min(start + SCORE_BLOCK_ROWS, len(X)))
            out[at] = self.model_.predict_proba(self._design(X, at))[:, 1]
        return out

    def _fit_imputation(self, X: pd.DataFrame, num_pos: list[int], at: np.ndarray) -> None:
        """SimpleImputer's statistics, a column at a time: the median of the observed values (``numpy.ma.median``
        takes the middle value or the half-sum of the two middle ones, as ``numpy.median`` does), 0 for a column
        with none (``keep_empty_features``), and which columns get a missing flag (those with a gap)."""
        medians, flagged = [], []
        for k, j in enumerate(num_pos):
            x = _column(X, j, at)
            seen = x[~np.isnan(x)]
            medians.append(np.median(seen) if len(seen) else 0.0)
            if len(seen) < len(x):
                flagged.append(k)
        self.medians_ = np.asarray(medians, dtype=np.float64)
        self.flagged_ = flagged

    def _fit_scaler(self, values: np.ndarray) -> None:
        """``self.scaler_`` fitted on ``values`` a few columns at a time, each group copied column-major: the
        imputer hands the pipeline a column-major array, whose column sums NumPy adds pairwise; a row-major
        view would be summed row by row and differ in the last digits."""
        parts = [StandardScaler().fit(np.asfortranarray(values[:, j:j + SCALER_COLUMNS]))
                 for j in range(0, values.shape[1], SCALER_COLUMNS)]
        for name in ("mean_", "var_", "scale_"):
            setattr(self.scaler_, name, np.concatenate([getattr(p, name) for p in parts]))
        self.scaler_.n_samples_seen_ = parts[0].n_samples_seen_
        self.scaler_.n_features_in_ = values.shape[1]

    def _design(self, X: pd.DataFrame, at: np.ndarray, *, fitting: bool = False) -> np.ndarray:
        """The design of X's rows ``at`` (positions); ``fitting``: the scaler is fitted on its numeric block
        first (imputation, flags, arcsinh and scaling act value by value, so any rows give the numbers of the
        whole)."""
        num_pos = [X.columns.get_loc(c) for c in self.numeric_]
        cat_pos = [X.columns.get_loc(c) for c in self.cats_]
        if self.wide_:
            numeric_width = len(num_pos) + len(self.flagged_)
        else:
            numeric_width = len(self.imputer_.get_feature_names_out()) if self.numeric_ else 0
        cat_width = len(self.encoder_[-1].get_feature_names_out()) if self.cats_ else 0
        Z = np.empty((len(at), numeric_width + cat_width))
        if self.wide_:
            flag_of = {k: len(num_pos) + i for i, k in enumerate(self.flagged_)}
            for k, j in enumerate(num_pos):
                x = _column(X, j, at)
                missing = np.isnan(x)
                Z[:, k] = np.arcsinh(np.where(missing, self.medians_[k], x))
                if k in flag_of:
                    Z[:, flag_of[k]] = np.arcsinh(missing.astype(np.float64))
            if fitting:
                self._fit_scaler(Z[:, :numeric_width])
            for s in range(0, len(at), DESIGN_BLOCK_ROWS):  # StandardScaler.transform's own arithmetic
                Z[s:s + DESIGN_BLOCK_ROWS, :numeric_width] -= self.scaler_.mean_
                Z[s:s + DESIGN_BLOCK_ROWS, :numeric_width] /= self.scaler_.scale_
        elif self.numeric_:
            part = _arcsinh_in_place(self.imputer_.transform(X.iloc[at, num_pos]))
            Z[:, :numeric_width] = self.scaler_.fit_transform(part) if fitting else self.scaler_.transform(part)
        for s in range(0, len(at), DESIGN_BLOCK_ROWS) if self.cats_ else ():
            block = at[s:s + DESIGN_BLOCK_ROWS]
            Z[s:s + len(block), numeric_width:] = self.encoder_.transform(X.iloc[block, cat_pos]).toarray()
        return Z


def _column(X: pd.DataFrame, j: int, at: np.ndarray) -> np.ndarray:
    """Column ``j`` of X at the row positions ``at``, as float64 (a compact float32 column's exact values)."""
    return X.iloc[:, j].to_numpy(dtype="float64", na_value=np.nan)[at]
