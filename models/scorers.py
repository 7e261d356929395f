"""Scorers: what turns a feature matrix into a margin (a monotone risk score) and its exact explanation.

A ``RiskModel`` holds one scorer, of any kind; calibration, tiers and reasons sit on top of the margin, so
every kind keeps the whole contract. Each kind explains itself exactly and additively:
``base + contributions.sum(axis=1) == margin`` for every row —

- ``lightgbm``: TreeSHAP (LightGBM's own ``pred_contrib``) in log-odds;
- ``scorecard``: a linear model, so linear SHAP — each feature's weight times its distance from the
  training mean (features independent);
- ``rule``: the county's threshold rule over three indicators, explained by exact Shapley values against a
  reference household (the training medians), all 2³ coalitions evaluated;
- ``blend``: a logistic stack ``b + Σ a_k · margin_k``, whose contributions are ``Σ a_k · contributions_k``.

Saved as text in a folder (``scorer.json`` says which kind; LightGBM's own model text, JSON for the rest);
no pickles. The matrix is always the full feature catalogue in order; a scorer that reads fewer indicators
gives the others zero contribution.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import combinations
from math import factorial
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import pandas as pd

SPEC_FILE = "scorer.json"
THREADED_PREDICT_ROWS = 20_000  # smaller tables predict on one thread (see ``LightGBMScorer.margin``)
MARGIN_BLOCK_ROWS = 10_000      # rows per block of the scorecard's design when computing its margin (a row's sum is
                                # the same in any block; smaller blocks keep the temporaries small beside the fit design)


@runtime_checkable
class Scorer(Protocol):
    """A fitted margin with exact additive contributions, saved and loaded as text."""

    kind: ClassVar[str]

    def margin(self, X: np.ndarray) -> np.ndarray: ...

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def save(self, folder: Path) -> None: ...

    @classmethod
    def load(cls, folder: Path) -> "Scorer": ...


def column(X: pd.DataFrame | np.ndarray, j: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Column ``j`` of a matrix or frame as float64, optionally only ``rows`` (a boolean mask): a frame's
    column alone, so no float64 copy of the frame is made."""
    x = X.iloc[:, j].to_numpy(dtype="float64", na_value=np.nan) if isinstance(X, pd.DataFrame) else X[:, j]
    return np.asarray(x if rows is None else x[rows], dtype="float64")


def as_matrix(X: pd.DataFrame | np.ndarray) -> np.ndarray:
    """A float64 2-D array (a DataFrame's values; LightGBM would only convert it itself)."""
    if isinstance(X, pd.DataFrame):
        return X.to_numpy(dtype="float64", na_value=np.nan)
    return np.asarray(X, dtype="float64")


# ---- LightGBM

class LightGBMScorer:
    """A LightGBM booster; margin = raw log-odds, contributions = exact TreeSHAP."""

    kind: ClassVar[str] = "lightgbm"
    MODEL_FILE: ClassVar[str] = "model.txt"

    def __init__(self, booster: Any) -> None:
        self.booster = booster

    def margin(self, X: np.ndarray) -> np.ndarray:
        """Raw log-odds. Tables under ``THREADED_PREDICT_ROWS`` rows are predicted on one thread: LightGBM's
        OpenMP threads synchronise once per call, which cost ~8 ms on a busy 2-core machine, while one thread
        predicts 1,000 rows in ~0.7 ms (a batch chunk of tens of thousands of rows gains from both cores). Each
        row's sum over the trees is the same either way."""
        X = as_matrix(X)
        threads = {} if len(X) >= THREADED_PREDICT_ROWS else {"num_threads": 1}
        return self.booster.predict(X, raw_score=True, **threads)

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raw = self.booster.predict(as_matrix(X), pred_contrib=True)
        return raw[:, :-1], raw[:, -1]

    def save(self, folder: Path) -> None:
        self.booster.save_model(str(Path(folder) / self.MODEL_FILE))

    @classmethod
    def load(cls, folder: Path) -> "LightGBMScorer":
        import lightgbm as lgb

        return cls(lgb.Booster(model_file=str(Path(folder) / cls.MODEL_FILE)))


