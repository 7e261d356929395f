"""RiskModel: the one scoring path — raw household records → indicators → the scorer's margin → calibrated
risk → tier (→ explanations, see ``models.explain``). Used by training, batch scoring, the BentoML service and
the MLflow pyfunc alike. The scorer is any candidate of ``models.scorers`` (LightGBM, scorecard, rule, blend).

Saved as a folder of text: the scorer's files (``scorer.json`` + e.g. ``model.txt``, LightGBM's own format)
and ``model.json`` (features, calibration, tier thresholds, monitoring lines, training metadata). No pickles.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.data.as_of import stale_mask
from features.data.derived import at_or_above_line
from models.calibration import Calibrator
from models.scorers import LightGBMScorer, Scorer, as_matrix, load_scorer, save_scorer
from models.tiers import assign

FORMAT_VERSION = 1
ID_COLUMNS = ["household_id", "round_id", "as_of"]
SCORE_COLUMNS = [*ID_COLUMNS, "risk", "tier", "eligible", "stale", "model_version"]


def training_medians(X: pd.DataFrame) -> dict[str, float]:
    """Median of each numeric indicator over the rows the model was fitted on (missing values ignored;
    indicators that are always missing are left out)."""
    # column by column in float64: the same medians for a compact (float32) column, without a float64 copy
    med = {c: X[c].astype("float64").median(skipna=True) for c in X.columns if pd.api.types.is_numeric_dtype(X[c])}
    return {str(k): float(v) for k, v in med.items() if pd.notna(v)}


class ModelFeatureMismatch(RuntimeError):
    """The saved model expects other indicators than this code computes."""


def eligible(indicators: pd.DataFrame) -> np.ndarray:
    """True where the household is at or above the line at its as-of record (it can still fall below it);
    False when already below, or when its hardship income is unknown. Read from the indicators
    ``hardship_income_pc`` and ``monitoring_line``, by the label's own rule (``features.data.derived``)."""
    missing = [c for c in ("hardship_income_pc", "monitoring_line") if c not in indicators.columns]
    if missing:
        raise ModelFeatureMismatch(f"indicator table lacks {', '.join(missing)}, needed to tell whether a "
                                   "household is already below the line; build it with features.indicators")
    return at_or_above_line(indicators["hardship_income_pc"], indicators["monitoring_line"]) == 1.0


