"""Subsidy dependence: how much of the income is policy support, and where the household lands without it."""

from __future__ import annotations

import numpy as np

from features.indicators.context import Context, share
from features.indicators.income import gross_income
from features.indicators.spec import Indicators

indicator = Indicators("subsidy_dependence")  # this module's indicators, in definition order

# Policy transfers (政策性收入): the transfer parts paid by programmes, plus public-welfare-job wages (part of
# wages). A missing part means that programme paid nothing.
POLICY_PARTS = ("dibao_income", "tekun_income", "pension_income", "eco_compensation", "family_planning_income",
                "public_job_income")


@indicator("政策性转移收入", "policy transfers: 低保, 特困, pensions, eco-compensation, family planning, public-job wages",
           unit="yuan", group="subsidy_dependence", direction=1,
           reason=("政策性转移收入 {policy_transfer_income:yuan}", "Policy transfers of {policy_transfer_income:yuan}"))
def policy_transfer_income(ctx: Context) -> np.ndarray:
    """Yuan a year from 低保, 特困, pensions, eco-compensation, family planning and public-job wages."""
    return sum(ctx.amount(c) for c in POLICY_PARTS)


@indicator("政策性收入占纯收入比重", "policy transfers / gross income", unit="share", group="subsidy_dependence", direction=1,
           reason=("政策性收入占总收入的 {policy_transfer_share:pct}（{policy_transfer_income:yuan}）",
                   "Policy transfers are {policy_transfer_share:pct} of income ({policy_transfer_income:yuan})"))
def policy_transfer_share(ctx: Context) -> np.ndarray:
    """Policy transfers / gross income."""
    return share(ctx.get("policy_transfer_income"), gross_income(ctx))


@indicator("剔除政策性收入后的人均收入", "hardship income per person if policy transfers stopped",
           unit="yuan/person", group="subsidy_dependence", direction=-1,
           reason=("如停止政策性收入，人均收入为 {income_without_policy_pc:yuan}",
                   "Without policy transfers, income per person would be {income_without_policy_pc:yuan}"))
def income_without_policy_pc(ctx: Context) -> np.ndarray:
    """Hardship income per person if every policy transfer stopped tomorrow (the "cliff" edge)."""
    return ctx.get("hardship_income_pc") - ctx.get("policy_transfer_income") / ctx.num("household_size")


@indicator("剔除政策性收入后人均收入与监测标准之比", "hardship income per person without policy transfers / line (the 'cliff')",
           unit="ratio", group="subsidy_dependence", direction=-1,
           reason=("如停止政策性收入，人均收入仅为监测标准的 {income_without_policy_ratio:x} 倍",
                   "Without policy transfers, income per person would be {income_without_policy_ratio:x} times the "
                   "line"))
def income_without_policy_ratio(ctx: Context) -> np.ndarray:
    """Income without policy transfers / line: below 1.0 support is what keeps the household above it."""
    return ctx.get("income_without_policy_pc") / ctx.num("line")


@indicator("停止政策支持即低于监测标准", "would fall below the line if policy transfers stopped",
           unit="flag", group="subsidy_dependence", direction=1,
           reason={True: ("一旦停止政策性收入，人均收入将低于监测标准（仅为 {income_without_policy_ratio:x} 倍）",
                          "Would fall below the line if policy transfers stopped ({income_without_policy_ratio:x} "
                          "times the line)"),
                   False: ("停止政策性收入后仍高于监测标准", "Stays above the line without policy transfers")})
def cliff_below_line(ctx: Context) -> np.ndarray:
    """1.0 when stopping policy transfers would put the household below the line."""
    ratio = ctx.get("income_without_policy_ratio")
    return np.where(np.isnan(ratio), np.nan, (ratio < 1.0).astype("float64"))


@indicator("享受政策项目数", "number of transfer programmes received", unit="count", group="subsidy_dependence", direction=1,
           reason=("享受 {programmes_count:n} 项政策性收入", "Receives {programmes_count:n} transfer programme(s)"))
def programmes_count(ctx: Context) -> np.ndarray:
    """Number of programmes paying the household (each policy part > 0)."""
    return sum((ctx.amount(c) > 0).astype("float64") for c in POLICY_PARTS)


@indicator("低保金", "minimum living allowance (低保) received", unit="yuan", group="subsidy_dependence", direction=1,
           reason=("收入依赖低保金（{dibao_income:yuan}），如停发，人均收入仅为监测标准的 {income_without_policy_ratio:x} 倍",
                   "Income depends on 低保 ({dibao_income:yuan}); without transfers, income per person would be "
                   "{income_without_policy_ratio:x} times the line"))
def dibao_income(ctx: Context) -> np.ndarray:
    """低保金 received (0 when none)."""
    return ctx.amount("dibao_income")


@indicator("享受特困供养", "receives destitute support (特困)", unit="flag", group="subsidy_dependence", direction=1,
           reason={True: ("基本生活依赖特困供养，如停止政策性收入，人均收入仅为监测标准的 {income_without_policy_ratio:x} 倍",
                          "Basic living depends on destitute support (特困); without transfers, income per person "
                          "would be {income_without_policy_ratio:x} times the line"),
                   False: ("未享受特困供养", "No destitute support (特困)")})
def receives_tekun(ctx: Context) -> np.ndarray:
    """1.0 when the household receives 特困供养金."""
    return (ctx.amount("tekun_income") > 0).astype("float64")
