"""``povwatch score``: batch scoring of a round or a date with the champion."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Optional

import typer

from commands.options import ALIAS, WAREHOUSE, AliasOption, AsOfOption, RoundOption, WarehouseOption


def score_cmd(
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv or .parquet.")],
    round_id: RoundOption = None,
    as_of: AsOfOption = None,
    warehouse: WarehouseOption = WAREHOUSE,
    explain_top: Annotated[float, typer.Option("--explain-top", min=0, max=100, help="Compute reasons for "
                           "the top K percent by risk (blank for the rest).")] = 20.0,
    lang: Annotated[str, typer.Option("--lang", help="Language of the reasons: zh or en.")] = "zh",
    chunk: Annotated[int, typer.Option("--chunk", min=1000, help="Households per chunk "
                     "(bounds memory).")] = 50_000,
    alias: AliasOption = ALIAS,
    engine: Annotated[str, typer.Option("--engine", help="local, or spark: the same scores computed on Apache "
                      "Spark (pip install povwatch[spark]); --out is then a folder of Parquet partitioned by "
                      "round_id.")] = "local",
    spark_master: Annotated[Optional[str], typer.Option("--spark-master", help="Spark master URL for --engine "
                            "spark (default: what spark-submit set, else local[2]).")] = None,
) -> None:
    """Score every household with the champion (those already below the line listed last, eligible=False);
    reasons for the top K% of the others."""
    from features.data.as_of import resolve_as_of
    from features.console import progress
    from features.data.tables import write_table
    from serving.batch import score_warehouse
    from commands.exit_codes import fail
    from commands.preconditions import require_model, require_rounds

    if lang not in ("zh", "en"):
        raise typer.BadParameter("expected zh or en", param_hint="--lang")
    if engine not in ("local", "spark"):
        raise typer.BadParameter(f"expected local or spark, got {engine!r}", param_hint="--engine")
    if engine == "spark":
        return _score_on_spark(out, round_id, as_of, warehouse, explain_top, lang, chunk, alias, spark_master)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise typer.BadParameter(f"must end in .csv or .parquet, got {out.name!r}", param_hint="--out")
    wh = require_rounds(warehouse)
    try:
        when = resolve_as_of(wh, round_id, as_of)
    except ValueError as e:
        fail(str(e))
    model = require_model(warehouse, alias)
    run = partial(score_warehouse, model, wh, when=when, explain_top=explain_top / 100,
                  chunk=chunk, lang=lang)
    try:
        with progress("scoring households") as advance:
            scores, summary = run(progress=advance)
    except ValueError as e:  # e.g. a province without a monitoring line
        fail(str(e))
    write_table(scores, out)
    typer.echo(f"scored {summary.scored} households at {when.date.date()} (round {when.round_id}) with "
               f"povwatch-risk v{model.model_version} (@{alias}); {summary.below_line} already below the line "
               f"(eligible=False, listed last); {summary.stale} stale (newest record older than round "
               f"{when.round_id}); reasons for the top {summary.explained}; wrote {out}")


def _score_on_spark(out: Path, round_id: str | None, as_of: datetime | None, warehouse: Path, explain_top: float,
                    lang: str, chunk: int, alias: str, master: str | None) -> None:
    from features.data.as_of import resolve_as_of
    from models.registry import RegistryError
    from commands.exit_codes import fail
    from commands.preconditions import require_rounds

    if out.suffix.lower() == ".csv":
        raise typer.BadParameter("with --engine spark, --out is a folder (Parquet partitioned by round_id)",
                                 param_hint="--out")
    try:
        import pyspark  # noqa: F401
    except ImportError:  # pragma: no cover - the spark extra is installed by make test
        fail("--engine spark needs pyspark: pip install 'povwatch[spark]'")
    from serving import spark_engine

    wh = require_rounds(warehouse)
    try:
        when = resolve_as_of(wh, round_id, as_of)
        pin, rows = spark_engine.run(warehouse, out, when=when, alias=alias, master=master,
                                     explain_top=explain_top / 100, lang=lang, chunk=chunk)
    except (ValueError, RegistryError) as e:
        fail(str(e))
    typer.echo(f"scored {rows} households at {when.date.date()} on Spark with povwatch-risk v{pin.version} (@{alias}, "
               f"pinned by version); wrote {out}/round_id=*/")
