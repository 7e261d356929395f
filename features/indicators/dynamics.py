"""Dynamics: how the household moved across the rounds known at the as-of date, and its monitoring record.

Earlier rounds come from ``ctx.history`` (every record with survey_date <= as-of, the latest included);
nothing surveyed after the as-of date is in it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.data.contract import HOUSEHOLDS
from features.data.derived import hardship_income_pc, net_income_pc
from features.indicators.context import Context, as_float, group_max, group_min
from features.indicators.spec import Indicators

indicator = Indicators("dynamics")  # this module's indicators, in definition order

REL_CHANGE_BASE_FLOOR = 0.10  # relative change uses max(previous income, 10% of the previous line) as base
DAYS_PER_YEAR = 365.25
MONITORING_TYPES: tuple[str, ...] = tuple(HOUSEHOLDS.column("monitoring_type").values)  # code i <-> value i
# Contract risk types (风险类型) and assistance measures (帮扶措施) -> the risk group their flag speaks to.
RISK_TYPE_GROUP: dict[str, str] = {
    "illness": "illness", "education": "education", "disability": "disability", "disaster": "disaster",
    "accident": "accident", "business_failure": "business", "unstable_work": "unstable_work",
    "lack_labor": "lack_labor", "unsafe_housing": "housing", "unsafe_water": "water", "other": "income_structure",
}
ASSISTANCE_GROUP: dict[str, str] = {
    "industry": "business", "employment": "unstable_work", "finance": "business", "public_job": "lack_labor",
    "health": "illness", "education": "education", "social_security": "subsidy_dependence", "housing": "housing",
    "water": "water", "social": "subsidy_dependence", "relocation": "housing",
}


def _code_flag(column: str, code: str):
    """The indicator "the enum-list ``column`` of the latest record includes ``code``" (one per contract code)."""
    def flag(ctx: Context) -> np.ndarray:
        return ctx.has_code(column, code)
    flag.__doc__ = f"1.0 when {column} of the latest record includes {code!r}."
    return flag


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


@indicator("已采集轮次数", "survey rounds known at the as-of date", unit="count", group="income_structure", direction=0)
def rounds_observed(ctx: Context) -> np.ndarray:
    """Survey rounds of the household known at the as-of date."""
    return np.bincount(ctx.history_row, minlength=ctx.n).astype("float64")


@indicator("人均纯收入较上轮变化", "change of net income per person since the last round",
           unit="yuan/person", group="income_structure", direction=-1,
           reason=("人均纯收入较上轮{net_income_pc_change:delta}，本轮 {net_income_pc:yuan}",
                   "Net income per person {net_income_pc_change:delta} since the last round, to "
                   "{net_income_pc:yuan}"))
def net_income_pc_change(ctx: Context) -> np.ndarray:
    """Net income per person now minus at the previous round (NaN for a first round)."""
    return ctx.get("net_income_pc") - ctx.previous(_history_values(ctx)["net_income_pc"])


@indicator("人均纯收入较上轮变化率",
           "relative change of net income per person since the last round (base floored at 10% of the line)",
           unit="ratio", group="income_structure", direction=-1,
           reason=("人均纯收入较上轮{net_income_pc_rel_change:pct_delta}（{net_income_pc_change:delta}）",
                   "Net income per person {net_income_pc_rel_change:pct_delta} since the last round "
                   "({net_income_pc_change:delta})"))
def net_income_pc_rel_change(ctx: Context) -> np.ndarray:
    """Change since the previous round / max(previous net income per person, 10% of its line): the floor
    keeps a near-zero or negative base from exploding the ratio."""
    hv = _history_values(ctx)
    base = np.maximum(ctx.previous(hv["net_income_pc"]), REL_CHANGE_BASE_FLOOR * ctx.previous(hv["line"]))
    return ctx.get("net_income_pc_change") / base


@indicator("扣除刚性支出后收入比较上轮变化", "change of the hardship ratio since the last round",
           unit="ratio", group="income_structure", direction=-1,
           reason=("扣除刚性支出后收入与监测标准之比较上轮{hardship_ratio_change:x_delta}，本轮为 {hardship_ratio:x}",
                   "Hardship income ratio {hardship_ratio_change:x_delta} since the last round, to "
                   "{hardship_ratio:x}"))
def hardship_ratio_change(ctx: Context) -> np.ndarray:
    """Hardship ratio now minus at the previous round."""
    return ctx.get("hardship_ratio") - ctx.get("prev_hardship_ratio")


@indicator("上轮扣除刚性支出后收入比", "hardship ratio at the previous round",
           unit="ratio", group="income_structure", direction=-1,
           reason=("上轮扣除刚性支出后收入为监测标准的 {prev_hardship_ratio:x} 倍",
                   "At the previous round, hardship income was {prev_hardship_ratio:x} times the line"))
def prev_hardship_ratio(ctx: Context) -> np.ndarray:
    """Hardship ratio at the previous round."""
    return ctx.previous(_history_values(ctx)["hardship_ratio"])


@indicator("医疗支出较上轮变化", "change of medical spending since the last round", unit="yuan", group="illness", direction=1,
           reason=("自付医疗支出较上轮{medical_expense_change:delta}，本轮 {medical_expense:yuan}",
                   "Medical spending {medical_expense_change:delta} since the last round, to {medical_expense:yuan}"))
def medical_expense_change(ctx: Context) -> np.ndarray:
    """Medical spending now minus at the previous round (yuan)."""
    return ctx.num("medical_expense") - ctx.previous(_history_values(ctx)["medical_expense"])


@indicator("收入波动", "standard deviation of net income ratio across known rounds",
           unit="ratio", group="income_structure", direction=1,
           reason=("历轮收入波动较大（标准差 {income_ratio_volatility:x}）",
                   "Income varies between rounds (std. dev. {income_ratio_volatility:x} of the line)"))
def income_ratio_volatility(ctx: Context) -> np.ndarray:
    """Standard deviation (population) of net income / line across known rounds; NaN with one round."""
    sd = _group_reduce(ctx, _history_values(ctx)["net_income_ratio"], "std")
    return np.where(ctx.get("rounds_observed") >= 2, sd, np.nan)


@indicator("历轮最低扣除刚性支出后收入比", "lowest hardship ratio across known rounds",
           unit="ratio", group="income_structure", direction=-1,
           reason=("历轮最低时扣除刚性支出后收入仅为监测标准的 {min_hardship_ratio:x} 倍",
                   "At its lowest, hardship income was {min_hardship_ratio:x} times the line"))
def min_hardship_ratio(ctx: Context) -> np.ndarray:
    """Lowest hardship ratio over the known rounds."""
    return _group_reduce(ctx, _history_values(ctx)["hardship_ratio"], "min")


@indicator("低于监测标准的轮次数", "known rounds with hardship income below the line",
           unit="count", group="income_structure", direction=1,
           reason=("已有 {rounds_below_line:n} 轮收入低于监测标准",
                   "Below the monitoring line in {rounds_below_line:n} known round(s)"))
def rounds_below_line(ctx: Context) -> np.ndarray:
    """Known rounds with hardship income below the line."""
    return ctx.h_sum((_history_values(ctx)["hardship_ratio"] < 1.0).astype("float64"))


@indicator("距上次低于监测标准的年数", "years from the last round below the line to the as-of date (missing: never below)",
           unit="years", group="income_structure", direction=-1,
           reason=("{years_since_below_line:d1} 年前曾低于监测标准",
                   "Below the monitoring line {years_since_below_line:d1} years ago"))
def years_since_below_line(ctx: Context) -> np.ndarray:
    """Years from the survey of the last round below the line to the as-of date; NaN when never below."""
    below = _history_values(ctx)["hardship_ratio"] < 1.0
    dates = ctx.history["survey_date"].to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
    last = _group_reduce(ctx, np.where(below, dates, np.nan), "max")
    as_of = ctx.latest["as_of"].to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
    return (as_of - last) / (86_400e9 * DAYS_PER_YEAR)


@indicator("被纳入监测的轮次数", "known rounds in which the household was monitored",
           unit="count", group="income_structure", direction=1,
           reason=("已有 {times_monitored:n} 轮被纳入监测", "Monitored in {times_monitored:n} known round(s)"))
def times_monitored(ctx: Context) -> np.ndarray:
    """Known rounds in which the household was a monitored household."""
    return ctx.h_sum(np.nan_to_num(as_float(ctx.history["is_monitored"]), nan=0.0))


@indicator("监测对象", "monitored household at the latest round", unit="flag", group="income_structure", direction=1,
           reason={True: ("目前是监测对象", "Currently a monitored household"),
                   False: ("目前未纳入监测", "Not currently monitored")})
def monitored_now(ctx: Context) -> np.ndarray:
    """Monitored at the latest round."""
    return ctx.num("is_monitored")


@indicator("监测对象类别", "monitoring type at the latest round",
           unit="code", group="income_structure", direction=0, vocabulary=MONITORING_TYPES)
def monitoring_type(ctx: Context) -> np.ndarray:
    """Monitoring type code at the latest round (-1: not monitored or unknown)."""
    return ctx.code("monitoring_type", MONITORING_TYPES)


@indicator("脱贫户", "household escaped poverty before (脱贫户; 0: general household)",
           unit="flag", group="income_structure", direction=1, family="profile",
           reason={True: ("脱贫户", "Household that escaped poverty (脱贫户)"),
                   False: ("一般农户", "General household (一般农户)")})
def escaped_household(ctx: Context) -> np.ndarray:
    """1.0 for a household that escaped poverty before (脱贫户), 0.0 for a general one, NaN unknown."""
    code = ctx.code("household_type", ("general", "escaped"))
    return np.where(code < 0, np.nan, code)


@indicator("风险已消除", "risk marked eliminated at the latest round", unit="flag", group="income_structure", direction=-1,
           reason={True: ("风险已标注消除", "Risk marked eliminated"),
                   False: ("风险尚未消除", "Risk not yet eliminated")})
def risk_eliminated(ctx: Context) -> np.ndarray:
    """Risk marked eliminated at the latest round (NaN when not recorded)."""
    return ctx.num("risk_eliminated")


@indicator("风险类型数", "number of recorded risk types", unit="count", group="income_structure", direction=1,
           reason=("登记风险类型 {risk_types_count:n} 项", "{risk_types_count:n} recorded risk type(s)"))
def risk_types_count(ctx: Context) -> np.ndarray:
    """Number of risk types recorded at the latest round."""
    return sum(ctx.has_code("risk_types", c) for c in HOUSEHOLDS.column("risk_types").codes)


for _code, _zh in HOUSEHOLDS.column("risk_types").values.items():
    indicator.add(f"risk_type_{_code}", _code_flag("risk_types", _code), f"风险类型:{_zh}",
                  f"recorded risk type {_code}", unit="flag", group=RISK_TYPE_GROUP[_code], direction=1,
                  reason={True: (f"已登记风险类型：{_zh}", f"Recorded risk type: {_code.replace('_', ' ')}"),
                          False: (f"未登记风险类型：{_zh}", f"Risk type not recorded: {_code.replace('_', ' ')}")})


@indicator("帮扶措施数", "number of assistance measures in force", unit="count", group="subsidy_dependence", direction=0)
def assistance_count(ctx: Context) -> np.ndarray:
    """Number of assistance measures in force at the latest round."""
    return sum(ctx.has_code("assistance", c) for c in HOUSEHOLDS.column("assistance").codes)


for _code, _zh in HOUSEHOLDS.column("assistance").values.items():
    indicator.add(f"assist_{_code}", _code_flag("assistance", _code), f"帮扶措施:{_zh}",
                  f"assistance in force: {_code}", unit="flag", group=ASSISTANCE_GROUP[_code], direction=0,
                  reason={True: (f"已落实帮扶措施：{_zh}", f"Assistance in force: {_code.replace('_', ' ')}"),
                          False: (f"尚未落实{_zh}", f"No {_code.replace('_', ' ')} assistance in force")})


@indicator("距最近一次采集的天数", "days from the latest survey to the as-of date",
           unit="days", group="income_structure", direction=0)
def days_since_survey(ctx: Context) -> np.ndarray:
    """Days from the latest survey to the as-of date: how stale the record is."""
    gap = ctx.latest["as_of"].to_numpy(dtype="datetime64[ns]") - ctx.latest["survey_date"].to_numpy(
        dtype="datetime64[ns]")
    return (gap / np.timedelta64(1, "D")).astype("float64")
