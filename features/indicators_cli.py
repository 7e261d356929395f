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
    chunk: Annotated[int, typer.Option("--chunk", min=100, help="Households per chunk read from the warehouse "
                     "(bounds memory; the table is the same).")] = 50_000,
) -> None:
    """Export the point-in-time indicator table for analysts (exactly one of --round / --as-of)."""
    import pandas as pd

    from features.labels import round_as_of
    from features.warehouse import Warehouse

    if (round is None) == (as_of is None):
        raise typer.BadParameter("give exactly one of --round R or --as-of YYYY-MM-DD")
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise typer.BadParameter(f"--out {out}: expected a .csv or .parquet file name")
    wh = Warehouse(warehouse)
    if round is not None:
        rounds = round_as_of(wh)
        if round not in rounds.index:
            known = ", ".join(rounds.index) or "none (ingest or simulate first)"
            raise typer.BadParameter(f"--round {round!r} is not in warehouse {warehouse}; rounds: {known}")
        date = pd.Timestamp(rounds[round])
    else:
        date = pd.Timestamp(as_of).normalize()
    from features.chunks import examples_by_chunk

    out.parent.mkdir(parents=True, exist_ok=True)
    rows = labelled = columns = 0
    try:
        with _ChunkWriter(out) as sink:
            for table in examples_by_chunk(wh, date, chunk):
                sink.write(table)
                rows, columns = rows + len(table), len(table.columns)
                labelled += int(table["falls_below_line"].notna().sum())
            if not rows:  # nobody known at that date: the (empty) table with its columns, as before
                from features.labels import build_examples

                table = build_examples(wh, [date])
                sink.write(table, empty_ok=True)
                columns = len(table.columns)
    except ValueError as e:
        from serving.exit_codes import fail

        fail(f"features: {e}")
    typer.echo(f"{rows} households at {date.date()}: {columns} columns, "
               f"{labelled} with a known outcome -> {out}")


class _ChunkWriter:
    """One CSV or Parquet file written chunk by chunk (text columns stay text even when a chunk has none)."""

    def __init__(self, out: Path) -> None:
        self.out, self.parquet, self.schema, self.writer = out, out.suffix.lower() == ".parquet", None, None
        self.started = False

    def __enter__(self) -> "_ChunkWriter":
        return self

    def write(self, table, empty_ok: bool = False) -> None:
        if not len(table) and not empty_ok:
            return
        if not self.parquet:
            table.to_csv(self.out, index=False, mode="a" if self.started else "w", header=not self.started)
            self.started = True
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.schema is None:
            schema = pa.Schema.from_pandas(table, preserve_index=False)
            self.schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in schema],
                                    metadata=schema.metadata)
            self.writer = pq.ParquetWriter(self.out, self.schema)
        self.writer.write_table(pa.Table.from_pandas(table, schema=self.schema, preserve_index=False))

    def __exit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.close()
