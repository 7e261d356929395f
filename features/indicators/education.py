"""Education burden: students past compulsory school (fees, board) and dropouts."""

from __future__ import annotations

import numpy as np

from features.indicators.context import Context, safe_ratio
from features.indicators.spec import Indicators

indicator = Indicators("education")  # this module's indicators, in definition order


@indicator("义务教育阶段学生数", "students in compulsory education", unit="count", group="education", direction=0)
def students_compulsory(ctx: Context) -> np.ndarray:
    """Students in compulsory education (free tuition)."""
    return ctx.m_count(ctx.m_is("school_status", "compulsory"))


@indicator("普通高中学生数", "students in high school", unit="count", group="education", direction=1,
           reason=("有 {students_high_school:n} 名普通高中学生", "{students_high_school:n} high-school student(s)"))
def students_high_school(ctx: Context) -> np.ndarray:
    """Students in ordinary high school."""
    return ctx.m_count(ctx.m_is("school_status", "high_school"))


@indicator("中职或高职学生数", "students in vocational school", unit="count", group="education", direction=1,
           reason=("有 {students_vocational:n} 名中职或高职学生", "{students_vocational:n} vocational student(s)"))
def students_vocational(ctx: Context) -> np.ndarray:
    """Students in secondary or higher vocational school."""
    return ctx.m_count(ctx.m_is("school_status", "vocational"))


@indicator("大专及以上在校生数", "students in college", unit="count", group="education", direction=1,
           reason=("有 {students_college:n} 名大专及以上在校生", "{students_college:n} college student(s)"))
def students_college(ctx: Context) -> np.ndarray:
    """Students in college or university."""
    return ctx.m_count(ctx.m_is("school_status", "college"))


@indicator("非义务教育阶段学生数", "students in high school, vocational school or college",
           unit="count", group="education", direction=1,
           reason=("有 {students_post_compulsory:n} 名高中、职校或大学在校生",
                   "{students_post_compulsory:n} student(s) in high school, vocational school or college"))
def students_post_compulsory(ctx: Context) -> np.ndarray:
    """Students past compulsory school: the ones that cost the household money."""
    return ctx.m_count(ctx.m_is("school_status", "high_school", "vocational", "college"))


@indicator("失学辍学人数", "members who dropped out of school", unit="count", group="education", direction=1,
           reason=("有 {dropouts:n} 人失学辍学", "{dropouts:n} member(s) dropped out of school"))
def dropouts(ctx: Context) -> np.ndarray:
    """Members who dropped out of school (a 三保障 failure)."""
    return ctx.m_count(ctx.m_is("school_status", "dropped_out"))


@indicator("教育支出", "education spending", unit="yuan", group="education", direction=1,
           reason=("教育支出 {education_expense:yuan}，占纯收入的 {education_share_of_income:pct}",
                   "Education spending of {education_expense:yuan}, {education_share_of_income:pct} of net income"))
def education_expense(ctx: Context) -> np.ndarray:
    """Education spending over the last 12 months (yuan)."""
    return ctx.num("education_expense")


@indicator("教育支出占纯收入比重", "education spending / net income (net income floored at 1 yuan, capped at 10)",
           unit="share", group="education", direction=1,
           reason=("教育支出 {education_expense:yuan}，占纯收入的 {education_share_of_income:pct}",
                   "Education spending takes {education_share_of_income:pct} of net income "
                   "({education_expense:yuan})"))
def education_share_of_income(ctx: Context) -> np.ndarray:
    """Education spending / net income; net income floored at 1 yuan and the share capped at 10."""
    return safe_ratio(ctx.num("education_expense"), ctx.get("net_income"))
