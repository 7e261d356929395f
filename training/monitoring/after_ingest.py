"""One-line drift verdicts: what ``povwatch ingest`` prints when it has loaded a new round, and what a demo or
a scheduler prints for the newest round."""

from __future__ import annotations

import os
from pathlib import Path


def verdict_line(warehouse: Path, round_id: str | None = None, *, log: bool = True) -> str:
    """``drift <round>: <verdict> (<中文>) — reasons; details: ...`` for ``round_id`` (default: the newest),
    checked against the champion's training rounds and logged to MLflow when ``log``."""
    from features.data.warehouse import Warehouse
    from training.monitoring.report import check_round
    from training.monitoring.tracking import log_drift
    from models.registry import RegistryError, load_risk_model

    wh = Warehouse(warehouse)
    rid = round_id or wh.round_ids()[-1]
    try:
        model = load_risk_model(warehouse)
        report = check_round(wh, model, rid)
    except (RegistryError, ValueError) as e:
        return f"drift {rid}: not checked ({e})"
    if log:
        log_drift(warehouse, report)
    reasons = "; ".join(r["en"] for r in report["reasons"][:3])
    return (f"drift {rid}: {report['verdict']} ({report['verdict_zh']})" + (f" — {reasons}" if reasons else "")
            + f"; details: povwatch drift --round {rid}")


def drift_line(warehouse: Path, rounds_before: list[str]) -> str | None:
    """The newest round's verdict line if ingest added a round and a registry exists; None otherwise (no new
    round, or a warehouse without any model yet: nothing to compare with)."""
    from features.data.warehouse import Warehouse

    new = [r for r in Warehouse(warehouse).round_ids() if r not in rounds_before]
    if not new or not ((Path(warehouse) / "mlflow.db").exists() or os.environ.get("MLFLOW_TRACKING_URI")):
        return None
    return verdict_line(warehouse)