# ---- the logistic scorecard

class ScorecardScorer:
    """A logistic scorecard: per numeric indicator, ``arcsinh`` of the value (median-imputed) standardised and
    held within the range seen in fitting (a value beyond it scores as the edge: a monitoring line or an
    income never seen cannot swing the score without bound), plus a missing flag; per categorical indicator, one column per known code. Margin = intercept + Σ w·z.

    ``spec`` is plain JSON (see ``fit_scorecard``): one entry per model feature, in matrix order.
    """

    kind: ClassVar[str] = "scorecard"
    FILE: ClassVar[str] = "scorecard.json"

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self._weights = np.concatenate([np.asarray(f["weights"], float) for f in spec["features"]])
        self._means = np.concatenate([np.asarray(f["means"], float) for f in spec["features"]])
        self._owner = np.concatenate([np.full(len(f["weights"]), j) for j, f in enumerate(spec["features"])])

    @staticmethod
    def design(features: Sequence[dict[str, Any]], X: np.ndarray | pd.DataFrame,
               rows: np.ndarray | None = None) -> np.ndarray:
        """The scorecard's columns for matrix X, in ``features`` order (one block per feature), written into one
        array (no list of blocks to stack: the design of a province's fit rows is the largest array of training)."""
        widths = [len(f["codes"]) if f["type"] == "categorical" else 2 for f in features]
        Z = np.empty((len(X) if rows is None else int(np.count_nonzero(rows)), sum(widths)))
        at = 0
        for j, (f, width) in enumerate(zip(features, widths)):
            x = column(X, j, rows)
            if f["type"] == "categorical":
                Z[:, at:at + width] = x[:, None] == np.asarray(f["codes"], float)[None, :]
            else:
                missing = np.isnan(x)
                Z[:, at] = np.clip((np.arcsinh(np.where(missing, f["median"], x)) - f["center"]) / f["scale"],
                                   f["low"], f["high"])
                Z[:, at + 1] = missing
            at += width
        return Z

    def margin(self, X: np.ndarray | pd.DataFrame) -> np.ndarray:
        X = X if isinstance(X, pd.DataFrame) else as_matrix(X)  # a frame is read a column of a block at a time
        # A row-wise sum, not ``Z @ w``: BLAS blocks a matrix-vector product by the number of rows, so a
        # household's margin could differ in its last digit with the batch it came in (one request, a county).
        # Row-wise, it is also the same a block of rows at a time, which bounds the design's memory.
        out = np.empty(len(X))
        for start in range(0, len(X), MARGIN_BLOCK_ROWS):
            Z = self.design(self.spec["features"], X[start:start + MARGIN_BLOCK_ROWS] if isinstance(X, np.ndarray)
                            else X.iloc[start:start + MARGIN_BLOCK_ROWS])
            out[start:start + len(Z)] = self.spec["intercept"] + (Z * self._weights).sum(axis=1)
        return out

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Linear SHAP: ``w · (z − mean z)`` summed per feature; base = the margin at the mean columns."""
        X = as_matrix(X)
        Z = self.design(self.spec["features"], X)
        parts = (Z - self._means) * self._weights
        contrib = np.zeros((len(X), len(self.spec["features"])))
        np.add.at(contrib.T, self._owner, parts.T)
        base = self.spec["intercept"] + float(self._means @ self._weights)
        return contrib, np.full(len(X), base)

    def save(self, folder: Path) -> None:
        (Path(folder) / self.FILE).write_text(json.dumps(self.spec, ensure_ascii=False, indent=1))

    @classmethod
    def load(cls, folder: Path) -> "ScorecardScorer":
        return cls(json.loads((Path(folder) / cls.FILE).read_text()))


def fit_scorecard(X: pd.DataFrame, y: np.ndarray, *, directions: dict[str, int], categorical: Sequence[str] = (),
                  C: float | Sequence[float] = 0.1, max_iter: int = 500,
                  select_on: tuple[pd.DataFrame, np.ndarray] | None = None,
                  rows: np.ndarray | None = None) -> ScorecardScorer:
    """Fit a scorecard whose value weights keep the catalogue's sign: an indicator whose higher value raises
    risk (direction +1) never gets a negative weight, and conversely (L-BFGS-B with bounds, L2 penalty
    ``1/(2C)·|w|²`` as in scikit-learn). Indicators of direction 0, missing flags and codes are free.

    With several ``C`` (strongest penalty last is fastest: each fit starts from the previous weights), the
    one with the best roc_auc on ``select_on`` (held-out rows, e.g. the forward validation slice) is kept.
    ``rows``: fit on these rows of X (and y) only, read a column at a time (no copy of them as a frame)."""
    from scipy.optimize import minimize
    from scipy.special import expit
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y, float) if rows is None else np.asarray(y, float)[rows]
    if not 0 < y.sum() < len(y):
        raise ValueError(f"scorecard needs both outcomes in its fit rows; got {int(y.sum())} positives in {len(y)}")
    features, bounds = [], []
    for j, name in enumerate(X.columns):
        x = column(X, j, rows)  # a column at a time: no float64 copy of the fit rows
        if name in categorical:
            codes = sorted(float(c) for c in np.unique(x[~np.isnan(x)]))
            features.append({"name": name, "type": "categorical", "codes": codes})
            bounds += [(None, None)] * len(codes)
            continue
        seen = x[~np.isnan(x)]
        median = float(np.median(seen)) if len(seen) else 0.0
        t = np.arcsinh(np.where(np.isnan(x), median, x))
        center, scale = float(t.mean()), float(t.std())
        constant = scale <= 1e-9 * (1.0 + abs(center))  # nothing to learn from (e.g. one monitoring line)
        scale = 1.0 if constant else scale
        z = (t - center) / scale
        features.append({"name": name, "type": "numeric", "median": median, "center": center, "scale": scale,
                         "low": float(z.min()), "high": float(z.max())})
        sign = directions.get(name, 0)
        value_bound = (0.0, 0.0) if constant else (0.0, None) if sign > 0 else (None, 0.0) if sign < 0 else (None, None)
        bounds += [value_bound, (None, None)]
    Z = ScorecardScorer.design(features, X, rows)
    prior = float(np.log(y.mean() / (1 - y.mean())))

    def loss(theta: np.ndarray, C: float) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        m = Z @ w + b
        value = float(np.sum(np.logaddexp(0.0, m) - y * m) + w @ w / (2 * C))
        r = expit(m) - y
        return value, np.append(Z.T @ r + w / C, r.sum())

    Cs = [float(C)] if np.isscalar(C) else [float(c) for c in C]
    theta = np.append(np.zeros(Z.shape[1]), prior)
    best: tuple[float, ScorecardScorer] | None = None
    for C in Cs:
        res = minimize(loss, theta, args=(C,), jac=True, method="L-BFGS-B", bounds=bounds + [(None, None)],
                       options={"maxiter": max_iter})
        theta = res.x
        card = _scorecard(features, Z, res.x, C, bool(res.success))
        if select_on is None or len(Cs) == 1:
            return card
        Xv, yv = select_on
        auc = float(roc_auc_score(yv, card.margin(Xv))) if 0 < np.sum(yv) < len(yv) else 0.0
        if best is None or auc > best[0]:
            best = (auc, card)
    assert best is not None
    return best[1]


def _scorecard(features: list[dict[str, Any]], Z: np.ndarray, theta: np.ndarray, C: float,
               converged: bool) -> ScorecardScorer:
    """The scorer of fitted weights ``theta`` (weights then intercept), with each column's training mean."""
    w, b = theta[:-1], float(theta[-1])
    means = Z.mean(axis=0)
    at, out = 0, []
    for f in features:
        width = len(f["codes"]) if f["type"] == "categorical" else 2
        out.append({**f, "weights": w[at:at + width].tolist(), "means": means[at:at + width].tolist()})
        at += width
    return ScorecardScorer({"intercept": b, "C": C, "converged": converged, "features": out})


