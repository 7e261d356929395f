"""Living conditions and assets: housing and water safety, land, cooperative, credit, remoteness."""

from __future__ import annotations

import numpy as np

from features.indicators.context import Context, feature, safe_ratio


@feature
def housing_unsafe(ctx: Context) -> np.ndarray:
    """1.0 when housing safety is not assured."""
    return 1.0 - ctx.num("housing_safe")


@feature
def water_unsafe(ctx: Context) -> np.ndarray:
    """1.0 when drinking-water safety is not assured."""
    return 1.0 - ctx.num("water_safe")


@feature
def relocated(ctx: Context) -> np.ndarray:
    """1.0 for a relocated household (易地扶贫搬迁)."""
    return ctx.num("relocated")


@feature
def cultivated_land_mu(ctx: Context) -> np.ndarray:
    """Cultivated land (mu; NaN when not recorded)."""
    return ctx.num("cultivated_land_mu")


@feature
def land_per_capita(ctx: Context) -> np.ndarray:
    """Cultivated land per person (mu)."""
    return ctx.num("cultivated_land_mu") / ctx.num("household_size")


@feature
def road_distance_km(ctx: Context) -> np.ndarray:
    """Distance to the main road (km; NaN when not recorded)."""
    return ctx.num("road_distance_km")


@feature
def in_cooperative(ctx: Context) -> np.ndarray:
    """1.0 for a member of a farmers' cooperative (NaN when not recorded)."""
    return ctx.num("in_cooperative")


@feature
def microcredit_balance(ctx: Context) -> np.ndarray:
    """Outstanding poverty-alleviation microcredit (0 when not recorded)."""
    return ctx.amount("microcredit_balance")


@feature
def microcredit_to_income(ctx: Context) -> np.ndarray:
    """Microcredit balance / net income; net income floored at 1 yuan, capped at 10."""
    return safe_ratio(ctx.get("microcredit_balance"), ctx.get("net_income"))
