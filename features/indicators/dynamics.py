"""Dynamics: how the household moved across the rounds known at the as-of date, and its monitoring record.

Earlier rounds come from ``ctx.history`` (every record with survey_date <= as-of, the latest included);
nothing surveyed after the as-of date is in it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.indicators.catalogue import by_name
from features.data.contract import HOUSEHOLDS
from features.data.derived import hardship_income_pc, net_income_pc
from features.indicators.context import Context, as_float, feature, group_max, group_min, register

REL_CHANGE_BASE_FLOOR = 0.10  # relative change uses max(previous income, 10% of the previous line) as base
DAYS_PER_YEAR = 365.25


def _history_values(ctx: Context) -> dict[str, np.ndarray]:
    """Per history record: net income per person, its ratio, the hardship ratio, line, medical spending."""
    if "_history" not in ctx.memo:
        h = ctx.history_floats
        line = h["line"]
        nipc = net_income_pc(h)
        ctx.memo["_history"] = {
            "net_income_pc": nipc, "line": line, "net_income_ratio": nipc / line,
            "hardship_ratio": hardship_income_pc(h) / line,
            "medical_expense": h["medical_expense"],
        }
    return ctx.memo["_history"]  # type: ignore[return-value]


def _group_reduce(ctx: Context, values: np.ndarray, how: str) -> np.ndarray:
    """Per-household min/max/std of one value per history record (NaN skipped); NaN where a household has
    none."""
    if how == "min":
        return group_min(values, ctx.history_row, ctx.n)
    if how == "max":
        return group_max(values, ctx.history_row, ctx.n)
    out = pd.Series(values).groupby(ctx.history_row).std(ddof=0)  # pandas' own algorithm: bit-identical std
    full = np.full(ctx.n, np.nan)
    full[out.index.to_numpy()] = out.to_numpy()
    return full


@feature
def rounds_observed(ctx: Context) -> np.ndarray:
    """Survey rounds of the household known at the as-of date."""
    return np.bincount(ctx.history_row, minlength=ctx.n).astype("float64")


@feature
def net_income_pc_change(ctx: Context) -> np.ndarray:
    """Net income per person now minus at the previous round (NaN for a first round)."""
    return ctx.get("net_income_pc") - ctx.previous(_history_values(ctx)["net_income_pc"])


@feature
def net_income_pc_rel_change(ctx: Context) -> np.ndarray:
    """Change since the previous round / max(previous net income per person, 10% of its line): the floor
    keeps a near-zero or negative base from exploding the ratio."""
    hv = _history_values(ctx)
    base = np.maximum(ctx.previous(hv["net_income_pc"]), REL_CHANGE_BASE_FLOOR * ctx.previous(hv["line"]))
    return ctx.get("net_income_pc_change") / base


@feature
def prev_hardship_ratio(ctx: Context) -> np.ndarray:
    """Hardship ratio at the previous round."""
    return ctx.previous(_history_values(ctx)["hardship_ratio"])


@feature
def hardship_ratio_change(ctx: Context) -> np.ndarray:
    """Hardship ratio now minus at the previous round."""
    return ctx.get("hardship_ratio") - ctx.get("prev_hardship_ratio")


@feature
def medical_expense_change(ctx: Context) -> np.ndarray:
    """Medical spending now minus at the previous round (yuan)."""
    return ctx.num("medical_expense") - ctx.previous(_history_values(ctx)["medical_expense"])


@feature
def income_ratio_volatility(ctx: Context) -> np.ndarray:
    """Standard deviation (population) of net income / line across known rounds; NaN with one round."""
    sd = _group_reduce(ctx, _history_values(ctx)["net_income_ratio"], "std")
    return np.where(ctx.get("rounds_observed") >= 2, sd, np.nan)


@feature
def min_hardship_ratio(ctx: Context) -> np.ndarray:
    """Lowest hardship ratio over the known rounds."""
    return _group_reduce(ctx, _history_values(ctx)["hardship_ratio"], "min")


@feature
def rounds_below_line(ctx: Context) -> np.ndarray:
    """Known rounds with hardship income below the line."""
    return ctx.h_sum((_history_values(ctx)["hardship_ratio"] < 1.0).astype("float64"))


@feature
def years_since_below_line(ctx: Context) -> np.ndarray:
    """Years from the survey of the last round below the line to the as-of date; NaN when never below."""
    below = _history_values(ctx)["hardship_ratio"] < 1.0
    dates = ctx.history["survey_date"].to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
    last = _group_reduce(ctx, np.where(below, dates, np.nan), "max")
    as_of = ctx.latest["as_of"].to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
    return (as_of - last) / (86_400e9 * DAYS_PER_YEAR)


@feature
def times_monitored(ctx: Context) -> np.ndarray:
    """Known rounds in which the household was a monitored household."""
    return ctx.h_sum(np.nan_to_num(as_float(ctx.history["is_monitored"]), nan=0.0))


@feature
def monitored_now(ctx: Context) -> np.ndarray:
    """Monitored at the latest round."""
    return ctx.num("is_monitored")


@feature
def monitoring_type(ctx: Context) -> np.ndarray:
    """Monitoring type code at the latest round (-1: not monitored or unknown)."""
    return ctx.code("monitoring_type", by_name("monitoring_type").vocabulary)


@feature
def escaped_household(ctx: Context) -> np.ndarray:
    """1.0 for a household that escaped poverty before (脱贫户), 0.0 for a general one, NaN unknown."""
    code = ctx.code("household_type", ("general", "escaped"))
    return np.where(code < 0, np.nan, code)


@feature
def risk_eliminated(ctx: Context) -> np.ndarray:
    """Risk marked eliminated at the latest round (NaN when not recorded)."""
    return ctx.num("risk_eliminated")


@feature
def risk_types_count(ctx: Context) -> np.ndarray:
    """Number of risk types recorded at the latest round."""
    return sum(ctx.has_code("risk_types", c) for c in HOUSEHOLDS.column("risk_types").codes)


@feature
def assistance_count(ctx: Context) -> np.ndarray:
    """Number of assistance measures in force at the latest round."""
    return sum(ctx.has_code("assistance", c) for c in HOUSEHOLDS.column("assistance").codes)


@feature
def days_since_survey(ctx: Context) -> np.ndarray:
    """Days from the latest survey to the as-of date: how stale the record is."""
    gap = ctx.latest["as_of"].to_numpy(dtype="datetime64[ns]") - ctx.latest["survey_date"].to_numpy(
        dtype="datetime64[ns]")
    return (gap / np.timedelta64(1, "D")).astype("float64")


def _code_flag(column: str, code: str):
    def flag(ctx: Context) -> np.ndarray:
        return ctx.has_code(column, code)
    flag.__doc__ = f"1.0 when {column} of the latest record includes {code!r}."
    return flag


for _code in HOUSEHOLDS.column("risk_types").codes:
    register(f"risk_type_{_code}", _code_flag("risk_types", _code))
for _code in HOUSEHOLDS.column("assistance").codes:
    register(f"assist_{_code}", _code_flag("assistance", _code))
