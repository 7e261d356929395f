"""The drift summary line ``povwatch ingest`` prints when it has loaded a new round and a champion exists."""

from __future__ import annotations

import os
from pathlib import Path


def drift_line(warehouse: Path, rounds_before: list[str]) -> str | None:
    """``drift <round>: <verdict> (...)`` for the newest round if ingest added it; None when there is nothing
    to check (no new round, no registry, no champion, or the round is the model's own reference)."""
    from features.warehouse import Warehouse

    wh = Warehouse(warehouse)
    new = [r for r in wh.round_ids() if r not in rounds_before]
    if not new or not ((Path(warehouse) / "mlflow.db").exists() or os.environ.get("MLFLOW_TRACKING_URI")):
        return None
    from training.monitoring.report import check_round
    from training.monitoring.tracking import log_drift
    from training.registry import RegistryError, load_risk_model

    newest = wh.round_ids()[-1]
    try:
        model = load_risk_model(warehouse)
        report = check_round(wh, model, newest)
    except (RegistryError, ValueError) as e:
        return f"drift {newest}: not checked ({e})"
    log_drift(warehouse, report)
    reasons = "; ".join(r["en"] for r in report["reasons"][:3])
    return (f"drift {newest}: {report['verdict']} ({report['verdict_zh']})" + (f" — {reasons}" if reasons else "")
            + f"; details: povwatch drift --round {newest}")
