"""``povwatch train``: examples → forward split → LightGBM + calibration → evaluation vs baselines → MLflow run
→ registered version ``@challenger`` (the first version also ``@champion``)."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version as package_version
from pathlib import Path

import numpy as np
import pandas as pd

from training.config import TrainConfig
from training.splits import TemporalSplit, make_split

PIP_REQUIREMENTS = ["lightgbm==4.7.0", "pandas==3.1.1", "numpy==2.4.6", "scikit-learn==1.9.1", "mlflow==3.17.2",
                    "pyarrow", "shap==0.51.0", "pydantic>=2.14,<3"]


@dataclass
class TrainResult:
    run_id: str
    version: str
    aliases: list[str]
    table: pd.DataFrame       # metric x scorer
    metrics: dict[str, float]
    split: dict


@dataclass
class FittedModel:
    risk_model: object        # models.risk_model.RiskModel
    best_iteration: int


def fit_risk_model(X: pd.DataFrame, y: np.ndarray, split: TemporalSplit, cfg: TrainConfig, lines: pd.DataFrame,
                   categorical: list[str]) -> FittedModel:
    """LightGBM on the fit slice, early-stopped, calibrated and tiered on the forward validation slice."""
    import lightgbm as lgb

    from models.calibration import Calibrator
    from models.risk_model import RiskModel
    from models.tiers import fit_thresholds

    params = lightgbm_params(cfg, list(X.columns))
    quiet = {"verbose": params.get("verbose", -1)}
    # -1 codes an unknown category; LightGBM reads negative categories as missing and says so on stdout whatever
    # its verbosity ("Met negative value in categorical features"). Give it the missing values itself: the same
    # trees and predictions (checked), without the noise. Scoring may keep -1: LightGBM reads it the same way.
    X = X.assign(**{c: X[c].where(X[c] >= 0) for c in categorical})  # copy-on-write: other columns shared
    train_set = lgb.Dataset(X[split.fit], y[split.fit], categorical_feature=categorical, free_raw_data=True,
                            params=quiet)
    valid_set = lgb.Dataset(X[split.valid], y[split.valid], reference=train_set, categorical_feature=categorical,
                            params=quiet)
    booster = lgb.train(params, train_set, num_boost_round=cfg.num_boost_round, valid_sets=[valid_set],
                        callbacks=[lgb.early_stopping(cfg.early_stopping_rounds, verbose=False)])
    best = booster.best_iteration or cfg.num_boost_round
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    margin_valid = booster.predict(X[split.valid], raw_score=True)
    calibrator = Calibrator(method=cfg.calibration).fit(margin_valid, y[split.valid])
    tiers = fit_thresholds(calibrator.predict(margin_valid), high_share=cfg.tier_high_share,
                           medium_share=cfg.tier_medium_share)
    model = RiskModel(booster=booster, calibrator=calibrator, tier_thresholds=tiers,
                      feature_names=list(X.columns), lines=lines)
    return FittedModel(model, best)


def lightgbm_params(cfg: TrainConfig, features: list[str]) -> dict:
    """LightGBM parameters from the config; with ``monotone_shocks``, the catalogue's risk-raising shock
    indicators are constrained so that a newly reported shock can only raise the score."""
    from features.catalogue import by_name

    params = {"objective": "binary", "verbose": -1, "deterministic": True, "force_row_wise": True,
              **cfg.lightgbm.model_dump()}
    if params["num_threads"] == 0:
        params.pop("num_threads")
    if cfg.monotone_shocks:
        params["monotone_constraints"] = [
            1 if (f := by_name(name)).family == "shocks" and f.direction == 1 else 0 for name in features]
        params["monotone_constraints_method"] = "advanced"
    return params


def fingerprint(warehouse) -> dict[str, object]:
    """Hashes and row counts of the warehouse tables the run read (no identifiers leave the hash)."""
    import pyarrow.parquet as pq

    out: dict[str, object] = {}
    for table in ("households", "members", "events", "monitoring_lines"):
        digest = hashlib.sha256()
        rows = 0
        for f in sorted(Path(warehouse.root, table).rglob("*.parquet")):
            digest.update(f.read_bytes())
            rows += pq.ParquetFile(f).metadata.num_rows
        out[f"data_{table}_sha256"] = digest.hexdigest()[:16]
        out[f"data_{table}_rows"] = rows
    return out


def load_truth(path: Path | None, warehouse_root: Path) -> pd.DataFrame | None:
    """The simulator's ``true_risk`` if present beside the data (``--truth`` or ``<warehouse>/truth.parquet``)."""
    candidates = [path] if path else [warehouse_root / "truth.parquet", warehouse_root / "raw" / "truth.parquet"]
    for c in candidates:
        if c is not None and Path(c).is_file():
            return pd.read_parquet(c, columns=["household_id", "round_id", "true_risk"]).astype(
                {"household_id": str, "round_id": str})
    if path:
        raise FileNotFoundError(f"--truth {path} does not exist")
    return None