# ---- the county's rule

class RuleScorer:
    """The official-style rule as a scorer: margin = flag + closeness to the line (flagged households above
    all others, then by hardship income ratio), the ranking of ``models.baselines.RuleBaseline``."""

    kind: ClassVar[str] = "rule"
    FILE: ClassVar[str] = "rule.json"

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        names = spec["feature_names"]
        self._inputs = [names.index(spec["ratio_column"]), *(names.index(c) for c in spec["rigid_share_columns"])]
        self._reference = np.asarray(spec["reference"], float)

    def _rule_of(self, values: np.ndarray) -> np.ndarray:
        """The rule's margin from its input columns (ratio, rigid shares...) as an (n, 1 + r) array."""
        ratio, rigid = values[:, 0], np.nan_to_num(values[:, 1:], nan=0.0).sum(axis=1)
        flag = (ratio < self.spec["line_multiple"]) | (rigid > self.spec["rigid_share"])  # NaN ratio: not flagged
        closeness = 1.0 / (1.0 + np.clip(np.nan_to_num(ratio, nan=np.inf), 0, None))
        return flag.astype(float) + closeness

    def margin(self, X: np.ndarray) -> np.ndarray:
        return self._rule_of(as_matrix(X)[:, self._inputs])

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact Shapley values of the rule's inputs against the reference household (every coalition)."""
        X = as_matrix(X)
        values = X[:, self._inputs]
        k = values.shape[1]
        ref = np.broadcast_to(self._reference, values.shape)

        def f(coalition: tuple[int, ...]) -> np.ndarray:
            mixed = ref.copy()
            mixed[:, list(coalition)] = values[:, list(coalition)]
            return self._rule_of(mixed)

        phi = np.zeros_like(values)
        cache = {s: f(s) for r in range(k + 1) for s in combinations(range(k), r)}
        for i in range(k):
            others = [p for p in range(k) if p != i]
            for r in range(k):
                weight = factorial(r) * factorial(k - r - 1) / factorial(k)
                for s in combinations(others, r):
                    phi[:, i] += weight * (cache[tuple(sorted((*s, i)))] - cache[s])
        contrib = np.zeros(X.shape)
        for pos, col in enumerate(self._inputs):
            contrib[:, col] += phi[:, pos]
        return contrib, cache[()]

    def save(self, folder: Path) -> None:
        (Path(folder) / self.FILE).write_text(json.dumps(self.spec, ensure_ascii=False, indent=1))

    @classmethod
    def load(cls, folder: Path) -> "RuleScorer":
        return cls(json.loads((Path(folder) / cls.FILE).read_text()))


