"""``povwatch simulate``: write synthetic survey rounds (contract files) and their true risk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from commands.options import WAREHOUSE, WarehouseOption

LATE_FILE = "late_events"  # not a table name: a folder ingest skips it (and says so); ingest it with --table events


def simulate_cmd(
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives identical files.")],
    out: Annotated[Path, typer.Option(help="Folder for households/members/events files and truth.parquet "
                                      "(and the outcomes files of --visits).")],
    households: Annotated[Optional[int], typer.Option(help="Number of households the simulated county starts "
                          "with, before burn-in years in which some leave: the first round holds a few percent "
                          "fewer, later rounds fewer still.", min=1)] = None,
    rounds: Annotated[Optional[int], typer.Option(help="Number of yearly survey rounds.", min=1)] = None,
    visits: Annotated[Optional[list[Path]], typer.Option("--visits", exists=True, dir_okay=False, help="A "
                      "worklist file of `povwatch worklist` (.csv/.parquet/.json; repeatable): also write what "
                      "its home visits find, from the latent truth with field noise, to "
                      "OUT/outcomes-<worklist name>.<format> for `povwatch outcomes ingest`. Without "
                      "--households/--rounds only the visits are simulated, from --truth.")] = None,
    truth: Annotated[Optional[Path], typer.Option(help="(--visits) The truth.parquet of the simulated rounds "
                     "(default: OUT/truth.parquet).")] = None,
    warehouse: WarehouseOption = WAREHOUSE,
    first_year: Annotated[int, typer.Option(help="Year of the first round's survey.")] = 2021,
    format: Annotated[str, typer.Option(help="File format: parquet or csv.")] = "parquet",
    zh: Annotated[bool, typer.Option(help="Chinese headers, enum labels, '；' lists and 是/否 booleans.")] = False,
    truth_replicates: Annotated[int | None, typer.Option(help="Monte Carlo re-simulations of the next year "
                                "per household for true_risk; more is a sharper ceiling and slower (default: "
                                "the simulator's).", min=1, max=4096)] = None,
    shock: Annotated[Optional[list[str]], typer.Option("--shock", help="KIND:YEAR[:COUNTY] with KIND disaster, "
                     "wage, survey, silent or late: a known problem injected into one round of one county, to "
                     "test `povwatch drift` (repeatable). `late` writes the held-back department-feed events "
                     "to late_events.<format>, for a later `povwatch ingest FILE --table events`.")] = None,
    profile: Annotated[str, typer.Option(help="What the survey records: 'full' (every contract column and "
                       "reported events) or 'sparse' (required columns plus monitoring_type, no events, "
                       "incomes rounded to 500 yuan: a thin panel).")] = "full",
) -> None:
    """Simulate survey rounds of rural households with known true risk of falling below the line; with
    --visits, also the outcomes of the home visits of a worklist (what `povwatch outcomes ingest` loads)."""
    if (households is None) != (rounds is None):
        raise typer.BadParameter("give both --households and --rounds (or neither, with --visits)",
                                 param_hint="--households/--rounds")
    if households is None and not visits:
        raise typer.BadParameter("give --households and --rounds to simulate survey rounds, and/or --visits "
                                 "WORKLIST to simulate the visits of a worklist", param_hint="--households")
    if format not in ("parquet", "csv"):
        raise typer.BadParameter(f"expected parquet or csv; got {format!r}", param_hint="--format")
    if households is not None and rounds is not None:
        _rounds(households, rounds, seed, out, first_year, format, zh, truth_replicates, shock, profile)
    if visits:
        _visits(visits, truth or out / "truth.parquet", out, seed=seed, fmt=format, zh=zh, warehouse=warehouse)


def _visits(worklists: list[Path], truth: Path, out: Path, *, seed: int, fmt: str, zh: bool,
            warehouse: Path) -> None:
    """Simulated visits for each worklist file: OUT/outcomes-<worklist name>.<fmt> (``cases.simulate``)."""
    import pandas as pd

    from cases.simulate import monitored_households, read_worklist, simulate_visits
    from features.data.warehouse import Warehouse

    try:
        alerts = [read_worklist(path) for path in worklists]
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--visits") from e
    if not truth.is_file():
        raise typer.BadParameter(f"{truth} does not exist: simulate the rounds first (same --out) or give "
                                 "--truth", param_hint="--truth")
    latent = pd.read_parquet(truth)
    monitored = monitored_households(Warehouse(warehouse)) if warehouse.is_dir() else set()
    for i, (path, entries) in enumerate(zip(worklists, alerts)):
        target = out / f"outcomes-{path.stem}.{fmt}"
        typer.echo(simulate_visits(entries, latent, target, seed=seed + i, zh=zh, monitored=monitored))


def _rounds(households: int, rounds: int, seed: int, out: Path, first_year: int, format: str, zh: bool,
            truth_replicates: int | None, shock: list[str] | None, profile: str) -> None:
    """The survey rounds: households/members/events files and truth.parquet in ``out``."""
    from features.console import progress
    from features.simulator.profiles import PROFILES, recorded, table_of
    from features.simulator.run import simulate
    from features.simulator.shocks import Shock, apply_shocks
    from features.simulator.truth import DEFAULT_REPLICATES
    from features.simulator.writer import RoundWriter

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
            if r.late_events is not None and len(r.late_events) and "events" in totals:
                late = recorded("events", r.late_events, profile)  # type: ignore[arg-type]
                w.write("events", late, file=LATE_FILE)
                typer.echo(f"round {r.round_id}: {len(r.late_events):,} events held back for a late delivery "
                           f"({w.path(LATE_FILE).name})")
            w.write_truth(r.truth)
            advance()
            typer.echo(f"round {r.round_id}: {len(r.households):,} households, {len(r.members):,} members"
                       + (f", {len(r.events):,} events" if "events" in totals else ""))
    typer.echo(f"wrote {', '.join(f'{n:,} {t}' for t, n in totals.items())} to {out} (+ truth.parquet)")
