"""``povwatch worklist``: the village visit lists of a round or date, from the warehouse, with the champion."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from commands.options import ALIAS, WAREHOUSE, AliasOption, AsOfOption, RoundOption, WarehouseOption


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def record_issued(warehouse: Path, entries) -> int:
    """The one place a worklist is recorded in the case store: returns the number of new alerts (issuing the
    same list again adds none: alerts are keyed by ``alert_id``). ``entries``: ``worklist_output.store_table``."""
    from cases.store import open_store

    return open_store(warehouse).record_worklist(entries)


def worklist_cmd(
    out: Annotated[Path, typer.Option("--out", help="FILE.csv (UTF-8 with BOM), FILE.json, or a folder (no "
                                      "suffix) for one printable HTML page per village plus index.html.")],
    round_id: RoundOption = None,
    as_of: AsOfOption = None,
    county: Annotated[Optional[str], typer.Option("--county", help="Only this county.")] = None,
    village: Annotated[Optional[str], typer.Option("--village", help="Only this village.")] = None,
    capacity: Annotated[Optional[int], typer.Option("--capacity", min=1, help="Model-channel places per "
                        "village (overrides --capacity-share).")] = None,
    capacity_share: Annotated[float, typer.Option("--capacity-share", min=0.001, max=1.0, help="Model-channel "
                              "places per village as a share of its eligible households (at least one).")] = 0.10,
    audit_share: Annotated[float, typer.Option("--audit-share", min=0.0, max=1.0, help="Random audit sample per "
                           "county (at least one per village of 20 or more households; 0 switches it off).")] = 0.02,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the audit sample (recorded with each entry).")] = 0,
    triggers: Annotated[Optional[Path], typer.Option("--triggers", exists=True, dir_okay=False, help="YAML file of "
                        "statutory triggers (default: the packaged models/triggers.yaml).")] = None,
    check_days: Annotated[int, typer.Option("--check-days", min=1, help="Working days for the home check.")] = 5,
    decide_days: Annotated[int, typer.Option("--decide-days", min=1, help="Days for the decision.")] = 15,
    issued: Annotated[Optional[datetime], typer.Option("--issued", formats=["%Y-%m-%d"], help="Date the list is "
                      "issued; deadlines count from it (default today).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of texts and pages: zh or en.")] = "zh",
    chunk: Annotated[int, typer.Option("--chunk", min=100, help="Households per chunk read from the warehouse "
                     "(bounds memory; the list is the same).")] = 50_000,
    warehouse: WarehouseOption = WAREHOUSE,
    alias: AliasOption = ALIAS,
) -> None:
    """The worklist: below_line, trigger, model, follow_up and audit channels (stale records apart)."""
    import pandas as pd

    from features.data.as_of import resolve_as_of
    from features.data.warehouse import Warehouse
    from models.worklist import TriggerConfig, WorklistError, WorklistOptions, build
    from serving.worklist_data import warehouse_inputs
    from serving.worklist_output import store_table, write
    from models.registry import RegistryError, load_risk_model

    if lang not in ("zh", "en"):
        _fail(f"--lang must be zh or en, got {lang!r}")
    if county is not None and village is not None:
        _fail("give at most one of --county or --village")
    if out.suffix.lower() not in (".csv", ".json", ""):
        _fail(f"--out must end in .csv or .json, or be a folder without a suffix; got {out.name!r}")
    lang_code: Literal["zh", "en"] = "zh" if lang == "zh" else "en"
    wh = Warehouse(warehouse)
    if not wh.round_ids():
        _fail(f"warehouse {warehouse} has no households; run `povwatch ingest` first")
    try:
        resolved = resolve_as_of(wh, round_id, as_of)
        when, rid = resolved.date, resolved.round_id
        model = load_risk_model(warehouse, alias)
        trig = TriggerConfig.load(triggers)
        options = WorklistOptions(capacity=capacity, capacity_share=capacity_share, audit_share=audit_share,
                                  seed=seed, check_working_days=check_days, decide_days=decide_days)
        status, listed = warehouse_inputs(model, wh, as_of=when, round_id=rid, county=county, village=village,
                                          chunk=chunk)
        worklist = build(status, as_of=str(when.date()), model_version=str(model.model_version),
                         listed=listed, triggers=trig, options=options,
                         issued=(issued.date() if issued else date.today()))
        del status  # the county's status table: the list is built, only its entries are written
    except (ValueError, RegistryError, WorklistError) as e:
        _fail(str(e))
    pages, loop_link = {}, None
    if out.suffix == "":
        from cases.loop import write_field_page
        from features.data.documents_from_warehouse import household_documents
        from serving.reports import render_household_report

        ids = list(worklist.active["household_id"])
        pages = {d["record"]["household_id"]: render_household_report(model, d, lang=lang_code)
                 for d in household_documents(wh, ids, pd.Timestamp(when))}
        loop_link = write_field_page(warehouse, out, county=county, village=village)  # what earlier lists found
    write(worklist, out, lang=lang_code, household_pages=pages, loop_link=loop_link)
    recorded = record_issued(warehouse, store_table(worklist))
    counts = ", ".join(f"{c} {n}" for c, n in worklist.entries["channel"].value_counts().reindex(
        ["below_line", "trigger", "model", "follow_up", "audit", "stale"], fill_value=0).items())
    store = f"{recorded} new alerts recorded in the case store"
    typer.echo(f"worklist at {when.date()} with povwatch-risk v{model.model_version}: {counts} "
               f"(audit seed {seed}); {store}; wrote {out}")
