"""Illness and disability: ill members, the weight of medical spending, and gaps in insurance cover."""

from __future__ import annotations

import numpy as np

from features.indicators.context import Context, safe_ratio
from features.indicators.spec import Indicators

indicator = Indicators("illness")  # this module's indicators, in definition order

# Capacity to pay (WHO's catastrophic-spending idea adapted to the contract): net income less a subsistence
# allowance of the poverty line per person. The monitoring line was set at about 1.5x the poverty line, so the
# allowance is line / 1.5 per person. Spending above 40% of that capacity is catastrophic.
SUBSISTENCE_SHARE_OF_LINE = 1 / 1.5
CATASTROPHIC_SHARE = 0.40


@indicator("长期慢性病人数", "members with a chronic illness", unit="count", group="illness", direction=1,
           reason=("家中有 {chronic_members:n} 人患长期慢性病", "{chronic_members:n} member(s) with a chronic illness"))
def chronic_members(ctx: Context) -> np.ndarray:
    """Members with a long-term chronic illness."""
    return ctx.m_count(ctx.m_is("health", "chronic"))


@indicator("患大病人数", "members with a serious illness", unit="count", group="illness", direction=1,
           reason=("家中有 {serious_members:n} 人患大病", "{serious_members:n} member(s) with a serious illness"))
def serious_members(ctx: Context) -> np.ndarray:
    """Members with a serious illness (大病)."""
    return ctx.m_count(ctx.m_is("health", "serious"))


@indicator("残疾人数", "disabled members", unit="count", group="disability", direction=1,
           reason=("家中有 {disabled_members:n} 名残疾人", "{disabled_members:n} disabled member(s)"))
def disabled_members(ctx: Context) -> np.ndarray:
    """Disabled members."""
    return ctx.m_count(ctx.m_is("health", "disabled"))


@indicator("一二级重度残疾人数", "members with disability grade 1 or 2", unit="count", group="disability", direction=1,
           reason=("家中有 {severe_disability_members:n} 名一、二级重度残疾人",
                   "{severe_disability_members:n} member(s) with severe disability (grade 1-2)"))
def severe_disability_members(ctx: Context) -> np.ndarray:
    """Members with disability grade 1 or 2 (severe; need care, seldom work)."""
    grade = ctx.m_num("disability_grade")
    return ctx.m_count(ctx.m_is("health", "disabled") & (grade <= 2))


@indicator("患病或残疾成员占比", "share of members ill or disabled", unit="share", group="illness", direction=1,
           reason=("患病或残疾成员占家庭人口的 {ill_member_share:pct}", "{ill_member_share:pct} of members are ill or disabled"))
def ill_member_share(ctx: Context) -> np.ndarray:
    """Share of recorded members who are ill or disabled (NaN without member rows)."""
    ill = ctx.m_count(ctx.m_is("health", "chronic", "serious", "disabled"))
    total = ctx.m_count(np.ones(len(ctx.members), dtype=bool))
    return np.where(total > 0, ill / np.maximum(total, 1.0), np.nan)


@indicator("合规自付医疗支出", "out-of-pocket medical spending", unit="yuan", group="illness", direction=1,
           reason=("家庭合规自付医疗支出 {medical_expense:yuan}，占纯收入的 {medical_share_of_income:pct}",
                   "Out-of-pocket medical spending of {medical_expense:yuan}, {medical_share_of_income:pct} of net "
                   "income"))
def medical_expense(ctx: Context) -> np.ndarray:
    """Compliant out-of-pocket medical spending over the last 12 months (yuan)."""
    return ctx.num("medical_expense")


@indicator("人均自付医疗支出", "out-of-pocket medical spending per person", unit="yuan/person", group="illness", direction=1,
           reason=("人均自付医疗支出 {medical_expense_pc:yuan}",
                   "Out-of-pocket medical spending of {medical_expense_pc:yuan} per person"))
def medical_expense_pc(ctx: Context) -> np.ndarray:
    """Out-of-pocket medical spending per person."""
    return ctx.num("medical_expense") / ctx.num("household_size")


