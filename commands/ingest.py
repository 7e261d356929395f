"""``povwatch ingest``: validate survey files and load them into the warehouse."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from commands.options import WAREHOUSE, WarehouseOption



def ingest_cmd(
    paths: Annotated[list[Path], typer.Argument(
        help="CSV (UTF-8, BOM or not) or Parquet files, or folders searched for them; the table is "
             "recognised by the file name (households*, members*, events*, monitoring_lines*, or the "
             "Chinese table names).")],
    warehouse: WarehouseOption = WAREHOUSE,
    table: Annotated[str | None, typer.Option(
        help="Load every file as this table (households, members, events, monitoring_lines or the "
             "Chinese name) instead of recognising it by file name.")] = None,
    json_out: Annotated[bool, typer.Option(
        "--json", help='Print only {table: {"read": n, "accepted": n, "rejected": n}} as JSON.')] = False,
    ingest_date: Annotated[str | None, typer.Option(
        help="Date recorded as the arrival of the new events (YYYY-MM-DD; default today, UTC): set it when "
             "back-filling or replaying past deliveries, so that `povwatch drift --events` judges late "
             "arrivals by it.")] = None,
) -> None:
    """Validate files against the survey contract and load the valid rows; rejected rows go to
    <warehouse>/quarantine/<table>/ with a reason each. Loading the same file twice changes nothing."""
    from features.data.contract import table_for_file
    from features.data.ingest import ingest
    from features.data.pii import MissingIdKeyError
    from features.data.validate import ContractError
    from features.data.warehouse import Warehouse

    from features.console import progress

    day = None
    if ingest_date is not None:
        try:
            day = dt.date.fromisoformat(ingest_date)
        except ValueError as e:
            raise typer.BadParameter(f"expected a date YYYY-MM-DD; got {ingest_date!r}",
                                     param_hint="--ingest-date") from e
    rounds_before = Warehouse(warehouse).round_ids()
    try:
        with progress("validating and loading"):
            summary = ingest(paths, Warehouse(warehouse), table=table, ingest_date=day)
    except (ContractError, MissingIdKeyError) as e:
        from commands.exit_codes import fail

        fail(f"ingest refused: {e}")
    if json_out:
        typer.echo(json.dumps(summary.counts(), ensure_ascii=False))
        return
    for name, s in summary.tables.items():
        typer.echo(f"{name}: read {s.read}, accepted {s.accepted}, rejected {s.rejected}")
        for rule, n in s.top_reasons:
            typer.echo(f"  rejected for {rule}: {n}")
        if s.quarantine_files:
            typer.echo(f"  rejected rows with reasons: {', '.join(s.quarantine_files)}")
        if s.unknown_columns:
            typer.echo(f"  columns not in the contract, not stored: {', '.join(s.unknown_columns)}")
        if s.dropped_pii_columns:
            typer.echo(f"  identifying columns dropped, never stored: {', '.join(s.dropped_pii_columns)}")
    for f in summary.skipped_files:
        case = table_for_file(Path(f).stem)
        typer.echo(f"skipped (case data: load it with `povwatch {case.name} ingest`): {f}" if case is not None
                   else f"skipped (no table of that name): {f}")
    from training.monitoring.after_ingest import drift_line

    if line := drift_line(warehouse, rounds_before):
        typer.echo(line)
