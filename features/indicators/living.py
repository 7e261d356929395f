"""Living conditions and assets: housing and water safety, land, cooperative, credit, remoteness."""

from __future__ import annotations

import numpy as np

from features.indicators.context import Context, safe_ratio
from features.indicators.spec import Indicators

indicator = Indicators("living")  # this module's indicators, in definition order


@indicator("住房安全无保障", "housing not safe", unit="flag", group="housing", direction=1,
           reason={True: ("住房安全无保障", "Housing is not safe"),
                   False: ("住房安全有保障", "Housing is safe")})
def housing_unsafe(ctx: Context) -> np.ndarray:
    """1.0 when housing safety is not assured."""
    return 1.0 - ctx.num("housing_safe")


@indicator("饮水安全无保障", "drinking water not safe", unit="flag", group="water", direction=1,
           reason={True: ("饮水安全无保障", "Drinking water is not safe"),
                   False: ("饮水安全有保障", "Drinking water is safe")})
def water_unsafe(ctx: Context) -> np.ndarray:
    """1.0 when drinking-water safety is not assured."""
    return 1.0 - ctx.num("water_safe")


@indicator("易地扶贫搬迁户", "relocated household (易地扶贫搬迁)", unit="flag", group="housing", direction=0)
def relocated(ctx: Context) -> np.ndarray:
    """1.0 for a relocated household (易地扶贫搬迁)."""
    return ctx.num("relocated")


@indicator("耕地面积", "cultivated land", unit="mu", group="income_structure", direction=-1,
           reason=("耕地 {cultivated_land_mu:d1} 亩", "{cultivated_land_mu:d1} mu of cultivated land"))
def cultivated_land_mu(ctx: Context) -> np.ndarray:
    """Cultivated land (mu; NaN when not recorded)."""
    return ctx.num("cultivated_land_mu")


@indicator("人均耕地面积", "cultivated land per person", unit="mu/person", group="income_structure", direction=-1,
           reason=("人均耕地 {land_per_capita:d1} 亩", "{land_per_capita:d1} mu of cultivated land per person"))
def land_per_capita(ctx: Context) -> np.ndarray:
    """Cultivated land per person (mu)."""
    return ctx.num("cultivated_land_mu") / ctx.num("household_size")


@indicator("距主干路距离", "distance to the main road", unit="km", group="income_structure", direction=1,
           reason=("距主干路 {road_distance_km:d1} 公里", "{road_distance_km:d1} km from the main road"))
def road_distance_km(ctx: Context) -> np.ndarray:
    """Distance to the main road (km; NaN when not recorded)."""
    return ctx.num("road_distance_km")


@indicator("加入农民专业合作社", "member of a farmers' cooperative", unit="flag", group="business", direction=-1,
           reason={True: ("已加入农民专业合作社", "Member of a farmers' cooperative"),
                   False: ("未加入农民专业合作社", "Not in a farmers' cooperative")})
def in_cooperative(ctx: Context) -> np.ndarray:
    """1.0 for a member of a farmers' cooperative (NaN when not recorded)."""
    return ctx.num("in_cooperative")


@indicator("小额信贷余额", "outstanding microcredit", unit="yuan", group="business", direction=0)
def microcredit_balance(ctx: Context) -> np.ndarray:
    """Outstanding poverty-alleviation microcredit (0 when not recorded)."""
    return ctx.amount("microcredit_balance")


@indicator("小额信贷余额与纯收入之比", "microcredit balance / net income (net income floored at 1 yuan, capped at 10)",
           unit="ratio", group="business", direction=1,
           reason=("小额信贷余额 {microcredit_balance:yuan}，为纯收入的 {microcredit_to_income:x} 倍",
                   "Microcredit of {microcredit_balance:yuan}, {microcredit_to_income:x} times net income"))
def microcredit_to_income(ctx: Context) -> np.ndarray:
    """Microcredit balance / net income; net income floored at 1 yuan, capped at 10."""
    return safe_ratio(ctx.get("microcredit_balance"), ctx.get("net_income"))
