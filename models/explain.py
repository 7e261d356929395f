"""Explanations of a household's score: exact TreeSHAP contributions (log-odds), summed by risk group, the
top risk-raising factors as sentences, and the assistance measures those risk groups call for.

Why log-odds: the LightGBM margin is additive over trees, so SHAP values add up exactly to it
(``base_value + sum(contributions) == margin``, checked on every call); the calibrated probability is a
monotone map of the margin, so a factor that raises the margin raises the risk.

Engine: LightGBM's own ``pred_contrib`` computes the same exact TreeSHAP values that
``shap.TreeExplainer(booster)`` returns (shap calls it for LightGBM boosters); it is the default because it
skips shap's wrappers. ``engine="shap"`` goes through shap itself; the tests hold the two to 1e-6.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd

from features.indicators.catalogue import RISK_GROUPS, by_name
from models.measures import Measure, recommend
from models.citing import NO_DOMINANT_FACTOR, CitationRules, Reason
from models.reasons import Lang, sentences
from models.risk_model import RiskModel

Engine = Literal["lightgbm", "shap"]
CANDIDATES = 40  # risk-raising factors, largest first, that the citation rules may choose from
ADDITIVITY_TOLERANCE = 1e-6


class AdditivityError(RuntimeError):
    """SHAP contributions do not add up to the model's margin: the explanation would mislead."""


@dataclass(frozen=True)
class GroupContribution:
    code: str            # a RISK_GROUPS key
    zh: str
    en: str
    contribution: float  # summed SHAP log-odds of the group's features




@dataclass
class Explanation:
    household_id: str
    round_id: str
    as_of: str
    risk: float
    tier: str
    eligible: bool       # False: already below the line at the as-of record (assistance now, not prediction)
    margin: float
    base_value: float
    contributions: dict[str, float]
    groups: list[GroupContribution] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (NaN values become None)."""
        out = asdict(self)
        out["reasons"] = [{**r.public(), "contribution": r.contribution} for r in self.reasons]
        return out


class _Row(Mapping[str, float]):
    """One household's indicator values by name, without building a dict per household."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: np.ndarray) -> None:
        self._index, self._values = index, values

    def __getitem__(self, key: str) -> float:
        return float(self._values[self._index[key]])

    def get(self, key: str, default: float | None = None) -> float | None:  # type: ignore[override]
        """``Mapping.get`` without its exception round trip: the citation rules call it ~20 times a household."""
        j = self._index.get(key)
        return default if j is None else float(self._values[j])

    def __iter__(self):
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


# ---- SHAP values

def shap_contributions(model: RiskModel, indicators: pd.DataFrame, *,
                       engine: Engine = "lightgbm") -> tuple[np.ndarray, np.ndarray]:
    """Exact contributions ``(n, features)`` and base values ``(n,)`` for an indicator table: the scorer's own
    (``RiskModel.contributions``, any kind) or, with ``engine="shap"``, shap's TreeExplainer (LightGBM only)."""
    if engine == "lightgbm":
        return model.contributions(indicators)
    if engine == "shap":
        X = model.matrix(indicators)
        import warnings

        import shap

        explainer = shap.TreeExplainer(model.booster)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = explainer.shap_values(X)
        if isinstance(values, list):  # older binary-LightGBM output: [class 0, class 1]
            values = values[-1]
        base = np.ravel(explainer.expected_value)[-1]
        return np.asarray(values, dtype=float), np.full(len(X), float(base))
    raise ValueError(f"engine must be 'lightgbm' or 'shap', got {engine!r}")


def check_additivity(contrib: np.ndarray, base: np.ndarray, margin: np.ndarray, ids: np.ndarray | None = None) -> None:
    """Raise unless ``base + sum(contributions) == margin`` within 1e-6 for every row."""
    gap = np.abs(base + contrib.sum(axis=1) - margin)
    if len(gap) and gap.max() > ADDITIVITY_TOLERANCE:
        i = int(gap.argmax())
        who = f"household {str(ids[i])!r}" if ids is not None else f"row {i}"
        raise AdditivityError(f"SHAP values of {who} add up to {base[i] + contrib[i].sum():.9f}, the margin is "
                              f"{margin[i]:.9f} (gap {gap[i]:.2e} > {ADDITIVITY_TOLERANCE:g}); "
                              "the booster and its explainer disagree — retrain or update lightgbm/shap")


