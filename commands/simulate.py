"""``povwatch simulate``: write synthetic survey rounds (contract files) and their true risk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def simulate_cmd(
    households: Annotated[int, typer.Option(help="Number of households the simulated county starts with, "
                                            "before burn-in years in which some leave: the first round holds "
                                            "a few percent fewer, later rounds fewer still.", min=1)],
    rounds: Annotated[int, typer.Option(help="Number of yearly survey rounds.", min=1)],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives identical files.")],
    out: Annotated[Path, typer.Option(help="Folder for households/members/events files and truth.parquet.")],
    first_year: Annotated[int, typer.Option(help="Year of the first round's survey.")] = 2021,
    format: Annotated[str, typer.Option(help="File format: parquet or csv.")] = "parquet",
    zh: Annotated[bool, typer.Option(help="Chinese headers, enum labels, '；' lists and 是/否 booleans.")] = False,
    truth_replicates: Annotated[int | None, typer.Option(help="Monte Carlo re-simulations of the next year "
                                "per household for true_risk; more is a sharper ceiling and slower (default: "
                                "the simulator's).", min=1, max=4096)] = None,
    shock: Annotated[Optional[list[str]], typer.Option("--shock", help="KIND:YEAR[:COUNTY] with KIND disaster, "
                     "wage, survey or silent: a known problem injected into one round of one county, to test "
                     "`povwatch drift` (repeatable).")] = None,
    profile: Annotated[str, typer.Option(help="What the survey records: 'full' (every contract column and "
                       "reported events) or 'sparse' (required columns plus monitoring_type, no events, "
                       "incomes rounded to 500 yuan: a thin panel).")] = "full",
) -> None:
    """Simulate survey rounds of rural households with known true risk of falling below the line."""
    from features.console import progress
    from features.simulator.profiles import PROFILES, recorded, table_of
    from features.simulator.run import simulate
    from features.simulator.shocks import Shock, apply_shocks
    from features.simulator.truth import DEFAULT_REPLICATES
    from features.simulator.writer import RoundWriter

    if format not in ("parquet", "csv"):
        raise typer.BadParameter(f"expected parquet or csv; got {format!r}", param_hint="--format")
    if profile not in PROFILES:
        raise typer.BadParameter(f"expected one of {', '.join(PROFILES)}; got {profile!r}", param_hint="--profile")
    try:
        shocks = [Shock.parse(x) for x in shock or []]
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--shock") from e
    written = {t: table_of(t, profile) for t in ("households", "members", "events")}  # type: ignore[arg-type]
    totals = {t: 0 for t, spec in written.items() if spec is not None}
    replicates = truth_replicates or DEFAULT_REPLICATES
    with (RoundWriter(out, format, zh, tables={t: s for t, s in written.items() if s is not None}) as w,  # type: ignore[arg-type]
          progress("simulating rounds", total=rounds) as advance):
        for r in simulate(households, rounds, seed, first_year, replicates=replicates):
            try:
                r = apply_shocks(r, shocks, seed)
            except ValueError as e:  # a county the simulated rounds do not have
                raise typer.BadParameter(str(e), param_hint="--shock") from e
            for table in totals:
                frame = recorded(table, getattr(r, table), profile)  # type: ignore[arg-type]
                if len(frame):  # no file for a table without rows (the first round has no events): ingest
                    w.write(table, frame)  # refuses a file without rows
                totals[table] += len(frame)
            w.write_truth(r.truth)
            advance()
            typer.echo(f"round {r.round_id}: {len(r.households):,} households, {len(r.members):,} members"
                       + (f", {len(r.events):,} events" if "events" in totals else ""))
    typer.echo(f"wrote {', '.join(f'{n:,} {t}' for t, n in totals.items())} to {out} (+ truth.parquet)")
