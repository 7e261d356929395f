"""Derived quantities of the contract and the monitoring-line lookup: the facts the label is built from."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.data.contract import DEFAULT_LINES, LINE_GROWTH_AFTER_LAST


class MissingLineError(ValueError):
    """No monitoring line applies to a province: the user's table has neither it nor '*'."""


def net_income(h: pd.DataFrame) -> pd.Series:
    """家庭纯收入: wage + operating - operating expense + property + transfer (insurance claims excluded).

    ``h`` is a frame, or anything indexed by column name like one (the indicators pass float arrays): one
    formula for the label and the features."""
    return (h["wage_income"] + h["operating_income"] - h["operating_expense"]
            + h["property_income"] + h["transfer_income"]).astype("float64")


def net_income_pc(h: pd.DataFrame) -> pd.Series:
    """人均纯收入."""
    return net_income(h) / h["household_size"].astype("float64")


def hardship_income_pc(h: pd.DataFrame) -> pd.Series:
    """扣除刚性支出后的人均收入: net income less medical and education spending, per person."""
    rigid = h["medical_expense"] + h["education_expense"]
    return (net_income(h) - rigid) / h["household_size"].astype("float64")


def at_or_above_line(hardship_pc, line) -> np.ndarray:
    """1.0 where hardship income per person is at or above the line (the household can still *fall* below
    it: the label's population, ``eligible`` in every score), 0.0 below it, NaN when either is unknown.
    One rule for the label and for scoring."""
    hardship_pc = np.asarray(hardship_pc, dtype="float64")
    line = np.asarray(line, dtype="float64")
    return np.where(np.isnan(hardship_pc) | np.isnan(line), np.nan, (hardship_pc >= line).astype("float64"))


def default_lines() -> pd.DataFrame:
    """The contract's example lines, as a monitoring_lines table."""
    return pd.DataFrame(DEFAULT_LINES, columns=["province", "year", "line"]).astype(
        {"year": "Int64", "line": "float64"})


def monitoring_line(provinces: pd.Series, years: pd.Series, lines: pd.DataFrame | None = None) -> pd.Series:
    """The line for each (province, year): the province's own entries, else '*'.

    A year after the last entry grows the last line by 5% a year; a year before the first uses the first.
    Raises ``MissingLineError`` (a ``ValueError``) naming the province when neither it nor '*' has any entry.
    """
    lines = default_lines() if lines is None or lines.empty else lines
    years = pd.Series(years, copy=False).astype("int64").to_numpy()
    provinces = pd.Series(provinces, copy=False).astype(str).to_numpy()
    out = np.full(len(years), np.nan)
    by_province = {p: g.sort_values("year") for p, g in lines.groupby("province", sort=False)}
    for prov in pd.unique(provinces):
        table = by_province.get(prov, by_province.get("*"))
        if table is None:
            raise MissingLineError(f"no monitoring line for province {prov!r} and no '*' entry; "
                           f"add rows to monitoring_lines.csv")
        mask = provinces == prov
        out[mask] = _line_from_table(table["year"].astype("int64").to_numpy(),
                                     table["line"].astype("float64").to_numpy(), years[mask])
    return pd.Series(out, index=getattr(provinces, "index", None), name="line")


def _line_from_table(table_years: np.ndarray, table_lines: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Exact entry, last line grown 5%/year after the end, first line before the start; gaps take the
    latest earlier entry."""
    idx = np.searchsorted(table_years, years, side="right") - 1
    before = idx < 0
    idx = np.clip(idx, 0, len(table_years) - 1)
    value = table_lines[idx].copy()
    after = years > table_years[-1]
    value[after] = table_lines[-1] * (1 + LINE_GROWTH_AFTER_LAST) ** (years[after] - table_years[-1])
    value[before] = table_lines[0]
    return value
