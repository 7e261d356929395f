"""Which factors an explanation may cite, and how: the rules that make every reason defensible.

A factor with a positive SHAP contribution raised this household's score, but that alone does not make it a
reason a cadre can repeat: trees split on income both ways, so "net income 8.75 times the line" can carry a
positive contribution. A factor is cited only when

1. its contribution raises the risk by at least ``MIN_CONTRIBUTION`` (log-odds);
2. the catalogue gives it a direction and the household's value is on the risk side of the median of the
   model's training population (medians saved with the model at training, never recomputed from a batch):
   above the median for a risk-raising indicator, below it for a protective one;
3. a reported shock is recent: its latest event of that kind is at most ``RECENT_SHOCK_DAYS`` old;
4. its concept has not been cited yet (the subsidy cliff in yuan and as a ratio is one fact).

A household with no factor passing these rules gets ``NO_DOMINANT_FACTOR`` rather than a weak reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from features.indicators.catalogue import by_name
from features.indicators.shocks import shock_group_of, shock_name
from models.reasons import sentence

if TYPE_CHECKING:
    from models.risk_model import RiskModel

MIN_CONTRIBUTION = 0.02   # log-odds; smaller pushes are noise, not reasons
RECENT_SHOCK_DAYS = 365   # older shocks are history, not a recent event


def clean_value(v: float | None) -> float | None:
    """A float for JSON: None for missing or NaN."""
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


@dataclass(frozen=True)
class Reason:
    """One cited factor, structured the same way everywhere (CLI, service, reports, worklists)."""

    indicator: str | None  # catalogue name; None for "no single dominant factor"
    value: float | None    # the household's indicator value (None when missing)
    group: str | None      # a RISK_GROUPS key
    text_zh: str
    text_en: str
    contribution: float = 0.0  # SHAP log-odds, > 0 for a cited factor

    def public(self) -> dict[str, Any]:
        """``{indicator, value, group, text_zh, text_en}`` with plain JSON values."""
        return {"indicator": self.indicator, "value": clean_value(self.value), "group": self.group,
                "text_zh": self.text_zh, "text_en": self.text_en}


NO_DOMINANT_FACTOR = Reason(None, None, None, "无单一主导因素", "no single dominant factor")


def on_risk_side(direction: int, value: float | None, median: float | None) -> bool:
    """True when ``value`` lies strictly on the risk side of ``median`` for the catalogue ``direction``."""
    if direction == 0 or value is None or median is None or math.isnan(value) or math.isnan(median):
        return False
    return value > median if direction > 0 else value < median


def recent_shock(name: str, row: Mapping[str, float]) -> bool:
    """For a shock indicator: its group's latest event is at most ``RECENT_SHOCK_DAYS`` before as-of.
    Other indicators pass."""
    group = shock_group_of(name)
    if not group:
        return True
    days = row.get(shock_name(group, "days_since"))
    return days is not None and not math.isnan(days) and days <= RECENT_SHOCK_DAYS


@dataclass(frozen=True)
class CitationRules:
    """The citation rules bound to one model's features and training medians."""

    names: tuple[str, ...]
    directions: tuple[int, ...]
    groups: tuple[str, ...]
    concepts: tuple[str, ...]
    medians: tuple[float | None, ...]

    @classmethod
    def of(cls, model: RiskModel) -> CitationRules:
        feats = [by_name(n) for n in model.feature_names]
        return cls(tuple(model.feature_names), tuple(f.direction for f in feats), tuple(f.risk_group for f in feats),
                   tuple(f.concept for f in feats), tuple(model.medians.get(n) for n in model.feature_names))

    def citable(self, j: int, contribution: float, row: Mapping[str, float]) -> bool:
        name = self.names[j]
        return (contribution >= MIN_CONTRIBUTION and on_risk_side(self.directions[j], row.get(name), self.medians[j])
                and recent_shock(name, row))

    def pick(self, candidates: np.ndarray, contrib: np.ndarray, row: Mapping[str, float], top: int,
             lang: str | None = None) -> list[Reason]:
        """Up to ``top`` reasons from ``candidates`` (feature indices, largest contribution first, -1 ends them);
        ``[NO_DOMINANT_FACTOR]`` when none passes. With ``lang`` ("zh" or "en") only that language's sentence
        is written (the other text is ""): a batch table shows one language, and the sentences are most of
        the cost of explaining a county."""
        out: list[Reason] = []
        seen: set[str] = set()
        for j in candidates:
            if j < 0 or len(out) == top:
                break
            c = float(contrib[j])
            if self.concepts[j] in seen or not self.citable(j, c, row):
                continue
            seen.add(self.concepts[j])
            name = self.names[j]
            zh = sentence(name, row, "zh") if lang in (None, "zh") else ""
            en = sentence(name, row, "en") if lang in (None, "en") else ""
            out.append(Reason(name, row.get(name), self.groups[j], zh, en, c))
        return out or [NO_DOMINANT_FACTOR]

    # ---- many households at once (the batch path; ``pick`` is the reference it is held to, see the tests)
    def columns(self, row_index: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
        """For each feature, its column in a value matrix laid out by ``row_index`` (-1 when absent), and the
        column of its shock group's ``days_since`` (-1 when absent; -2 for a feature that is no shock)."""
        own = np.array([row_index.get(n, -1) for n in self.names], dtype=np.intp)
        days = np.array([row_index.get(shock_name(g, "days_since"), -1) if (g := shock_group_of(n)) else -2
                         for n in self.names], dtype=np.intp)
        return own, days

    def select(self, candidates: np.ndarray, contrib: np.ndarray, values: np.ndarray,
               row_index: Mapping[str, int], top: int) -> np.ndarray:
        """``pick`` for every row at once: the cited feature indices ``(n, top)``, in citation order, -1 for
        a blank slot (a row of -1 only is ``NO_DOMINANT_FACTOR``). ``values``: the rows' indicator values laid
        out by ``row_index`` (what ``pick`` reads through its ``row``)."""
        n, k = candidates.shape
        out = np.full((n, top), -1, dtype=np.intp)
        if n == 0 or k == 0 or top <= 0:
            return out
        j = np.maximum(candidates, 0)
        rows = np.arange(n)[:, None]
        alive = np.cumprod(candidates >= 0, axis=1).astype(bool)  # ``pick`` stops at the first -1
        own, days_col = self.columns(row_index)
        value = np.where(own[j] >= 0, values[rows, np.maximum(own[j], 0)], np.nan)
        median = np.array([np.nan if m is None else m for m in self.medians], dtype="float64")[j]
        direction = np.asarray(self.directions)[j]
        with np.errstate(invalid="ignore"):
            risk_side = np.where(direction > 0, value > median, (direction < 0) & (value < median))
            days = np.where(days_col[j] >= 0, values[rows, np.maximum(days_col[j], 0)], np.nan)
            recent = (days_col[j] == -2) | (days <= RECENT_SHOCK_DAYS)
        ok = alive & (np.take_along_axis(contrib, j, axis=1) >= MIN_CONTRIBUTION) & risk_side & recent
        # a concept is cited once: the first citable candidate of each concept, then the first ``top`` of them
        concept = self._concept_codes()[j]
        cited = ok.copy()
        for p in range(1, k):
            cited[:, p] &= ~((concept[:, :p] == concept[:, p:p + 1]) & ok[:, :p]).any(axis=1)
        cited &= np.cumsum(cited, axis=1) <= top
        slot = np.cumsum(cited, axis=1) - 1
        r, p = np.nonzero(cited)
        out[r, slot[r, p]] = j[r, p]
        return out

    def _concept_codes(self) -> np.ndarray:
        return np.unique(np.array(self.concepts, dtype=object).astype(str), return_inverse=True)[1].reshape(-1)
