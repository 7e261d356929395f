"""The loop report as an HTML page (zh first, en beside), and as an MLflow run in ``povwatch-monitoring``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MONITORING_EXPERIMENT = "povwatch-monitoring"


def _channel_names() -> dict[str, tuple[str, str]]:
    """zh/en channel names where the worklist module defines them (codes otherwise)."""
    try:
        from models.worklist import CHANNEL_LABELS
    except ImportError:
        return {}
    return dict(CHANNEL_LABELS)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:g}"


def _ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}"


def render_loop_page(report: dict[str, Any], *, scope: str = "", back: str | None = None) -> str:
    """The page; ``scope`` names the county/village it covers, ``back`` links to the report's index."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("cases", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]))
    return env.get_template("loop_report.html").render(r=report, names=_channel_names(), pct=_pct, num=_num, ratio=_ratio,
                                                          scope=scope, back=back)


def _metrics(report: dict[str, Any]) -> dict[str, float]:
    """Flat numeric metrics: ``<channel>_<figure>`` and the audit miss rate with its interval."""
    out: dict[str, float] = {}
    for c in report["channels"]:
        for key in ("alerts", "visits", "identified", "identified_share", "median_days_to_visit",
                    "median_days_to_decision", "overdue_share"):
            if c[key] is not None:
                out[f"{c['channel']}_{key}"] = float(c[key])
        if c["identified_ci"]:
            out[f"{c['channel']}_identified_ci_low"], out[f"{c['channel']}_identified_ci_high"] = c["identified_ci"]
    if report["audit_miss_rate"] is not None:
        out["audit_miss_rate"] = report["audit_miss_rate"]
        out["audit_miss_rate_ci_low"], out["audit_miss_rate_ci_high"] = report["audit_miss_rate_ci"]
    for key, value in report["alerts_per_identified"].items():
        if value is not None:
            out[f"alerts_per_identified_{key.replace('+', '_')}"] = value
    return out


def log_loop_report(warehouse: Path, report: dict[str, Any], html: str) -> str:
    """One MLflow run in ``povwatch-monitoring`` with the figures, the JSON and the page; returns its id.
    Only aggregates are logged: no alert, household or verifier id."""
    from models.registry import quiet_telemetry, tracking_uri

    quiet_telemetry()
    import mlflow

    uri = tracking_uri(warehouse)
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name(MONITORING_EXPERIMENT)
    if experiment is None:
        import os
        artifacts = None if os.environ.get("MLFLOW_TRACKING_URI") else (Path(warehouse).resolve() / "mlartifacts").as_uri()
        experiment_id = client.create_experiment(MONITORING_EXPERIMENT, artifact_location=artifacts)
    else:
        experiment_id = experiment.experiment_id
    run = client.create_run(experiment_id, run_name=f"loop-report {report['at']}",
                            tags={"povwatch.kind": "loop-report"})
    run_id = run.info.run_id
    try:
        client.log_param(run_id, "at", report["at"])
        client.log_param(run_id, "since", report["since"] or "all")
        for key, value in _metrics(report).items():
            client.log_metric(run_id, key, value)
        client.log_dict(run_id, report, "loop_report.json")
        client.log_text(run_id, html, "loop_report.html")
    except Exception:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id)
    return run_id


def report_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)
