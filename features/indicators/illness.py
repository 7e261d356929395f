"""Illness and disability: ill members, the weight of medical spending, and gaps in insurance cover."""

from __future__ import annotations

import numpy as np

from features.indicators.context import Context, feature, safe_ratio

# Capacity to pay (WHO's catastrophic-spending idea adapted to the contract): net income less a subsistence
# allowance of the poverty line per person. The monitoring line was set at about 1.5x the poverty line, so the
# allowance is line / 1.5 per person. Spending above 40% of that capacity is catastrophic.
SUBSISTENCE_SHARE_OF_LINE = 1 / 1.5
CATASTROPHIC_SHARE = 0.40


@feature
def chronic_members(ctx: Context) -> np.ndarray:
    """Members with a long-term chronic illness."""
    return ctx.m_count(ctx.m_is("health", "chronic"))


@feature
def serious_members(ctx: Context) -> np.ndarray:
    """Members with a serious illness (大病)."""
    return ctx.m_count(ctx.m_is("health", "serious"))


@feature
def disabled_members(ctx: Context) -> np.ndarray:
    """Disabled members."""
    return ctx.m_count(ctx.m_is("health", "disabled"))


@feature
def severe_disability_members(ctx: Context) -> np.ndarray:
    """Members with disability grade 1 or 2 (severe; need care, seldom work)."""
    grade = ctx.m_num("disability_grade")
    return ctx.m_count(ctx.m_is("health", "disabled") & (grade <= 2))


@feature
def ill_member_share(ctx: Context) -> np.ndarray:
    """Share of recorded members who are ill or disabled (NaN without member rows)."""
    ill = ctx.m_count(ctx.m_is("health", "chronic", "serious", "disabled"))
    total = ctx.m_count(np.ones(len(ctx.members), dtype=bool))
    return np.where(total > 0, ill / np.maximum(total, 1.0), np.nan)


@feature
def medical_expense(ctx: Context) -> np.ndarray:
    """Compliant out-of-pocket medical spending over the last 12 months (yuan)."""
    return ctx.num("medical_expense")


@feature
def medical_expense_pc(ctx: Context) -> np.ndarray:
    """Out-of-pocket medical spending per person."""
    return ctx.num("medical_expense") / ctx.num("household_size")


@feature
def medical_share_of_income(ctx: Context) -> np.ndarray:
    """Medical spending / net income; net income floored at 1 yuan and the share capped at 10."""
    return safe_ratio(ctx.num("medical_expense"), ctx.get("net_income"))


@feature
def capacity_to_pay(ctx: Context) -> np.ndarray:
    """Net income less the subsistence allowance (poverty line = monitoring line / 1.5, per person)."""
    allowance = SUBSISTENCE_SHARE_OF_LINE * ctx.num("line") * ctx.num("household_size")
    return ctx.get("net_income") - allowance


@feature
def medical_to_capacity(ctx: Context) -> np.ndarray:
    """Medical spending / capacity to pay; capacity floored at 1 yuan, capped at 10 (so any spending with
    no capacity reads 10)."""
    return safe_ratio(ctx.num("medical_expense"), ctx.get("capacity_to_pay"))


@feature
def catastrophic_health_spending(ctx: Context) -> np.ndarray:
    """1.0 when out-of-pocket medical spending exceeds 40% of capacity to pay (always, if spending > 0 and
    capacity <= 0)."""
    med = ctx.num("medical_expense")
    flag = (med > 0) & (med > CATASTROPHIC_SHARE * ctx.get("capacity_to_pay"))
    return np.where(np.isnan(med), np.nan, flag.astype("float64"))


@feature
def uninsured_basic_members(ctx: Context) -> np.ndarray:
    """Members recorded as NOT in basic medical insurance (unknown is not counted)."""
    return ctx.m_count(ctx.m_num("basic_medical_insurance") == 0)


@feature
def ill_without_critical_cover(ctx: Context) -> np.ndarray:
    """Chronically or seriously ill members recorded without critical-illness insurance."""
    ill = ctx.m_is("health", "chronic", "serious")
    return ctx.m_count(ill & (ctx.m_num("critical_illness_insurance") == 0))


@feature
def insurance_claim_income(ctx: Context) -> np.ndarray:
    """Insurance claims received (not part of net income; 0 when not given)."""
    return ctx.amount("insurance_claim_income")
