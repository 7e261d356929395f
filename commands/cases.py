"""``povwatch outcomes ingest|simulate``, ``povwatch cases`` and ``povwatch loop-report``.

Heavy imports stay inside the command bodies so ``povwatch --help`` is fast and importing has no side effects.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from commands.options import WAREHOUSE, WarehouseOption

outcomes_app = typer.Typer(help="Visit outcomes (入户核实结果): load them into the case store, or simulate them.",
                           no_args_is_help=True)


@outcomes_app.command("ingest")
def outcomes_ingest_cmd(
    paths: Annotated[list[Path], typer.Argument(
        help="CSV (UTF-8) or Parquet files of the contract's outcomes table (English or Chinese headers and "
             "codes), or folders searched for outcomes*/入户核实结果表* files.")],
    warehouse: WarehouseOption = WAREHOUSE,
    json_out: Annotated[bool, typer.Option(
        "--json", help='Print only {"outcomes": {"read", "accepted", "rejected", "new", "unchanged"}} as JSON.')] = False,
) -> None:
    """Validate outcome rows against the contract and store them in the case store; rejected rows (including
    outcomes for an alert no worklist issued) go to <warehouse>/quarantine/outcomes/ with a reason each.
    Loading the same file twice changes nothing."""
    from cases.ingest import ingest_outcomes
    from cases.store import open_store
    from features.data.pii import MissingIdKeyError
    from features.data.validate import ContractError
    from features.data.warehouse import Warehouse

    try:
        with open_store(warehouse) as store:
            summary = ingest_outcomes(paths, store, Warehouse(warehouse))
    except (ContractError, MissingIdKeyError) as e:
        typer.echo(f"outcomes ingest refused: {e}", err=True)
        raise typer.Exit(code=2) from e
    if json_out:
        typer.echo(json.dumps(summary.counts(), ensure_ascii=False))
        return
    typer.echo(f"outcomes: read {summary.read}, accepted {summary.accepted} ({summary.new} new, "
               f"{summary.unchanged} already stored), rejected {summary.rejected}")
    for rule, n in summary.top_reasons:
        typer.echo(f"  rejected for {rule}: {n}")
    if summary.quarantine_files:
        typer.echo(f"  rejected rows with reasons: {', '.join(summary.quarantine_files)}")
    if summary.unknown_columns:
        typer.echo(f"  columns not in the contract, not stored: {', '.join(summary.unknown_columns)}")
    if summary.dropped_pii_columns:
        typer.echo(f"  identifying columns dropped, never stored: {', '.join(summary.dropped_pii_columns)}")


def _store_and_states(warehouse: Path, at: str | None):  # noqa: ANN202
    import pandas as pd

    from cases.follow_up import case_states
    from cases.store import open_store

    when = pd.Timestamp(at) if at else pd.Timestamp(date.today())
    with open_store(warehouse) as store:
        alerts, current = store.alerts(), store.outcomes()
    return alerts, current, when, case_states(alerts, current, when)


def cases_cmd(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only alerts past check_by (not visited) or "
                                          "decide_by (identified, not decided), open or not.")] = False,
    village: Annotated[str | None, typer.Option(help="Only this village (行政村).")] = None,
    at: Annotated[str | None, typer.Option(help="Date the deadlines are checked at (YYYY-MM-DD; default today).")] = None,
    warehouse: WarehouseOption = WAREHOUSE,
    json_out: Annotated[bool, typer.Option("--json", help="Print the listed alerts as JSON records.")] = False,
) -> None:
    """Open alerts (not yet visited, not reached, or identified and awaiting the decision) and overdue ones,
    per village and verifier."""
    from cases.follow_up import open_cases, summary_by

    _, _, when, states = _store_and_states(warehouse, at)
    listed = open_cases(states, overdue_only=overdue, village=village)
    if json_out:
        cols = ["alert_id", "household_id", "village", "channel", "rank", "as_of", "check_by", "decide_by",
                "outcome", "verifier_id", "status", "overdue", "days_overdue"]
        out = listed[cols].copy()
        for c in ("as_of", "check_by", "decide_by"):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
        typer.echo(out.astype(object).where(out.notna(), None).to_json(orient="records", force_ascii=False))
        return
    what = "overdue" if overdue else "open"
    typer.echo(f"{len(listed)} {what} alert(s) at {when.date()} ({len(states)} issued)")
    for v, group in listed.groupby("village", sort=True):
        typer.echo(f"\n{v}:")
        for r in group.itertuples():
            late = f", {r.days_overdue} day(s) overdue" if r.overdue else ""
            verifier = f", verifier {r.verifier_id}" if isinstance(r.verifier_id, str) else ""
            typer.echo(f"  {r.alert_id}  {r.household_id}  {r.channel:<10} {r.status:<17} check by "
                       f"{r.check_by:%Y-%m-%d}, decide by {r.decide_by:%Y-%m-%d}{verifier}{late}")
    scope = states if village is None else states[states["village"].eq(village)]
    for key, title in (("village", "per village"), ("verifier_id", "per verifier")):
        table = summary_by(scope, key)
        typer.echo(f"\n{title}: alerts / open / overdue")
        for name, r in table.iterrows():
            typer.echo(f"  {name}: {r['alerts']} / {r['open']} / {r['overdue']}")


def loop_report_cmd(
    since: Annotated[str | None, typer.Option(help="Only alerts issued (as-of date) on or after this date.")] = None,
    at: Annotated[str | None, typer.Option(help="Date overdue is judged at (YYYY-MM-DD; default today).")] = None,
    warehouse: WarehouseOption = WAREHOUSE,
    json_out: Annotated[bool, typer.Option("--json", help="Print only the report as JSON.")] = False,
    html: Annotated[Path | None, typer.Option(help="Also write the report as an HTML page (zh/en).")] = None,
    mlflow_run: Annotated[bool, typer.Option("--mlflow/--no-mlflow",
                                             help="Log a run in MLflow experiment povwatch-monitoring.")] = True,
) -> None:
    """What the visits found, per channel (share identified with 95% CI, days to visit and decision, overdue
    share), the miss rate estimated from the random audit, alerts per identified household, by model version."""
    from cases.loop import build_loop_report

    result = build_loop_report(warehouse, since=since, at=at, html=html, log_run=mlflow_run)
    if json_out:
        from cases.loop_page import report_json
        typer.echo(report_json(result.report))
        return
    typer.echo(result.text)


@outcomes_app.command("simulate")
def outcomes_simulate_cmd(
    truth: Annotated[Path, typer.Option(help="The simulator's truth.parquet (household_id, round_id, true_risk).")],
    out: Annotated[Path, typer.Option(help="Outcomes file to write (.csv or .parquet).")],
    worklist: Annotated[Path | None, typer.Option(
        help="Worklist file (.csv/.parquet/.json from povwatch worklist); default: the case store's alerts "
             "that have no outcome yet.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the simulated visits.")] = 2026,
    zh: Annotated[bool, typer.Option("--zh/--en", help="Chinese headers and labels (as a county export) or "
                                     "English codes.")] = False,
    warehouse: WarehouseOption = WAREHOUSE,
) -> None:
    """Simulated visit outcomes for a worklist, from the simulator's latent truth with field noise (about 5 %
    not reached, verification that misses some at-risk households). For demos and tests only."""
    import pandas as pd

    from cases.simulate import monitored_households, read_worklist, simulate_visits, unvisited_alerts
    from cases.store import open_store
    from features.data.warehouse import Warehouse

    if worklist is None:
        with open_store(warehouse) as store:
            alerts = unvisited_alerts(store)
    else:
        try:
            alerts = read_worklist(worklist)
        except ValueError as e:
            typer.echo(f"outcomes simulate: {e}", err=True)
            raise typer.Exit(code=2) from e
    if alerts.empty:
        typer.echo("no alerts without an outcome: nothing to simulate, nothing written")
        return
    typer.echo(simulate_visits(alerts, pd.read_parquet(truth), out, seed=seed, zh=zh,
                               monitored=monitored_households(Warehouse(warehouse))))
