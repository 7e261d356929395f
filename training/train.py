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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from training.config import TrainConfig
from training.evaluate import EvaluationReport
from training.promote import first_promotion
from training.splits import TemporalSplit, make_split

if TYPE_CHECKING:
    from models.risk_model import RiskModel
    from training.promote import PromotionResult
    from training.selection import Selection

PIP_REQUIREMENTS = ["lightgbm==4.7.0", "pandas==3.1.1", "numpy==2.4.6", "scikit-learn==1.9.1", "mlflow==3.17.2",
                    "pyarrow", "shap==0.51.0", "pydantic>=2.14,<3"]


@dataclass
class TrainResult:
    """What ``povwatch train`` prints: the registered version, the split and the evaluation report."""

    run_id: str
    version: str
    aliases: list[str]
    report: EvaluationReport
    split: dict
    selection: Selection
    model: RiskModel          # the fitted RiskModel, as it was in memory before it was logged
    promotion: PromotionResult | None = None  # the first version's pass through the gate (None: a champion exists)
    audit: dict | None = None  # the equity audit of the test round (recall per group with intervals)

    @property
    def table(self) -> pd.DataFrame:
        return self.report.table

    @property
    def metrics(self) -> dict[str, float]:
        return self.report.metrics

    @property
    def intervals(self) -> pd.DataFrame:
        return self.report.intervals

    @property
    def verdict(self) -> str:
        return self.report.verdict


@dataclass(frozen=True)
class TrainingRun:
    """Everything one MLflow run records, computed before anything is logged."""

    cfg: TrainConfig
    model: RiskModel
    split: dict               # TemporalSplit.describe() plus training_rounds
    selection: Selection
    report: EvaluationReport
    audit: dict | None
    input_rows: pd.DataFrame  # test-round indicator rows: the logged model's input example
    data: dict[str, object]   # fingerprint() of the warehouse tables read


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
    from features.data.warehouse import Warehouse
    from features.indicators.catalogue import FEATURES, feature_names
    from features.data.chunks import compact_examples_in_chunks
    from features.indicators.labels import default_as_of_dates, round_as_of
    from training.audit_run import train_audit
    from training.candidates import fit_candidates
    from training.evaluate import evaluate
    from training.selection import select

    cfg = cfg or TrainConfig()
    wh = Warehouse(warehouse_root)
    if not wh.round_ids():
        raise FileNotFoundError(f"warehouse {wh.root} has no households: run `povwatch ingest` first")
    rounds = round_as_of(wh)
    names = feature_names()
    categorical = [f.name for f in FEATURES if f.categorical]
    # range by range: the raw tables of one household-id range at a time, the same rows (tests/test_chunks.py),
    # held compactly: labels and context in ``examples``, the indicators (their float64 values exactly) in X
    examples, X = compact_examples_in_chunks(wh, default_as_of_dates(wh, quarterly=cfg.quarterly), names)
    split = make_split(examples, rounds, test_round)
    if split.test.sum() < cfg.min_test_rows:
        raise ValueError(f"test round {split.test_round!r} has {int(split.test.sum())} labelled households, "
                         f"fewer than min_test_rows={cfg.min_test_rows}")
    y = examples["falls_below_line"].fillna(0).to_numpy(float)
    selection = select(examples, X, y, rounds, split, cfg, categorical)
    candidates, iterations = fit_candidates(cfg.selection.candidates, X, y, split.fit, split.valid, cfg, categorical)
    model = calibrated_model(candidates[selection.chosen], X, y, split, cfg, wh.lines())

    truth = load_truth(truth_path, Path(warehouse_root))
    report = evaluate(model, candidates, selection, examples, X, y, split, cfg, truth)
    audit = train_audit(wh.root, examples.loc[split.test], report.curves.scores["model"], model.tier_thresholds,
                        cfg.audit, round_id=split.test_round)

    split_info = split.describe(examples)
    split_info["training_rounds"] = sorted(set(examples.loc[split.fit | split.valid, "round_id"].astype(str)))
    model.metadata = {
        "povwatch_version": package_version("povwatch"),
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "test_round": split.test_round, "split": split_info, "metrics": report.metrics,
        "candidate": selection.chosen, "selection": selection.summary(), "verdict": report.verdict,
        "best_iteration": iterations.get(selection.chosen), "calibration": model.calibrator.method_,
        "config": cfg.model_dump(),
    }
    run = TrainingRun(cfg=cfg, model=model, split=split_info, selection=selection, report=report, audit=audit,
                      input_rows=X[split.test], data=fingerprint(wh))
    run_id, version, aliases = log_run(wh, run)
    # The gate builds and scores a round of its own; the training table is no longer needed, so it is not held
    # while that round is built (the two together were the peak of a first training).
    del run, examples, X, y, candidates, truth
    promotion = first_promotion(wh.root)
    if promotion is not None and promotion.promoted:
        aliases.append("champion")
    return TrainResult(run_id, version, aliases, report, split_info, selection, model, promotion, audit)


