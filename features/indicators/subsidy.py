"""Subsidy dependence: how much of the income is policy support, and where the household lands without it."""

from __future__ import annotations

import numpy as np

from features.indicators.context import Context, feature, share
from features.indicators.income import gross_income

# Policy transfers (政策性收入): the transfer parts paid by programmes, plus public-welfare-job wages (part of
# wages). A missing part means that programme paid nothing.
POLICY_PARTS = ("dibao_income", "tekun_income", "pension_income", "eco_compensation", "family_planning_income",
                "public_job_income")


@feature
def policy_transfer_income(ctx: Context) -> np.ndarray:
    """Yuan a year from 低保, 特困, pensions, eco-compensation, family planning and public-job wages."""
    return sum(ctx.amount(c) for c in POLICY_PARTS)


@feature
def policy_transfer_share(ctx: Context) -> np.ndarray:
    """Policy transfers / gross income."""
    return share(ctx.get("policy_transfer_income"), gross_income(ctx))


@feature
def income_without_policy_pc(ctx: Context) -> np.ndarray:
    """Hardship income per person if every policy transfer stopped tomorrow (the "cliff" edge)."""
    return ctx.get("hardship_income_pc") - ctx.get("policy_transfer_income") / ctx.num("household_size")


@feature
def income_without_policy_ratio(ctx: Context) -> np.ndarray:
    """Income without policy transfers / line: below 1.0 support is what keeps the household above it."""
    return ctx.get("income_without_policy_pc") / ctx.num("line")


@feature
def cliff_below_line(ctx: Context) -> np.ndarray:
    """1.0 when stopping policy transfers would put the household below the line."""
    ratio = ctx.get("income_without_policy_ratio")
    return np.where(np.isnan(ratio), np.nan, (ratio < 1.0).astype("float64"))


@feature
def programmes_count(ctx: Context) -> np.ndarray:
    """Number of programmes paying the household (each policy part > 0)."""
    return sum((ctx.amount(c) > 0).astype("float64") for c in POLICY_PARTS)


@feature
def dibao_income(ctx: Context) -> np.ndarray:
    """低保金 received (0 when none)."""
    return ctx.amount("dibao_income")


@feature
def receives_tekun(ctx: Context) -> np.ndarray:
    """1.0 when the household receives 特困供养金."""
    return (ctx.amount("tekun_income") > 0).astype("float64")
