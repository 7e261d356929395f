"""Education burden: students past compulsory school (fees, board) and dropouts."""

from __future__ import annotations

import numpy as np

from features.indicators.context import Context, feature, safe_ratio


@feature
def students_compulsory(ctx: Context) -> np.ndarray:
    """Students in compulsory education (free tuition)."""
    return ctx.m_count(ctx.m_is("school_status", "compulsory"))


@feature
def students_high_school(ctx: Context) -> np.ndarray:
    """Students in ordinary high school."""
    return ctx.m_count(ctx.m_is("school_status", "high_school"))


@feature
def students_vocational(ctx: Context) -> np.ndarray:
    """Students in secondary or higher vocational school."""
    return ctx.m_count(ctx.m_is("school_status", "vocational"))


@feature
def students_college(ctx: Context) -> np.ndarray:
    """Students in college or university."""
    return ctx.m_count(ctx.m_is("school_status", "college"))


@feature
def students_post_compulsory(ctx: Context) -> np.ndarray:
    """Students past compulsory school: the ones that cost the household money."""
    return ctx.m_count(ctx.m_is("school_status", "high_school", "vocational", "college"))


@feature
def dropouts(ctx: Context) -> np.ndarray:
    """Members who dropped out of school (a 三保障 failure)."""
    return ctx.m_count(ctx.m_is("school_status", "dropped_out"))


@feature
def education_expense(ctx: Context) -> np.ndarray:
    """Education spending over the last 12 months (yuan)."""
    return ctx.num("education_expense")


@feature
def education_share_of_income(ctx: Context) -> np.ndarray:
    """Education spending / net income; net income floored at 1 yuan and the share capped at 10."""
    return safe_ratio(ctx.num("education_expense"), ctx.get("net_income"))
