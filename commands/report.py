"""``povwatch report``: field reports from the warehouse with the champion model.

``--household ID --out FILE.html`` writes one household's page; ``--village V --out DIR`` writes
``DIR/index.html`` (the village's worklist, as ``povwatch worklist`` lists it) and one ``DIR/<household>.html``
per household.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from commands.options import WAREHOUSE, AsOfOption, WarehouseOption

def _fail(message: str) -> None:
    from commands.exit_codes import fail

    fail(message)


def village_household_ids(warehouse, village: str, as_of) -> tuple[list[str], list[str]]:
    """Households whose latest record known at ``as_of`` is in ``village``; and every village known then."""
    from features.data.as_of import rounds_known_at

    hh = warehouse.households(rounds_known_at(warehouse, as_of), columns=["household_id", "round_id", "survey_date", "village"])
    hh = hh[hh["survey_date"] <= as_of].sort_values(["household_id", "survey_date"])
    latest = hh.groupby("household_id", sort=True).tail(1)
    return sorted(latest.loc[latest["village"] == village, "household_id"].astype(str)), sorted(
        latest["village"].astype(str).unique())


def report_cmd(
    household: Annotated[str | None, typer.Option("--household", help="Household id: write its report to --out FILE.html.")] = None,
    village: Annotated[str | None, typer.Option("--village", help="Village name: write DIR/index.html and one page per household to --out DIR.")] = None,
    as_of: AsOfOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="FILE.html for --household (default report.html), a "
                                             "folder for --village (default reports/).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Report language: zh (default) or en.")] = "zh",
    warehouse: WarehouseOption = WAREHOUSE,
) -> None:
    """Per-household explanation reports, or a village's worklist page with a page per household."""
    from features.data.as_of import resolve_as_of
    from features.console import progress
    from features.data.documents_from_warehouse import household_documents
    from commands.preconditions import require_model, require_rounds
    from serving.reports import render_household_report, render_village_report, safe_file_name
    from models.registry import CHAMPION

    if (household is None) == (village is None):
        _fail("give exactly one of --household ID or --village NAME")
    if lang not in ("zh", "en"):
        _fail(f"--lang must be zh or en, got {lang!r}")
    if out is None:
        out = Path("report.html") if household is not None else Path("reports")
    wh = require_rounds(warehouse)
    try:
        when = resolve_as_of(wh, None, as_of).date
    except ValueError as e:
        _fail(str(e))
    model = require_model(warehouse, CHAMPION)
    lang_code: Literal["zh", "en"] = "zh" if lang == "zh" else "en"
    if household is not None:
        docs = household_documents(wh, [household], when)
        if not docs:
            _fail(f"household {household!r} has no record in {warehouse} surveyed on or before {when.date()}")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_household_report(model, docs[0], lang=lang_code), encoding="utf-8")
        typer.echo(f"wrote {out}")
        return
    ids, villages = village_household_ids(wh, village, when)
    if not ids:
        shown = ", ".join(villages[:10]) + (", ..." if len(villages) > 10 else "")
        _fail(f"no household of village {village!r} surveyed on or before {when.date()}; villages: {shown}")
    docs = household_documents(wh, ids, when)
    out.mkdir(parents=True, exist_ok=True)
    links = {d["record"]["household_id"]: safe_file_name(str(d["record"]["household_id"])) for d in docs}
    with progress("writing household reports", total=len(docs)) as advance:
        for d in docs:
            (out / links[d["record"]["household_id"]]).write_text(
                render_household_report(model, d, lang=lang_code), encoding="utf-8")
            advance()
    from cases.loop import write_field_page

    county = str(docs[0]["record"].get("county") or "") or None
    loop_link = write_field_page(warehouse, out, county=county, village=village)  # what its visits found
    (out / "index.html").write_text(render_village_report(model, docs, lang=lang_code, links=links, loop_link=loop_link),
                                    encoding="utf-8")
    extra = f", {out / loop_link} (visit outcomes)" if loop_link else ""
    typer.echo(f"wrote {out / 'index.html'} and {len(docs)} household reports{extra}")