def _group_matrix(names: list[str]) -> tuple[list[str], np.ndarray]:
    codes = list(RISK_GROUPS)
    G = np.zeros((len(names), len(codes)))
    for i, n in enumerate(names):
        G[i, codes.index(by_name(n).risk_group)] = 1.0
    return codes, G


def _top_positive(contrib: np.ndarray, top: int) -> np.ndarray:
    """Column indices of the ``top`` largest contributions per row (largest first); -1 where not positive."""
    k = min(top, contrib.shape[1])
    if k <= 0:
        return np.empty((len(contrib), 0), dtype=int)
    part = np.argpartition(-contrib, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(contrib, part, axis=1).argsort(axis=1)[:, ::-1]
    idx = np.take_along_axis(part, order, axis=1)
    return np.where(np.take_along_axis(contrib, idx, axis=1) > 0, idx, -1)


@dataclass
class _Computed:
    scores: pd.DataFrame  # RiskModel.scores_from_margin
    as_of: list[str]
    contrib: np.ndarray
    base: np.ndarray
    margin: np.ndarray
    top: np.ndarray
    row_index: dict[str, int]
    values: np.ndarray


def _contributions(model: RiskModel, indicators: pd.DataFrame, engine: Engine,
                   margin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Contributions and base values of the rows, checked to add up to their ``margin``."""
    contrib, base = shap_contributions(model, indicators, engine=engine)
    check_additivity(contrib, base, margin,
                     indicators["household_id"].to_numpy() if "household_id" in indicators else None)
    return contrib, base


def _values(indicators: pd.DataFrame) -> tuple[dict[str, int], np.ndarray]:
    """Every numeric indicator of the table as one float matrix, and each name's column in it: sentences may
    quote any catalogue indicator in the table, not only the model's features."""
    cols = [c for c in indicators.columns if c not in ("household_id", "round_id", "survey_date", "as_of")
            and pd.api.types.is_numeric_dtype(indicators[c])]
    return {c: i for i, c in enumerate(cols)}, indicators[cols].to_numpy(dtype="float64", na_value=np.nan)


def _compute(model: RiskModel, indicators: pd.DataFrame, top: int, engine: Engine,
             margin: np.ndarray | None = None) -> _Computed:
    if margin is None:
        margin = model.margin(indicators)
    contrib, base = _contributions(model, indicators, engine, margin)
    scores = model.scores_from_margin(indicators, margin)
    as_of = (pd.to_datetime(indicators["as_of"]).dt.strftime("%Y-%m-%d").tolist() if "as_of" in indicators
             else [""] * len(indicators))
    row_index, values = _values(indicators)
    return _Computed(scores, as_of, contrib, base, margin, _top_positive(contrib, CANDIDATES), row_index, values)


# Indicators of income after rigid spending: the risk they flag is caused by the spending they subtract.
HARDSHIP_FEATURES = frozenset({"hardship_income_pc", "hardship_ratio", "hardship_gap_pc", "hardship_ratio_change",
                               "min_hardship_ratio"})
RIGID_SPENDING_SHARE_OF_LINE = 0.1


def measure_groups(reasons: list[Reason], row: Mapping[str, float]) -> tuple[str, ...]:
    """Risk groups whose measures the reasons call for, in order. A hardship reason also calls for the
    measures of the spending behind it (illness for medical, education for schooling) when that spending
    takes at least a tenth of the monitoring line per person — the help then goes to the cause, not only to
    the income."""
    groups = []
    for r in reasons:
        if r.group is None:
            continue
        groups.append(r.group)
        if r.indicator in HARDSHIP_FEATURES:
            gap = (row.get("net_income_ratio") or 0.0) - (row.get("hardship_ratio") or 0.0)
            if gap >= RIGID_SPENDING_SHARE_OF_LINE:
                medical, education = row.get("medical_expense") or 0.0, row.get("education_expense") or 0.0
                groups.insert(len(groups) - 1, "illness" if medical >= education else "education")
    return tuple(dict.fromkeys(groups))


@lru_cache(maxsize=4096)
def _recommend(groups: tuple[str, ...], labour_capable: bool) -> tuple[Measure, ...]:
    return tuple(recommend(groups, labour_capable=labour_capable))


# ---- public API

def explain(model: RiskModel, indicators: pd.DataFrame, *, top: int = 3, engine: Engine = "lightgbm") -> list[Explanation]:
    """One explanation per indicator row (same order): SHAP contributions, risk groups, the ``top``
    risk-raising reasons as zh/en sentences, and measures for the reasons' risk groups."""
    c = _compute(model, indicators, top, engine)
    names = model.feature_names
    group_codes, G = _group_matrix(names)
    group_sums = c.contrib @ G
    group_order = np.argsort(-group_sums, axis=1, kind="stable")
    rules = CitationRules.of(model)
    capable = c.row_index.get("capable_workers")
    n = len(c.contrib)
    ids = c.scores["household_id"].astype(str).to_numpy() if "household_id" in c.scores else np.arange(n).astype(str)
    rounds = c.scores["round_id"].astype(str).to_numpy() if "round_id" in c.scores else np.full(n, "")
    risk, tier, elig = c.scores["risk"].to_numpy(), c.scores["tier"].to_numpy(), c.scores["eligible"].to_numpy()
    out = []
    for i in range(len(c.contrib)):
        row = _Row(c.row_index, c.values[i])
        reasons = rules.pick(c.top[i], c.contrib[i], row, top)
        sums = group_sums[i].tolist()
        groups = [GroupContribution(group_codes[g], *RISK_GROUPS[group_codes[g]], sums[g]) for g in group_order[i]]
        labour = bool(capable is not None and c.values[i, capable] > 0)
        measures = list(_recommend(measure_groups(reasons, row), labour))
        out.append(Explanation(
            household_id=str(ids[i]), round_id=str(rounds[i]), as_of=c.as_of[i], risk=float(risk[i]),
            tier=str(tier[i]), eligible=bool(elig[i]), margin=float(c.margin[i]), base_value=float(c.base[i]),
            contributions=dict(zip(names, c.contrib[i].tolist())), groups=groups, reasons=reasons,
            measures=measures))
    return out


def reason_table(model: RiskModel, indicators: pd.DataFrame, *, top: int = 3, margin: np.ndarray | None = None,
                 lang: Lang = "zh") -> pd.DataFrame:
    """``reason_k_indicator, reason_k_value, reason_k_text`` (k = 1..top) per indicator row (same order): the
    cited reasons in ``lang`` as ``RiskModel.score`` gives them (blank where fewer reasons). ``margin``: the one
    ``RiskModel.score`` already computed for these rows.

    The same reasons and sentences as ``explain`` (``CitationRules.pick`` and ``sentence``, one household at a
    time), computed for all rows at once: ``CitationRules.select`` applies the rules to arrays, and
    ``sentences`` fills one indicator's template for all the rows that cite it (``tests/test_explain.py``
    holds the two paths equal)."""
    if margin is None:
        margin = model.margin(indicators)
    contrib, _ = _contributions(model, indicators, "lightgbm", margin)
    row_index, values = _values(indicators)
    rules = CitationRules.of(model)
    chosen = rules.select(_top_positive(contrib, CANDIDATES), contrib, values, row_index, top)
    n = len(chosen)
    texts = np.full(chosen.shape, "", dtype=object)
    flat = chosen.reshape(-1)
    for j in np.unique(flat[flat >= 0]).tolist():  # one template at a time, for every household citing it
        at = np.flatnonzero(flat == j)
        texts.reshape(-1)[at] = sentences(rules.names[j], values[at // top], row_index, lang)
    if n and top:
        texts[chosen[:, 0] < 0, 0] = NO_DOMINANT_FACTOR.text_zh if lang == "zh" else NO_DOMINANT_FACTOR.text_en
    own, _ = rules.columns(row_index)
    names = np.array([*rules.names, ""], dtype=object)
    cols: dict[str, list[Any]] = {}
    for k in range(top):
        j = chosen[:, k]
        value = np.where(j >= 0, values[np.arange(n), np.maximum(own[j], 0)], np.nan)
        cols[f"reason_{k + 1}_indicator"] = names[j].tolist()  # -1 (blank) is the last name: ""
        # a cited value is never missing (the median rule needs it), so only blanks are None
        cols[f"reason_{k + 1}_value"] = [v if i >= 0 else None for i, v in zip(j.tolist(), value.tolist())]
        cols[f"reason_{k + 1}_text"] = texts[:, k].tolist()
    return pd.DataFrame(cols)
