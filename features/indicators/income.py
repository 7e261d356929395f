"""Income structure: the level of income against the line and where it comes from."""

from __future__ import annotations

import numpy as np

from features.data import derived
from features.indicators.context import Context, share
from features.indicators.spec import Indicators

indicator = Indicators("income_structure")  # this module's indicators, in definition order

# Gross income is wage + gross operating + property + transfer: every part is >= 0, so shares are in [0, 1].
_SOURCES = ("wage_income", "operating_income", "property_income", "transfer_income")


def gross_income(ctx: Context) -> np.ndarray:
    """Sum of the four gross income sources (before operating expense)."""
    return sum(ctx.num(c) for c in _SOURCES)


@indicator("家庭人口数", "household size", unit="persons", group="lack_labor", direction=0, family="profile")
def household_size(ctx: Context) -> np.ndarray:
    """Persons in the household as recorded (the per-capita denominator of the contract)."""
    return ctx.num("household_size")


@indicator("家庭纯收入", "household net income", unit="yuan", group="income_structure", direction=-1,
           reason=("家庭纯收入 {net_income:yuan}", "Household net income of {net_income:yuan}"))
def net_income(ctx: Context) -> np.ndarray:
    """家庭纯收入 per the contract (insurance claims excluded); the formula lives in ``features.data.derived``."""
    return derived.net_income(ctx.latest_floats)


@indicator("人均纯收入", "net income per person", unit="yuan/person", group="income_structure", direction=-1,
           reason=("人均纯收入 {net_income_pc:yuan}，为监测标准的 {net_income_ratio:x} 倍",
                   "Net income of {net_income_pc:yuan} per person, {net_income_ratio:x} times the monitoring line"))
def net_income_pc(ctx: Context) -> np.ndarray:
    """人均纯收入."""
    return ctx.get("net_income") / ctx.num("household_size")


@indicator("监测标准", "monitoring line of the record's province and year",
           unit="yuan/person", group="income_structure", direction=0)
def monitoring_line(ctx: Context) -> np.ndarray:
    """The line of the latest record's province and survey year (quoted in explanations)."""
    return ctx.num("line")


@indicator("人均纯收入与监测标准之比", "net income per person / monitoring line",
           unit="ratio", group="income_structure", direction=-1,
           reason=("人均纯收入 {net_income_pc:yuan}，为监测标准 {monitoring_line:yuan} 的 {net_income_ratio:x} 倍",
                   "Net income per person of {net_income_pc:yuan} is {net_income_ratio:x} times the monitoring "
                   "line ({monitoring_line:yuan})"))
def net_income_ratio(ctx: Context) -> np.ndarray:
    """Net income per person in units of the line: 1.0 is exactly on it."""
    return ctx.get("net_income_pc") / ctx.num("line")


@indicator("扣除刚性支出后的人均收入", "income per person after medical and education spending",
           unit="yuan/person", group="income_structure", direction=-1,
           reason=("扣除医疗支出 {medical_expense:yuan}、教育支出 {education_expense:yuan} 后，人均收入 {hardship_income_pc:yuan}，"
                   "为监测标准的 {hardship_ratio:x} 倍",
                   "After {medical_expense:yuan} of medical and {education_expense:yuan} of education spending, "
                   "income is {hardship_income_pc:yuan} per person, {hardship_ratio:x} times the line"))
def hardship_income_pc(ctx: Context) -> np.ndarray:
    """Income per person after rigid (medical and education) spending: what the label is measured on
    (``features.data.derived``, the same function as the label)."""
    return derived.hardship_income_pc(ctx.latest_floats)


@indicator("扣除刚性支出后人均收入与监测标准之比", "hardship income per person / monitoring line",
           unit="ratio", group="income_structure", direction=-1,
           reason=("扣除医疗支出 {medical_expense:yuan}、教育支出 {education_expense:yuan} 后，人均收入为监测标准的 {hardship_ratio:x} 倍（"
                   "未扣除时为 {net_income_ratio:x} 倍）",
                   "After {medical_expense:yuan} of medical and {education_expense:yuan} of education spending, "
                   "income per person is {hardship_ratio:x} times the line ({net_income_ratio:x} before)"))
