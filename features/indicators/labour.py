"""Labour: who can work, who depends on them, and how steady the work is."""

from __future__ import annotations

import numpy as np

from features.indicators.context import Context, map_values, share
from features.indicators.income import gross_income
from features.indicators.spec import Indicators

indicator = Indicators("labour")  # this module's indicators, in definition order

WORKING_AGE = (16, 64)  # dependants are members under 16 or 65 and older
EDUCATION_LEVEL = {"none": 0.0, "primary": 1.0, "junior": 2.0, "senior": 3.0, "college": 4.0}


@indicator("有劳动能力人数", "skilled plus ordinary labourers", unit="count", group="lack_labor", direction=-1,
           reason=("有劳动能力的仅 {capable_workers:n} 人（家庭人口 {household_size:n} 人）",
                   "Only {capable_workers:n} of {household_size:n} members can work"))
def capable_workers(ctx: Context) -> np.ndarray:
    """Skilled plus ordinary labourers (the national system's labour-capacity count)."""
    return ctx.m_count(ctx.m_is("labor_skill", "skilled", "ordinary"))


@indicator("技能劳动力人数", "skilled labourers", unit="count", group="lack_labor", direction=-1)
def skilled_workers(ctx: Context) -> np.ndarray:
    """Skilled labourers."""
    return ctx.m_count(ctx.m_is("labor_skill", "skilled"))


@indicator("普通劳动力人数", "ordinary labourers", unit="count", group="lack_labor", direction=-1)
def ordinary_workers(ctx: Context) -> np.ndarray:
    """Ordinary labourers."""
    return ctx.m_count(ctx.m_is("labor_skill", "ordinary"))


@indicator("弱劳动力或半劳动力人数", "weak or half labourers", unit="count", group="lack_labor", direction=0)
def weak_workers(ctx: Context) -> np.ndarray:
    """Weak or half labourers."""
    return ctx.m_count(ctx.m_is("labor_skill", "weak"))


@indicator("无劳动能力户", "no member is a skilled or ordinary labourer", unit="flag", group="lack_labor", direction=1,
           reason={True: ("家中无技能或普通劳动力", "No member is a skilled or ordinary labourer"),
                   False: ("家中有劳动力", "The household has labourers")})
def no_capable_labour(ctx: Context) -> np.ndarray:
    """1.0 when no member is a skilled or ordinary labourer (NaN without member rows)."""
    total = ctx.m_count(np.ones(len(ctx.members), dtype=bool))
    return np.where(total > 0, (ctx.get("capable_workers") == 0).astype("float64"), np.nan)


@indicator("抚养比", "members under 16 or 65+ per member aged 16-64 (denominator floored at 1)",
           unit="ratio", group="lack_labor", direction=1,
           reason=("抚养比 {dependency_ratio:x}（每名劳动年龄成员负担的老人和儿童数）",
                   "Dependency ratio of {dependency_ratio:x} (children and elderly per working-age member)"))
def dependency_ratio(ctx: Context) -> np.ndarray:
    """Dependants per working-age member; the denominator is floored at 1 so a household of dependants only
    reads its number of dependants (and ``no_capable_labour`` says the rest)."""
    age = ctx.m_num("age")
    working = ctx.m_count((age >= WORKING_AGE[0]) & (age <= WORKING_AGE[1]))
    return (ctx.get("elderly_members") + ctx.get("children")) / np.maximum(working, 1.0)


@indicator("65岁及以上人数", "members aged 65 or more", unit="count", group="lack_labor", direction=1,
           reason=("家中有 {elderly_members:n} 名 65 岁及以上老人", "{elderly_members:n} member(s) aged 65 or more"))
def elderly_members(ctx: Context) -> np.ndarray:
    """Members aged 65 or more."""
    return ctx.m_count(ctx.m_num("age") > WORKING_AGE[1])


@indicator("16岁以下人数", "members under 16", unit="count", group="lack_labor", direction=0)
def children(ctx: Context) -> np.ndarray:
    """Members under 16."""
    return ctx.m_count(ctx.m_num("age") < WORKING_AGE[0])


@indicator("务工人数", "members who worked (work months > 0)", unit="count", group="unstable_work", direction=-1,
           reason=("务工人数 {members_working:n} 人", "{members_working:n} member(s) in wage work"))
