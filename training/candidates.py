"""The candidate models, each fitted the same way on a forward split: fit rows for the parameters, the newer
validation rows for early stopping (LightGBM) and the blend's stack weights. Calibration and tiers come later,
on the chosen one only (``training.train``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.scorers import LightGBMScorer, Scorer, fit_blend, fit_rule, fit_scorecard
from training.config import LightGBMParams, TrainConfig
from training.splits import capped_rows, sample_ratio

# Indicators the rule reads (see features.indicators.catalogue and models.baselines.RuleBaseline).
RULE_RATIO = "hardship_ratio"
RULE_RIGID = ("medical_share_of_income", "education_share_of_income")


def lightgbm_params(params: LightGBMParams, features: list[str], monotone: dict[str, int]) -> dict:
    """LightGBM parameters; ``monotone`` maps indicators to the sign their effect is held to."""
    out = {"objective": "binary", "verbose": -1, "deterministic": True, "force_row_wise": True, **params.model_dump()}
    if out["num_threads"] == 0:
        out.pop("num_threads")
    if any(monotone.get(f, 0) for f in features):
        out["monotone_constraints"] = [monotone.get(f, 0) for f in features]
        out["monotone_constraints_method"] = "advanced"
    return out


def monotone_signs(cfg: TrainConfig, *, small: bool) -> dict[str, int]:
    """Constrained indicators -> catalogue direction: the risk-raising shocks (``monotone_shocks``) and, for
    the small-data model, the income-to-line ratios and the subsidy cliff."""
    from features.indicators.catalogue import FEATURES, by_name

    signs = {f.name: 1 for f in FEATURES if cfg.monotone_shocks and f.family == "shocks" and f.direction == 1}
    if small:
        signs.update({n: by_name(n).direction for n in cfg.small_monotone_features})
    return signs


def fit_lightgbm(X: pd.DataFrame, y: np.ndarray, fit: np.ndarray, valid: np.ndarray, params: dict,
                 num_boost_round: int, early_stopping_rounds: int, categorical: list[str]) -> tuple[LightGBMScorer, int]:
    """A booster on the fit rows, early-stopped on the validation rows and cut at its best iteration."""
    import lightgbm as lgb

    from training.row_blocks import BlockDataset, RowBlocks

    quiet = {"verbose": params.get("verbose", -1)}
    names = list(X.columns)
    cats = [names.index(c) for c in categorical]
    # -1 codes an unknown category; LightGBM reads negative categories as missing and says so on stdout whatever
    # its verbosity ("Met negative value in categorical features"). Give it the missing values itself: the same
    # trees and predictions (checked), without the noise. Scoring may keep -1: LightGBM reads it the same way.
    # Each slice is read in float64 row blocks (the values LightGBM would convert the frame to), binned as they
    # come: no float64 matrix of all the fit rows (training.row_blocks); the validation rows are binned with the
    # fit rows' bins.
    train_set = BlockDataset(RowBlocks(X, fit, cats), y[fit], feature_name=names, categorical_feature=cats,
                            free_raw_data=True, params=quiet)
    valid_set = BlockDataset(RowBlocks(X, valid, cats), y[valid], reference=train_set, feature_name=names,
                            categorical_feature=cats, free_raw_data=True, params=quiet)
    booster = lgb.train(params, train_set, num_boost_round=num_boost_round, valid_sets=[valid_set],
                        callbacks=[lgb.early_stopping(early_stopping_rounds, verbose=False)])
    best = booster.best_iteration or num_boost_round
    return LightGBMScorer(lgb.Booster(model_str=booster.model_to_string(num_iteration=best))), best


def fit_candidates(names: list[str], X: pd.DataFrame, y: np.ndarray, fit: np.ndarray, valid: np.ndarray,
                   cfg: TrainConfig, categorical: list[str]) -> tuple[dict[str, Scorer], dict[str, int]]:
    """Every named candidate fitted on one split; also the best iteration of each LightGBM."""
    from features.indicators.catalogue import by_name

    features = list(X.columns)
    scorers: dict[str, Scorer] = {}
    iterations: dict[str, int] = {}
    for name in names:
        if name == "lightgbm":
            params = lightgbm_params(cfg.lightgbm, features, monotone_signs(cfg, small=False))
            scorers[name], iterations[name] = fit_lightgbm(X, y, fit, valid, params, cfg.num_boost_round,
                                                           cfg.early_stopping_rounds, categorical)
        elif name == "lightgbm_small":
            params = lightgbm_params(cfg.lightgbm_small, features, monotone_signs(cfg, small=True))
            scorers[name], iterations[name] = fit_lightgbm(X, y, fit, valid, params, cfg.small_num_boost_round,
                                                           cfg.early_stopping_rounds, categorical)
        elif name == "scorecard":
            # a seeded sample of the fit rows when they exceed cfg.baseline_fit_rows (training.splits.capped_rows),
            # its penalty scaled to stand for all of them
            sample = capped_rows(fit, cfg.baseline_fit_rows, cfg.baseline_sample_seed)
            scorers[name] = fit_scorecard(X, y, rows=sample, directions={f: by_name(f).direction for f in features},
                                          categorical=categorical,
                                          C=[c * sample_ratio(fit, sample) for c in cfg.scorecard_C],
                                          select_on=(X[valid], y[valid]))
        elif name == "rule":
            scorers[name] = fit_rule(X, ratio_column=RULE_RATIO, rigid_share_columns=RULE_RIGID, rows=fit,
                                     line_multiple=cfg.rule_line_multiple, rigid_share=cfg.rule_rigid_share)
    if "blend" in names:
        parts = [(n, s) for n, s in scorers.items()]
        scorers["blend"] = fit_blend(parts, X[valid], y[valid])
    return scorers, iterations
