"""``povwatch score``: batch scoring of a round or a date with the champion."""

from __future__ import annotations

import sys
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated, Optional

import typer


def score_cmd(
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv or .parquet.")],
    round_id: Annotated[Optional[str], typer.Option("--round", help="Score households at this round's as-of "
                        "date (its last survey date); households without a record in it are marked stale.")] = None,
    as_of: Annotated[Optional[datetime], typer.Option("--as-of", formats=["%Y-%m-%d"], help="Score every "
                     "household known at this date, with events reported up to it. Neither --round nor "
                     "--as-of: the latest survey date in the warehouse.")] = None,
    warehouse: Annotated[Path, typer.Option("--warehouse", envvar="POVWATCH_WAREHOUSE",
                                            help="Warehouse folder.")] = Path("povwatch-data"),
    explain_top: Annotated[float, typer.Option("--explain-top", min=0, max=100, help="Compute reasons for "
                           "the top K percent by risk (blank for the rest).")] = 20.0,
    lang: Annotated[str, typer.Option("--lang", help="Language of the reasons: zh or en.")] = "zh",
    chunk: Annotated[int, typer.Option("--chunk", min=1000, help="Households per chunk "
                     "(bounds memory).")] = 50_000,
    alias: Annotated[str, typer.Option("--alias", help="Registry alias to score with.")] = "champion",
) -> None:
    """Score every household with the champion (those already below the line listed last, eligible=False);
    reasons for the top K% of the others."""
    from features.as_of import resolve_as_of
    from features.warehouse import Warehouse
    from models.registry import RegistryError, load_risk_model
    from serving.batch import score_warehouse, write_table

    if lang not in ("zh", "en"):
        raise typer.BadParameter("expected zh or en", param_hint="--lang")
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise typer.BadParameter(f"must end in .csv or .parquet, got {out.name!r}", param_hint="--out")
    wh = Warehouse(warehouse)
    try:
        when = resolve_as_of(wh, round_id, as_of)
        model = load_risk_model(warehouse, alias)
    except (ValueError, RegistryError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    run = partial(score_warehouse, model, wh, when=when, explain_top=explain_top / 100,
                  chunk=chunk, lang=lang)
    try:
        if sys.stderr.isatty():
            from rich.progress import Progress

            with Progress(transient=True) as bar:
                task = bar.add_task("scoring", total=None)
                scores, summary = run(progress=lambda n: bar.advance(task, n))
        else:
            scores, summary = run()
    except ValueError as e:  # e.g. a province without a monitoring line
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    write_table(scores, out)
    typer.echo(f"scored {summary.scored} households at {when.date.date()} (round {when.round_id}) with "
               f"povwatch-risk v{model.model_version} (@{alias}); {summary.below_line} already below the line "
               f"(eligible=False, listed last); {summary.stale} stale (newest record older than round "
               f"{when.round_id}); reasons for the top {summary.explained}; wrote {out}")