def fit_rule(X: pd.DataFrame, *, ratio_column: str, rigid_share_columns: Sequence[str], line_multiple: float,
             rigid_share: float, rows: np.ndarray | None = None) -> RuleScorer:
    """The rule has no parameters to learn; its explanation's reference household is the fit rows' medians
    (``rows``: a boolean mask of X's fit rows, its three columns read alone; all rows when None)."""
    inputs = [ratio_column, *rigid_share_columns]
    values = [X[c].to_numpy(float) if rows is None else X[c].to_numpy(float)[rows] for c in inputs]
    reference = [float(np.nanmedian(v)) if (~np.isnan(v)).any() else 0.0 for v in values]
    return RuleScorer({"feature_names": list(X.columns), "ratio_column": ratio_column,
                       "rigid_share_columns": list(rigid_share_columns), "line_multiple": line_multiple,
                       "rigid_share": rigid_share, "reference": reference})


# ---- the blend

class BlendScorer:
    """A logistic stack of other scorers: margin = intercept + Σ weight_k · margin_k (weights ≥ 0)."""

    kind: ClassVar[str] = "blend"
    FILE: ClassVar[str] = "blend.json"

    def __init__(self, parts: Sequence[tuple[str, Scorer]], weights: Sequence[float], intercept: float) -> None:
        self.parts = list(parts)
        self.weights = np.asarray(weights, float)
        self.intercept = float(intercept)

    def margin(self, X: np.ndarray) -> np.ndarray:
        X = as_matrix(X)
        out = np.full(len(X), self.intercept)
        for (_, part), w in zip(self.parts, self.weights):
            if w:
                out += w * part.margin(X)
        return out

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = as_matrix(X)
        contrib, base = np.zeros(X.shape), np.full(len(X), self.intercept)
        for (_, part), w in zip(self.parts, self.weights):
            if w:
                c, b = part.contributions(X)
                contrib += w * c
                base += w * b
        return contrib, base

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        names = []
        for name, part in self.parts:
            save_scorer(part, folder / "parts" / name)
            names.append(name)
        (folder / self.FILE).write_text(json.dumps({"parts": names, "weights": self.weights.tolist(),
                                                    "intercept": self.intercept}, indent=1))

    @classmethod
    def load(cls, folder: Path) -> "BlendScorer":
        folder = Path(folder)
        spec = json.loads((folder / cls.FILE).read_text())
        parts = [(name, load_scorer(folder / "parts" / name)) for name in spec["parts"]]
        return cls(parts, spec["weights"], spec["intercept"])