def members_working(ctx: Context) -> np.ndarray:
    """Members who worked in the last 12 months."""
    return ctx.m_count(ctx.m_num("work_months") > 0)


@indicator("县外务工人数", "members working outside the county", unit="count", group="unstable_work", direction=-1,
           reason=("县外务工 {members_working_away:n} 人",
                   "{members_working_away:n} member(s) working outside the county"))
def members_working_away(ctx: Context) -> np.ndarray:
    """Members working outside the county (migrant work: higher wages, less stable)."""
    return ctx.m_count(ctx.m_is("work_location", "in_province", "out_of_province"))


@indicator("省外务工人数", "members working outside the province", unit="count", group="unstable_work", direction=0)
def out_of_province_workers(ctx: Context) -> np.ndarray:
    """Members working outside the province."""
    return ctx.m_count(ctx.m_is("work_location", "out_of_province"))


@indicator("务工总月数", "months worked by all members", unit="months", group="unstable_work", direction=-1,
           reason=("全家务工合计 {work_months_total:n} 个月", "{work_months_total:n} months of wage work in total"))
def work_months_total(ctx: Context) -> np.ndarray:
    """Months worked by all members together."""
    return ctx.m_sum(ctx.m_num("work_months"))


@indicator("务工人员平均务工月数", "average months worked by members who worked",
           unit="months", group="unstable_work", direction=-1,
           reason=("务工人员平均务工 {work_months_per_worker:d1} 个月",
                   "{work_months_per_worker:d1} months of work per member who worked"))
def work_months_per_worker(ctx: Context) -> np.ndarray:
    """Average months worked by members who worked (NaN when nobody did)."""
    workers = ctx.get("members_working")
    return np.where(workers > 0, ctx.get("work_months_total") / np.maximum(workers, 1.0), np.nan)


@indicator("主要务工人员务工月数占比",
           "share of work months from the member who worked most (single-earner reliance; the contract has no "
           "per-member income)", unit="share", group="unstable_work", direction=1,
           reason=("务工收入主要依靠一人（占务工月数的 {top_worker_months_share:pct}）",
                   "Wage work relies on one member ({top_worker_months_share:pct} of work months)"))
def top_worker_months_share(ctx: Context) -> np.ndarray:
    """Share of all work months from the member who worked most: near 1.0 the household hangs on one earner.
    (The contract records no per-member income, so months stand in for it.)"""
    return share(ctx.m_max(ctx.m_num("work_months")), ctx.get("work_months_total"))


@indicator("公益岗位人数", "members in public-welfare jobs", unit="count", group="subsidy_dependence", direction=1)
def public_job_members(ctx: Context) -> np.ndarray:
    """Members in public-welfare jobs (公益岗位)."""
    return ctx.m_count(ctx.m_num("public_job") == 1)


@indicator("公益岗位收入占比", "public-job wages / gross income", unit="share", group="subsidy_dependence", direction=1,
           reason=("公益岗位收入占总收入的 {public_job_income_share:pct}",
                   "Public-welfare job wages are {public_job_income_share:pct} of income"))
def public_job_income_share(ctx: Context) -> np.ndarray:
    """Public-job wages / gross income."""
    return share(ctx.amount("public_job_income"), gross_income(ctx))


@indicator("户主年龄", "age of the household head", unit="years", group="lack_labor", direction=0,
           reason=("户主 {head_age:n} 岁", "Household head aged {head_age:n}"))
def head_age(ctx: Context) -> np.ndarray:
    """Age of the member recorded as head (NaN when none)."""
    head = ctx.m_is("relation", "head")
    out = np.full(ctx.n, np.nan)
    out[ctx.member_row[head]] = ctx.m_num("age")[head]
    return out


@indicator("家庭最高文化程度", "highest education level of a member (0 none, 1 primary, 2 junior, 3 senior, 4 college)",
           unit="level", group="unstable_work", direction=-1)
def max_education_level(ctx: Context) -> np.ndarray:
    """Highest education level in the household, 0 (none) to 4 (college)."""
    level = map_values(ctx.members["education"], EDUCATION_LEVEL, np.nan)
    return ctx.m_max(level)
