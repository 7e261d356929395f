"""Typed training configuration, validated before any compute (``povwatch train --config FILE``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, model_validator


class LightGBMParams(BaseModel):
    """Defaults for a rare-event target, shaped for cheap exact TreeSHAP (shallow trees, see bench/)."""

    model_config = ConfigDict(extra="forbid")
    # Depth 4 keeps exact TreeSHAP above 5,000 households/s on 2 cores at no loss of roc_auc against an
    # unconstrained LightGBM (measured in bench/bench_explain.py).
    learning_rate: float = Field(0.1, gt=0, le=1)
    num_leaves: int = Field(15, ge=2, le=1024)
    max_depth: int = Field(4, ge=-1, le=64)
    min_data_in_leaf: int = Field(40, ge=1)
    feature_fraction: float = Field(0.8, gt=0, le=1)
    bagging_fraction: float = Field(0.8, gt=0, le=1)
    bagging_freq: int = Field(1, ge=0)
    lambda_l2: float = Field(1.0, ge=0)
    num_threads: int = Field(0, ge=0, description="0: LightGBM's default (all cores)")
    seed: int = 17


class AuditConfig(BaseModel):
    """The equity audit run by ``povwatch audit``, by every ``train`` run and by the promotion gate."""

    model_config = ConfigDict(extra="forbid")
    budget: float = Field(0.10, gt=0, lt=1, description="share of the round a county visits (top by risk)")
    attributes: list[str] = Field(default_factory=lambda: list(_default_attributes()),
                                  description="group attributes compared, each alone")
    intersections: list[str] = Field(default_factory=list, description="e.g. county×head_sex (or county*head_sex)")
    references: dict[str, str] = Field(default_factory=dict, description="attribute -> reference group "
                                       "(default: the largest group)")
    n_boot: int = Field(400, ge=20, le=20000, description="bootstrap replicates for every interval")
    seed: int = 2026
    min_falls: int = Field(30, ge=1, description="fewer falls in a group: insufficient evidence")
    min_households: int = Field(300, ge=1, description="fewer households in a group: insufficient evidence")
    fair_band: tuple[float, float] = Field((0.8, 1.25), description="a recall or FNR ratio whose interval lies "
                                           "wholly outside this band is a disparity")
    gate: bool = Field(True, description="promote refuses a challenger with a new or larger disparity")

    @model_validator(mode="after")
    def _known(self) -> "AuditConfig":
        from training.audit_groups import check_attribute

        self.attributes = [check_attribute(a) for a in self.attributes]
        self.intersections = [check_attribute(a) for a in self.intersections]
        if not 0 < self.fair_band[0] < 1 < self.fair_band[1]:
            raise ValueError(f"fair_band must straddle 1 (low < 1 < high), got {self.fair_band}")
        return self

    def all_attributes(self) -> list[str]:
        return [*self.attributes, *[a for a in self.intersections if a not in self.attributes]]


def _default_attributes() -> tuple[str, ...]:
    from training.audit_groups import DEFAULT_ATTRIBUTES

    return DEFAULT_ATTRIBUTES

Candidate = Literal["lightgbm", "lightgbm_small", "scorecard", "rule", "blend"]
CANDIDATES: tuple[str, ...] = ("lightgbm", "lightgbm_small", "scorecard", "rule", "blend")


def _small_data_lightgbm() -> LightGBMParams:
    """Fewer, shallower, smoother trees for a county of a few thousand households."""
    return LightGBMParams(learning_rate=0.05, num_leaves=7, max_depth=3, min_data_in_leaf=80, feature_fraction=0.7,
                          lambda_l2=10.0)


class SelectionConfig(BaseModel):
    """How the registered candidate is chosen — declared before any fitting, never looking at the test round.

    Each candidate is fitted as the final model will be, at every forward origin inside the training period
    (each earlier round whose next round is known by the test round's date), and scored on that origin's
    households; the criterion is averaged over the origins."""

    model_config = ConfigDict(extra="forbid")
    candidates: list[Candidate] = Field(default_factory=lambda: list(CANDIDATES),
                                        description="candidates to fit and compare (blend stacks the others)")
    criterion: Literal["recall_at_budget", "roc_auc", "pr_auc"] = "recall_at_budget"
    budget: float = Field(0.10, gt=0, lt=1, description="visiting budget: share of households a county visits")
    tie_break: Literal["roc_auc", "pr_auc", "recall_at_budget"] = "roc_auc"
    tie_tolerance: float = Field(0.005, ge=0, description="criterion values this close to the best are ties")
    # The county's rule is the incumbent: on a thin survey a model's lead at a few origins is often a handful
    # of households, and a model registered on such a lead can rank worse than the rule it replaces.
    replace_rule_if: Literal["separated", "ahead", "always"] = Field(
        "separated", description="when a candidate may replace the rule: 'separated' — the 95 % lower bound of "
        "its mean criterion gain over the rule at the forward origins (paired household bootstrap) is above 0; "
        "'ahead' — the mean gain is above 0; 'always' — the best criterion wins, rule or not")
    replicates: int = Field(200, ge=20, le=20000, description="household resamples per origin for that bound")
    seed: int = 2026

    @model_validator(mode="after")
    def _candidates_usable(self) -> "SelectionConfig":
        if not self.candidates or len(set(self.candidates)) != len(self.candidates):
            raise ValueError(f"selection.candidates must list distinct candidates of {', '.join(CANDIDATES)}; "
                             f"got {self.candidates}")
        if "blend" in self.candidates and len(self.candidates) < 3:
            raise ValueError("selection.candidates: 'blend' stacks the other candidates and needs at least two")
        if self.replace_rule_if == "separated" and self.criterion == "pr_auc":
            raise ValueError("selection.replace_rule_if: 'separated' bounds recall_at_budget or roc_auc gains; "
                             "with criterion pr_auc use 'ahead' or 'always'")
        return self


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lightgbm: LightGBMParams = Field(default_factory=LightGBMParams)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    lightgbm_small: LightGBMParams = Field(default_factory=_small_data_lightgbm)
    small_num_boost_round: int = Field(400, ge=1, le=20000)
    # Income-to-line ratios and the subsidy cliff: the small-data LightGBM may only let risk fall as a ratio
    # rises (and rise with the cliff flag), the direction in the feature catalogue.
    small_monotone_features: list[str] = Field(default_factory=lambda: [
        "net_income_ratio", "hardship_ratio", "prev_hardship_ratio", "min_hardship_ratio",
        "income_without_policy_ratio", "cliff_below_line"])
    scorecard_C: list[PositiveFloat] = Field(default_factory=lambda: [0.1, 0.01, 0.001], min_length=1,
                                     description="inverse L2 strengths tried for the sign-constrained scorecard; "
                                     "the best roc_auc on the forward validation slice is kept")
    selection: SelectionConfig = Field(default_factory=SelectionConfig)
    bootstrap_replicates: int = Field(500, ge=0, le=20000, description="household resamples for the intervals "
                                      "of the test-round metrics (0: none)")
    num_boost_round: int = Field(600, ge=1, le=20000)
    early_stopping_rounds: int = Field(50, ge=1)
    # Platt by default: strictly increasing everywhere and never exactly 0 or 1, so a newly reported shock
    # always moves the risk and the top of the list keeps its order; on simulated data its ECE is within
    # 0.002 of isotonic. "auto" picks by Brier score on half of the calibration slice.
    calibration: Literal["auto", "isotonic", "platt"] = "platt"
    monotone_shocks: bool = Field(True, description="a reported shock (count or amount) never lowers the risk: "
                                  "LightGBM monotone constraints on the risk-raising 'shocks' indicators")
    tier_high_share: float = Field(0.05, gt=0, lt=1, description="share of the calibration slice tiered high")
    tier_medium_share: float = Field(0.10, gt=0, lt=1, description="next share tiered medium")
    quarterly: bool = Field(True, description="add quarterly as-of dates between rounds to the training examples")
    logit_C: float = Field(0.1, gt=0)
    baseline_fit_rows: int = Field(250_000, ge=1000, description="most fit rows the linear models (the logistic "
                                   "baseline, the scorecard) are fitted on; a larger fit slice is sampled "
                                   "(uniform, seeded by baseline_sample_seed) to this many rows, which bounds "
                                   "their float64 design matrices (docs/training.md, 'Linear models on a sample')")
    baseline_sample_seed: int = 2026
    rule_line_multiple: float = Field(1.5, gt=0)
    rule_rigid_share: float = Field(0.5, gt=0)
    min_test_rows: int = Field(50, ge=1)

    @model_validator(mode="after")
    def _monotone_features_known(self) -> "TrainConfig":
        from features.indicators.catalogue import feature_names

        unknown = sorted(set(self.small_monotone_features) - set(feature_names()))
        if unknown:
            raise ValueError(f"small_monotone_features: {unknown} are not indicators of the feature catalogue")
        return self

    @model_validator(mode="after")
    def _tiers_fit(self) -> "TrainConfig":
        if self.tier_high_share + self.tier_medium_share >= 1:
            raise ValueError("tier_high_share + tier_medium_share must be below 1")
        return self

    @classmethod
    def from_file(cls, path: Path | None) -> "TrainConfig":
        """Read a JSON or YAML config; unknown keys and out-of-range values are errors naming the field."""
        if path is None:
            return cls()
        text = Path(path).read_text(encoding="utf-8")
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
        return cls.model_validate(data)
