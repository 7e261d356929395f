"""Unit tests of the training stage on tiny hand-made frames: metrics, calibration, tiers, splits, config."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.calibration import Calibrator
from models.tiers import assign, fit_thresholds
from training.config import TrainConfig
from training.metrics import expected_calibration_error, metric_table, precision_at_k, recall_at_k
from training.splits import SplitError, make_split


def test_recall_and_precision_at_k_count_the_top_share():
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
    score = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    # top 20% = first two rows: one of three fallers found
    assert recall_at_k(y, score, 0.2) == pytest.approx(1 / 3)
    assert precision_at_k(y, score, 0.2) == pytest.approx(0.5)
    assert recall_at_k(y, score, 1.0) == 1.0


def test_ece_is_zero_for_perfect_calibration_and_positive_otherwise():
    y = np.array([0] * 9 + [1] * 1, dtype=float)
    assert expected_calibration_error(y, np.full(10, 0.1)) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.full(10, 0.9)) == pytest.approx(0.8)


def test_metric_table_names_match_design():
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.1).astype(float)
    m = metric_table(y, rng.random(500))
    assert list(m) == ["roc_auc", "pr_auc", "brier", "ece", "recall_at_5pct", "recall_at_10pct", "precision_at_10pct"]


@pytest.mark.parametrize("method", ["isotonic", "platt", "auto"])
def test_calibrator_round_trips_through_json(method):
    rng = np.random.default_rng(1)
    margin = rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(-(2 * margin - 2)))).astype(float)
    cal = Calibrator(method=method).fit(margin, y)
    again = Calibrator.from_dict(cal.to_dict())
    np.testing.assert_allclose(cal.predict(margin), again.predict(margin))
    p = cal.predict(margin)
    assert ((0 <= p) & (p <= 1)).all()
    assert abs(p.mean() - y.mean()) < 0.02


def test_calibrator_refuses_a_slice_with_one_outcome():
    with pytest.raises(ValueError, match="both outcomes"):
        Calibrator().fit(np.zeros(10), np.zeros(10))


def test_tiers_are_sized_to_capacity_and_ordered():
    p = np.linspace(0, 1, 1001)
    th = fit_thresholds(p, high_share=0.05, medium_share=0.10)
    tiers = assign(p, th)
    assert (tiers == "high").mean() == pytest.approx(0.05, abs=0.002)
    assert (tiers == "medium").mean() == pytest.approx(0.10, abs=0.002)
    assert tiers[-1] == "high" and tiers[0] == "low"


def _examples() -> tuple[pd.DataFrame, pd.Series]:
    """Three households over rounds r0..r3 surveyed each 1 December; quarterly as-of dates between."""
    rounds = pd.Series(pd.to_datetime(["2021-12-01", "2022-12-01", "2023-12-01", "2024-12-01"]),
                       index=["r0", "r1", "r2", "r3"])
    rows = []
    for i, (rid, d) in enumerate(rounds.items()):
        as_ofs = [d] + ([d + pd.DateOffset(months=3 * q) for q in (1, 2, 3)] if i < 3 else [])
        for a in as_ofs:
            for h in ("a", "b", "c"):
                nxt = rounds.iloc[i + 1] if i < 3 else pd.NaT
                rows.append({"household_id": h, "round_id": rid, "as_of": a, "eligible": True,
                             "falls_below_line": float(h == "a") if i < 3 else np.nan,
                             "label_round_id": rounds.index[i + 1] if i < 3 else None, "label_date": nxt})
    return pd.DataFrame(rows), rounds


def test_split_never_trains_on_an_outcome_after_the_test_date():
    ex, rounds = _examples()
    split = make_split(ex, rounds)  # default: r2, the newest round with a next round
    assert split.test_round == "r2"
    t = rounds["r2"]
    train = ex[split.fit | split.valid]
    assert (train["label_date"] <= t).all(), "a training outcome is known only after the test date"
    assert (train["as_of"] < t).all()
    assert (ex.loc[split.test, "as_of"] == t).all()
    # fitting never sees an outcome later than the validation as-of
    assert (ex.loc[split.fit, "label_date"] <= split.valid_as_of).all()
    assert not (split.fit & split.valid).any() and not ((split.fit | split.valid) & split.test).any()
    assert split.kind == "forward"


def test_split_explicit_round_and_errors():
    ex, rounds = _examples()
    s = make_split(ex, rounds, "r1")
    assert (ex.loc[s.fit | s.valid, "label_date"] <= rounds["r1"]).all()
    assert s.kind == "household-holdout"  # only one labelled round before r1
    with pytest.raises(SplitError, match="unknown test round"):
        make_split(ex, rounds, "r9")
    with pytest.raises(SplitError, match="no labelled households"):
        make_split(ex, rounds, "r3")


def test_config_rejects_unknown_keys_and_bad_ranges():
    with pytest.raises(Exception, match="nonsense"):
        TrainConfig.model_validate({"nonsense": 1})
    with pytest.raises(Exception, match="learning_rate"):
        TrainConfig.model_validate({"lightgbm": {"learning_rate": -1}})
    with pytest.raises(Exception, match="tier"):
        TrainConfig.model_validate({"tier_high_share": 0.6, "tier_medium_share": 0.5})


def test_centred_isotonic_is_strictly_increasing_between_its_outer_blocks():
    rng = np.random.default_rng(3)
    margin = rng.normal(size=5000)
    y = (rng.random(5000) < 1 / (1 + np.exp(-(margin * 1.5 - 2.5)))).astype(float)
    cal = Calibrator(method="isotonic").fit(margin, y)
    grid = np.linspace(cal.x_[0], cal.x_[-1], 2000)
    assert (np.diff(cal.predict(grid)) > 0).all()


def test_monotone_constraints_cover_only_risk_raising_shock_indicators():
    from features.indicators.catalogue import by_name, feature_names
    from training.candidates import lightgbm_params, monotone_signs

    names = feature_names()
    cfg = TrainConfig()
    constraints = lightgbm_params(cfg.lightgbm, names, monotone_signs(cfg, small=False))["monotone_constraints"]
    constrained = {n for n, c in zip(names, constraints) if c}
    assert "shock_health_count_since_survey" in constrained
    assert all(by_name(n).family == "shocks" and by_name(n).direction == 1 for n in constrained)
    off = TrainConfig(monotone_shocks=False)
    assert "monotone_constraints" not in lightgbm_params(off.lightgbm, names, monotone_signs(off, small=False))


def test_small_data_lightgbm_holds_income_ratios_and_the_cliff_to_their_direction():
    from features.indicators.catalogue import feature_names
    from training.candidates import lightgbm_params, monotone_signs

    names = feature_names()
    cfg = TrainConfig()
    signs = dict(zip(names, lightgbm_params(cfg.lightgbm_small, names, monotone_signs(cfg, small=True))
                     ["monotone_constraints"]))
    assert signs["hardship_ratio"] == signs["net_income_ratio"] == signs["income_without_policy_ratio"] == -1
    assert signs["cliff_below_line"] == 1 and signs["shock_health_count_since_survey"] == 1
    assert signs["household_size"] == 0


def test_config_names_an_unknown_constrained_indicator():
    with pytest.raises(ValueError, match="small_monotone_features.*no_such_ratio"):
        TrainConfig(small_monotone_features=["hardship_ratio", "no_such_ratio"])


def test_split_leaves_out_ineligible_and_unknown_eligibility():
    ex, rounds = _examples()
    ex["eligible"] = 1.0
    ex.loc[0, "eligible"] = np.nan   # hardship income unknown
    ex.loc[1, "eligible"] = 0.0      # already below the line
    split = make_split(ex, rounds)
    used = split.fit | split.valid | split.test
    assert not used[0] and not used[1] and used[2:].any()


def test_gate_failures_name_the_metric_the_reference_and_both_values():
    from training.promote import GateFailure, PromotionResult, gate_failures

    comparison = {"roc_auc": {"challenger": 0.70, "champion": 0.72, "rule": 0.60},
                  "recall_at_10pct": {"challenger": 0.30, "champion": 0.25, "rule": 0.35}}
    assert gate_failures(comparison) == [GateFailure("roc_auc", "champion", 0.70, 0.72),
                                         GateFailure("recall_at_10pct", "rule", 0.30, 0.35)]
    assert gate_failures({"roc_auc": {"challenger": 0.8, "rule": 0.8 - 1e-12}}) == []
    assert [GateFailure("roc_auc", "rule", float("nan"), 0.6)][0].metric == gate_failures(
        {"roc_auc": {"challenger": float("nan"), "rule": 0.6}})[0].metric
    assert PromotionResult("forced", "", "2", "1").promoted and not PromotionResult("refused", "", "2", "1").promoted


def test_lightgbm_fed_row_blocks_is_the_booster_of_the_float64_matrix(ingested_warehouse):
    """``fit_lightgbm`` hands LightGBM the compact table's rows in float64 blocks (``training.row_blocks``): the
    sampled bin boundaries and the trees are those of one float64 matrix of the rows (the model text is equal),
    also with the sample spread over many blocks, and with categorical -1 read as missing."""
    import lightgbm as lgb

    from features.data.chunks import compact_examples_in_chunks
    from features.data.warehouse import Warehouse
    from features.indicators.catalogue import FEATURES, feature_names
    from features.indicators.labels import default_as_of_dates, round_as_of
    from training.candidates import fit_lightgbm, lightgbm_params, monotone_signs
    from training.row_blocks import BlockDataset, RowBlocks

    wh = Warehouse(ingested_warehouse)
    names = feature_names()
    examples, X = compact_examples_in_chunks(wh, default_as_of_dates(wh, quarterly=False), names)
    split = make_split(examples, round_as_of(wh), None)
    y = examples["falls_below_line"].fillna(0).to_numpy(float)
    categorical = [f.name for f in FEATURES if f.categorical]
    cats = [names.index(c) for c in categorical]
    assert (X.dtypes == np.float32).any() and (X.dtypes == np.float64).any()
    cfg = TrainConfig()
    # a sample smaller than the fit rows, so which rows are sampled matters
    params = {**lightgbm_params(cfg.lightgbm, names, monotone_signs(cfg, small=False)), "bin_construct_sample_cnt": 800}
    assert split.fit.sum() > 2 * params["bin_construct_sample_cnt"]

    def matrix(rows: np.ndarray) -> np.ndarray:
        m = X.loc[rows].to_numpy(dtype="float64", na_value=np.nan)
        for j in cats:
            m[m[:, j] < 0, j] = np.nan
        return m

    def booster(fit_data, valid_data, dataset=lgb.Dataset) -> str:
        train = dataset(fit_data, y[split.fit], feature_name=names, categorical_feature=cats, params={"verbose": -1})
        valid = dataset(valid_data, y[split.valid], reference=train, feature_name=names, categorical_feature=cats,
                        params={"verbose": -1})
        fitted = lgb.train(params, train, num_boost_round=30, valid_sets=[valid],
                           callbacks=[lgb.early_stopping(10, verbose=False)])
        return fitted.model_to_string(num_iteration=fitted.best_iteration or 30)

    from_matrix = booster(matrix(split.fit), matrix(split.valid))
    scorer, _ = fit_lightgbm(X, y, split.fit, split.valid, params, 30, 10, categorical)
    assert scorer.booster.model_to_string() == from_matrix
    assert booster(RowBlocks(X, split.fit, cats, block_rows=97), RowBlocks(X, split.valid, cats, block_rows=97),
                   BlockDataset) == from_matrix
    assert "tree_sizes" in from_matrix
