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
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from models.calibration import Calibrator
from models.scorers import LightGBMScorer, Scorer, as_matrix, load_scorer, save_scorer
from models.tiers import assign

if TYPE_CHECKING:
    from features.documents import DocumentFrames

FORMAT_VERSION = 1
ID_COLUMNS = ["household_id", "round_id", "as_of"]


def training_medians(X: pd.DataFrame) -> dict[str, float]:
    """Median of each numeric indicator over the rows the model was fitted on (missing values ignored;
    indicators that are always missing are left out)."""
    med = X.median(axis=0, skipna=True, numeric_only=True)
    return {str(k): float(v) for k, v in med.items() if pd.notna(v)}


class ModelFeatureMismatch(RuntimeError):
    """The saved model expects other indicators than this code computes."""


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

    def predict_proba(self, indicators: pd.DataFrame) -> np.ndarray:
        return self.calibrator.predict(self.margin(indicators))

    def score_indicators(self, indicators: pd.DataFrame) -> pd.DataFrame:
        """``household_id, round_id, as_of, risk, tier, model_version`` for an indicator table."""
        risk = self.predict_proba(indicators)
        out = indicators[[c for c in ID_COLUMNS if c in indicators.columns]].copy()
        out["risk"] = risk
        out["tier"] = assign(risk, self.tier_thresholds)
        out["model_version"] = self.model_version
        return out.reset_index(drop=True)

    def indicators(self, households: Sequence[Mapping[str, Any]], as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        """Indicators for DESIGN "Household" items, with this model's monitoring lines."""
        from features.indicators import indicators_for

        return indicators_for(households, lines=self.lines, as_of=as_of)

    def indicators_of_frames(self, frames: DocumentFrames) -> pd.DataFrame:
        """Indicators for documents flattened by ``features.documents.to_frames`` and found without problems:
        the service's path, which checks the documents itself to answer with each problem's place."""
        from features.indicators.records import indicators_of_frames

        return indicators_of_frames(frames, lines=self.lines)

    def score_households(self, households: Sequence[Mapping[str, Any]],
                         as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        """Score DESIGN "Household" items (record, members, history, events, as_of)."""
        return self.score_indicators(self.indicators(households, as_of))

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
            from features.catalogue import feature_names

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
