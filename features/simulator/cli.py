"""``povwatch simulate``: write synthetic survey rounds (contract files) and their true risk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from features.simulator.run import simulate
from features.simulator.shocks import Shock, apply_shocks
from features.simulator.truth import DEFAULT_REPLICATES
from features.simulator.writer import RoundWriter


def simulate_cmd(
    households: Annotated[int, typer.Option(help="Number of households in the first round.", min=1)],
    rounds: Annotated[int, typer.Option(help="Number of yearly survey rounds.", min=1)],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives identical files.")],
    out: Annotated[Path, typer.Option(help="Folder for households/members/events files and truth.parquet.")],
    first_year: Annotated[int, typer.Option(help="Year of the first round's survey.")] = 2021,
    format: Annotated[str, typer.Option(help="File format: parquet or csv.")] = "parquet",
    zh: Annotated[bool, typer.Option(help="Chinese headers, enum labels, '；' lists and 是/否 booleans.")] = False,
    truth_replicates: Annotated[int, typer.Option(help="Monte Carlo re-simulations of the next year per "
                                "household for true_risk; more is a sharper ceiling and slower.",
                                min=1, max=4096)] = DEFAULT_REPLICATES,
    shock: Annotated[Optional[list[str]], typer.Option("--shock", help="KIND:YEAR[:COUNTY] with KIND disaster, "
                     "wage, survey or silent: a known problem injected into one round of one county, to test "
                     "`povwatch drift` (repeatable).")] = None,
) -> None:
    """Simulate survey rounds of rural households with known true risk of falling below the line."""
    if format not in ("parquet", "csv"):
        raise typer.BadParameter(f"expected parquet or csv; got {format!r}", param_hint="--format")
    try:
        shocks = [Shock.parse(x) for x in shock or []]
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--shock") from e
    totals = {"households": 0, "members": 0, "events": 0}
    with RoundWriter(out, format, zh) as w:  # type: ignore[arg-type]
        for r in simulate(households, rounds, seed, first_year, replicates=truth_replicates):
            r = apply_shocks(r, shocks, seed)
            for table in totals:
                frame = getattr(r, table)
                w.write(table, frame)
                totals[table] += len(frame)
            w.write_truth(r.truth)
            typer.echo(f"round {r.round_id}: {len(r.households):,} households, {len(r.members):,} members, "
                       f"{len(r.events):,} events")
    typer.echo(f"wrote {', '.join(f'{n:,} {t}' for t, n in totals.items())} to {out} (+ truth.parquet)")
