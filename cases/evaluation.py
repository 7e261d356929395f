"""What training may say about visits: precision on visited households by channel, where outcomes exist.

Outcomes are never model inputs and never labels: they exist only where somebody visited (a selected sample),
so they measure how precise the issued lists were, not how good a new model is. Training keeps the survey label
(``falls_below_line``) and only reports these figures beside its own metrics; the audit channel (a random sample
of households no list named) is the part of them that speaks about misses.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from cases.db import store_exists

log = logging.getLogger(__name__)


def visited_outcomes(warehouse: Path) -> dict[str, Any] | None:
    """Per channel (and per model version for model alerts): alerts, visits, identified, share identified with
    its 95 % interval — from the warehouse's case store; None when there is no case store or no outcome yet
    (a case store is never created here)."""
    if not store_exists(warehouse):
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from cases.loop_report import loop_report
    from cases.store import open_store

    try:
        with open_store(warehouse) as store:
            alerts, current = store.alerts(), store.outcomes()
    except SQLAlchemyError as e:  # training must not fail because the case store is unreachable
        log.warning("case store not readable, visited-household precision not reported: %s", e)
        return None
    if current.empty:
        return None
    at = pd.Timestamp(current["visit_date"].max())
    report = loop_report(alerts, current, at=at)
    keep = ("channel", "alerts", "visits", "identified", "identified_share", "identified_ci")
    return {"channels": [{k: c[k] for k in keep} for c in report["channels"]],
            "audit_miss_rate": report["audit_miss_rate"], "audit_miss_rate_ci": report["audit_miss_rate_ci"],
            "by_model_version": [{k: v[k] for k in ("model_version", *keep[1:])} for v in report["by_model_version"]]}


def visited_metrics(summary: dict[str, Any]) -> dict[str, float]:
    """MLflow metrics ``visited_precision_<channel>`` (share identified among visits) and the audit miss rate."""
    out = {f"visited_precision_{c['channel']}": c["identified_share"] for c in summary["channels"]
           if c["identified_share"] is not None}
    out.update({f"visited_count_{c['channel']}": float(c["visits"]) for c in summary["channels"]})
    if summary["audit_miss_rate"] is not None:
        out["audit_miss_rate"] = summary["audit_miss_rate"]
    return out