@indicator("医疗支出占纯收入比重", "medical spending / net income (net income floored at 1 yuan, capped at 10)",
           unit="share", group="illness", direction=1,
           reason=("自付医疗支出 {medical_expense:yuan}，占纯收入的 {medical_share_of_income:pct}",
                   "Medical spending takes {medical_share_of_income:pct} of net income ({medical_expense:yuan})"))
def medical_share_of_income(ctx: Context) -> np.ndarray:
    """Medical spending / net income; net income floored at 1 yuan and the share capped at 10."""
    return safe_ratio(ctx.num("medical_expense"), ctx.get("net_income"))


@indicator("支付能力", "net income minus a subsistence allowance (poverty line per person)",
           unit="yuan", group="illness", direction=-1,
           reason=("扣除基本生活所需后的支付能力为 {capacity_to_pay:yuan}",
                   "Capacity to pay after subsistence needs is only {capacity_to_pay:yuan}"))
def capacity_to_pay(ctx: Context) -> np.ndarray:
    """Net income less the subsistence allowance (poverty line = monitoring line / 1.5, per person)."""
    allowance = SUBSISTENCE_SHARE_OF_LINE * ctx.num("line") * ctx.num("household_size")
    return ctx.get("net_income") - allowance


@indicator("医疗支出占支付能力比重", "medical spending / capacity to pay (capped at 10; 10 when capacity <= 0 and spending > 0)",
           unit="ratio", group="illness", direction=1,
           reason=("医疗支出相当于支付能力的 {medical_to_capacity:pct}",
                   "Medical spending equals {medical_to_capacity:pct} of the capacity to pay"))
def medical_to_capacity(ctx: Context) -> np.ndarray:
    """Medical spending / capacity to pay; capacity floored at 1 yuan, capped at 10 (so any spending with
    no capacity reads 10)."""
    return safe_ratio(ctx.num("medical_expense"), ctx.get("capacity_to_pay"))


@indicator("灾难性医疗支出", "medical spending above 40% of capacity to pay", unit="flag", group="illness", direction=1,
           reason={True: ("发生灾难性医疗支出（超过支付能力的 40%），自付 {medical_expense:yuan}",
                          "Catastrophic health spending (over 40% of capacity to pay): {medical_expense:yuan}"),
                   False: ("未发生灾难性医疗支出", "No catastrophic health spending")})
def catastrophic_health_spending(ctx: Context) -> np.ndarray:
    """1.0 when out-of-pocket medical spending exceeds 40% of capacity to pay (always, if spending > 0 and
    capacity <= 0)."""
    med = ctx.num("medical_expense")
    flag = (med > 0) & (med > CATASTROPHIC_SHARE * ctx.get("capacity_to_pay"))
    return np.where(np.isnan(med), np.nan, flag.astype("float64"))


@indicator("未参加基本医保人数", "members without basic medical insurance", unit="count", group="illness", direction=1,
           reason=("{uninsured_basic_members:n} 人未参加基本医疗保险",
                   "{uninsured_basic_members:n} member(s) without basic medical insurance"))
def uninsured_basic_members(ctx: Context) -> np.ndarray:
    """Members recorded as NOT in basic medical insurance (unknown is not counted)."""
    return ctx.m_count(ctx.m_num("basic_medical_insurance") == 0)


@indicator("患病成员未参加大病保险人数", "chronically or seriously ill members without critical-illness insurance",
           unit="count", group="illness", direction=1,
           reason=("{ill_without_critical_cover:n} 名患病成员未参加大病保险",
                   "{ill_without_critical_cover:n} ill member(s) without critical-illness cover"))
def ill_without_critical_cover(ctx: Context) -> np.ndarray:
    """Chronically or seriously ill members recorded without critical-illness insurance."""
    ill = ctx.m_is("health", "chronic", "serious")
    return ctx.m_count(ill & (ctx.m_num("critical_illness_insurance") == 0))


@indicator("理赔收入", "insurance claims received", unit="yuan", group="illness", direction=0)
def insurance_claim_income(ctx: Context) -> np.ndarray:
    """Insurance claims received (not part of net income; 0 when not given)."""
    return ctx.amount("insurance_claim_income")