def run_params(run: TrainingRun) -> dict[str, object]:
    """The run's MLflow parameters: the configuration, the choice, the split's dates and the data read."""
    cfg, split = run.cfg, run.split
    params: dict[str, object] = {f"lgb_{k}": v for k, v in cfg.lightgbm.model_dump().items()}
    params.update({f"lgb_small_{k}": v for k, v in cfg.lightgbm_small.model_dump().items()})
    params.update({f"selection_{k}": v for k, v in cfg.selection.model_dump().items()})
    params.update({f"audit_{k}": v for k, v in cfg.audit.model_dump().items()})
    params.update({k: v for k, v in cfg.model_dump().items()
                   if k not in ("lightgbm", "lightgbm_small", "selection", "audit")})
    params.update({"candidate": run.selection.chosen, "selection_basis": run.selection.basis[:500]})
    params.update({"test_round": split["test_round"], "split_kind": split["kind"],
                   "test_as_of": split["test_as_of"], "valid_as_of": split["valid_as_of"],
                   "training_rounds": ",".join(split["training_rounds"]),
                   "fit_as_of_min": split["fit"]["as_of_min"], "fit_as_of_max": split["fit"]["as_of_max"],
                   "best_iteration": run.model.metadata["best_iteration"] or "",
                   "calibration_method": run.model.calibrator.method_, "n_features": len(run.model.feature_names)})
    params.update(run.data)
    return params


def log_run(wh, run: TrainingRun) -> tuple[str, str, list[str]]:
    """Log one computed training run: params, tags, metrics, artifacts and the registered pyfunc; the new
    version gets its aliases by the registry's policy (``models.registry.alias_new_version``). Computes
    nothing the report does not already hold. Returns (run id, version, aliases)."""
    import mlflow

    from cases.evaluation import visited_metrics, visited_outcomes
    from features.console import third_party_output
    from features.indicators.catalogue import rows as catalogue_rows
    from models import registry
    from models.pyfunc import ARTIFACT_KEY, CODE_FILE
    from training import plots
    from training.audit_run import audit_metrics, write_artifacts
    from training.model_card import model_card
    from training.provenance import input_example, pyfunc_signature, run_tags

    client = registry.connect(wh.root)
    model, report, split = run.model, run.report, run.split
    with mlflow.start_run(run_name=f"test-{split['test_round']}") as mlrun, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mlflow.log_params(run_params(run))
        mlflow.set_tags(run_tags())
        mlflow.log_metrics(report.metrics)
        if run.audit is not None:
            mlflow.log_metrics(audit_metrics(run.audit))
            write_artifacts(run.audit, tmp)
        mlflow.log_metrics({"test_rows": split["test"]["rows"], "test_positives": split["test"]["positives"],
                            "fit_rows": split["fit"]["rows"], "valid_rows": split["valid"]["rows"]})
        mlflow.log_dict(split, "split.json")
        visited = visited_outcomes(wh.root)  # precision of the issued lists on visited households; never a label
        if visited is not None:
            mlflow.log_metrics(visited_metrics(visited))
            mlflow.log_dict(visited, "visited_outcomes.json")
        mlflow.log_dict({"features": catalogue_rows()}, "feature_catalogue.json")
        report.table.to_csv(tmp / "metrics_table.csv")
        report.slices.to_csv(tmp / "slices.csv", index=False)
        run.selection.per_origin.to_csv(tmp / "selection.csv", index=False)
        report.intervals.to_csv(tmp / "intervals.csv", index_label="scorer")
        report.importance.to_csv(tmp / "shap_importance.csv", header=["mean_abs_shap"])
        y, scores = report.curves.y, report.curves.scores
        plots.calibration_plot(y, scores["model"], tmp / "calibration.png")
        plots.precision_recall_plot(y, scores, tmp / "precision_recall.png")
        plots.recall_at_k_plot(y, scores, tmp / "recall_at_k.png")
        plots.importance_plot(report.importance, tmp / "shap_importance.png")
        (tmp / "model_card.md").write_text(model_card(
            split=split, table=report.table, config=run.cfg.model_dump(), n_features=len(model.feature_names),
            calibration=model.calibrator.method_, tiers=model.tier_thresholds, selection=run.selection,
            intervals=report.intervals, verdict=report.verdict, audit=run.audit, visited=visited), encoding="utf-8")
        mlflow.log_artifacts(str(tmp), artifact_path="evaluation")
        model_dir = model.save(tmp / "risk_model")
        with third_party_output():  # MLflow prints "Successfully registered model ..." itself
            info = mlflow.pyfunc.log_model(
                name="model", python_model=str(CODE_FILE), artifacts={ARTIFACT_KEY: str(model_dir)},
                pip_requirements=PIP_REQUIREMENTS, registered_model_name=registry.MODEL_NAME,
                signature=pyfunc_signature(model.feature_names),
                input_example=input_example(run.input_rows, model.feature_names),
                metadata={"feature_names": model.feature_names, "test_round": split["test_round"]})
        version = str(info.registered_model_version)
        aliases = registry.alias_new_version(client, version)
        for tag, value in (("test_round", split["test_round"]), ("candidate", run.selection.chosen),
                           ("roc_auc", f"{report.metrics.get('roc_auc', float('nan')):.4f}")):
            client.set_model_version_tag(registry.MODEL_NAME, version, tag, value)
        return mlrun.info.run_id, version, aliases


def format_table(table: pd.DataFrame) -> str:
    """The metrics table as the CLI prints it: metric rows, scorer columns (model, rule, logit, oracle)."""
    return table.to_string(float_format=lambda v: f"{v:.4f}", na_rep="—")

