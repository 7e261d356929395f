"""``povwatch catalogue``: the indicator catalogue, for analysts and for platforms that map their own data."""

from __future__ import annotations

from typing import Annotated

import typer


def catalogue_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {name, zh, en, unit, family, "
                                          "group, group_zh, direction, concept, vocabulary} instead of a table.")] = False,
) -> None:
    """Print every indicator: name, zh, en, unit, family, risk group and direction (+1 higher is riskier,
    -1 higher is safer, 0 no fixed direction)."""
    import json

    from features.indicators.catalogue import rows

    table_rows = rows()
    if as_json:
        typer.echo(json.dumps(table_rows, ensure_ascii=False, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "zh", "en", "unit", "family", "group", "direction", box=None)
    for r in table_rows:
        table.add_row(*(str(r[k]) for k in ("name", "zh", "en", "unit", "family", "group", "direction")))
    Console(width=200).print(table)