def hardship_ratio(ctx: Context) -> np.ndarray:
    """Hardship income per person / line: below 1.0 the household is under the line now."""
    return ctx.get("hardship_income_pc") / ctx.num("line")


@indicator("扣除刚性支出后人均收入高出监测标准的金额", "hardship income per person minus the line",
           unit="yuan/person", group="income_structure", direction=-1,
           reason=("扣除医疗、教育支出后人均收入{hardship_gap_pc:gap}",
                   "After medical and education spending, income per person is {hardship_gap_pc:gap}"))
def hardship_gap_pc(ctx: Context) -> np.ndarray:
    """Yuan per person above (positive) or below (negative) the line after rigid spending."""
    return ctx.get("hardship_income_pc") - ctx.num("line")


@indicator("工资性收入占比", "share of wages in gross income", unit="share", group="unstable_work", direction=0,
           reason=("工资性收入占总收入的 {wage_share:pct}", "Wages are {wage_share:pct} of gross income"))
def wage_share(ctx: Context) -> np.ndarray:
    """Wages / gross income (NaN with no income at all)."""
    return share(ctx.num("wage_income"), gross_income(ctx))


@indicator("生产经营性收入占比", "share of gross operating income in gross income",
           unit="share", group="business", direction=0)
def operating_share(ctx: Context) -> np.ndarray:
    """Gross operating income / gross income."""
    return share(ctx.num("operating_income"), gross_income(ctx))


@indicator("财产性收入占比", "share of property income in gross income",
           unit="share", group="income_structure", direction=-1)
def property_share(ctx: Context) -> np.ndarray:
    """Property income / gross income."""
    return share(ctx.num("property_income"), gross_income(ctx))


@indicator("转移性收入占比", "share of transfers in gross income", unit="share", group="subsidy_dependence", direction=1,
           reason=("转移性收入占总收入的 {transfer_share:pct}", "Transfers make up {transfer_share:pct} of income"))
def transfer_share(ctx: Context) -> np.ndarray:
    """Transfers / gross income."""
    return share(ctx.num("transfer_income"), gross_income(ctx))


@indicator("生产经营净收入", "operating income less operating expense", unit="yuan", group="business", direction=-1,
           reason=("生产经营净收入 {operating_net_income:yuan}",
                   "Net farm and business income of {operating_net_income:yuan}"))
def operating_net_income(ctx: Context) -> np.ndarray:
    """Operating income less operating expense (negative: the farm or business lost money)."""
    return ctx.num("operating_income") - ctx.num("operating_expense")


@indicator("生产经营收益率", "operating margin (net / gross operating income, in [-1, 1])",
           unit="ratio", group="business", direction=-1,
           reason=("生产经营收益率 {operating_margin:pct}", "Farm and business margin of {operating_margin:pct}"))
def operating_margin(ctx: Context) -> np.ndarray:
    """Net / gross operating income, clipped to [-1, 1] (a loss larger than the gross reads -1); NaN without
    operating income."""
    return np.clip(share(ctx.get("operating_net_income"), ctx.num("operating_income")), -1.0, 1.0)


@indicator("收入来源集中度", "Herfindahl index of the four income sources",
           unit="share", group="income_structure", direction=1,
           reason=("收入来源单一（集中度 {income_concentration:x}）",
                   "Income depends on few sources (concentration {income_concentration:x})"))
def income_concentration(ctx: Context) -> np.ndarray:
    """Herfindahl index of the four gross sources: 1.0 when everything comes from one source."""
    gross = gross_income(ctx)
    return sum(share(ctx.num(c), gross) ** 2 for c in _SOURCES)


@indicator("务工人员人均工资性收入", "wage income per member who worked", unit="yuan", group="unstable_work", direction=-1,
           reason=("务工人员人均工资性收入 {wage_income_per_worker:yuan}",
                   "Wage income of {wage_income_per_worker:yuan} per member who worked"))
def wage_income_per_worker(ctx: Context) -> np.ndarray:
    """Wages per member who worked (NaN when nobody worked)."""
    workers = ctx.get("members_working")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(workers > 0, ctx.num("wage_income") / np.maximum(workers, 1.0), np.nan)
