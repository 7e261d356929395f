"""``povwatch features``: the indicator table at one date, with the label where it is already known."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from features.defaults import DEFAULT_WAREHOUSE


def features_cmd(
    round: Annotated[str | None, typer.Option(
        "--round", help="Round id: indicators at the round's as-of date (its last survey date).")] = None,
    as_of: Annotated[datetime | None, typer.Option(
        "--as-of", formats=["%Y-%m-%d"], help="As-of date YYYY-MM-DD: the latest record at that date plus the "
                                              "events reported since.")] = None,
    warehouse: Annotated[Path, typer.Option(
        help="Warehouse folder.", envvar="POVWATCH_WAREHOUSE")] = Path(DEFAULT_WAREHOUSE),
    out: Annotated[Path, typer.Option(
        "--out", help="Output file: .csv or .parquet. Columns: household_id, round_id, survey_date, as_of, the "
                      "catalogue indicators, eligible, falls_below_line (empty until the next round is "
                      "surveyed), label_round_id, label_date, county, village, household_type, "
                      "is_monitored.")] = Path("features.parquet"),
) -> None:
    """Export the point-in-time indicator table for analysts (exactly one of --round / --as-of)."""
    import pandas as pd

    from features.labels import build_examples, round_as_of
    from serving.preconditions import require_rounds

    if (round is None) == (as_of is None):
        raise typer.BadParameter("give exactly one of --round R or --as-of YYYY-MM-DD")
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise typer.BadParameter(f"--out {out}: expected a .csv or .parquet file name")
    wh = require_rounds(warehouse)
    if round is not None:
        rounds = round_as_of(wh)
        if round not in rounds.index:
            known = ", ".join(rounds.index) or "none (ingest or simulate first)"
            raise typer.BadParameter(f"--round {round!r} is not in warehouse {warehouse}; rounds: {known}")
        date = pd.Timestamp(rounds[round])
    else:
        date = pd.Timestamp(as_of).normalize()
    try:
        from features.console import progress

        with progress("building indicators"):
            table = build_examples(wh, [date])
    except ValueError as e:
        from serving.exit_codes import fail

        fail(f"features: {e}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        table.to_csv(out, index=False)
    else:
        table.to_parquet(out, index=False)
    labelled = int(table["falls_below_line"].notna().sum())
    typer.echo(f"{len(table)} households at {date.date()}: {len(table.columns)} columns, "
               f"{labelled} with a known outcome -> {out}")
