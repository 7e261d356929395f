"""Recommended assistance measures per risk group, read from the one editable table ``models/measures.csv``.

County staff change the wording or add measures by editing the CSV; nothing else lists measures. Each row
names the official measure category (健康帮扶, 就业帮扶, ...) and, where one exists, the contract's
``assistance`` code, so a report can show which recommended measures are already in force.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources

from features.indicators.catalogue import RISK_GROUPS
from features.data.contract import ASSISTANCE

TABLE = "measures.csv"
COLUMNS = ("risk_group", "priority", "category_zh", "category_en", "code", "zh", "en", "note")
# Development-type categories: a household with labour capacity should get at least one (domain rule).
DEVELOPMENT = frozenset({"产业帮扶", "就业帮扶"})


class MeasureTableError(ValueError):
    """``measures.csv`` has a row that does not fit the catalogue or the contract."""


@dataclass(frozen=True)
class Measure:
    code: str              # contract ASSISTANCE code, "" when the measure has none
    zh: str
    en: str
    category_zh: str       # official measure category, e.g. 健康帮扶
    category_en: str
    risk_group: str        # the RISK_GROUPS code it answers
    note: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _check(row: dict[str, str], line: int) -> None:
    where = f"{TABLE} line {line}"
    if set(row) != set(COLUMNS):
        raise MeasureTableError(f"{where}: expected columns {', '.join(COLUMNS)}, got {', '.join(row)}")
    if row["risk_group"] not in RISK_GROUPS:
        raise MeasureTableError(f"{where}: risk_group {row['risk_group']!r} is not one of {', '.join(RISK_GROUPS)}")
    if row["code"] and row["code"] not in ASSISTANCE:
        raise MeasureTableError(f"{where}: code {row['code']!r} is not a contract assistance code; allowed: "
                                f"{', '.join(ASSISTANCE)} or empty")
    if row["code"] and ASSISTANCE[row["code"]] != row["category_zh"]:
        raise MeasureTableError(f"{where}: category {row['category_zh']!r} does not match code {row['code']!r}, "
                                f"which the contract calls {ASSISTANCE[row['code']]!r}")
    for col in ("priority", "category_zh", "category_en", "zh", "en"):
        if not row[col].strip():
            raise MeasureTableError(f"{where}: column {col!r} is empty")
    if not row["priority"].isdigit():
        raise MeasureTableError(f"{where}: priority {row['priority']!r} must be a whole number (1 first)")


def parse(text: str) -> dict[str, tuple[Measure, ...]]:
    """Risk group -> measures in priority order; every row checked (errors name the line)."""
    out: dict[str, list[tuple[int, Measure]]] = {}
    for i, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        _check(row, i)
        m = Measure(code=row["code"], zh=row["zh"].strip(), en=row["en"].strip(), category_zh=row["category_zh"],
                    category_en=row["category_en"], risk_group=row["risk_group"], note=row["note"].strip())
        out.setdefault(row["risk_group"], []).append((int(row["priority"]), m))
    return {g: tuple(m for _, m in sorted(rows, key=lambda r: r[0])) for g, rows in out.items()}


@lru_cache(maxsize=1)
def load() -> dict[str, tuple[Measure, ...]]:
    """The packaged table (read once per process)."""
    text = resources.files("models").joinpath(TABLE).read_text(encoding="utf-8")
    table = parse(text)
    missing = [g for g in RISK_GROUPS if g not in table]
    if missing:
        raise MeasureTableError(f"{TABLE} has no measure for risk groups {', '.join(missing)}")
    return table


def recommend(risk_groups: Iterable[str], *, labour_capable: bool = False, per_group: int = 2) -> list[Measure]:
    """Measures for the given risk groups (in their order, ``per_group`` each), without repeats; a household
    with labour capacity also gets a development-type measure (产业/就业) if none is among them."""
    table = load()
    out: list[Measure] = []
    seen: set[tuple[str, str]] = set()
    for g in risk_groups:
        for m in table.get(g, ())[:per_group]:
            if (m.category_zh, m.zh) not in seen:
                seen.add((m.category_zh, m.zh))
                out.append(m)
    if labour_capable and out and not any(m.category_zh in DEVELOPMENT for m in out):
        dev = next(m for m in table["income_structure"] if m.category_zh in DEVELOPMENT)
        out.append(dev)
    return out