def train(warehouse_root: Path, *, test_round: str | None = None, cfg: TrainConfig | None = None,
          truth_path: Path | None = None) -> TrainResult:
    """The whole training job; see the module docstring."""
    from features.catalogue import FEATURES, feature_names
    from features.labels import build_examples, default_as_of_dates, round_as_of
    from features.warehouse import Warehouse
    from models.baselines import LogitBaseline, RuleBaseline
    from training.evaluate import by_slice, compare, flat_metrics

    cfg = cfg or TrainConfig()
    wh = Warehouse(warehouse_root)
    if not wh.round_ids():
        raise FileNotFoundError(f"warehouse {wh.root} has no households: run `povwatch ingest` first")
    rounds = round_as_of(wh)
    examples = build_examples(wh, default_as_of_dates(wh, quarterly=cfg.quarterly))
    split = make_split(examples, rounds, test_round)
    if split.test.sum() < cfg.min_test_rows:
        raise ValueError(f"test round {split.test_round!r} has {int(split.test.sum())} labelled households, "
                         f"fewer than min_test_rows={cfg.min_test_rows}")
    names = feature_names()
    categorical = [f.name for f in FEATURES if f.categorical]
    X = examples[names].astype("float64")
    y = examples["falls_below_line"].fillna(0).to_numpy(float)
    fitted = fit_risk_model(X, y, split, cfg, wh.lines(), categorical)
    model = fitted.risk_model

    test_X, test_y = X[split.test], y[split.test]
    rule = RuleBaseline(ratio_column=RULE_RATIO, rigid_share_columns=RULE_RIGID,
                        line_multiple=cfg.rule_line_multiple, rigid_share=cfg.rule_rigid_share)
    logit = LogitBaseline(C=cfg.logit_C, categorical=categorical).fit(X[split.fit], y[split.fit])
    scores = {"model": model.predict_proba(test_X), "rule": rule.score(test_X), "logit": logit.score(test_X)}
    probabilities = {"model", "logit"}
    truth = load_truth(truth_path, Path(warehouse_root))
    if truth is not None:
        test_keys = examples.loc[split.test, ["household_id", "round_id"]]
        joined = test_keys.merge(truth, on=["household_id", "round_id"], how="left")
        if joined["true_risk"].notna().all():
            scores["oracle"] = joined["true_risk"].to_numpy(float)
            probabilities.add("oracle")
    table = compare(test_y, scores, probabilities)
    metrics = flat_metrics(table)
    slices = by_slice(examples.loc[split.test].reset_index(drop=True), test_y, scores, probabilities)

    split_info = split.describe(examples)
    split_info["training_rounds"] = sorted(set(examples.loc[split.fit | split.valid, "round_id"].astype(str)))
    model.metadata = {
        "povwatch_version": package_version("povwatch"),
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "test_round": split.test_round, "split": split_info, "metrics": metrics,
        "best_iteration": fitted.best_iteration, "calibration": model.calibrator.method_,
        "config": cfg.model_dump(),
    }
    run_id, version, aliases = _log_run(wh, cfg, model, split_info, table, metrics, slices, examples, split,
                                       test_X, test_y, scores, FEATURES)
    return TrainResult(run_id, version, aliases, table, metrics, split_info)


# Indicators the rule baseline reads (see features.catalogue).
RULE_RATIO = "hardship_ratio"
RULE_RIGID = ("medical_share_of_income", "education_share_of_income")


