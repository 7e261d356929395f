"""``povwatch features``: the indicator table at one date, with the label where it is already known."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from features.options import WAREHOUSE, AsOfOption, RoundOption, WarehouseOption


def features_cmd(
    round: RoundOption = None,
    as_of: AsOfOption = None,
    warehouse: WarehouseOption = WAREHOUSE,
    out: Annotated[Path, typer.Option(
        "--out", help="Output file: .csv or .parquet. Columns: household_id, round_id, survey_date, as_of, the "
                      "catalogue indicators, eligible, falls_below_line (empty until the next round is "
                      "surveyed), label_round_id, label_date, county, village, household_type, "
                      "is_monitored.")] = Path("features.parquet"),
) -> None:
    """Export the point-in-time indicator table for analysts (one of --round / --as-of; neither: the latest
    survey date in the warehouse)."""
    from features.as_of import resolve_as_of
    from features.labels import build_examples
    from features.tables import check_table_path, write_table
    from features.warehouse import Warehouse

    try:
        check_table_path(out)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--out") from e
    wh = Warehouse(warehouse)
    try:
        date = resolve_as_of(wh, round, as_of).date
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    try:
        table = build_examples(wh, [date])
    except ValueError as e:
        from serving.exit_codes import fail

        fail(f"features: {e}")
    write_table(table, out)
    labelled = int(table["falls_below_line"].notna().sum())
    typer.echo(f"{len(table)} households at {date.date()}: {len(table.columns)} columns, "
               f"{labelled} with a known outcome -> {out}")
