"""Labour: who can work, who depends on them, and how steady the work is."""

from __future__ import annotations

import numpy as np

from features.indicators.context import Context, feature, map_values, share
from features.indicators.income import gross_income

WORKING_AGE = (16, 64)  # dependants are members under 16 or 65 and older
EDUCATION_LEVEL = {"none": 0.0, "primary": 1.0, "junior": 2.0, "senior": 3.0, "college": 4.0}


@feature
def capable_workers(ctx: Context) -> np.ndarray:
    """Skilled plus ordinary labourers (the national system's labour-capacity count)."""
    return ctx.m_count(ctx.m_is("labor_skill", "skilled", "ordinary"))


@feature
def skilled_workers(ctx: Context) -> np.ndarray:
    """Skilled labourers."""
    return ctx.m_count(ctx.m_is("labor_skill", "skilled"))


@feature
def ordinary_workers(ctx: Context) -> np.ndarray:
    """Ordinary labourers."""
    return ctx.m_count(ctx.m_is("labor_skill", "ordinary"))


@feature
def weak_workers(ctx: Context) -> np.ndarray:
    """Weak or half labourers."""
    return ctx.m_count(ctx.m_is("labor_skill", "weak"))


@feature
def no_capable_labour(ctx: Context) -> np.ndarray:
    """1.0 when no member is a skilled or ordinary labourer (NaN without member rows)."""
    total = ctx.m_count(np.ones(len(ctx.members), dtype=bool))
    return np.where(total > 0, (ctx.get("capable_workers") == 0).astype("float64"), np.nan)


@feature
def elderly_members(ctx: Context) -> np.ndarray:
    """Members aged 65 or more."""
    return ctx.m_count(ctx.m_num("age") > WORKING_AGE[1])


@feature
def children(ctx: Context) -> np.ndarray:
    """Members under 16."""
    return ctx.m_count(ctx.m_num("age") < WORKING_AGE[0])


@feature
def dependency_ratio(ctx: Context) -> np.ndarray:
    """Dependants per working-age member; the denominator is floored at 1 so a household of dependants only
    reads its number of dependants (and ``no_capable_labour`` says the rest)."""
    age = ctx.m_num("age")
    working = ctx.m_count((age >= WORKING_AGE[0]) & (age <= WORKING_AGE[1]))
    return (ctx.get("elderly_members") + ctx.get("children")) / np.maximum(working, 1.0)


@feature
def members_working(ctx: Context) -> np.ndarray:
    """Members who worked in the last 12 months."""
    return ctx.m_count(ctx.m_num("work_months") > 0)


@feature
def members_working_away(ctx: Context) -> np.ndarray:
    """Members working outside the county (migrant work: higher wages, less stable)."""
    return ctx.m_count(ctx.m_is("work_location", "in_province", "out_of_province"))


@feature
def out_of_province_workers(ctx: Context) -> np.ndarray:
    """Members working outside the province."""
    return ctx.m_count(ctx.m_is("work_location", "out_of_province"))


@feature
def work_months_total(ctx: Context) -> np.ndarray:
    """Months worked by all members together."""
    return ctx.m_sum(ctx.m_num("work_months"))


@feature
def work_months_per_worker(ctx: Context) -> np.ndarray:
    """Average months worked by members who worked (NaN when nobody did)."""
    workers = ctx.get("members_working")
    return np.where(workers > 0, ctx.get("work_months_total") / np.maximum(workers, 1.0), np.nan)


@feature
def top_worker_months_share(ctx: Context) -> np.ndarray:
    """Share of all work months from the member who worked most: near 1.0 the household hangs on one earner.
    (The contract records no per-member income, so months stand in for it.)"""
    return share(ctx.m_max(ctx.m_num("work_months")), ctx.get("work_months_total"))


@feature
def public_job_members(ctx: Context) -> np.ndarray:
    """Members in public-welfare jobs (公益岗位)."""
    return ctx.m_count(ctx.m_num("public_job") == 1)


@feature
def public_job_income_share(ctx: Context) -> np.ndarray:
    """Public-job wages / gross income."""
    return share(ctx.amount("public_job_income"), gross_income(ctx))


@feature
def head_age(ctx: Context) -> np.ndarray:
    """Age of the member recorded as head (NaN when none)."""
    head = ctx.m_is("relation", "head")
    out = np.full(ctx.n, np.nan)
    out[ctx.member_row[head]] = ctx.m_num("age")[head]
    return out


@feature
def max_education_level(ctx: Context) -> np.ndarray:
    """Highest education level in the household, 0 (none) to 4 (college)."""
    level = map_values(ctx.members["education"], EDUCATION_LEVEL, np.nan)
    return ctx.m_max(level)
