"""How fast visit outcomes go into the case store and a loop report comes out: 100,000 outcomes by default.

A worklist of N alerts (channels mixed as a county's list) is recorded, simulated outcomes for it are written
as a Chinese CSV export (about 3 % more rows than alerts: revisits), then ``ingest_outcomes`` validates and
stores them in one transaction, the same file is ingested again (idempotent: nothing new), and the loop report
is computed (without and with its MLflow run). Baseline: reading the same CSV with ``pandas.read_csv``.

Run: ``.venv/bin/python -m bench.bench_cases [--outcomes N] [--db-url URL]`` (SQLite in a temporary warehouse
unless a PostgreSQL URL is given).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

N_OUTCOMES = 100_000
CHANNELS = (("model", 0.55), ("trigger", 0.25), ("below_line", 0.1), ("audit", 0.05), ("follow_up", 0.05))


def make_worklist(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    as_of = pd.Timestamp("2025-11-20")
    return pd.DataFrame({
        "alert_id": [f"AL{i:07d}" for i in range(n)], "household_id": [f"H{i:07d}" for i in range(n)],
        "county": "会宁县", "village": rng.choice([f"村{i}" for i in range(200)], n),
        "channel": rng.choice([c for c, _ in CHANNELS], n, p=[p for _, p in CHANNELS]),
        "rank": np.arange(1, n + 1), "risk": rng.random(n).round(4), "tier": "high",
        "reasons": '[{"indicator": "medical_share", "text_zh": "医疗支出占比高"}]', "model_version": "3",
        "as_of": as_of, "check_by": as_of + pd.Timedelta(days=7), "decide_by": as_of + pd.Timedelta(days=15),
        "audit_seed": None})


def _timed(fn):  # noqa: ANN001, ANN202
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(n: int = N_OUTCOMES, db_url: str | None = None) -> dict[str, float]:
    from cases.ingest import ingest_outcomes
    from cases.loop import build_loop_report
    from cases.simulate import simulate_outcomes, write_outcomes
    from cases.store import open_store
    from features.data.warehouse import Warehouse

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    if db_url:
        os.environ["POVWATCH_DB_URL"] = db_url
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "wh"
        alerts = make_worklist(n)
        truth = pd.DataFrame({"household_id": alerts["household_id"], "round_id": "2025",
                              "true_risk": np.random.default_rng(1).beta(1.2, 6, n)})
        rows = simulate_outcomes(alerts, truth, seed=2)
        csv = write_outcomes(rows, Path(tmp) / "入户核实结果表.csv", zh=True)
        with open_store(root) as store:
            t_worklist, _ = _timed(lambda: store.record_worklist(alerts))
            t_read, _ = _timed(lambda: pd.read_csv(csv, dtype=str, keep_default_na=False, encoding="utf-8-sig"))
            t_ingest, summary = _timed(lambda: ingest_outcomes([csv], store, Warehouse(root)))
            t_again, again = _timed(lambda: ingest_outcomes([csv], store, Warehouse(root)))
        t_report, _ = _timed(lambda: build_loop_report(root, at="2025-12-31", log_run=False))
        t_report_mlflow, _ = _timed(lambda: build_loop_report(root, at="2025-12-31", log_run=True))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert summary.new == len(rows) and again.new == 0  # the bench measured what it claims
    figures = {
        "alerts": float(n), "outcome_rows": float(len(rows)),
        "record_worklist_s": t_worklist,
        "outcomes_ingest_s": t_ingest, "outcomes_ingest_rows_per_s": len(rows) / t_ingest,
        "ingest_vs_read_csv": t_ingest / t_read,
        "reingest_same_file_s": t_again,
        "loop_report_s": t_report, "loop_report_with_mlflow_s": t_report_mlflow,
        "peak_rss_mb": peak,
    }
    print(f"{'measure':<30}{'value':>14}")
    for name, value in figures.items():
        print(f"{name:<30}{value:>14,.2f}")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outcomes", type=int, default=N_OUTCOMES, help="alerts (outcome rows ~3%% more)")
    parser.add_argument("--db-url", default=None, help="PostgreSQL URL instead of SQLite in a temporary warehouse")
    args = parser.parse_args()
    main(args.outcomes, args.db_url)
