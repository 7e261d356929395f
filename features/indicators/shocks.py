"""Recent shocks: events reported before the as-of date, by kind — what lets a household be re-scored
between rounds.

Two windows: the 365 days before the as-of date, and since the latest survey (events up to the survey are
already in that record's 12-month money fields; later ones are news). An event dated on the as-of date is
known; one a day later is not (``build.py`` drops it). Missing amounts count as 0 yuan.
"""

from __future__ import annotations

import numpy as np

from features.indicators.context import Context, map_values
from features.indicators.spec import Indicators

indicator = Indicators("shocks")  # this module's indicators, in definition order

WINDOW_DAYS = 365
# Reported events grouped into shocks: group -> (event types, risk group, zh, en).
SHOCK_GROUPS: dict[str, tuple[tuple[str, ...], str, str, str]] = {
    "health": (("serious_illness", "hospitalization"), "illness", "重大疾病或住院", "serious illness or hospitalisation"),
    "disability": (("disability",), "disability", "致残", "disablement"),
    "death": (("death",), "lack_labor", "家庭成员死亡", "death of a member"),
    "disaster": (("natural_disaster",), "disaster", "自然灾害", "natural disaster"),
    "accident": (("accident",), "accident", "意外事故", "accident"),
    "job_loss": (("job_loss",), "unstable_work", "失业或务工中断", "job loss or interrupted migrant work"),
    "business": (("business_failure", "price_drop"), "business", "产业经营失败或农产品价格下跌",
                 "business failure or farm price drop"),
    "schooling": (("school_enrollment",), "education", "子女升学", "a child entering a higher school"),
}
# The five indicators of every group, in column order: ``shock_<group>_<measure>``.
MEASURES: tuple[str, ...] = ("count_365d", "amount_365d", "count_since_survey", "amount_since_survey", "days_since")
_GROUP_OF_TYPE = {t: i for i, (types, *_rest) in enumerate(SHOCK_GROUPS.values()) for t in types}


def _event_arrays(ctx: Context) -> dict[str, np.ndarray]:
    """Per event: shock group index (-1 unknown type), household row, days before as-of, amount, and
    whether it happened after the latest survey."""
    if "_events" not in ctx.memo:
        ev = ctx.events
        ctx.memo["_events"] = {
            "group": map_values(ev["event_type"], _GROUP_OF_TYPE, -1).astype("int64"),
            "row": ev["row"].to_numpy(dtype="int64"),
            "days": ev["days_before"].to_numpy(dtype="float64"),
            "amount": ev["amount"].to_numpy(dtype="float64", na_value=np.nan),
            "after_survey": ev["after_survey"].to_numpy(dtype=bool),
        }
    return ctx.memo["_events"]


def _per_group(ctx: Context, group: int, mask_name: str, amount: bool) -> np.ndarray:
    e = _event_arrays(ctx)
    keep = e["group"] == group
    keep &= (e["days"] < WINDOW_DAYS) if mask_name == "365d" else e["after_survey"]
    weights = np.nan_to_num(e["amount"][keep], nan=0.0) if amount else None
    return np.bincount(e["row"][keep], weights=weights, minlength=ctx.n).astype("float64")


def _days_since(ctx: Context, group: int) -> np.ndarray:
    e = _event_arrays(ctx)
    keep = e["group"] == group
    out = np.full(ctx.n, np.inf)
    np.minimum.at(out, e["row"][keep], e["days"][keep])
    out[np.isinf(out)] = np.nan
    return out


def shock_name(group: str, measure: str) -> str:
    """The column of one measure (``MEASURES``) of one event group (``SHOCK_GROUPS``): the one place it is spelled."""
    return f"shock_{group}_{measure}"


def shock_group_of(name: str) -> str:
    """The event group of a ``shock_<group>_...`` indicator (``""`` for any other name)."""
    if not name.startswith("shock_"):
        return ""
    return next((g for g in SHOCK_GROUPS if name.startswith(shock_name(g, ""))), "")


def _make(group: int, measure: str):
    """The indicator function of one measure of the ``group``-th event group."""
    if measure == "days_since":
        def fn(ctx: Context) -> np.ndarray:
            return _days_since(ctx, group)
    else:
        kind, window = measure.split("_", 1)
        def fn(ctx: Context) -> np.ndarray:
            return _per_group(ctx, group, window, kind == "amount")
    return fn


def _declare(group: int, g: str, risk_group: str, zh: str, en: str) -> None:
    """The five indicators of one event group, with their descriptions and reason sentences."""
    En = en.capitalize()
    text = {  # measure -> (zh, en, unit, direction, reason zh, reason en)
        "count_365d": (f"近一年{zh}事件数", f"{en}: events in the 365 days before as-of", "count", 1,
                       f"近一年发生{zh}事件 {{v:n}} 次", f"{{v:n}} report(s) of {en} in the past year"),
        "amount_365d": (f"近一年{zh}涉及金额", f"{en}: amount in the 365 days before as-of", "yuan", 1,
                        f"近一年{zh}涉及金额 {{v:yuan}}", f"{En} costing {{v:yuan}} in the past year"),
        "count_since_survey": (f"最近采集后{zh}事件数", f"{en}: events since the latest survey", "count", 1,
                               f"上次采集后新报告{zh}事件 {{v:n}} 次", f"{{v:n}} new report(s) of {en} since the last survey"),
        "amount_since_survey": (f"最近采集后{zh}涉及金额", f"{en}: amount since the latest survey", "yuan", 1,
                                f"上次采集后{zh}涉及金额 {{v:yuan}}", f"{En} costing {{v:yuan}} since the last survey"),
        "days_since": (f"距最近一次{zh}的天数", f"{en}: days since the latest event (missing: none)", "days", -1,
                       f"{{v:n}} 天前发生{zh}", f"{En} {{v:n}} days ago"),
    }
    for measure in MEASURES:
        name = shock_name(g, measure)
        d_zh, d_en, unit, direction, r_zh, r_en = text[measure]
        reason = (r_zh.replace("{v:", "{" + name + ":"), r_en.replace("{v:", "{" + name + ":"))
        indicator.add(name, _make(group, measure), d_zh, d_en, unit=unit, group=risk_group, direction=direction,
                      reason=reason)


for _i, (_g, (_types, _risk_group, _zh, _en)) in enumerate(SHOCK_GROUPS.items()):
    _declare(_i, _g, _risk_group, _zh, _en)
