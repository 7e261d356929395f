"""``povwatch features``: the indicator table at one date, with the label where it is already known."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commands.options import WAREHOUSE, AsOfOption, RoundOption, WarehouseOption


def features_cmd(
    round: RoundOption = None,
    as_of: AsOfOption = None,
    warehouse: WarehouseOption = WAREHOUSE,
    out: Annotated[Path, typer.Option(
        "--out", help="Output file: .csv or .parquet. Columns: household_id, round_id, survey_date, as_of, the "
                      "catalogue indicators, eligible, falls_below_line (empty until the next round is "
                      "surveyed), label_round_id, label_date, county, village, household_type, "
                      "is_monitored.")] = Path("features.parquet"),
    chunk: Annotated[int, typer.Option("--chunk", min=100, help="Households per chunk read from the warehouse "
                     "(bounds memory; the table is the same).")] = 50_000,
) -> None:
    """Export the point-in-time indicator table for analysts (one of --round / --as-of; neither: the latest
    survey date in the warehouse)."""
    from features.data.as_of import resolve_as_of
    from features.data.tables import check_table_path
    from commands.preconditions import require_rounds

    try:
        check_table_path(out)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--out") from e
    wh = require_rounds(warehouse)
    try:
        date = resolve_as_of(wh, round, as_of).date
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    from features.data.chunks import examples_by_chunk

    out.parent.mkdir(parents=True, exist_ok=True)
    rows = labelled = columns = 0
    try:
        with _ChunkWriter(out) as sink:
            for table in examples_by_chunk(wh, date, chunk):
                sink.write(table)
                rows, columns = rows + len(table), len(table.columns)
                labelled += int(table["falls_below_line"].notna().sum())
            if not rows:  # nobody known at that date: the (empty) table with its columns, as before
                from features.indicators.labels import build_examples

                table = build_examples(wh, [date])
                sink.write(table, empty_ok=True)
                columns = len(table.columns)
    except ValueError as e:
        from commands.exit_codes import fail

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
