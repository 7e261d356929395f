"""``povwatch train``: examples → forward split → candidates chosen forward in time (``training.selection``)
→ the chosen one calibrated → evaluation vs baselines, with bootstrap intervals → MLflow run → registered
version ``@challenger`` (the first version also ``@champion`` if it passes the promotion gate: not worse
than the county's rule on the newest labelled round)."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version as package_version
from pathlib import Path

import numpy as np
import pandas as pd

from training.config import TrainConfig
from training.promote import first_promotion
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
    selection: object = None  # training.selection.Selection
    intervals: pd.DataFrame | None = None  # scorer x (roc_auc, recall_at_10pct, their bounds)
    verdict: str = ""
    model: object = None      # the fitted RiskModel, as it was in memory before it was logged
    promotion: object = None  # training.promote.PromotionResult of the first version (None: a champion exists)
    audit: dict | None = None  # the equity audit of the test round (recall per group with intervals)


def calibrated_model(scorer, X: pd.DataFrame, y: np.ndarray, split: TemporalSplit, cfg: TrainConfig,
                     lines: pd.DataFrame):
    """A RiskModel around a fitted scorer: calibrated and tiered on the forward validation slice."""
    from models.calibration import Calibrator
    from models.risk_model import RiskModel, training_medians
    from models.tiers import fit_thresholds

    margin_valid = scorer.margin(X[split.valid])
    calibrator = Calibrator(method=cfg.calibration).fit(margin_valid, y[split.valid])
    tiers = fit_thresholds(calibrator.predict(margin_valid), high_share=cfg.tier_high_share,
                           medium_share=cfg.tier_medium_share)
    return RiskModel(scorer=scorer, calibrator=calibrator, tier_thresholds=tiers, feature_names=list(X.columns),
                     lines=lines, medians=training_medians(X[split.fit]))


def verdict(intervals: pd.DataFrame, chosen: str, test_round: str, recall: str = "recall_at_10pct") -> str:
    """One line: does the registered model beat the rule on the test round, with the intervals of the gaps."""
    if chosen == "rule":
        r = intervals.loc["rule"]
        return (f"the rule is best on this data (no candidate beat it clearly forward in time); registered the "
                f"rule itself, calibrated — level with it on round {test_round}: " + "; ".join(
                    f"{m} {r[m]:.4f} [{r[m + '_low']:.4f}, {r[m + '_high']:.4f}]" for m in (recall, "roc_auc")))
    d = intervals.loc["model − rule"]
    gap = {m: f"{m} {d[m]:+.4f} [{d[m + '_low']:+.4f}, {d[m + '_high']:+.4f}]" for m in (recall, "roc_auc")}
    behind = [m for m in (recall, "roc_auc") if d[m] < 0]
    if behind:
        return (f"model ({chosen}) is behind the rule on round {test_round} on {' and '.join(behind)}: "
                f"{gap[recall]}; {gap['roc_auc']} — `povwatch promote` refuses a challenger worse than the rule")
    if d[recall + "_low"] > 0:
        return f"model ({chosen}) beats rule on round {test_round} by {gap[recall]}; {gap['roc_auc']}"
    return (f"model ({chosen}) is not behind the rule on round {test_round}, but the gap is within the noise: "
            f"{gap[recall]}; {gap['roc_auc']}")


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
    from features.indicators.catalogue import FEATURES, feature_names
    from features.indicators.labels import build_examples, default_as_of_dates, round_as_of
    from features.data.warehouse import Warehouse
    from models.baselines import LogitBaseline, RuleBaseline
    from training.audit_run import train_audit
    from training.candidates import RULE_RATIO, RULE_RIGID, fit_candidates
    from training.evaluate import add_not_monitored_recall, by_slice, compare, flat_metrics
    from training.intervals import bootstrap_table
    from training.selection import select

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
    selection = select(examples, X, y, rounds, split, cfg, categorical)
    candidates, iterations = fit_candidates(cfg.selection.candidates, X, y, split.fit, split.valid, cfg, categorical)
    model = calibrated_model(candidates[selection.chosen], X, y, split, cfg, wh.lines())

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
    table = add_not_monitored_recall(table, test_y, scores, examples.loc[split.test, "is_monitored"])
    metrics = flat_metrics(table)
    households = examples.loc[split.test, "household_id"].to_numpy()
    ranked = {"model": scores["model"], **{n: c.margin(test_X) for n, c in candidates.items() if n != "rule"},
              "rule": scores["rule"]}
    intervals = bootstrap_table(test_y, ranked, households, reference="rule", subject="model",
                                replicates=cfg.bootstrap_replicates, seed=cfg.lightgbm.seed)
    line = verdict(intervals, selection.chosen, split.test_round)
    metrics.update(selection_metrics(selection, intervals))
    slices = by_slice(examples.loc[split.test].reset_index(drop=True), test_y, scores, probabilities)
    audit = train_audit(wh.root, examples.loc[split.test], scores["model"], model.tier_thresholds, cfg.audit,
                        round_id=split.test_round)

    split_info = split.describe(examples)
    split_info["training_rounds"] = sorted(set(examples.loc[split.fit | split.valid, "round_id"].astype(str)))
    model.metadata = {
        "povwatch_version": package_version("povwatch"),
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "test_round": split.test_round, "split": split_info, "metrics": metrics,
        "candidate": selection.chosen, "selection": selection.summary(), "verdict": line,
        "best_iteration": iterations.get(selection.chosen), "calibration": model.calibrator.method_,
        "config": cfg.model_dump(),
    }
    run_id, version, aliases = _log_run(wh, cfg, model, split_info, table, metrics, slices, examples, split,
                                       test_X, test_y, scores, FEATURES, selection, intervals, line, audit)
    promotion = first_promotion(wh.root)
    if promotion is not None and promotion.promoted:
        aliases.append("champion")
    return TrainResult(run_id, version, aliases, table, metrics, split_info, selection, intervals, line, model,
                       promotion, audit)


def selection_metrics(selection, intervals: pd.DataFrame) -> dict[str, float]:
    """MLflow names: ``valid_<candidate>_<metric>`` (mean over the forward origins),
    ``valid_<candidate>_<metric>_<origin>``, ``test_<scorer>_<metric>[_low|_high]`` and ``model_minus_rule_...``."""
    out: dict[str, float] = {}
    for name, row in selection.table.iterrows():
        out.update({f"valid_{name}_{m}": float(v) for m, v in row.items() if pd.notna(v)})
    for _, row in selection.per_origin.iterrows():
        for m in selection.table.columns:
            if pd.notna(row[m]):
                out[f"valid_{row['candidate']}_{m}_{row['origin']}"] = float(row[m])
    if selection.gains is not None:
        for name, row in selection.gains.iterrows():
            out.update({f"valid_{name}_gain_over_rule" + ("" if k == "gain" else f"_{k}"): float(v)
                        for k, v in row.items() if pd.notna(v)})
    for name, row in intervals.iterrows():
        key = "model_minus_rule" if "−" in str(name) else f"test_{name}"
        out.update({f"{key}_{m}": float(v) for m, v in row.items() if pd.notna(v)})
    return out


def _log_run(wh, cfg, model, split_info, table, metrics, slices, examples, split, test_X, test_y, scores, features,
             selection, intervals, line, audit=None):
    """One MLflow run with params, dates, fingerprints, metrics, artifacts and the registered pyfunc."""
    import mlflow

    from cases.evaluation import visited_metrics, visited_outcomes
    from features.indicators.catalogue import rows as catalogue_rows
    from models import registry
    from models.pyfunc import ARTIFACT_KEY, CODE_FILE
    from training import plots
    from training.audit_run import audit_metrics, write_artifacts
    from training.model_card import model_card
    from training.provenance import input_example, pyfunc_signature, run_tags

    client = registry.connect(wh.root)
    with mlflow.start_run(run_name=f"test-{split.test_round}") as run, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        params = {f"lgb_{k}": v for k, v in cfg.lightgbm.model_dump().items()}
        params.update({f"lgb_small_{k}": v for k, v in cfg.lightgbm_small.model_dump().items()})
        params.update({f"selection_{k}": v for k, v in cfg.selection.model_dump().items()})
        params.update({f"audit_{k}": v for k, v in cfg.audit.model_dump().items()})
        params.update({k: v for k, v in cfg.model_dump().items()
                       if k not in ("lightgbm", "lightgbm_small", "selection", "audit")})
        params.update({"candidate": selection.chosen, "selection_basis": selection.basis[:500]})
        params.update({"test_round": split.test_round, "split_kind": split_info["kind"],
                       "test_as_of": split_info["test_as_of"], "valid_as_of": split_info["valid_as_of"],
                       "training_rounds": ",".join(split_info["training_rounds"]),
                       "fit_as_of_min": split_info["fit"]["as_of_min"], "fit_as_of_max": split_info["fit"]["as_of_max"],
                       "best_iteration": model.metadata["best_iteration"] or "", "calibration_method": model.calibrator.method_,
                       "n_features": len(model.feature_names)})
        params.update(fingerprint(wh))
        mlflow.log_params(params)
        mlflow.set_tags(run_tags())
        mlflow.log_metrics(metrics)
        if audit is not None:
            mlflow.log_metrics(audit_metrics(audit))
            write_artifacts(audit, tmp)
        mlflow.log_metrics({"test_rows": split_info["test"]["rows"], "test_positives": split_info["test"]["positives"],
                            "fit_rows": split_info["fit"]["rows"], "valid_rows": split_info["valid"]["rows"]})
        mlflow.log_dict(split_info, "split.json")
        visited = visited_outcomes(wh.root)  # precision of the issued lists on visited households; never a label
        if visited is not None:
            mlflow.log_metrics(visited_metrics(visited))
            mlflow.log_dict(visited, "visited_outcomes.json")
        mlflow.log_dict({"features": catalogue_rows()}, "feature_catalogue.json")
        table.to_csv(tmp / "metrics_table.csv")
        slices.to_csv(tmp / "slices.csv", index=False)
        selection.per_origin.to_csv(tmp / "selection.csv", index=False)
        intervals.to_csv(tmp / "intervals.csv", index_label="scorer")
        contrib, _ = model.contributions(test_X.iloc[:5000])
        importance = pd.Series(np.abs(contrib).mean(axis=0), index=model.feature_names)
        importance.sort_values(ascending=False).to_csv(tmp / "shap_importance.csv", header=["mean_abs_shap"])
        plots.calibration_plot(test_y, scores["model"], tmp / "calibration.png")
        plots.precision_recall_plot(test_y, scores, tmp / "precision_recall.png")
        plots.recall_at_k_plot(test_y, scores, tmp / "recall_at_k.png")
        plots.importance_plot(importance, tmp / "shap_importance.png")
        (tmp / "model_card.md").write_text(model_card(
            split=split_info, table=table, config=cfg.model_dump(), n_features=len(model.feature_names),
            calibration=model.calibrator.method_, tiers=model.tier_thresholds, selection=selection,
            intervals=intervals, verdict=line, audit=audit, visited=visited), encoding="utf-8")
        mlflow.log_artifacts(str(tmp), artifact_path="evaluation")
        model_dir = model.save(tmp / "risk_model")
        from features.console import third_party_output

        with third_party_output():  # MLflow prints "Successfully registered model ..." itself
            info = mlflow.pyfunc.log_model(
                name="model", python_model=str(CODE_FILE), artifacts={ARTIFACT_KEY: str(model_dir)},
                pip_requirements=PIP_REQUIREMENTS, registered_model_name=registry.MODEL_NAME,
                signature=pyfunc_signature(model.feature_names),
                input_example=input_example(test_X, model.feature_names),
                metadata={"feature_names": model.feature_names, "test_round": split.test_round})
        version = str(info.registered_model_version)
        aliases = [registry.CHALLENGER]
        registry.set_alias(client, registry.CHALLENGER, version)
        client.set_model_version_tag(registry.MODEL_NAME, version, "test_round", split.test_round)
        client.set_model_version_tag(registry.MODEL_NAME, version, "candidate", selection.chosen)
        client.set_model_version_tag(registry.MODEL_NAME, version, "roc_auc", f"{metrics.get('roc_auc', float('nan')):.4f}")
        return run.info.run_id, version, aliases


def format_table(table: pd.DataFrame) -> str:
    """The metrics table as the CLI prints it: metric rows, scorer columns (model, rule, logit, oracle)."""
    return table.to_string(float_format=lambda v: f"{v:.4f}", na_rep="—")

