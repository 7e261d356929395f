"""The command-line options every command shares, spelled once: ``--warehouse``, ``--round`` / ``--as-of``,
``--alias`` and ``--out`` (a table). Commands annotate their parameters with these types."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from features.defaults import DEFAULT_WAREHOUSE
from features.settings import DEFAULT_ALIAS, WAREHOUSE_ENV

WAREHOUSE = Path(DEFAULT_WAREHOUSE)
ALIAS = DEFAULT_ALIAS

WarehouseOption = Annotated[Path, typer.Option(
    "--warehouse", envvar=WAREHOUSE_ENV,
    help=f"Warehouse folder (Parquet tables, quarantine, registry); default ./{DEFAULT_WAREHOUSE}.")]
RoundOption = Annotated[Optional[str], typer.Option(
    "--round", help="Assess households at this round's as-of date (its last survey date).")]
AsOfOption = Annotated[Optional[datetime], typer.Option(
    "--as-of", formats=["%Y-%m-%d"], help="Assess households at this date (YYYY-MM-DD), events reported up to it "
    "included. Neither --round nor --as-of: the latest survey date in the warehouse.")]
AliasOption = Annotated[str, typer.Option("--alias", help="Registry alias of the model: champion or challenger.")]
TableOutOption = Annotated[Path, typer.Option(
    "--out", help="Output table: .csv (UTF-8 with BOM, opens in Excel) or .parquet.")]