def fit_blend(parts: Sequence[tuple[str, Scorer]], X: np.ndarray, y: np.ndarray, *, C: float = 1.0) -> BlendScorer:
    """Stack weights by a logistic regression of the outcome on the parts' margins over rows none of the
    parts was fitted on (the forward validation slice); weights bounded at zero so no part counts against
    its own ranking. Margins are standardised for the fit and the weights mapped back."""
    from scipy.optimize import minimize
    from scipy.special import expit

    X, y = as_matrix(X), np.asarray(y, float)
    M = np.column_stack([p.margin(X) for _, p in parts])
    mu, sd = M.mean(axis=0), M.std(axis=0)
    sd[sd == 0] = 1.0
    S = (M - mu) / sd

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        m = S @ w + b
        r = expit(m) - y
        return float(np.sum(np.logaddexp(0.0, m) - y * m) + w @ w / (2 * C)), np.append(S.T @ r + w / C, r.sum())

    prior = float(np.log(max(y.mean(), 1e-6) / max(1 - y.mean(), 1e-6)))
    res = minimize(loss, np.append(np.full(len(parts), 0.1), prior), jac=True, method="L-BFGS-B",
                   bounds=[(0.0, None)] * len(parts) + [(None, None)])
    w_std, b_std = res.x[:-1], float(res.x[-1])
    weights = w_std / sd
    return BlendScorer(parts, weights, b_std - float(weights @ mu))


# ---- persistence of any kind

KINDS: dict[str, type] = {c.kind: c for c in (LightGBMScorer, ScorecardScorer, RuleScorer, BlendScorer)}


def save_scorer(scorer: Scorer, folder: str | Path) -> Path:
    """Write the scorer's own files and ``scorer.json`` naming its kind."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scorer.save(folder)
    (folder / SPEC_FILE).write_text(json.dumps({"kind": scorer.kind}))
    return folder


def load_scorer(folder: str | Path) -> Scorer:
    """The scorer saved in ``folder``; a folder with only ``model.txt`` (models saved before scorers had
    kinds) is a LightGBM scorer."""
    folder = Path(folder)
    spec = folder / SPEC_FILE
    kind = json.loads(spec.read_text())["kind"] if spec.is_file() else LightGBMScorer.kind
    if kind not in KINDS:
        raise ValueError(f"{folder}: unknown scorer kind {kind!r}; known: {', '.join(KINDS)}")
    return KINDS[kind].load(folder)
