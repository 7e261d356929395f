"""The loop report end to end: read the case store, compute, print, write the page, log the MLflow run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from cases.loop_page import log_loop_report, render_loop_page
from cases.loop_report import loop_report
from cases.population import unlisted_households
from cases.store import open_store
from features.data.warehouse import Warehouse


@dataclass
class LoopResult:
    report: dict[str, Any]
    text: str
    run_id: str | None
    html_path: Path | None


def report_text(r: dict[str, Any]) -> str:
    """The report as the table ``povwatch loop-report`` prints."""
    def pct(x: float | None) -> str:
        return "—" if x is None else f"{100 * x:.1f}%"

    lines = [f"loop report at {r['at']}" + (f", alerts since {r['since']}" if r["since"] else ""),
             f"{'channel':<11}{'alerts':>7}{'visits':>7}{'ident.':>7}  {'share (95% CI)':<22}"
             f"{'days→visit':>11}{'days→decision':>14}{'overdue':>9}"]
    for c in r["channels"]:
        ci = f" ({pct(c['identified_ci'][0])}–{pct(c['identified_ci'][1])})" if c["identified_ci"] else ""
        lines.append(f"{c['channel']:<11}{c['alerts']:>7}{c['visits']:>7}{c['identified']:>7}  "
                     f"{pct(c['identified_share']) + ci:<22}{c['median_days_to_visit'] or '—':>11}"
                     f"{c['median_days_to_decision'] or '—':>14}{pct(c['overdue_share']):>9}")
    if r["audit_miss_rate"] is not None:
        lo, hi = r["audit_miss_rate_ci"]
        line = f"audit miss rate: {pct(r['audit_miss_rate'])} (95% CI {pct(lo)}–{pct(hi)})"
        if r["implied_missed_households"]:
            m = r["implied_missed_households"]
            line += (f"; about {m['estimate']} at-risk households outside the lists "
                     f"({m['ci'][0]}–{m['ci'][1]}) among {r['unlisted_households']} not listed")
        lines.append(line)
    else:
        lines.append("audit miss rate: no audit visits yet")
    api = {k: "—" if v is None else f"{v:.1f}" for k, v in r["alerts_per_identified"].items()}
    lines.append(f"alerts per identified household: triggers only {api['trigger']}, "
                 f"triggers + model {api['trigger+model']}")
    for v in r["by_model_version"]:
        lines.append(f"model version {v['model_version']}: {v['alerts']} alerts, {v['visits']} visits, "
                     f"{pct(v['identified_share'])} identified")
    return "\n".join(lines)


def scoped_report(warehouse: Path, *, at: pd.Timestamp, since: pd.Timestamp | None = None,
                  county: str | None = None, village: str | None = None) -> dict[str, Any]:
    """The loop report of the case store's alerts issued since ``since``, of one county and/or village."""
    with open_store(warehouse) as store:
        alerts, current = store.alerts(), store.outcomes()
    if county is not None:
        alerts = alerts[alerts["county"].eq(county)]
    if village is not None:
        alerts = alerts[alerts["village"].eq(village)]
    scoped = alerts if since is None else alerts[alerts["as_of"] >= since]
    unlisted = unlisted_households(Warehouse(warehouse), scoped, village=village)
    return loop_report(alerts, current, at=at, since=since, unlisted_households=unlisted)


def build_loop_report(warehouse: Path, *, since: str | None = None, at: str | None = None,
                      html: Path | None = None, log_run: bool = True) -> LoopResult:
    """Compute the loop report of ``warehouse``'s case store; write ``html`` and log an MLflow run if asked."""
    when = pd.Timestamp(at) if at else pd.Timestamp(date.today())
    start = pd.Timestamp(since) if since else None
    report = scoped_report(warehouse, at=when, since=start)
    page = render_loop_page(report)
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(page, encoding="utf-8")
    run_id = log_loop_report(Path(warehouse), report, page) if log_run else None
    text = report_text(report)
    if run_id:
        text += f"\nMLflow run {run_id} (experiment povwatch-monitoring)"
    if html is not None:
        text += f"\npage: {html}"
    return LoopResult(report, text, run_id, html)


LOOP_PAGE = "loop.html"  # the loop page's name beside a village's or county's index.html


def write_field_page(warehouse: Path, folder: Path, *, county: str | None = None, village: str | None = None,
                     back: str = "index.html", at: str | None = None) -> str | None:
    """The loop report of one county or village as ``folder/loop.html``, for the HTML village/county report
    (linked from its index); returns the file name, or None when the warehouse has no case store (none is
    created by writing a report)."""
    from cases.db import store_exists

    if not store_exists(warehouse):
        return None
    when = pd.Timestamp(at) if at else pd.Timestamp(date.today())
    report = scoped_report(warehouse, at=when, county=county, village=village)
    scope = " · ".join(x for x in (county, village) if x)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOOP_PAGE).write_text(render_loop_page(report, scope=scope, back=back), encoding="utf-8")
    return LOOP_PAGE
