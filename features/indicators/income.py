"""Income structure: the level of income against the line and where it comes from."""

from __future__ import annotations

import numpy as np

from features.data import derived
from features.indicators.context import Context, feature, share

# Gross income is wage + gross operating + property + transfer: every part is >= 0, so shares are in [0, 1].
_SOURCES = ("wage_income", "operating_income", "property_income", "transfer_income")


def gross_income(ctx: Context) -> np.ndarray:
    """Sum of the four gross income sources (before operating expense)."""
    return sum(ctx.num(c) for c in _SOURCES)


@feature
def household_size(ctx: Context) -> np.ndarray:
    """Persons in the household as recorded (the per-capita denominator of the contract)."""
    return ctx.num("household_size")


@feature
def net_income(ctx: Context) -> np.ndarray:
    """家庭纯收入 per the contract (insurance claims excluded); the formula lives in ``features.data.derived``."""
    return derived.net_income(ctx.latest_floats)


@feature
def net_income_pc(ctx: Context) -> np.ndarray:
    """人均纯收入."""
    return ctx.get("net_income") / ctx.num("household_size")


@feature
def monitoring_line(ctx: Context) -> np.ndarray:
    """The line of the latest record's province and survey year (quoted in explanations)."""
    return ctx.num("line")


@feature
def net_income_ratio(ctx: Context) -> np.ndarray:
    """Net income per person in units of the line: 1.0 is exactly on it."""
    return ctx.get("net_income_pc") / ctx.num("line")


@feature
def hardship_income_pc(ctx: Context) -> np.ndarray:
    """Income per person after rigid (medical and education) spending: what the label is measured on
    (``features.data.derived``, the same function as the label)."""
    return derived.hardship_income_pc(ctx.latest_floats)


@feature
def hardship_ratio(ctx: Context) -> np.ndarray:
    """Hardship income per person / line: below 1.0 the household is under the line now."""
    return ctx.get("hardship_income_pc") / ctx.num("line")


@feature
def hardship_gap_pc(ctx: Context) -> np.ndarray:
    """Yuan per person above (positive) or below (negative) the line after rigid spending."""
    return ctx.get("hardship_income_pc") - ctx.num("line")


@feature
def wage_share(ctx: Context) -> np.ndarray:
    """Wages / gross income (NaN with no income at all)."""
    return share(ctx.num("wage_income"), gross_income(ctx))


@feature
def operating_share(ctx: Context) -> np.ndarray:
    """Gross operating income / gross income."""
    return share(ctx.num("operating_income"), gross_income(ctx))


@feature
def property_share(ctx: Context) -> np.ndarray:
    """Property income / gross income."""
    return share(ctx.num("property_income"), gross_income(ctx))


@feature
def transfer_share(ctx: Context) -> np.ndarray:
    """Transfers / gross income."""
    return share(ctx.num("transfer_income"), gross_income(ctx))


@feature
def operating_net_income(ctx: Context) -> np.ndarray:
    """Operating income less operating expense (negative: the farm or business lost money)."""
    return ctx.num("operating_income") - ctx.num("operating_expense")


@feature
def operating_margin(ctx: Context) -> np.ndarray:
    """Net / gross operating income, clipped to [-1, 1] (a loss larger than the gross reads -1); NaN without
    operating income."""
    return np.clip(share(ctx.get("operating_net_income"), ctx.num("operating_income")), -1.0, 1.0)


@feature
def income_concentration(ctx: Context) -> np.ndarray:
    """Herfindahl index of the four gross sources: 1.0 when everything comes from one source."""
    gross = gross_income(ctx)
    return sum(share(ctx.num(c), gross) ** 2 for c in _SOURCES)


@feature
def wage_income_per_worker(ctx: Context) -> np.ndarray:
    """Wages per member who worked (NaN when nobody worked)."""
    workers = ctx.get("members_working")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(workers > 0, ctx.num("wage_income") / np.maximum(workers, 1.0), np.nan)
