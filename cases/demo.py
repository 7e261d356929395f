"""The loop for the demo in one call: the worklist's alerts get simulated visits, the outcomes file is ingested
like a county's export, and the loop report is computed (what ``make demo`` prints after ``povwatch worklist``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cases.ingest import ingest_outcomes
from cases.loop import build_loop_report
from cases.simulate import monitored_households, simulate_outcomes, unvisited_alerts, write_outcomes
from cases.store import open_store
from features.data.warehouse import Warehouse


def run_loop(warehouse: Path, truth: Path, out: Path, *, seed: int = 2026, at: str | None = None,
             zh: bool = True) -> str:
    """Simulate outcomes for the store's unvisited alerts, ingest them, and return the printed loop report.
    ``at`` (default: 30 days after the newest alert) is the date the report judges overdue at."""
    wh = Warehouse(warehouse)
    with open_store(warehouse) as store:
        alerts = unvisited_alerts(store)
        if alerts.empty:
            return "no unvisited alerts in the case store: run `povwatch worklist` first"
        rows = simulate_outcomes(alerts, pd.read_parquet(truth), seed=seed, monitored=monitored_households(wh))
        path = write_outcomes(rows, Path(out), zh=zh)
        summary = ingest_outcomes([path], store, wh)
    when = at or (alerts["as_of"].max() + pd.Timedelta(days=30)).date().isoformat()
    report = build_loop_report(warehouse, at=when, html=Path(out).with_suffix(".html"))
    return (f"simulated {len(rows)} outcome rows for {len(alerts)} alerts -> {path}\n"
            f"outcomes: read {summary.read}, accepted {summary.accepted}, rejected {summary.rejected}\n"
            + report.text)