def _log_run(wh, cfg, model, split_info, table, metrics, slices, examples, split, test_X, test_y, scores, features):
    """One MLflow run with params, dates, fingerprints, metrics, artifacts and the registered pyfunc."""
    import mlflow

    from models.pyfunc import ARTIFACT_KEY, CODE_FILE
    from training import plots, registry
    from training.model_card import model_card

    client = registry.connect(wh.root)
    with mlflow.start_run(run_name=f"test-{split.test_round}") as run, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        params = {f"lgb_{k}": v for k, v in cfg.lightgbm.model_dump().items()}
        params.update({k: v for k, v in cfg.model_dump().items() if k != "lightgbm"})
        params.update({"test_round": split.test_round, "split_kind": split_info["kind"],
                       "test_as_of": split_info["test_as_of"], "valid_as_of": split_info["valid_as_of"],
                       "training_rounds": ",".join(split_info["training_rounds"]),
                       "fit_as_of_min": split_info["fit"]["as_of_min"], "fit_as_of_max": split_info["fit"]["as_of_max"],
                       "best_iteration": model.metadata["best_iteration"], "calibration_method": model.calibrator.method_,
                       "n_features": len(model.feature_names)})
        params.update(fingerprint(wh))
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.log_metrics({"test_rows": split_info["test"]["rows"], "test_positives": split_info["test"]["positives"],
                            "fit_rows": split_info["fit"]["rows"], "valid_rows": split_info["valid"]["rows"]})
        mlflow.log_dict(split_info, "split.json")
        catalogue = [{"name": f.name, "zh": f.zh, "en": f.en, "unit": f.unit, "family": f.family,
                      "risk_group": f.risk_group, "direction": f.direction, "categorical": f.categorical}
                     for f in features]
        mlflow.log_dict({"features": catalogue}, "feature_catalogue.json")
        table.to_csv(tmp / "metrics_table.csv")
        slices.to_csv(tmp / "slices.csv", index=False)
        contrib = model.booster.predict(test_X.iloc[:5000], pred_contrib=True)[:, :-1]
        importance = pd.Series(np.abs(contrib).mean(axis=0), index=model.feature_names)
        importance.sort_values(ascending=False).to_csv(tmp / "shap_importance.csv", header=["mean_abs_shap"])
        plots.calibration_plot(test_y, scores["model"], tmp / "calibration.png")
        plots.precision_recall_plot(test_y, scores, tmp / "precision_recall.png")
        plots.recall_at_k_plot(test_y, scores, tmp / "recall_at_k.png")
        plots.importance_plot(importance, tmp / "shap_importance.png")
        (tmp / "model_card.md").write_text(model_card(
            split=split_info, table=table, config=cfg.model_dump(), n_features=len(model.feature_names),
            calibration=model.calibrator.method_, tiers=model.tier_thresholds), encoding="utf-8")
        mlflow.log_artifacts(str(tmp), artifact_path="evaluation")
        model_dir = model.save(tmp / "risk_model")
        from features.console import third_party_output

        with third_party_output():  # MLflow prints "Successfully registered model ..." itself
            info = mlflow.pyfunc.log_model(
                name="model", python_model=str(CODE_FILE), artifacts={ARTIFACT_KEY: str(model_dir)},
                pip_requirements=PIP_REQUIREMENTS, registered_model_name=registry.MODEL_NAME,
                metadata={"feature_names": model.feature_names, "test_round": split.test_round})
        version = str(info.registered_model_version)
        aliases = [registry.CHALLENGER]
        first = not registry.has_alias(client, registry.CHAMPION)
        registry.set_alias(client, registry.CHALLENGER, version)
        if first:
            registry.set_alias(client, registry.CHAMPION, version)
            aliases.append(registry.CHAMPION)
        client.set_model_version_tag(registry.MODEL_NAME, version, "test_round", split.test_round)
        client.set_model_version_tag(registry.MODEL_NAME, version, "roc_auc", f"{metrics.get('roc_auc', float('nan')):.4f}")
        return run.info.run_id, version, aliases


def format_table(table: pd.DataFrame) -> str:
    """The metrics table as the CLI prints it: metric rows, scorer columns (model, rule, logit, oracle)."""
    return table.to_string(float_format=lambda v: f"{v:.4f}", na_rep="—")


def dumps_metrics(metrics: dict[str, float]) -> str:
    return json.dumps(metrics, indent=1, sort_keys=True)