def catalogue_fingerprint(names: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


@dataclass
class RiskModel:
    scorer: Scorer                     # models.scorers: LightGBM, scorecard, rule or blend
    calibrator: Calibrator
    tier_thresholds: dict[str, float]
    feature_names: list[str]
    lines: pd.DataFrame                # monitoring lines the indicators were computed with
    metadata: dict[str, Any] = field(default_factory=dict)
    model_version: str = ""            # registry version, set by whoever loaded it from the registry
    # Median of each indicator over the training population (``training_medians``): a reason is cited only
    # when the household's value is on the risk side of it, so scoring never recomputes it from a batch.
    medians: dict[str, float] = field(default_factory=dict)

    # ---- scoring
    def matrix(self, indicators: pd.DataFrame) -> pd.DataFrame:
        """The feature matrix in training order; a missing indicator column is an error, not a NaN."""
        missing = [f for f in self.feature_names if f not in indicators.columns]
        if missing:
            raise ModelFeatureMismatch(f"indicator table lacks {len(missing)} model features: {missing[:5]}")
        return indicators[self.feature_names].astype("float64")

    @property
    def booster(self) -> Any:
        """The LightGBM booster of a LightGBM model (an error naming the kind for any other)."""
        if not isinstance(self.scorer, LightGBMScorer):
            raise AttributeError(f"this model's scorer is a {self.scorer.kind}, not a LightGBM booster; "
                                 "use RiskModel.margin / models.explain for any kind")
        return self.scorer.booster

    def margin(self, indicators: pd.DataFrame) -> np.ndarray:
        """The scorer's margin (log-odds for LightGBM, the scorecard and the blend; the rule's score)."""
        # A float64 array, not the DataFrame: the scorers would only convert it (0.4 ms even for one row).
        return self.scorer.margin(as_matrix(self.matrix(indicators)))

    def contributions(self, indicators: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Exact additive contributions ``(n, features)`` and base values ``(n,)`` in the margin's units: the
        one place they are computed (TreeSHAP through LightGBM's ``pred_contrib`` for a booster; see
        ``models.scorers`` for the other kinds)."""
        return self.scorer.contributions(as_matrix(self.matrix(indicators)))

    def predict_proba(self, indicators: pd.DataFrame) -> np.ndarray:
        """Calibrated risk only (metrics, curves); callers that show a score use ``score``."""
        return self.calibrator.predict(self.margin(indicators))

    def scores_from_margin(self, indicators: pd.DataFrame, margin: np.ndarray, *,
                           round_start: pd.Timestamp | None = None) -> pd.DataFrame:
        """``SCORE_COLUMNS`` from a margin already computed for ``indicators`` (``explain`` needs the margin
        too; computing it once keeps every caller's risk identical)."""
        risk = self.calibrator.predict(margin)
        out = pd.DataFrame({c: indicators[c].to_numpy() for c in ID_COLUMNS if c in indicators.columns})
        out["risk"] = risk
        out["tier"] = assign(risk, self.tier_thresholds)
        out["eligible"] = eligible(indicators)
        out["stale"] = (stale_mask(indicators["survey_date"], round_start) if "survey_date" in indicators
                        else np.zeros(len(out), dtype=bool))
        out["model_version"] = str(self.model_version)
        return out

    def score(self, indicators: pd.DataFrame, *, explain_top: int = 0, lang: str = "zh",
              round_start: pd.Timestamp | None = None) -> pd.DataFrame:
        """The one scoring interface: ``household_id, round_id, as_of, risk, tier, eligible, stale,
        model_version`` per indicator row (same order, index 0..n-1).

        ``eligible`` is False for a household already below the line at its as-of record: it needs
        assistance now, not a prediction (its risk is still given). ``stale`` is True when the household's
        newest record was surveyed before ``round_start``, the first survey date of the reference round
        (``features.data.as_of``; None: nothing is stale). With
        ``explain_top`` > 0, each row also gets its ``explain_top`` cited reasons as
        ``reason_<k>_indicator, reason_<k>_value, reason_<k>_text`` (text in ``lang``; see ``models.explain``).
        """
        margin = self.margin(indicators)
        out = self.scores_from_margin(indicators, margin, round_start=round_start)
        if explain_top > 0:
            from models.explain import reason_table

            reasons = reason_table(self, indicators, top=explain_top, margin=margin, lang=lang)
            out = pd.concat([out, reasons], axis=1)
        return out

    def indicators(self, households: Sequence[Mapping[str, Any]], as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        """Indicators for "Household" documents (record, members, history, events, as_of), with this model's
        monitoring lines."""
        from features.indicators import indicators_for

        return indicators_for(households, lines=self.lines, as_of=as_of)

    def score_households(self, households: Sequence[Mapping[str, Any]],
                         as_of: pd.Timestamp | None = None, *, explain_top: int = 0, lang: str = "zh") -> pd.DataFrame:
        """Score "Household" documents (record, members, history, events, as_of)."""
        return self.score(self.indicators(households, as_of), explain_top=explain_top, lang=lang)

    # ---- persistence
    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_scorer(self.scorer, folder)
        spec = {
            "format_version": FORMAT_VERSION,
            "feature_names": self.feature_names,
            "catalogue_fingerprint": catalogue_fingerprint(self.feature_names),
            "calibration": self.calibrator.to_dict(),
            "tier_thresholds": self.tier_thresholds,
            "lines": json.loads(self.lines.astype({"year": "int64"}).to_json(orient="records")),
            "metadata": self.metadata,
            "training_medians": self.medians,
        }
        (folder / "model.json").write_text(json.dumps(spec, ensure_ascii=False, indent=1, default=str))
        return folder

    @classmethod
    def load(cls, folder: str | Path, *, check_catalogue: bool = True) -> "RiskModel":
        folder = Path(folder)
        spec = json.loads((folder / "model.json").read_text())
        if spec.get("format_version") != FORMAT_VERSION:
            raise ModelFeatureMismatch(f"{folder}: model format {spec.get('format_version')}, expected {FORMAT_VERSION}")
        if check_catalogue:
            from features.indicators.catalogue import feature_names

            current = feature_names()
            if current != spec["feature_names"]:
                raise ModelFeatureMismatch(
                    f"{folder}: model trained on catalogue {spec['catalogue_fingerprint']}, this code computes "
                    f"{catalogue_fingerprint(current)}; retrain with `povwatch train`")
        lines = pd.DataFrame(spec["lines"]).astype({"year": "Int64", "line": "float64"})
        return cls(scorer=load_scorer(folder), calibrator=Calibrator.from_dict(spec["calibration"]),
                   tier_thresholds=spec["tier_thresholds"], feature_names=spec["feature_names"],
                   lines=lines, metadata=spec.get("metadata", {}),
                   medians={k: float(v) for k, v in spec.get("training_medians", {}).items()})
