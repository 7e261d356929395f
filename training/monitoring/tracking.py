"""A drift check as an MLflow run in experiment ``povwatch-monitoring`` (no household identifier is logged:
the report holds indicator, county and household-type names and aggregates only)."""

from __future__ import annotations

import os
from pathlib import Path

VERDICT_CODE = {"stable": 0, "retrain recommended": 1, "data problem suspected": 2}


def monitoring_experiment(warehouse: Path) -> str:
    """The experiment's id, created beside the training experiment (artifacts in the warehouse)."""
    from models import registry

    client = registry.connect(warehouse)
    exp = client.get_experiment_by_name(registry.MONITORING_EXPERIMENT)
    if exp is not None:
        return exp.experiment_id
    artifacts = None if os.environ.get("MLFLOW_TRACKING_URI") else (Path(warehouse).resolve() / "mlartifacts").as_uri()
    return client.create_experiment(registry.MONITORING_EXPERIMENT, artifact_location=artifacts)


def log_drift(warehouse: Path, report: dict) -> str:
    """Log the report (parameters, headline metrics, the JSON itself); returns the run id."""
    import mlflow

    experiment_id = monitoring_experiment(warehouse)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"drift-{report['round']}") as run:
        mlflow.log_params({"round": report["round"], "reference": ",".join(report["reference"]),
                           "model_version": report.get("model_version", ""), "kind": "drift"})
        ex, sc = report["expected"], report["score"]
        metrics = {"score_psi": sc["psi"], "score_psi_threshold": sc["threshold"],
                   "score_step_psi": sc["step_psi"], "score_step_psi_threshold": sc["step_threshold"],
                   "expected_positive_rate": ex["positive_rate"], "expected_recall_at_10pct": ex["recall_at_10pct"],
                   "expected_precision_at_10pct": ex["precision_at_10pct"],
                   "indicators_drifted": sum(d["drifted"] for d in report["indicators"]),
                   "segments_drifted": sum(bool(s["drifted"]) for s in report["segments"]),
                   "verdict_code": VERDICT_CODE[report["verdict"]]}
        for tier, share in sc["tier_shares"].items():
            metrics[f"tier_share_{tier}"] = share
        if report.get("realised"):
            for m in ("recall_at_10pct", "precision_at_10pct", "positive_rate"):
                metrics[f"realised_{m}"] = report["realised"][m]
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v is not None and v == v})
        mlflow.set_tags({"verdict": report["verdict"], "round": report["round"]})
        mlflow.log_dict(report, "drift.json")
        return run.info.run_id
