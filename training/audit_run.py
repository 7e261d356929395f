"""The equity audit inside ``povwatch train``: on the test round's rows, logged with the run (metrics, the
JSON, the zh/en pages) and summarised in the model card."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from training.config import AuditConfig


def train_audit(warehouse_root: Path, test_rows: pd.DataFrame, risk: np.ndarray, tier_thresholds: dict,
                cfg: AuditConfig, *, round_id: str, model_version: str = "") -> dict:
    """The audit of the model's test-round scores (the same rows as the metrics table)."""
    from models.tiers import assign
    from training.audit import run_audit
    from training.audit_data import with_groups
    from training.audit_groups import present_attributes

    frame = with_groups(test_rows.reset_index(drop=True), risk, assign(risk, tier_thresholds) == "high",
                        warehouse_root)
    attrs, missing = present_attributes(frame, cfg.all_attributes())
    audit = run_audit(frame, cfg, attributes=attrs)
    return {"budget": audit.pop("budget"), "round": round_id, "model_version": model_version, **audit,
            "attributes_without_data": missing}


def _metric_name(*parts: str) -> str:
    """MLflow metric names allow letters, digits, ``_ - . / :`` and spaces."""
    text = ".".join(parts).replace("+", "plus").replace("×", "_x_")
    return re.sub(r"[^\w.\- /:]", "_", text)


def audit_metrics(audit: Mapping) -> dict[str, float]:
    """Headline and per-group audit figures as MLflow metrics (no identifier: groups are places and traits)."""
    out = {"audit_disparities": float(sum(g["disparity"] for g in audit["groups"])),
           "audit_insufficient_groups": float(sum(g["insufficient"] and not g["is_reference"]
                                                  for g in audit["groups"])),
           "audit_recall_at_budget": audit["overall"]["recall"]}
    for g in audit["groups"]:
        for key in ("recall", "recall_ratio", "fnr", "fpr", "precision", "ece"):
            out[_metric_name("audit", g["attribute"], g["group"], key)] = g[key]
        for key in ("recall_ci", "recall_ratio_ci"):
            lo, hi = g[key]
            out[_metric_name("audit", g["attribute"], g["group"], key + "_low")] = lo
            out[_metric_name("audit", g["attribute"], g["group"], key + "_high")] = hi
    return {k: float(v) for k, v in out.items() if v is not None and np.isfinite(v)}


def write_artifacts(audit: Mapping, folder: Path) -> None:
    """``audit.json``, ``audit.html`` (zh) and ``audit.en.html``."""
    from training.audit_report import write_pages

    (Path(folder) / "audit.json").write_text(json.dumps(audit, ensure_ascii=False, indent=1), encoding="utf-8")
    write_pages(audit, Path(folder))


def model_card_section(audit: Mapping | None) -> str:
    """The model card's equity-audit section (markdown)."""
    if not audit:
        return ""
    from training.audit_report import verdict_sentence

    o = audit["overall"]
    lines = ["## Equity audit (test round)", "",
             f"At a visiting budget of {audit['budget']:.0%}: recall {_pct(o['recall'])} {_ci(o['recall_ci'])}; "
             f"among households not yet monitored {_pct(audit['not_monitored_recall'])} "
             f"{_ci(audit['not_monitored_recall_ci'])}. Intervals: {audit['n_boot']} bootstrap replicates. "
             f"Groups with fewer than {audit['min_falls']} falls or {audit['min_households']} households: "
             "insufficient evidence. Full tables and charts: `evaluation/audit.html` (zh), `audit.en.html`.", ""]
    for attr in dict.fromkeys(g["attribute"] for g in audit["groups"]):
        lines.append("- " + verdict_sentence(attr, [g for g in audit["groups"] if g["attribute"] == attr], "en",
                                             audit["fair_band"]))
    if audit.get("attributes_without_data"):
        lines.append(f"- No data for: {', '.join(audit['attributes_without_data'])}.")
    return "\n".join(lines) + "\n"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}"


def _ci(ci) -> str:
    return "[—]" if ci[0] is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def log_audit(warehouse: Path, audit: dict) -> str:
    """``povwatch audit`` as a run of experiment ``povwatch-monitoring``: settings, the audit metrics, the JSON
    and both pages (groups are places and traits; no household identifier). Returns the run id."""
    import tempfile

    import mlflow

    from training.monitoring.tracking import monitoring_experiment

    experiment_id = monitoring_experiment(warehouse)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"audit-{audit['round']}") as run, \
            tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params({"round": audit["round"], "model_version": audit.get("model_version", ""),
                           "alias": audit.get("alias", ""), "budget": audit["budget"], "n_boot": audit["n_boot"],
                           "kind": "audit"})
        metrics = audit_metrics(audit)
        if audit.get("not_monitored_recall") is not None:
            metrics["not_monitored_recall_at_budget"] = float(audit["not_monitored_recall"])
        mlflow.log_metrics(metrics)
        mlflow.set_tags({"kind": "audit", "round": audit["round"]})
        write_artifacts(audit, Path(tmp))
        mlflow.log_artifacts(tmp, artifact_path="audit")
        return run.info.run_id
