"""``povwatch outcomes ingest|simulate``, ``povwatch cases`` and ``povwatch loop-report``.

Heavy imports stay inside the command bodies so ``povwatch --help`` is fast and importing has no side effects.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from features.warehouse import DEFAULT_WAREHOUSE

WarehouseOption = Annotated[Path, typer.Option(
    help="Warehouse folder (its case store is <warehouse>/povwatch.db unless POVWATCH_DB_URL is set).",
    envvar="POVWATCH_WAREHOUSE")]

outcomes_app = typer.Typer(help="Visit outcomes (入户核实结果): load them into the case store, or simulate them.",
                           no_args_is_help=True)


@outcomes_app.command("ingest")
def outcomes_ingest_cmd(
    paths: Annotated[list[Path], typer.Argument(
        help="CSV (UTF-8) or Parquet files of the contract's outcomes table (English or Chinese headers and "
             "codes), or folders searched for outcomes*/入户核实结果表* files.")],
    warehouse: WarehouseOption = Path(DEFAULT_WAREHOUSE),
    json_out: Annotated[bool, typer.Option(
        "--json", help='Print only {"outcomes": {"read", "accepted", "rejected", "new", "unchanged"}} as JSON.')] = False,
) -> None:
    """Validate outcome rows against the contract and store them in the case store; rejected rows (including
    outcomes for an alert no worklist issued) go to <warehouse>/quarantine/outcomes/ with a reason each.
    Loading the same file twice changes nothing."""
    from cases.ingest import ingest_outcomes
    from cases.store import open_store
    from features.pii import MissingIdKeyError
    from features.validate import ContractError
    from features.warehouse import Warehouse

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
